//! # izaber-wamp
//!
//! A blocking [WAMP](https://wamp-proto.org) client for scripts and long-running
//! services: remote procedure calls and publish/subscribe against a WAMP router such
//! as Crossbar.io, from any number of threads, with no async runtime needed. Async
//! code gets futures of the same requests, on any executor (see [Using it from async
//! code](#using-it-from-async-code)).
//!
//! ```no_run
//! use izaber_wamp::{CallResult, Client, ClientConfig};
//!
//! let config = ClientConfig::new("ws://127.0.0.1:8080", "izaber").with_ticket("alice", "secret");
//! let client = Client::connect(config)?;
//!
//! // Offer a procedure; the handler runs on a worker thread.
//! client.register("com.example.greet", |inv| {
//!     let name: String = inv.arg(0)?;
//!     Ok(CallResult::value(format!("Hello {name}"))?)
//! })?;
//!
//! // Call it (any Serialize arguments; typed results via Deserialize).
//! let greeting: String = client.call("com.example.greet", ("Ada",))?.arg(0)?;
//!
//! // Listen and publish.
//! client.subscribe("com.example.news", |event| println!("news: {:?}", event.args))?;
//! client.publish("com.example.news", ("extra!",))?;
//! client.close()?;
//! # Ok::<(), izaber_wamp::Error>(())
//! ```
//!
//! ## How it is built
//!
//! The layers, each using only those below it (see `ARCHITECTURE.md` in the
//! repository for the map):
//!
//! * [`izaber_wamp_proto`]: the WAMP protocol without I/O, its own crate — messages,
//!   the JSON, MessagePack and CBOR serializers, [`Value`], URI and ID rules,
//!   authentication and the session state machine.
//! * Transports: WebSocket (`ws://`, `wss://`) and RawSocket (`tcpip://`,
//!   `tcpips://`, `unix://`), TLS with rustls ([`TlsOptions`]); each a Cargo feature
//!   (see below).
//! * The event loop, one per client: an I/O thread reads the socket, keeps the time
//!   and reconnects; each request is written by the thread that makes it. Connecting
//!   and joining (authentication included) run on a short-lived connector thread.
//! * The [`Client`] handle: requests wait on a reply slot until their deadline, or
//!   are awaited as a [`ReplyFuture`] polling the same slot; handlers and hooks run
//!   on a worker pool, so a handler may itself call procedures of the same client.
//! * [`config`] and [`facade`]: `izaber.yaml`, [`initialize`], the shared [`wamp()`]
//!   connection with `uri_base` prefixing, and the Nexus helpers, as in Python's
//!   `izaber-wamp`.
//!
//! The connection comes back by itself after a router restart, a network cut or a
//! frozen router ([`ReconnectPolicy`], liveness pings): registrations and
//! subscriptions are restored under the handles you hold, then join hooks run
//! ([`Hooks`]).
//!
//! Every request has a timeout ([`ClientConfig::timeout`], or per call with
//! [`CallOptions`]); every failure is an [`Error`] that names its cause.
//!
//! ## Using it from async code
//!
//! No async runtime is needed, and any will do:
//!
//! * **Futures of the requests.** Each request method has an async form, named as it
//!   with `_async` added, taking the same arguments: [`call_async`],
//!   [`call_kw_async`], [`call_with_async`], [`publish_async`], [`publish_kw_async`],
//!   [`publish_with_async`], [`register_async`], [`register_with_async`],
//!   [`subscribe_async`] and [`subscribe_with_async`]. Each returns a
//!   [`ReplyFuture`] of the blocking method's result. The connection's own I/O thread
//!   wakes the task when the answer comes, and at the request's deadline with
//!   [`Error::Timeout`]: no timer or reactor of a runtime is involved, so tokio,
//!   async-std, smol and `futures::executor` all work. The futures are `Send` and
//!   `'static` (they hold a handle to the client), so they can be spawned; dropping
//!   one cancels its call at the router.
//! * **Sending is a short step.** The request is sent when the method is called, by
//!   the calling thread if the connection's lock is free (with whatever other
//!   threads queued meanwhile, to the socket without blocking), else by the lock's
//!   holder along with its own. It never waits for the lock, the router, nor for
//!   room in the connection's command queue: when 4,096 commands already wait
//!   because the socket takes nothing more, the future fails at once with
//!   [`Error::Timeout`].
//! * **The rest of the API blocks.** [`Client::connect`], [`unregister`],
//!   [`unsubscribe`], [`start_call`] and its [`Call`], [`close`] (which waits, at most
//!   5 s, for the router's GOODBYE, as dropping the last handle does) and the
//!   blocking request methods put the calling thread to sleep: from async code, call
//!   them through `tokio::task::spawn_blocking` or your runtime's equivalent. On a
//!   current-thread runtime a blocking call in a task stops every other task until it
//!   returns.
//! * **Handlers stay plain closures** and run on the client's worker pool, never on
//!   the executor: a handler needs no `block_on`, it may block and call the blocking
//!   API (of the same client too), and it runs even while the executor's threads are
//!   busy, so a task can await a call of a procedure its own client registered. To
//!   hand work to a runtime, a handler uses the runtime's handle (e.g.
//!   `tokio::runtime::Handle::spawn`) and waits for the answer on a channel.
//!
//! ```no_run
//! use izaber_wamp::{CallResult, Client, ClientConfig};
//!
//! async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//!     let config = ClientConfig::new("ws://127.0.0.1:8080", "izaber");
//!     // Connecting blocks until the session is joined: off the executor's thread.
//!     let client = tokio::task::spawn_blocking(move || Client::connect(config)).await??;
//!     client
//!         .register_async("com.example.add", |inv| {
//!             let (a, b): (i64, i64) = inv.args_as()?;
//!             Ok(CallResult::value(a + b)?)
//!         })
//!         .await?;
//!     let sum: i64 = client.call_async("com.example.add", (2, 3)).await?.arg(0)?;
//!     assert_eq!(sum, 5);
//!     tokio::task::spawn_blocking(move || client.close()).await??;
//!     Ok(())
//! }
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! runtime.block_on(run())?;
//! # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! ```
//!
//! [`call_async`]: Client::call_async
//! [`call_kw_async`]: Client::call_kw_async
//! [`call_with_async`]: Client::call_with_async
//! [`publish_async`]: Client::publish_async
//! [`publish_kw_async`]: Client::publish_kw_async
//! [`publish_with_async`]: Client::publish_with_async
//! [`register_async`]: Client::register_async
//! [`register_with_async`]: Client::register_with_async
//! [`subscribe_async`]: Client::subscribe_async
//! [`subscribe_with_async`]: Client::subscribe_with_async
//! [`unregister`]: Client::unregister
//! [`unsubscribe`]: Client::unsubscribe
//! [`start_call`]: Client::start_call
//! [`close`]: Client::close
//!
//! ## Cargo features
//!
//! All but `tracing` are on by default; turn off what a program does not use to build
//! less:
//!
//! | feature | adds | pulls in |
//! |---|---|---|
//! | `websocket` | `ws://`, and `wss://` with `tls` | tungstenite |
//! | `rawsocket` | `tcpip://` (`rs://`) and `unix://`, and `tcpips://` (`rss://`) with `tls` | nothing more |
//! | `tls` | TLS for `wss://` and `tcpips://` | rustls (ring), webpki-roots, rustls-native-certs |
//! | `msgpack` | [`Serializer::MsgPack`] | rmp-serde, rmp |
//! | `cbor` | [`Serializer::Cbor`] | ciborium |
//! | `tracing` (off by default) | spans for the connection, each session, each request and each handler run, and the connection's life as structured events (see the README) | tracing |
//!
//! ```toml
//! # JSON over RawSocket only:
//! izaber-wamp = { version = "0.1", default-features = false, features = ["rawsocket"] }
//! ```
//!
//! JSON, every authentication method and `izaber.yaml` are always built in. The API is
//! the same with any set of features: every type, variant and setting exists, and
//! `izaber.yaml` accepts every URL scheme and serializer name. What a build lacks fails
//! where it is used, at once and before anything is sent, with
//! [`Error::FeatureDisabled`] naming the feature, e.g. ``ws:// needs the `websocket`
//! feature of izaber-wamp``. Configured serializers that are not compiled in are
//! skipped ([`Serializer::is_compiled_in`]); only when none is left does connecting
//! fail.
//!
//! ## API stability
//!
//! Configuration, option and detail structs and the enums that may grow are
//! `#[non_exhaustive]`: build them with their constructors and `with_*` builders (or
//! set fields on one), and give `match`es over [`Error`] and friends a `_` arm, so
//! that new settings and variants arrive in minor releases.
//!
//! Public dependencies, whose types appear in this API: [`izaber_wamp_proto`]
//! ([`Value`], [`Dict`], [`WampError`], [`Serializer`], [`MatchPolicy`],
//! [`CancelMode`], the ID types and the authenticators, all re-exported here) and
//! `serde` (arguments and results are `Serialize`/`Deserialize`). No type of the I/O
//! crates underneath (mio, tungstenite, rustls) is part of it.
#![warn(missing_docs)]
// One module may opt out, with its reasons: `event_loop::lead::poller`, the leaders'
// own epoll instance and eventfd, and the socket's exclusive registration, which mio
// does not offer.
#![deny(unsafe_code)]

