//! The request methods of [`Client`]: each builds its request once (the private
//! `*_request` builders below), hands it to the event loop and waits on its reply
//! slot, at most until the request's deadline. The async forms
//! (`async_requests.rs`) use the same builders.

use super::concurrency::Overflow;
use super::dispatch::{LaneHandler, LaneOptions};
use super::payload::{to_args, to_kwargs};
use super::pending::{Finish, Prepared, Room};
use super::ppt::Ppt;
use super::{
    Call, CallOptions, CallResult, Client, Event, HandlerResult, Invocation, PublishOptions,
    RegisterOptions, Registration, SubscribeOptions, Subscription,
};
use crate::error::{Error, Result};
use crate::event_loop::{Body, Operation, Replier};
use crate::proto::id::PublicationId;
use crate::proto::message::Payload;
use crate::proto::session::Reply;
use crate::sync::stream;
use crate::trace;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// Progressive results a started call keeps for its reader before dropping the oldest.
const PROGRESS_BACKLOG: usize = 1024;

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
        self.call_request(procedure, &args, &kwargs, options)?
            .wait(self)
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
        let timeout = self.timeout_or(options.timeout);
        let (updates, receiver) = stream::channel(PROGRESS_BACKLOG);
        // The call's span lives in the `Call`, which records its outcome.
        let span = trace::Span::request("call", &procedure);
        let request = self.new_request(
            body,
            Operation::call(&procedure),
            timeout,
            Replier::Stream(updates),
            span.clone(),
        );
        let deadline = request.deadline;
        let sent = {
            let _entered = span.enter();
            self.send_request(request, Room::UntilDeadline)
        };
        if sent.is_err() {
            span.finish(&sent);
        }
        Ok(Call::new(
            self.clone(),
            sent?,
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
        self.register_request(procedure, options, handler)?
            .wait(self)
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
            Operation::new("unregister", &registration.procedure),
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
        self.subscribe_request(topic, options, handler)?.wait(self)
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
            Operation::new("unsubscribe", &subscription.topic),
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
        self.publish_request(topic, &args, &kwargs, options)?
            .wait(self)
    }

    /// Hands a request to the loop and waits for its answer until its deadline.
    fn request(&self, body: Body, timeout: Duration, operation: Operation) -> Result<Reply> {
        let prepared = Prepared {
            body,
            timeout,
            operation,
            handler: None,
            finish: Box::new(Ok),
        };
        prepared.wait(self)
    }
}

/// The request builders, one per kind of request, shared by the blocking methods
/// and their async forms: everything a method checks and prepares before its request
/// is handed to the loop, and what the reply becomes.
impl Client {
    /// The request's timeout: its own, or the client's.
    fn timeout_or(&self, timeout: Option<Duration>) -> Duration {
        timeout.unwrap_or(self.inner.config.timeout)
    }

    pub(super) fn call_request(
        &self,
        procedure: &str,
        args: &impl Serialize,
        kwargs: &impl Serialize,
        options: &CallOptions,
    ) -> Result<Prepared<CallResult>> {
        let procedure = self.full_uri(procedure);
        Ok(Prepared {
            body: call_body(&procedure, args, kwargs, options)?,
            timeout: self.timeout_or(options.timeout),
            operation: Operation::call(&procedure),
            handler: None,
            finish: Box::new(|reply| match reply {
                Reply::Result { details, payload } => Ok(CallResult::received(details, payload)),
                other => Err(unexpected(other)),
            }),
        })
    }

    pub(super) fn publish_request(
        &self,
        topic: &str,
        args: &impl Serialize,
        kwargs: &impl Serialize,
        options: &PublishOptions,
    ) -> Result<Prepared<Option<PublicationId>>> {
        let topic = self.full_uri(topic);
        let payload = Payload::new(to_args(args)?, to_kwargs(kwargs)?);
        if options.ppt.is_some() {
            Ppt::check_payload(&payload)?;
        }
        // Two closures that capture nothing, so neither is allocated for each publish.
        let finish: Finish<Option<PublicationId>> = if options.is_acknowledged() {
            Box::new(|reply| match reply {
                Reply::Published(id) => Ok(Some(PublicationId::new(id))),
                other => Err(unexpected(other)),
            })
        } else {
            Box::new(|reply| match reply {
                Reply::Published(_) => Ok(None),
                other => Err(unexpected(other)),
            })
        };
        Ok(Prepared {
            body: Body::Publish {
                topic: topic.clone().into_owned(),
                options: options.to_dict()?,
                payload,
            },
            timeout: self.timeout_or(options.timeout),
            operation: Operation::new("publish", &topic),
            handler: None,
            finish,
        })
    }

    /// Adds the handler's lane at once (invocations may arrive as soon as the router
    /// confirms); the request removes it again unless it succeeds.
    pub(super) fn register_request<F>(
        &self,
        procedure: &str,
        options: &RegisterOptions,
        handler: F,
    ) -> Result<Prepared<Registration>>
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
        let registration = Registration {
            id: local,
            procedure: procedure.clone(),
        };
        Ok(Prepared {
            operation: Operation::new("register", &procedure),
            body: Body::Register {
                local,
                procedure,
                options: register_options,
            },
            timeout: self.timeout_or(options.timeout),
            handler: Some(local),
            finish: made(registration, |reply| matches!(reply, Reply::Registered(_))),
        })
    }

    /// As [`register_request`](Self::register_request), for a topic.
    pub(super) fn subscribe_request<F>(
        &self,
        topic: &str,
        options: &SubscribeOptions,
        handler: F,
    ) -> Result<Prepared<Subscription>>
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
        let subscription = Subscription {
            id: local,
            topic: topic.clone(),
        };
        Ok(Prepared {
            operation: Operation::new("subscribe", &topic),
            body: Body::Subscribe {
                local,
                topic,
                options: subscribe_options,
            },
            timeout: self.timeout_or(options.timeout),
            handler: Some(local),
            finish: made(subscription, |reply| matches!(reply, Reply::Subscribed(_))),
        })
    }
}

/// What a REGISTER or SUBSCRIBE makes: `handle` once the router confirms.
fn made<T: Send + Sync + 'static>(handle: T, confirms: fn(&Reply) -> bool) -> Finish<T> {
    Box::new(move |reply| {
        if confirms(&reply) {
            Ok(handle)
        } else {
            Err(unexpected(reply))
        }
    })
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
