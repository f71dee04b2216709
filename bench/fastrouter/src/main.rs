//! The fast router of `scripts/bench`: the battler-wamp router, written in Rust on
//! tokio, so that the clients can also be compared on a router whose own cost is small
//! next to theirs (Crossbar.io, the benchmark's other router, is Python).
//!
//! ```text
//! fastrouter [--port PORT]
//! ```
//!
//! Serves WebSocket on 127.0.0.1:PORT, any path; PORT 0 (the default) takes a free
//! port. Prints `listening on ws://127.0.0.1:PORT` on stdout once it accepts
//! connections. Realm `izaber`, without authentication: any HELLO is welcomed.
//! Serializers JSON and MessagePack (battler-wamp has no CBOR). battler-wamp's values
//! have no binary type (nor floats or negative integers), so bytes only cross it in
//! JSON, as WAMP's `"\0"`+base64 strings: JSON is the serializer to compare on it.
//!
//! battler-wamp accepts the WebSocket connections itself, but this front end does it
//! instead and hands each one to the router as a direct (in-process) connection, with
//! battler-wamp's own WebSocket transport and serializers, to add two things:
//!
//! - **Flow control.** The router hands each session's PUBLISH and CALL messages to
//!   the tasks that carry them out through tokio broadcast channels 1024 deep; a
//!   client that sends them faster than those tasks work makes the channels lag, and
//!   the router then drops the messages it skipped, with only a log warning ("lagged
//!   by N publications"): a burst of a few thousand unacknowledged PUBLISHes loses
//!   events. So the front end lets at most [`PUBLISH_WINDOW`] PUBLISHes and
//!   [`CALL_WINDOW`] CALLs of a connection be inside the router at once, and stops
//!   reading that connection while a window is full (TCP then slows the client down,
//!   as with any router that reads no faster than it works). To see when a PUBLISH is
//!   done, every one is sent on with `acknowledge: true`; the PUBLISHED replies that
//!   the client did not ask for are dropped here. A CALL is done at its final RESULT
//!   or its ERROR.
//! - **WELCOME details.** The router leaves out `authid`, `authrole`, `authmethod` and
//!   `authprovider` when nobody authenticated, and clients read them (swampyer needs
//!   `authmethod`). The front end fills them in as Crossbar.io does for an anonymous
//!   session: the HELLO's `authid` (else `anonymous-<session id>`), role and method
//!   `anonymous`, provider `static`.
//!
//! It also sets TCP_NODELAY, which battler-wamp's own listener does not: with Nagle's
//! algorithm, small replies would wait for the client's acknowledgements.
//!
//! The router runs on one thread (a current-thread tokio runtime), as Crossbar.io's
//! router worker does. `RUST_LOG` sets what battler-wamp logs (default: warnings).

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::pin::pin;
use std::sync::{Mutex, MutexGuard, PoisonError};

use battler_wamp::core::id::Id;
use battler_wamp::core::stream::{MessageStream, StreamMessage, TransportMessageStream};
use battler_wamp::message::message::Message;
use battler_wamp::router::{
    new_web_socket_router, EmptyConnectionPolicies, EmptyPubSubPolicies, EmptyRpcPolicies,
    RealmAuthenticationConfig, RealmConfig, RouterConfig, RouterHandle,
};
use battler_wamp::serializer::serializer::{new_serializer, SerializerType};
use battler_wamp::transport::transport::TransportFactory;
use battler_wamp::transport::web_socket_transport::WebSocketTransportFactory;
use battler_wamp_uri::Uri;
use battler_wamp_values::Value;
use futures_util::{future, SinkExt, StreamExt, TryStreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, StatusCode};
use tokio_tungstenite::MaybeTlsStream;

const USAGE: &str = "usage: fastrouter [--port PORT]";

const REALM: &str = "izaber";

/// The WebSocket subprotocols served, in the order the client's list is matched.
const PROTOCOLS: [(&str, SerializerType); 2] = [
    ("wamp.2.json", SerializerType::Json),
    ("wamp.2.msgpack", SerializerType::MessagePack),
];

/// PUBLISHes of one connection that may be inside the router at once: well below the
/// depth (1024) of the router's per-session publish channel.
const PUBLISH_WINDOW: usize = 256;

