//! The request methods of [`Client`]: each builds a request, hands it to the event
//! loop and waits on its reply slot, at most until the request's deadline.

use super::concurrency::Overflow;
use super::dispatch::{LaneHandler, LaneOptions};
use super::payload::{to_args, to_kwargs};
use super::ppt::Ppt;
use super::{
    Call, CallOptions, CallResult, Client, Event, HandlerResult, Invocation, PublishOptions,
    RegisterOptions, Registration, SubscribeOptions, Subscription,
};
use crate::error::{Error, Result};
use crate::event_loop::{Body, Command, Operation, Replier, Request, SendError, Token};
use crate::proto::id::PublicationId;
use crate::proto::message::Payload;
use crate::proto::session::Reply;
use crate::sync::{slot, stream};
use crate::trace;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Progressive results a started call keeps for its reader before dropping the oldest.
const PROGRESS_BACKLOG: usize = 1024;

/// The instant `timeout` from now, or far in the future for an enormous timeout.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

impl Client {
    /// Calls `procedure` with positional `args` (a tuple, array or `Vec`; `()` for none).
    ///
    /// ```no_run
    /// # let client: izaber_wamp::Client = unimplemented!();
    /// let result = client.call("com.example.add", (1, 2))?;
    /// let sum: i64 = result.arg(0)?;
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Wamp`] when the router or the callee answers with an error,
    /// [`Error::Timeout`] when no answer comes within the client's timeout (the router
    /// is asked to cancel the call), [`Error::ConnectionLost`] or [`Error::Closed`]
    /// when the connection goes away first, [`Error::InvalidUri`] and
    /// [`Error::Serialization`] for what cannot be sent.
    pub fn call(&self, procedure: &str, args: impl Serialize) -> Result<CallResult> {
        self.call_with(procedure, args, (), &CallOptions::default())
    }

    /// Calls `procedure` with positional and keyword arguments (`kwargs`: a struct or map).
    ///
    /// # Errors
    ///
    /// As [`call`](Client::call).
    pub fn call_kw(
        &self,
        procedure: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> Result<CallResult> {
        self.call_with(procedure, args, kwargs, &CallOptions::default())
    }

    /// Calls `procedure` with arguments and options such as a per-call timeout. When the
    /// timeout passes the call fails with [`Error::Timeout`] and the router is asked to
    /// cancel it; a late result is discarded.
    ///
    /// # Errors
    ///
    /// As [`call`](Client::call).
    pub fn call_with(
        &self,
        procedure: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
        options: &CallOptions,
    ) -> Result<CallResult> {
        let procedure = self.full_uri(procedure);
        let body = call_body(&procedure, &args, &kwargs, options)?;
        let timeout = options.timeout.unwrap_or(self.inner.config.timeout);
        match self.request(body, timeout, "call", &procedure)? {
            Reply::Result { details, payload } => Ok(CallResult::received(details, payload)),
            other => Err(unexpected(other)),
        }
    }

    /// Starts a call without waiting for it: the [`Call`] yields its progressive
    /// results (when `options` asks for them) and its result, and can cancel it.
    ///
    /// # Errors
    ///
    /// Only what fails before the call is sent: [`Error::InvalidUri`],
    /// [`Error::InvalidOption`], [`Error::Serialization`], [`Error::Closed`]; the
    /// call's own outcome comes from the [`Call`].
    pub fn start_call(
        &self,
        procedure: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
        options: &CallOptions,
    ) -> Result<Call> {
        let procedure = self.full_uri(procedure).into_owned();
        let body = call_body(&procedure, &args, &kwargs, options)?;
        let timeout = options.timeout.unwrap_or(self.inner.config.timeout);
        let deadline = deadline_after(timeout);
        let (updates, receiver) = stream::channel(PROGRESS_BACKLOG);
        // The call's span lives in the `Call`, which records its outcome.
        let span = trace::Span::request("call", &procedure);
        let sent = {
            let _entered = span.enter();
            self.send_request(
                body,
                timeout,
                deadline,
                Replier::Stream(updates),
                span.clone(),
                || Operation::call(&procedure),
            )
        };
        if sent.is_err() {
            span.finish(&sent);
        }
        let key = sent?;
        Ok(Call::new(
            self.clone(),
            key,
            procedure,
            timeout,
            deadline,
            receiver,
            span,
        ))
    }

    /// Calls `procedure` asking for progressive results: the [`Call`] yields each as
    /// it arrives, then the final result.
    ///
    /// # Errors
    ///
    /// As [`start_call`](Client::start_call).
    pub fn call_progress(&self, procedure: &str, args: impl Serialize) -> Result<Call> {
        self.start_call(
            procedure,
            args,
            (),
            &CallOptions::new().receive_progress(true),
        )
    }

    /// Registers `handler` for `procedure`. The handler runs on a worker thread and may
    /// itself use the client (through [`Invocation::client`]).
    ///
    /// # Errors
    ///
    /// [`Error::Wamp`] when the router refuses (e.g.
    /// `wamp.error.procedure_already_exists`), and the errors of every request
    /// ([`call`](Client::call)).
    pub fn register<F>(&self, procedure: &str, handler: F) -> Result<Registration>
    where
        F: Fn(Invocation) -> HandlerResult + Send + Sync + 'static,
    {
        self.register_with(procedure, &RegisterOptions::default(), handler)
    }

    /// Registers `handler` for `procedure` with options (match policy, shared
    /// registration, force_reregister).
    ///
    /// # Errors
    ///
    /// As [`register`](Client::register).
    pub fn register_with<F>(
        &self,
        procedure: &str,
        options: &RegisterOptions,
        handler: F,
    ) -> Result<Registration>
    where
        F: Fn(Invocation) -> HandlerResult + Send + Sync + 'static,
    {
        let procedure = self.full_uri(procedure).into_owned();
        let register_options = options.to_dict()?;
        let local = self.inner.next_local_id();
        let handler = LaneHandler::Procedure {
            uri: procedure.as_str().into(),
            handler: Arc::new(handler),
        };
        // Invocations run concurrently, as many as their queue allows.
        let lane = LaneOptions {
            queue: options.queue_name(),
            ordered: false,
            overflow: Overflow::Backpressure,
            inline: options.inline,
        };
        self.inner.dispatcher.add(local, handler, &lane)?;
        let body = Body::Register {
            local,
            procedure: procedure.clone(),
            options: register_options,
        };
        let timeout = options.timeout.unwrap_or(self.inner.config.timeout);
        match self.request(body, timeout, "register", &procedure) {
            Ok(Reply::Registered(_)) => Ok(Registration {
                id: local,
                procedure,
            }),
            other => {
                self.inner.dispatcher.remove(local);
                Err(other.map_or_else(|e| e, unexpected))
            }
        }
    }

    /// Removes a registration.
    ///
    /// # Errors
    ///
    /// [`Error::Wamp`] with `wamp.error.no_such_registration` when it was removed
    /// already, and the errors of every request ([`call`](Client::call)).
    pub fn unregister(&self, registration: &Registration) -> Result<()> {
        let local = registration.id;
        let result = self.request(
            Body::Unregister { local },
            self.inner.config.timeout,
            "unregister",
            &registration.procedure,
        );
        // The loop forgot it at once, whatever the router says.
        self.inner.dispatcher.remove(local);
        result.map(drop)
    }

    /// Subscribes `handler` to `topic`. Events of one subscription reach its handler one
    /// at a time, in the order they arrived, on a worker thread.
    ///
    /// # Errors
    ///
    /// [`Error::Wamp`] when the router refuses (e.g. `wamp.error.not_authorized`),
    /// and the errors of every request ([`call`](Client::call)).
    pub fn subscribe<F>(&self, topic: &str, handler: F) -> Result<Subscription>
    where
        F: Fn(Event) + Send + Sync + 'static,
    {
        self.subscribe_with(topic, &SubscribeOptions::default(), handler)
    }

    /// Subscribes with options (match policy, retained events).
    ///
    /// # Errors
    ///
    /// As [`subscribe`](Client::subscribe).
    pub fn subscribe_with<F>(
        &self,
        topic: &str,
        options: &SubscribeOptions,
        handler: F,
    ) -> Result<Subscription>
    where
        F: Fn(Event) + Send + Sync + 'static,
    {
        let topic = self.full_uri(topic).into_owned();
        let subscribe_options = options.to_dict()?;
        let local = self.inner.next_local_id();
        let handler = LaneHandler::Topic {
            uri: topic.as_str().into(),
            handler: Arc::new(handler),
        };
        let lane = LaneOptions {
            queue: options.queue_name(),
            ordered: options.ordered,
            overflow: options.overflow,
            inline: options.inline,
        };
        self.inner.dispatcher.add(local, handler, &lane)?;
        let body = Body::Subscribe {
            local,
            topic: topic.clone(),
            options: subscribe_options,
        };
        let timeout = options.timeout.unwrap_or(self.inner.config.timeout);
        match self.request(body, timeout, "subscribe", &topic) {
            Ok(Reply::Subscribed(_)) => Ok(Subscription { id: local, topic }),
            other => {
                self.inner.dispatcher.remove(local);
                Err(other.map_or_else(|e| e, unexpected))
            }
        }
    }

    /// Removes a subscription.
    ///
    /// # Errors
    ///
    /// [`Error::Wamp`] with `wamp.error.no_such_subscription` when it was removed
    /// already, and the errors of every request ([`call`](Client::call)).
    pub fn unsubscribe(&self, subscription: &Subscription) -> Result<()> {
        let local = subscription.id;
        let result = self.request(
            Body::Unsubscribe { local },
            self.inner.config.timeout,
            "unsubscribe",
            &subscription.topic,
        );
        self.inner.dispatcher.remove(local);
        result.map(drop)
    }

    /// Publishes an event with positional `args`, without acknowledgement: returns once
    /// the event is handed to the connection.
    ///
    /// # Errors
    ///
    /// The errors of every request ([`call`](Client::call)) but a router's refusal,
    /// which an unacknowledged publish never hears of.
    pub fn publish(&self, topic: &str, args: impl Serialize) -> Result<()> {
        self.publish_with(topic, args, (), &PublishOptions::default())
            .map(drop)
    }

    /// Publishes an event with positional and keyword arguments, without acknowledgement.
    ///
    /// # Errors
    ///
    /// As [`publish`](Client::publish).
    pub fn publish_kw(
        &self,
        topic: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> Result<()> {
        self.publish_with(topic, args, kwargs, &PublishOptions::default())
            .map(drop)
    }

    /// Publishes an event with options. With `acknowledge`, waits for the router and
    /// returns `Some(publication_id)`; otherwise returns `None` once the event is sent.
    ///
    /// # Errors
    ///
    /// As [`publish`](Client::publish); with `acknowledge`, also [`Error::Wamp`] when
    /// the router refuses the publication.
    pub fn publish_with(
        &self,
        topic: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
        options: &PublishOptions,
    ) -> Result<Option<PublicationId>> {
        let topic = self.full_uri(topic);
        let payload = Payload::new(to_args(&args)?, to_kwargs(&kwargs)?);
        if options.ppt.is_some() {
            Ppt::check_payload(&payload)?;
        }
        let timeout = options.timeout.unwrap_or(self.inner.config.timeout);
        let body = Body::Publish {
            topic: topic.clone().into_owned(),
            options: options.to_dict()?,
            payload,
        };
        match self.request(body, timeout, "publish", &topic)? {
            Reply::Published(id) => Ok(options.is_acknowledged().then_some(PublicationId::new(id))),
            other => Err(unexpected(other)),
        }
    }

    /// Hands a request of `kind` (`call`, `register`, ...) on `uri` to the loop and
    /// waits for its answer until its deadline, inside the request's span.
    fn request(
        &self,
        body: Body,
        timeout: Duration,
        kind: &'static str,
        uri: &str,
    ) -> Result<Reply> {
        let span = trace::Span::request(kind, uri);
        let _entered = span.enter();
        let operation = || Operation::new(kind, uri);
        // An unacknowledged publication is done once written (or queued to be); in an
        // inline handler it is handed over without waiting, anything else is refused.
        let on_io_thread = self.inner.commands.on_io_thread();
        if on_io_thread && !body.completes_when_sent() {
            self.inner.may_wait(|| operation().to_string())?;
        }
        let deadline = deadline_after(timeout);
        let wait_until = if on_io_thread {
            Instant::now()
        } else {
            deadline
        };
        let (reply, outcome) = slot::channel();
        let result = self
            .send_request(
                body,
                timeout,
                deadline,
                Replier::Slot(reply),
                span.clone(),
                operation,
            )
            .and_then(|_| match outcome.recv_until(wait_until) {
                Ok(result) => result,
                Err(slot::RecvError::Timeout) if on_io_thread => Ok(Reply::Published(0)),
                Err(slot::RecvError::Timeout) => Err(operation().timed_out(timeout)),
                Err(slot::RecvError::Disconnected) => Err(self.inner.ended()),
            });
        span.finish(&result);
        result
    }
}

impl Client {
    /// Hands a request to the loop; returns its key.
    fn send_request(
        &self,
        body: Body,
        timeout: Duration,
        deadline: Instant,
        reply: Replier,
        span: trace::Span,
        operation: impl Fn() -> Operation,
    ) -> Result<Token> {
        if self.inner.closed.load(std::sync::atomic::Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let key = self.inner.commands.next_key();
        let request = Request {
            key,
            body,
            operation: operation(),
            timeout,
            deadline,
            reply,
            span,
        };
        match self
            .inner
            .commands
            .send(Command::Request(request), deadline)
        {
            Ok(()) => Ok(key),
            Err(SendError::Stopped) => Err(self.inner.ended()),
            Err(SendError::Full) => Err(operation().timed_out(timeout)),
        }
    }
}

/// The CALL of `procedure`, checked.
fn call_body(
    procedure: &str,
    args: &impl Serialize,
    kwargs: &impl Serialize,
    options: &CallOptions,
) -> Result<Body> {
    let payload = Payload::new(to_args(args)?, to_kwargs(kwargs)?);
    if options.ppt.is_some() {
        Ppt::check_payload(&payload)?;
    }
    Ok(Body::Call {
        procedure: procedure.to_owned(),
        options: options.to_dict()?,
        payload,
    })
}

fn unexpected(reply: Reply) -> Error {
    Error::ProtocolViolation(format!("unexpected reply {reply:?}"))
}
