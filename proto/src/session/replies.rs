//! What the router sends to an established session: answers to our requests,
//! INVOCATION, INTERRUPT, EVENT and revocations.

use super::{flag, CancelMode, Kind, Output, Pending, Reply, Session};
use crate::error::{Error, WampError};
use crate::message::{code, Message, Payload};
use crate::value::{Dict, Value};

impl<C: Clone> Session<C> {
    pub(super) fn handle_established(&mut self, message: Message) {
        match message {
            Message::Result {
                request,
                details,
                payload,
            } if flag(&details, "progress") => self.progress(request, details, payload),
            Message::Result {
                request,
                details,
                payload,
            } => {
                self.reply(
                    request,
                    |k| matches!(k, Kind::Call { .. }),
                    Reply::Result { details, payload },
                );
            }
            Message::Registered {
                request,
                registration,
            } => self.created(request, Reply::Registered(registration), |request| {
                Message::Unregister {
                    request,
                    registration,
                }
            }),
            Message::Subscribed {
                request,
                subscription,
            } => self.created(request, Reply::Subscribed(subscription), |request| {
                Message::Unsubscribe {
                    request,
                    subscription,
                }
            }),
            Message::Unregistered { request } => self.reply(
                request,
                |k| matches!(k, Kind::Unregister),
                Reply::Unregistered,
            ),
            Message::Unsubscribed { request } => self.reply(
                request,
                |k| matches!(k, Kind::Unsubscribe),
                Reply::Unsubscribed,
            ),
            Message::Published {
                request,
                publication,
            } => self.reply(
                request,
                |k| matches!(k, Kind::Publish),
                Reply::Published(publication),
            ),
            Message::Error {
                request_type,
                request,
                error,
                payload,
                ..
            } => self.error_reply(request_type, request, error, payload),
            Message::Invocation {
                request,
                registration,
                details,
                payload,
            } => self.invocation(request, registration, details, payload),
            Message::Interrupt { request, options } => self.interrupt(request, &options),
            Message::Event {
                subscription,
                publication,
                details,
                payload,
            } => {
                self.outputs.push_back(Output::Event {
                    subscription,
                    publication,
                    details,
                    payload,
                });
            }
            Message::RegistrationRevoked { details } => {
                let (registration, reason) = revocation(&details, "registration");
                self.outputs.push_back(Output::RegistrationRevoked {
                    registration,
                    reason,
                });
            }
            Message::SubscriptionRevoked { details } => {
                let (subscription, reason) = revocation(&details, "subscription");
                self.outputs.push_back(Output::SubscriptionRevoked {
                    subscription,
                    reason,
                });
            }
            other => self.protocol_violation(format!(
                "{} is not a message a client may receive in a session",
                other.name()
            )),
        }
    }

    /// A progressive RESULT: handed up when the caller asked for progress. Crossbar
    /// forwards progressive results even when not asked for; they are not the final
    /// answer, so they are dropped then.
    fn progress(&mut self, request: u64, details: Dict, payload: Payload) {
        if let Some(Pending {
            kind: Kind::Call { progress: true },
            ctx: Some(ctx),
        }) = self.pending.get(&request)
        {
            let ctx = ctx.clone();
            self.outputs.push_back(Output::Progress {
                ctx,
                details,
                payload,
            });
        }
    }

    /// An INVOCATION: a new one, or the next chunk of a progressive invocation.
    fn invocation(&mut self, request: u64, registration: u64, details: Dict, payload: Payload) {
        let more = flag(&details, "progress");
        if let Some(open) = self.invocations.get_mut(&request) {
            if open.chunks_open {
                open.chunks_open = more;
                self.outputs.push_back(Output::InvocationChunk {
                    request,
                    payload,
                    last: !more,
                });
                return;
            }
        }
        let invocation = super::Invocation {
            receive_progress: flag(&details, "receive_progress"),
            chunks_open: more,
        };
        self.invocations.insert(request, invocation);
        self.outputs.push_back(Output::Invocation {
            request,
            registration,
            details,
            payload,
        });
    }

