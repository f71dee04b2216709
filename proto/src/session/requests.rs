//! What the client asks of the router: CALL, REGISTER, UNREGISTER, SUBSCRIBE,
//! UNSUBSCRIBE, PUBLISH, the answers to INVOCATIONs and GOODBYE.
//!
//! Each request method returns the request ID when the request was sent and now
//! waits for its answer, and `None` when it is already finished: refused before
//! sending (its context then completes with the error) or, for an unacknowledged
//! publish, done once sent.

use super::{flag, CancelMode, CloseReason, Kind, Pending, Session, State};
use crate::error::{Error, WampError};
use crate::message::{code, Message, Payload};
use crate::uri::{self, MatchPolicy, UriError};
use crate::value::{Dict, Value};

impl<C: Clone> Session<C> {
    /// Sends a request message with the next request ID, which is used up only if the
    /// message could be sent.
    fn send_request(&mut self, build: impl FnOnce(u64) -> Message) -> Result<u64, Error> {
        match self.state {
            State::Established => {}
            State::Joining => return Err(Error::NotJoined),
            State::Closing => return Err(Error::SessionEnded(CloseReason::ClientGoodbye)),
            State::Closed => {
                let reason = self.ended.clone().unwrap_or(CloseReason::ClientGoodbye);
                return Err(Error::SessionEnded(reason));
            }
        }
        let request = self.ids.peek();
        self.send(build(request))?;
        Ok(self.ids.next_id())
    }

    /// Sends a request and records it as pending; a failure to send completes `ctx`.
    pub(super) fn request(
        &mut self,
        kind: Kind,
        ctx: Option<C>,
        build: impl FnOnce(u64) -> Message,
    ) -> Option<u64> {
        match self.send_request(build) {
            Ok(request) => {
                self.pending.insert(request, Pending { kind, ctx });
                Some(request)
            }
            Err(e) => {
                if let Some(ctx) = ctx {
                    self.complete_with(ctx, Err(e));
                }
                None
            }
        }
    }

    /// Checks a URI (and its match policy) before sending; a refusal completes `ctx`.
    fn check_uri(
        &mut self,
        ctx: &mut Option<C>,
        uri: &str,
        policy: Result<MatchPolicy, Error>,
        reserved_ok: bool,
    ) -> bool {
        let result = policy
            .and_then(|policy| uri::validate(uri, policy).map_err(Error::from))
            .and_then(|()| {
                if !reserved_ok && uri::is_reserved(uri) {
                    Err(Error::InvalidUri(UriError {
                        uri: uri.to_owned(),
                        reason: "the wamp. namespace is reserved for the router",
                    }))
                } else {
                    Ok(())
                }
            });
        match result {
            Ok(()) => true,
            Err(e) => {
                if let Some(ctx) = ctx.take() {
                    self.complete_with(ctx, Err(e));
                }
                false
            }
        }
    }

    /// Calls a procedure.
    pub fn call(
        &mut self,
        procedure: String,
        options: Dict,
        payload: Payload,
        ctx: C,
    ) -> Option<u64> {
        let mut ctx = Some(ctx);
        if !self.check_uri(&mut ctx, &procedure, Ok(MatchPolicy::Exact), true) {
            return None;
        }
        if flag(&options, "progress")
            && !self.router_supports("dealer", "progressive_call_invocations")
        {
            if let Some(ctx) = ctx {
                self.complete_with(ctx, Err(not_supported("progressive_call_invocations")));
            }
            return None;
        }
        let kind = Kind::Call {
            progress: flag(&options, "receive_progress"),
        };
        self.request(kind, ctx, |request| Message::Call {
            request,
            options,
            procedure,
            payload,
        })
    }

    /// Sends a further chunk of a progressive call invocation (a call made with the
    /// option `progress: true`): a CALL with the same request ID, marked `progress`
    /// unless it is the `last` one.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] when `request` is not a pending call (it was answered
    /// or abandoned, or the session is closing or closed); [`Error::PayloadTooLarge`]
    /// or [`Error::Codec`] when the chunk cannot be sent.
    pub fn call_chunk(
        &mut self,
        request: u64,
        procedure: String,
        payload: Payload,
        last: bool,
    ) -> Result<(), Error> {
        if !matches!(self.pending.get(&request), Some(p) if matches!(p.kind, Kind::Call { .. })) {
            return Err(Error::InvalidOption {
                option: "progress".into(),
                expected: "a chunk of a call that is still pending".into(),
                found: format!("request {request}"),
            });
        }
        if self.state != State::Established {
            return Err(Error::NotJoined);
        }
        let options = if last {
            Dict::new()
        } else {
            Dict::from([("progress".to_string(), Value::Bool(true))])
        };
        // Continuation CALLs carry only `progress` of the options.
        self.send(Message::Call {
            request,
            options,
            procedure,
            payload,
        })
    }