pub mod client;
pub mod config;
pub mod error;
mod event_loop;
pub mod facade;
mod id_map;
mod sync;
mod trace;
mod transport;

/// The sans-I/O protocol crate, under a short name for the crate's own modules.
use izaber_wamp_proto as proto;

/// Authentication methods: the built-in ones and the trait for your own.
pub mod auth {
    pub use izaber_wamp_proto::auth::{
        Anonymous, Authenticator, Cryptosign, KeyError, Ticket, WampCra,
    };
}

pub use client::{
    Call, CallOptions, CallResult, Client, ClientConfig, Concurrency, Event, EventDetails,
    HandlerError, HandlerResult, Hooks, InboundLimits, Invocation, InvocationDetails, InvokePolicy,
    Overflow, Ppt, PublishOptions, QueueConfig, QueueLimits, QueueStats, ReconnectPolicy,
    RegisterOptions, Registration, ReplyFuture, SessionInfo, Stats, SubscribeOptions, Subscription,
    Transparent,
};
pub use error::{ConnectFailure, Error, Result, WampError};
pub use event_loop::ConnectionState;
pub use facade::{
    change_user, initialize, initialize_with, on_disconnect, on_join, on_leave, spawn_connection,
    wamp, Wamp,
};
pub use izaber_wamp_proto::id::{PublicationId, SessionId};
pub use izaber_wamp_proto::session::CancelMode;
pub use izaber_wamp_proto::{
    from_value, from_value_ref, to_value, Dict, MatchPolicy, Serializer, Value, ValueError,
};
pub use transport::TlsOptions;

/// The README's examples, compiled as doc tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
