//! WAMP identifiers: the valid range, the per-session request counter, and the
//! typed IDs the client's API hands out ([`SessionId`], [`PublicationId`]), so one
//! kind of ID cannot be passed for another.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// A map keyed by IDs. Looked up on every message, so hashed with foldhash rather
/// than SipHash; its per-process seed still keeps a router that picks the IDs from
/// steering them into one bucket.
pub(crate) type IdMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The largest ID WAMP allows: 2^53, so IDs survive a round trip through a JavaScript number.
pub const MAX_ID: u64 = 1 << 53;

/// True when `id` is a valid WAMP ID (1..=2^53).
pub fn is_valid_id(id: u64) -> bool {
    (1..=MAX_ID).contains(&id)
}

/// Declares a typed WAMP ID: a `u64` underneath, the same on the wire, converted from
/// and to `u64` explicitly.
macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(u64);

        impl $name {
            /// The ID with this number.
            pub const fn new(id: u64) -> Self {
                $name(id)
            }

            /// The ID's number.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl From<u64> for $name {
            fn from(id: u64) -> Self {
                $name(id)
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> u64 {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

typed_id!(
    /// A session's ID, given by the router in WELCOME.
    ///
    /// ```
    /// use izaber_wamp_proto::id::SessionId;
    /// let id = SessionId::from(4711);
    /// assert_eq!(id.get(), 4711);
    /// assert_eq!(id.to_string(), "4711");
    /// ```
    SessionId
);
typed_id!(
    /// A publication's ID, the same in PUBLISHED and in every EVENT of it.
    ///
    /// ```
    /// use izaber_wamp_proto::id::PublicationId;
    /// let id = PublicationId::new(7);
    /// assert_eq!(u64::from(id), 7);
    /// assert_eq!(id, PublicationId::from(7));
    /// ```
    PublicationId
);

/// Hands out request IDs for one session: 1, 2, 3, ... wrapping back to 1 after 2^53,
/// as the spec requires (routers do not enforce it, so the client must get it right).
///
/// ```
/// use izaber_wamp_proto::id::{RequestIds, MAX_ID};
///
/// let mut ids = RequestIds::new();
/// assert_eq!(ids.peek(), 1);
/// assert_eq!((ids.next_id(), ids.next_id()), (1, 2));
///
/// let mut ids = RequestIds::starting_after(MAX_ID - 1);
/// assert_eq!((ids.next_id(), ids.next_id()), (MAX_ID, 1));
/// ```
#[derive(Debug, Clone)]
pub struct RequestIds {
    last: u64,
}

impl RequestIds {
    /// A counter whose first ID is 1.
    pub fn new() -> Self {
        RequestIds { last: 0 }
    }

    /// A counter whose next ID is `last + 1` (wrapping); lets tests reach the wrap point.
    pub fn starting_after(last: u64) -> Self {
        RequestIds { last }
    }

    /// The ID [`next_id`](Self::next_id) will return, without using it up: a request
    /// that fails to encode is never sent, so it must not leave a gap in the sequence.
    pub fn peek(&self) -> u64 {
        if self.last >= MAX_ID {
            1
        } else {
            self.last + 1
        }
    }

    /// The next request ID.
    pub fn next_id(&mut self) -> u64 {
        self.last = self.peek();
        self.last
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_start_at_one_and_step_by_one() {
        let mut ids = RequestIds::new();
        assert_eq!((ids.next_id(), ids.next_id(), ids.next_id()), (1, 2, 3));
    }

    #[test]
    fn ids_wrap_after_two_to_the_53() {
        let mut ids = RequestIds::starting_after(MAX_ID - 1);
        assert_eq!(ids.next_id(), MAX_ID);
        assert_eq!(ids.next_id(), 1);
    }

    #[test]
    fn valid_range_is_one_to_two_to_the_53() {
        assert!(!is_valid_id(0));
        assert!(is_valid_id(1));
        assert!(is_valid_id(MAX_ID));
        assert!(!is_valid_id(MAX_ID + 1));
    }
}