    /// INTERRUPT: the invocation's answer is no longer wanted. For `kill` the router
    /// waits for an answer, which is `wamp.error.canceled` at once; a late YIELD is
    /// dropped, as the invocation is no longer open.
    fn interrupt(&mut self, request: u64, options: &Dict) {
        if self.invocations.remove(&request).is_none() {
            return; // answered already
        }
        let mode = match options.get("mode").and_then(Value::as_str) {
            Some("killnowait") => CancelMode::KillNoWait,
            Some("skip") => CancelMode::Skip,
            _ => CancelMode::Kill,
        };
        if mode != CancelMode::KillNoWait {
            let _ = self.send(Message::Error {
                request_type: code::INVOCATION,
                request,
                details: Dict::new(),
                error: "wamp.error.canceled".into(),
                payload: Payload::default(),
            });
        }
        self.outputs.push_back(Output::Interrupt { request, mode });
    }

    fn is_abandoned(&self, request: u64) -> bool {
        self.pending
            .get(&request)
            .is_some_and(|p| matches!(p.kind, Kind::Abandoned))
    }

    /// REGISTERED or SUBSCRIBED: completes the request, or, when its caller gave up
    /// (timed out), undoes the late success with `undo` so nothing is left registered.
    fn created(&mut self, request: u64, reply: Reply, undo: impl FnOnce(u64) -> Message) {
        if self.is_abandoned(request) {
            self.pending.remove(&request);
            self.request(Kind::Abandoned, None, undo);
            return;
        }
        let registered = matches!(reply, Reply::Registered(_));
        let expected = move |kind: &Kind| match kind {
            Kind::Register => registered,
            Kind::Subscribe => !registered,
            _ => false,
        };
        self.reply(request, expected, reply);
    }

    /// Completes the pending request `request` if it is of the expected kind. A reply to an
    /// unknown request is dropped: it answers a request that was already abandoned.
    fn reply(&mut self, request: u64, expected: impl Fn(&Kind) -> bool, reply: Reply) {
        match self.pending.get(&request) {
            None => {}
            Some(p) if !expected(&p.kind) => {
                if matches!(p.kind, Kind::Abandoned) {
                    self.pending.remove(&request);
                } else {
                    self.protocol_violation(format!(
                        "request {request} got a reply of the wrong type"
                    ));
                }
            }
            Some(_) => {
                if let Some(Pending { ctx: Some(ctx), .. }) = self.pending.remove(&request) {
                    self.complete_with(ctx, Ok(reply));
                }
            }
        }
    }

    fn error_reply(&mut self, request_type: u64, request: u64, uri: String, payload: Payload) {
        let Some(pending) = self.pending.get(&request) else {
            return;
        };
        let expected = match pending.kind {
            Kind::Call { .. } => code::CALL,
            Kind::Register => code::REGISTER,
            Kind::Unregister => code::UNREGISTER,
            Kind::Subscribe => code::SUBSCRIBE,
            Kind::Unsubscribe => code::UNSUBSCRIBE,
            Kind::Publish => code::PUBLISH,
            Kind::Abandoned => request_type,
        };
        if expected != request_type {
            self.protocol_violation(format!(
                "ERROR for request {request} names request type {request_type}, expected {expected}"
            ));
            return;
        }
        if let Some(Pending { ctx: Some(ctx), .. }) = self.pending.remove(&request) {
            let error = WampError {
                uri,
                args: payload.args,
                kwargs: payload.kwargs,
            };
            self.complete_with(ctx, Err(Error::Wamp(error)));
        }
    }
}

/// The registration or subscription ID and the reason of a revocation's details.
fn revocation(details: &Dict, id_key: &str) -> (u64, Option<String>) {
    let id = details
        .get(id_key)
        .and_then(Value::as_u64)
        .unwrap_or_default();
    let reason = details
        .get("reason")
        .and_then(Value::as_str)
        .map(str::to_owned);
    (id, reason)
}