    /// Cancels the pending call `request` with `mode`. With `skip` and `killnowait`
    /// (or when the router does not support canceling) the call is over at once: its
    /// context is returned and a late answer is ignored. With `kill` the call ends when
    /// the router answers (`None` is returned; bound the wait above).
    pub fn cancel(&mut self, request: u64, mode: CancelMode) -> Option<C> {
        if !matches!(self.pending.get(&request), Some(p) if matches!(p.kind, Kind::Call { .. })) {
            return None;
        }
        if mode == CancelMode::Kill && self.router_supports("dealer", "call_canceling") {
            self.send_cancel(request, mode);
            return None;
        }
        self.abandon(request, mode)
    }

    /// Registers a procedure; `options` may carry `match`, `invoke`, ...
    pub fn register(&mut self, procedure: String, options: Dict, ctx: C) -> Option<u64> {
        let mut ctx = Some(ctx);
        if !self.check_uri(&mut ctx, &procedure, match_policy(&options), false) {
            return None;
        }
        self.request(Kind::Register, ctx, |request| Message::Register {
            request,
            options,
            procedure,
        })
    }

    /// Removes a registration by the router's registration ID.
    pub fn unregister(&mut self, registration: u64, ctx: C) -> Option<u64> {
        self.request(Kind::Unregister, Some(ctx), |request| Message::Unregister {
            request,
            registration,
        })
    }

    /// Subscribes to a topic; `options` may carry `match`, `get_retained`, ...
    pub fn subscribe(&mut self, topic: String, options: Dict, ctx: C) -> Option<u64> {
        let mut ctx = Some(ctx);
        if !self.check_uri(&mut ctx, &topic, match_policy(&options), true) {
            return None;
        }
        self.request(Kind::Subscribe, ctx, |request| Message::Subscribe {
            request,
            options,
            topic,
        })
    }

    /// Removes a subscription by the router's subscription ID.
    pub fn unsubscribe(&mut self, subscription: u64, ctx: C) -> Option<u64> {
        self.request(Kind::Unsubscribe, Some(ctx), |request| {
            Message::Unsubscribe {
                request,
                subscription,
            }
        })
    }

    /// Publishes an event. With `options.acknowledge == true` the context completes with
    /// [`Reply::Published`](super::Reply::Published); otherwise it completes as soon as
    /// the PUBLISH is queued (with `Reply::Published(0)`), because the router will never
    /// answer.
    pub fn publish(
        &mut self,
        topic: String,
        options: Dict,
        payload: Payload,
        ctx: C,
    ) -> Option<u64> {
        let mut ctx = Some(ctx);
        if !self.check_uri(&mut ctx, &topic, Ok(MatchPolicy::Exact), false) {
            return None;
        }
        if matches!(options.get("acknowledge"), Some(Value::Bool(true))) {
            return self.request(Kind::Publish, ctx, |request| Message::Publish {
                request,
                options,
                topic,
                payload,
            });
        }
        // The router never answers an unacknowledged publish: done once it is sent.
        let sent = self.send_request(|request| Message::Publish {
            request,
            options,
            topic,
            payload,
        });
        if let Some(ctx) = ctx {
            self.complete_with(ctx, sent.map(|_| super::Reply::Published(0)));
        }
        None
    }

    /// Answers an INVOCATION with a progressive result; the invocation goes on.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] when the caller did not ask for progressive results or
    /// the invocation is over (answered or interrupted, or the session is closing or
    /// closed); [`Error::PayloadTooLarge`] or [`Error::Codec`] when the result cannot
    /// be sent.
    pub fn yield_progress(
        &mut self,
        request: u64,
        payload: Payload,
        mut options: Dict,
    ) -> Result<(), Error> {
        match self.invocations.get(&request) {
            Some(invocation) if invocation.receive_progress => {}
            Some(_) => {
                return Err(Error::InvalidOption {
                    option: "progress".into(),
                    expected: "a call whose caller asked for progressive results".into(),
                    found: "a call without receive_progress".into(),
                })
            }
            None => {
                return Err(Error::InvalidOption {
                    option: "progress".into(),
                    expected: "an invocation that is still running".into(),
                    found: format!("invocation {request}, answered or interrupted"),
                })
            }
        }
        if self.state != State::Established {
            return Err(Error::NotJoined);
        }
        options.insert("progress".into(), Value::Bool(true));
        self.send(Message::Yield {
            request,
            options,
            payload,
        })
    }