/// CALLs of one connection that may be inside the router at once. The router's
/// channel of CALLs is 1024 deep, but every YIELD of a callee is broadcast to all of its
/// waiting invocations through a channel 48 deep, which must not lag either: a callee
/// called by this one connection (the benchmark's case) stays below that.
const CALL_WINDOW: usize = 32;

/// WAMP message type codes, as in an ERROR's `request_type`.
const PUBLISH: u64 = 16;
const CALL: u64 = 48;

fn main() {
    let port = match parse_port(std::env::args().skip(1)) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("fastrouter: {message}\n{USAGE}");
            std::process::exit(2);
        }
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(run(port)),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = result {
        eprintln!("fastrouter: {e:#}");
        std::process::exit(1);
    }
}

fn parse_port(mut args: impl Iterator<Item = String>) -> Result<u16, String> {
    let mut port = 0;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a value")?;
                port = value.parse().map_err(|e| format!("--port {value}: {e}"))?;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(port)
}

async fn run(port: u16) -> anyhow::Result<()> {
    let config = RouterConfig {
        realms: vec![RealmConfig {
            name: REALM.to_owned(),
            uri: Uri::try_from(REALM)?,
            // No methods: nobody is challenged, and every HELLO is welcomed.
            authentication: RealmAuthenticationConfig {
                required: false,
                methods: Vec::new(),
            },
        }],
        // The rest as battler-wamp has it by default: broker and dealer, JSON and
        // MessagePack, its own listener on a free port of 127.0.0.1 (unused; its
        // connection limits apply to that listener, not to direct connections).
        ..RouterConfig::default()
    };
    let router = new_web_socket_router(
        config,
        Box::new(EmptyConnectionPolicies),
        Box::new(EmptyPubSubPolicies),
        Box::new(EmptyRpcPolicies),
    )?;
    let (router, _running) = router.start().await?;

    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    println!("listening on ws://{}", listener.local_addr()?);
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("fastrouter: accept: {e}");
                continue;
            }
        };
        let router = router.clone();
        tokio::spawn(async move {
            if let Err(e) = serve(router, tcp).await {
                eprintln!("fastrouter: connection from {peer}: {e:#}");
            }
        });
    }
}

/// What the two directions of one connection share.
#[derive(Default)]
struct Connection {
    /// The `authid` of the client's HELLO, for its WELCOME.
    authid: Option<String>,
    /// PUBLISHes inside the router, each with whether the client asked for its
    /// PUBLISHED.
    publishes: HashMap<Id, bool>,
    /// CALLs inside the router.
    calls: HashSet<Id>,
}

