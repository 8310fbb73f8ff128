//! The wall clock the store's times are taken from.

use std::time::Duration;

use time::OffsetDateTime;

/// `now + d`, or `now` when that is past the calendar's end.
pub(crate) fn later(now: OffsetDateTime, d: Duration) -> OffsetDateTime {
    time::Duration::try_from(d)
        .ok()
        .and_then(|d| now.checked_add(d))
        .unwrap_or(now)
}

/// Wall-clock time that advances with the runtime's clock: the store's times (leases of
/// async events and of concurrency slots, retry times, `MsgTTL`) are wall-clock times that
/// other processes read, and this keeps them steady across wall-clock steps while the
/// process runs (and virtual under tokio's paused test clock).
#[derive(Debug)]
pub(crate) struct Clock {
    wall: OffsetDateTime,
    at: tokio::time::Instant,
}

impl Clock {
    /// A clock that reads the wall clock now; call it inside the runtime whose clock it
    /// follows.
    pub(crate) fn start() -> Self {
        Clock {
            wall: OffsetDateTime::now_utc(),
            at: tokio::time::Instant::now(),
        }
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        let elapsed = tokio::time::Instant::now().saturating_duration_since(self.at);
        later(self.wall, elapsed)
    }
}
