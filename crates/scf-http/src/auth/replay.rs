//! The optional replay cache: a signature accepted once is refused for the rest of the
//! timestamp window.
//!
//! TC3-HMAC-SHA256 signs the timestamp, not a nonce, so a captured request can be sent
//! again unchanged until its `X-TC-Timestamp` leaves the window (5 minutes either way),
//! on SCF as here. With the cache on, the server remembers every signature it accepted
//! for as long as its timestamp is inside the window, and refuses the same signature a
//! second time. A request is then accepted at most once, which also means a client that
//! retries a request after a lost answer must sign it again (the SDKs do, with a new
//! timestamp).

use std::collections::HashMap;
use std::sync::Mutex;

/// Signatures accepted within the window, with their timestamps.
#[derive(Debug, Default)]
pub(crate) struct ReplayCache {
    seen: Mutex<HashMap<[u8; 32], i64>>,
}

impl ReplayCache {
    /// Records `signature` (of a request signed at `timestamp`) as used at `now`; false
    /// when it already was. Entries whose timestamp left the window (`skew` seconds) are
    /// dropped as the cache grows, so it holds at most the signatures of one window.
    pub(crate) fn first_use(
        &self,
        signature: [u8; 32],
        timestamp: i64,
        now: i64,
        skew: u64,
    ) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= 1024 && seen.len().is_power_of_two() {
            let oldest = now.saturating_sub_unsigned(skew);
            seen.retain(|_, ts| *ts >= oldest);
        }
        match seen.entry(signature) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(timestamp);
                true
            }
        }
    }
}
