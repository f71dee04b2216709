//! Concurrency building blocks, below the event loop: the loop's lock and its rule
//! ([`lock`]), the reply slot callers wait on ([`slot`]), the stream a started call
//! or a progressive invocation delivers into ([`stream`]) and the worker pool handlers
//! run on ([`pool`]). None of them knows anything about WAMP.

pub(crate) mod lock;
pub(crate) mod pool;
pub(crate) mod prim;
pub(crate) mod slot;
pub(crate) mod stream;
