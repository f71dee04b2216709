//! Maps keyed by IDs.

use std::collections::HashMap;

/// A map keyed by IDs (WAMP's or our own). Looked up on every message, so hashed with
/// foldhash rather than SipHash; its per-process seed still keeps a router that
/// picks the IDs from steering them into one bucket.
pub(crate) type IdMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