    /// Answers an INVOCATION with its (final) result; `options` may carry payload
    /// transparency keys. Ignored if the invocation was interrupted. If the result is
    /// too large to send, the caller gets an error instead.
    pub fn yield_result(&mut self, request: u64, payload: Payload, options: Dict) {
        if self.invocations.remove(&request).is_none() || self.state != State::Established {
            return;
        }
        if let Err(e) = self.send(Message::Yield {
            request,
            options,
            payload,
        }) {
            let error = WampError::new(match e {
                Error::PayloadTooLarge { .. } => "wamp.error.payload_size_exceeded",
                _ => "wamp.error.invalid_payload",
            })
            .with_args(vec![Value::from(format!(
                "the callee could not send its result: {e}"
            ))]);
            self.invocations
                .insert(request, super::Invocation::default());
            self.yield_error(request, error);
        }
    }

    /// Answers an INVOCATION with an error. Ignored if the invocation was interrupted.
    pub fn yield_error(&mut self, request: u64, error: WampError) {
        if self.invocations.remove(&request).is_none() || self.state != State::Established {
            return;
        }
        let message = |error: WampError| Message::Error {
            request_type: code::INVOCATION,
            request,
            details: Dict::new(),
            error: error.uri,
            payload: Payload::new(error.args, error.kwargs),
        };
        if let Err(e) = self.send(message(error)) {
            let fallback =
                WampError::new("wamp.error.invalid_payload").with_args(vec![Value::from(format!(
                    "the callee could not send its error: {e}"
                ))]);
            // The fallback is a short string, so it always fits; if not, the session is failing anyway.
            let _ = self.send(message(fallback));
        }
    }

    /// Ends the session politely: GOODBYE, then [`Output::Closed`](super::Output::Closed)
    /// once the router answers (or at once if the session was not established).
    /// Pending requests fail with `SessionEnded(ClientGoodbye)`.
    pub fn goodbye(&mut self, reason: &str) {
        match self.state {
            State::Established => {
                let goodbye = Message::Goodbye {
                    details: Dict::new(),
                    reason: reason.into(),
                };
                if self.send(goodbye).is_err() {
                    self.close(CloseReason::ClientGoodbye);
                    return;
                }
                self.state = State::Closing;
                self.fail_all(&Error::SessionEnded(CloseReason::ClientGoodbye));
            }
            State::Joining => self.close(CloseReason::ClientGoodbye),
            State::Closing | State::Closed => {}
        }
    }

    /// The transport is gone: every pending request fails and the session closes.
    pub fn connection_lost(&mut self, why: &str) {
        match self.state {
            State::Closed => {}
            // We already said goodbye; the router closing the socket is the end of that.
            State::Closing => self.close(CloseReason::ClientGoodbye),
            _ => self.close(CloseReason::ConnectionLost(why.to_owned())),
        }
    }
}

/// The error for a feature the router did not announce.
fn not_supported(feature: &str) -> Error {
    Error::Wamp(
        WampError::new("wamp.error.feature_not_supported").with_args(vec![Value::from(format!(
            "the router does not announce {feature}"
        ))]),
    )
}

/// The `match` option; an unknown value is refused here because Crossbar drops the
/// whole connection on one.
fn match_policy(options: &Dict) -> Result<MatchPolicy, Error> {
    match options.get("match") {
        None => Ok(MatchPolicy::Exact),
        Some(Value::String(s)) if s == "exact" => Ok(MatchPolicy::Exact),
        Some(Value::String(s)) if s == "prefix" => Ok(MatchPolicy::Prefix),
        Some(Value::String(s)) if s == "wildcard" => Ok(MatchPolicy::Wildcard),
        Some(other) => Err(Error::InvalidOption {
            option: "match".into(),
            expected: "\"exact\", \"prefix\" or \"wildcard\"".into(),
            found: other.to_string(),
        }),
    }
}