/// The connection's state. Its lock is never held across an await, and a panic while
/// holding it ends the connection's task anyway, so a poisoned lock is taken as is.
fn lock(connection: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    connection.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Serves one client: the WebSocket handshake, then its messages to and from a direct
/// connection to the router, until either side ends.
async fn serve(router: RouterHandle, tcp: TcpStream) -> anyhow::Result<()> {
    tcp.set_nodelay(true)?;
    let mut serializer = None;
    // The refusal's size is set by tungstenite's handshake callback, not here.
    #[allow(clippy::result_large_err)]
    let choose = |request: &Request, mut response: Response| {
        let offered = request
            .headers()
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        let chosen = offered
            .split(',')
            .map(str::trim)
            .find_map(|name| PROTOCOLS.iter().find(|(protocol, _)| *protocol == name));
        match chosen {
            Some(&(protocol, kind)) => {
                serializer = Some(kind);
                response.headers_mut().insert(
                    header::SEC_WEBSOCKET_PROTOCOL,
                    HeaderValue::from_static(protocol),
                );
                Ok(response)
            }
            None => {
                let mut refusal = ErrorResponse::new(Some(format!(
                    "no supported WAMP subprotocol in {offered:?}: wamp.2.json or wamp.2.msgpack"
                )));
                *refusal.status_mut() = StatusCode::BAD_REQUEST;
                Err(refusal)
            }
        }
    };
    // tungstenite's default limits (64 MiB messages, 16 MiB frames) carry the
    // benchmark's 4 MiB calls.
    let websocket = tokio_tungstenite::accept_hdr_async(MaybeTlsStream::Plain(tcp), choose).await?;
    let serializer =
        serializer.ok_or_else(|| anyhow::anyhow!("handshake accepted without a subprotocol"))?;
    let transport = WebSocketTransportFactory::default().new_transport(websocket, serializer);
    let client = TransportMessageStream::new(transport, new_serializer(serializer));
    let mut router: Box<dyn MessageStream> = router.direct_connect().stream();

    let (mut client_tx, mut client_rx) = client.split();
    let (mut router_tx, router_rx) = (&mut *router).split();
    let connection = Mutex::new(Connection::default());
    let (connection, publish_window, call_window) = (
        &connection,
        &Semaphore::new(PUBLISH_WINDOW),
        &Semaphore::new(CALL_WINDOW),
    );

    // Client to router. A full window holds the message (and the reading of this
    // connection) until the router has finished one. Pings are answered by tungstenite.
    let up = async {
        while let Some(message) = client_rx.next().await {
            let StreamMessage::Message(mut message) = message? else {
                continue;
            };
            match &mut message {
                Message::Hello(hello) => {
                    lock(connection).authid = hello
                        .details
                        .get("authid")
                        .and_then(Value::string)
                        .map(str::to_owned);
                }
                Message::Publish(publish) => {
                    publish_window.acquire().await?.forget();
                    let asked = publish.options.get("acknowledge") == Some(&Value::Bool(true));
                    let known = lock(connection).publishes.insert(publish.request, asked);
                    if known.is_some() {
                        // A request ID used twice holds one slot, and gets one reply.
                        publish_window.add_permits(1);
                    }
                    publish
                        .options
                        .insert("acknowledge".into(), Value::Bool(true));
                }
                Message::Call(call) => {
                    call_window.acquire().await?.forget();
                    if !lock(connection).calls.insert(call.request) {
                        call_window.add_permits(1);
                    }
                }
                _ => {}
            }
            // An in-process channel: flushing each message costs nothing.
            router_tx.send(StreamMessage::Message(message)).await?;
        }
        anyhow::Ok(())
    };

    // Router to client: the WELCOME completed, window slots given back, the PUBLISHED
    // replies nobody asked for dropped.
    let to_client = router_rx.try_filter_map(|mut message| {
        let keep = match &mut message {
            StreamMessage::Message(message) => {
                returning(message, connection, publish_window, call_window)
            }
            StreamMessage::Ping(_) => true,
        };
        future::ready(Ok(keep.then_some(message)))
    });

    // This direction writes what is ready and flushes when it would wait, so a burst
    // goes out to the client in few writes.
    let down = async {
        client_tx.send_all(&mut pin!(to_client)).await?;
        client_tx.close().await
    };
    tokio::select! {
        result = up => result,
        result = down => result,
    }
}

/// Notes a message from the router to the client; false to drop it.
fn returning(
    message: &mut Message,
    connection: &Mutex<Connection>,
    publish_window: &Semaphore,
    call_window: &Semaphore,
) -> bool {
    match message {
        Message::Welcome(welcome) => {
            let authid = lock(connection)
                .authid
                .clone()
                .unwrap_or_else(|| format!("anonymous-{}", welcome.session));
            let details = &mut welcome.details;
            for (key, value) in [
                ("authid", authid.as_str()),
                ("authrole", "anonymous"),
                ("authmethod", "anonymous"),
                ("authprovider", "static"),
            ] {
                details
                    .entry(key.to_owned())
                    .or_insert_with(|| Value::String(value.to_owned()));
            }
        }
        Message::Published(published) => {
            let asked = lock(connection)
                .publishes
                .remove(&published.publish_request);
            if let Some(asked) = asked {
                publish_window.add_permits(1);
                return asked;
            }
        }
        Message::Result(result) => {
            let progress = result.details.get("progress") == Some(&Value::Bool(true));
            if !progress && lock(connection).calls.remove(&result.call_request) {
                call_window.add_permits(1);
            }
        }
        Message::Error(error) => {
            // An ERROR ends a PUBLISH whether or not it asked for acknowledgement.
            let (window, done) = match error.request_type {
                PUBLISH => (
                    publish_window,
                    lock(connection).publishes.remove(&error.request).is_some(),
                ),
                CALL => (call_window, lock(connection).calls.remove(&error.request)),
                _ => return true,
            };
            if done {
                window.add_permits(1);
            }
        }
        _ => {}
    }
    true
}
