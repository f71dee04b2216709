//! The async forms of the request methods: `call_async`, `publish_async`,
//! `register_async`, ... Each builds its request with the same builder as its
//! blocking twin (`requests.rs`), hands it to the loop at once, and returns a
//! [`ReplyFuture`] polling the same reply slot the blocking form waits on.
//!
//! No async runtime is involved: the event loop's I/O thread completes the slot and
//! wakes the task's [`Waker`](std::task::Waker), also at the request's deadline (the
//! loop's table of deadlines is the one timer), so the futures run on any executor.

use super::pending::{Pending, Prepared, Room};
use super::{
    CallOptions, CallResult, Client, Event, HandlerResult, Invocation, PublishOptions,
    RegisterOptions, Registration, SubscribeOptions, Subscription,
};
use crate::error::{Error, Result};
use crate::proto::id::PublicationId;
use serde::Serialize;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The answer to a request made by one of the `*_async` methods of [`Client`], as a
/// [`Future`].
///
/// The request is sent when the method is called, not when the future is first
/// polled: its timeout counts from then, and errors found before sending (an invalid
/// URI, arguments that do not serialize) come out of the future's first poll.
///
/// It needs no async runtime: the connection's own I/O thread wakes the task when
/// the answer arrives, or at the request's deadline with [`Error::Timeout`]. It is
/// `Send`, `Sync`, `Unpin` and `'static` (it owns a handle to the client, which stays
/// connected while the future lives), so `tokio::spawn` and other executors take it.
///
/// Dropping it before it is ready abandons the request: a call is canceled at the
/// router (mode `killnowait`, as dropping a [`Call`](crate::Call) does), a
/// registration or subscription that the router had not confirmed yet is undone,
/// one it had confirmed stays (as after dropping its handle); a publication stays
/// published.
///
/// ```no_run
/// use izaber_wamp::{Client, ClientConfig};
/// # fn main() -> izaber_wamp::Result<()> {
/// let client = Client::connect(ClientConfig::new("ws://127.0.0.1:8080/ws", "realm1"))?;
/// // Any executor: here the `futures` crate's; under tokio, `.await` it in a task.
/// let sum: i64 = futures::executor::block_on(client.call_async("com.example.add", (2, 3)))?
///     .arg(0)?;
/// # let _ = sum;
/// # Ok(())
/// # }
/// ```
///
/// # Panics
///
/// When polled again after it returned `Poll::Ready`, as an `async fn`'s future does.
#[must_use = "the request is sent already; dropping the future abandons it (and cancels a call)"]
pub struct ReplyFuture<T> {
    client: Client,
    state: State<T>,
}

enum State<T> {
    /// It failed before it was sent.
    Failed(Error),
    Waiting(Pending<T>),
    /// Its output was taken.
    Done,
}

impl<T: 'static> ReplyFuture<T> {
    /// Hands `prepared` to the loop without waiting for room in its command queue.
    fn start(client: &Client, prepared: Result<Prepared<T>>) -> Self {
        let state = match prepared.and_then(|prepared| client.submit(prepared, Room::NoWait)) {
            Ok(pending) => State::Waiting(pending),
            Err(error) => State::Failed(error),
        };
        ReplyFuture {
            client: client.clone(),
            state,
        }
    }
}

impl<T> Future for ReplyFuture<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        let outcome = match &this.state {
            State::Waiting(pending) => match pending.poll_reply(&this.client, cx) {
                Poll::Ready(outcome) => Some(outcome),
                Poll::Pending => return Poll::Pending,
            },
            State::Failed(_) | State::Done => None,
        };
        match (std::mem::replace(&mut this.state, State::Done), outcome) {
            (State::Waiting(pending), Some(outcome)) => {
                Poll::Ready(pending.conclude(&this.client, outcome))
            }
            (State::Failed(error), _) => Poll::Ready(Err(error)),
            _ => panic!("a ReplyFuture was polled after it completed"),
        }
    }
}

impl<T> Drop for ReplyFuture<T> {
    fn drop(&mut self) {
        if let State::Waiting(pending) = std::mem::replace(&mut self.state, State::Done) {
            pending.abandon(&self.client);
        }
    }
}

impl<T> fmt::Debug for ReplyFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Failed(_) => "failed",
            State::Waiting(_) => "waiting",
            State::Done => "done",
        };
        f.debug_struct("ReplyFuture")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

