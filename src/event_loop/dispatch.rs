//! Handing invocations and events to handlers on the worker pool.

use super::{Command, EventLoop};
use crate::client::handler::{Event, EventDetails, HandlerError, Invocation, InvocationDetails};
use crate::error::WampError;
use crate::protocol::message::Payload;
use crate::value::Dict;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

impl EventLoop {
    /// Runs the procedure's handler on a worker; its answer comes back as a YIELD command.
    pub(super) fn invoke(
        &mut self,
        request: u64,
        registration: u64,
        details: Dict,
        payload: Payload,
    ) {
        let (Some(procedure), Some(client)) =
            (self.registry.procedure(registration), self.client())
        else {
            if let Some(session) = self.session() {
                session.yield_error(request, WampError::new("wamp.error.no_such_registration"));
            }
            return;
        };
        let invocation = Invocation {
            args: payload.args,
            kwargs: payload.kwargs,
            details: InvocationDetails::from_raw(details, &procedure.procedure),
            client,
        };
        let handler = Arc::clone(&procedure.handler);
        let sender = invocation.client.commands().clone();
        let failure_uri = self.settings.failure_uri.clone();
        self.pool.execute(move || {
            let result = match catch_unwind(AssertUnwindSafe(|| handler(invocation))) {
                Ok(Ok(result)) => Ok(Payload::new(result.args, result.kwargs)),
                Ok(Err(error)) => Err(error.into_wamp(&failure_uri)),
                Err(panic) => {
                    let message = panic_message(panic.as_ref());
                    log::error!("a procedure handler panicked: {message}");
                    Err(
                        HandlerError::Failed(format!("the handler panicked: {message}"))
                            .into_wamp(&failure_uri),
                    )
                }
            };
            // If the loop is gone the caller already got a connection error.
            let _ = sender.send(Command::Yield { request, result });
        });
    }

    /// Queues the event for every local subscription it belongs to.
    pub(super) fn deliver(
        &mut self,
        subscription: u64,
        publication: u64,
        details: Dict,
        payload: Payload,
    ) {
        let count = self.registry.topic_count(subscription);
        if count == 0 {
            return; // an event racing our UNSUBSCRIBE
        }
        let Some(client) = self.client() else {
            return; // the last handle is gone and the client is closing
        };
        let mut shared = Some((payload, details));
        for (i, topic) in self.registry.topics(subscription).enumerate() {
            // Only several subscriptions to one topic need copies; the last one takes the original.
            let (payload, details) = if i + 1 == count {
                shared.take().unwrap_or_default()
            } else {
                shared.clone().unwrap_or_default()
            };
            let event = Event {
                args: payload.args,
                kwargs: payload.kwargs,
                details: EventDetails::from_raw(details, publication, &topic.topic),
                client: client.clone(),
            };
            topic.queue.push(event, &self.pool);
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