/// The async forms: each method `m_async` takes the arguments of its blocking twin
/// `m` and returns a [`ReplyFuture`] of `m`'s result. Handing the request over writes
/// it to the socket without blocking if the connection's lock is free, and otherwise
/// leaves it to the lock's holder; it never waits for the lock, the router, nor room
/// in the connection's command queue.
impl Client {
    /// The async form of [`call`](Client::call).
    ///
    /// ```no_run
    /// # async fn example(client: izaber_wamp::Client) -> izaber_wamp::Result<()> {
    /// let sum: i64 = client.call_async("com.example.add", (1, 2)).await?.arg(0)?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`call`](Client::call); [`Error::Timeout`] at the call's deadline (the
    /// router is asked to cancel it), and also at once, with `after` zero, when
    /// 4,096 commands already wait for the connection because its socket takes
    /// nothing more: an async caller is never put to sleep waiting for room.
    pub fn call_async(&self, procedure: &str, args: impl Serialize) -> ReplyFuture<CallResult> {
        self.call_with_async(procedure, args, (), &CallOptions::default())
    }

    /// The async form of [`call_kw`](Client::call_kw).
    ///
    /// ```no_run
    /// # async fn example(client: izaber_wamp::Client) -> izaber_wamp::Result<()> {
    /// let kwargs = std::collections::BTreeMap::from([("verbose", true)]);
    /// let result = client.call_kw_async("com.example.status", (), kwargs).await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`call_async`](Client::call_async).
    pub fn call_kw_async(
        &self,
        procedure: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> ReplyFuture<CallResult> {
        self.call_with_async(procedure, args, kwargs, &CallOptions::default())
    }

    /// The async form of [`call_with`](Client::call_with).
    ///
    /// ```no_run
    /// # async fn example(client: izaber_wamp::Client) -> izaber_wamp::Result<()> {
    /// use izaber_wamp::CallOptions;
    /// use std::time::Duration;
    ///
    /// let options = CallOptions::new().timeout(Duration::from_millis(500));
    /// let result = client.call_with_async("com.example.slow", (), (), &options).await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`call_async`](Client::call_async), with the timeout from `options`.
    pub fn call_with_async(
        &self,
        procedure: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
        options: &CallOptions,
    ) -> ReplyFuture<CallResult> {
        ReplyFuture::start(self, self.call_request(procedure, &args, &kwargs, options))
    }

    /// The async form of [`publish`](Client::publish): an unacknowledged publication,
    /// ready once it is handed to the connection.
    ///
    /// ```no_run
    /// # async fn example(client: izaber_wamp::Client) -> izaber_wamp::Result<()> {
    /// client.publish_async("com.example.news", ("extra!",)).await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`publish`](Client::publish), and [`Error::Timeout`] at once when the
    /// connection's command queue is full (see [`call_async`](Client::call_async)).
    pub fn publish_async(&self, topic: &str, args: impl Serialize) -> ReplyFuture<()> {
        self.publish_kw_async(topic, args, ())
    }

    /// The async form of [`publish_kw`](Client::publish_kw).
    ///
    /// ```no_run
    /// # async fn example(client: izaber_wamp::Client) -> izaber_wamp::Result<()> {
    /// let kwargs = std::collections::BTreeMap::from([("source", "sensor-1")]);
    /// client.publish_kw_async("com.example.reading", (21.5,), kwargs).await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`publish_async`](Client::publish_async).
    pub fn publish_kw_async(
        &self,
        topic: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> ReplyFuture<()> {
        let prepared = self.publish_request(topic, &args, &kwargs, &PublishOptions::default());
        ReplyFuture::start(self, prepared.map(|prepared| prepared.map(drop)))
    }

    /// The async form of [`publish_with`](Client::publish_with): with `acknowledge`,
    /// ready when the router has accepted the publication, with its ID.
    ///
    /// ```no_run
    /// # async fn example(client: izaber_wamp::Client) -> izaber_wamp::Result<()> {
    /// use izaber_wamp::PublishOptions;
    ///
    /// let options = PublishOptions::new().acknowledge(true);
    /// let id = client.publish_with_async("com.example.news", ("extra!",), (), &options).await?;
    /// println!("published as {id:?}");
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`publish_with`](Client::publish_with), and [`Error::Timeout`] at once when
    /// the connection's command queue is full (see [`call_async`](Client::call_async)).
    pub fn publish_with_async(
        &self,
        topic: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
        options: &PublishOptions,
    ) -> ReplyFuture<Option<PublicationId>> {
        ReplyFuture::start(self, self.publish_request(topic, &args, &kwargs, options))
    }

    /// The async form of [`register`](Client::register). The handler stays a plain
    /// closure run on the client's worker pool, not on the executor: it may block
    /// and use the blocking API, and it runs even while the executor's thread is
    /// busy (so a task may await a call of a procedure registered by the same client).
    ///
    /// ```no_run
    /// # async fn example(client: izaber_wamp::Client) -> izaber_wamp::Result<()> {
    /// use izaber_wamp::CallResult;
    ///
    /// let registration = client
    ///     .register_async("com.example.add", |inv| {
    ///         let (a, b): (i64, i64) = inv.args_as()?;
    ///         Ok(CallResult::value(a + b)?)
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`register`](Client::register), and [`Error::Timeout`] at once when the
    /// connection's command queue is full (see [`call_async`](Client::call_async)).
    pub fn register_async<F>(&self, procedure: &str, handler: F) -> ReplyFuture<Registration>
    where
        F: Fn(Invocation) -> HandlerResult + Send + Sync + 'static,
    {
        self.register_with_async(procedure, &RegisterOptions::default(), handler)
    }

    /// The async form of [`register_with`](Client::register_with).
    ///
    /// ```no_run
    /// # async fn example(client: izaber_wamp::Client) -> izaber_wamp::Result<()> {
    /// use izaber_wamp::{CallResult, InvokePolicy, RegisterOptions};
    ///
    /// let options = RegisterOptions::new().invoke(InvokePolicy::RoundRobin);
    /// client
    ///     .register_with_async("com.example.work", &options, |_inv| Ok(CallResult::empty()))
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`register_async`](Client::register_async).
    pub fn register_with_async<F>(
        &self,
        procedure: &str,
        options: &RegisterOptions,
        handler: F,
    ) -> ReplyFuture<Registration>
    where
        F: Fn(Invocation) -> HandlerResult + Send + Sync + 'static,
    {
        ReplyFuture::start(self, self.register_request(procedure, options, handler))
    }

    /// The async form of [`subscribe`](Client::subscribe). The handler stays a plain
    /// closure run on the client's worker pool, as for
    /// [`register_async`](Client::register_async).
    ///
    /// ```no_run
    /// # async fn example(client: izaber_wamp::Client) -> izaber_wamp::Result<()> {
    /// let subscription = client
    ///     .subscribe_async("com.example.news", |event| println!("news: {:?}", event.args))
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`subscribe`](Client::subscribe), and [`Error::Timeout`] at once when the
    /// connection's command queue is full (see [`call_async`](Client::call_async)).
    pub fn subscribe_async<F>(&self, topic: &str, handler: F) -> ReplyFuture<Subscription>
    where
        F: Fn(Event) + Send + Sync + 'static,
    {
        self.subscribe_with_async(topic, &SubscribeOptions::default(), handler)
    }

    /// The async form of [`subscribe_with`](Client::subscribe_with).
    ///
    /// ```no_run
    /// # async fn example(client: izaber_wamp::Client) -> izaber_wamp::Result<()> {
    /// use izaber_wamp::{MatchPolicy, SubscribeOptions};
    ///
    /// let options = SubscribeOptions::new().match_policy(MatchPolicy::Prefix);
    /// client
    ///     .subscribe_with_async("com.example", &options, |event| println!("{:?}", event.args))
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`subscribe_async`](Client::subscribe_async).
    pub fn subscribe_with_async<F>(
        &self,
        topic: &str,
        options: &SubscribeOptions,
        handler: F,
    ) -> ReplyFuture<Subscription>
    where
        F: Fn(Event) + Send + Sync + 'static,
    {
        ReplyFuture::start(self, self.subscribe_request(topic, options, handler))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `tokio::spawn` and other executors' spawns ask of a future, and more.
    fn spawnable<F: Future + Send + Sync + Unpin + 'static>() {}

    #[test]
    fn reply_futures_can_be_spawned_and_moved_freely() {
        spawnable::<ReplyFuture<CallResult>>();
        spawnable::<ReplyFuture<()>>();
        spawnable::<ReplyFuture<Option<PublicationId>>>();
        spawnable::<ReplyFuture<Registration>>();
        spawnable::<ReplyFuture<Subscription>>();
    }
}
