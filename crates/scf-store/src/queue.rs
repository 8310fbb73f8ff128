//! The async event queue: events are claimed under leases, the same way for one process
//! and for many sharing a store.
//!
//! An accepted event is stored `RUNNING` and due at once ([`AsyncQueue::enqueue`], durable
//! on return). A worker [claims](AsyncQueue::claim) due events, naming itself and a lease
//! length; while an attempt runs it [renews](AsyncQueue::renew) the lease, and it ends the
//! attempt with an [`AttemptEnd`]: finished, failed with the next attempt scheduled in the
//! store, failed for good, or released unrun. An event whose lease ran out (its worker
//! died) is due again: the next claim, by any worker, reports the interrupted attempt
//! ([`Claim::interrupted`]) and runs the next `RetryNum`. Retries and their times live in
//! the store, so a retry scheduled before a restart runs after it, on time.
//! [`terminate`](AsyncQueue::terminate) marks an event `ABORTED` whoever holds it; the
//! holder learns it at its next renewal ([`Renewal::Terminated`]).
//!
//! Delivery is at least once: an attempt runs twice only when its worker lost its lease
//! while running it (it stalled past the lease, or died after the attempt's effects).
//!
//! Every status change goes through [`AsyncStatus::can_become`]: an event that has ended
//! (`FINISHED`, `FAILED`, `ABORTED`) never changes again.
//!
//! Times are passed in (`now`) rather than read by the store, so that every store gives
//! the same answers for the same calls; nodes that share a store need synchronised clocks.

use std::time::Duration;

use time::OffsetDateTime;

use crate::error::StoreError;
use crate::query::{AsyncEvent, AsyncQuery, AsyncStatus};

impl AsyncStatus {
    /// Whether an event in this status may move to `next`: a `RUNNING` event may become
    /// anything (or stay `RUNNING`, for a retry); an ended one never changes.
    pub fn can_become(self, next: AsyncStatus) -> bool {
        match (self, next) {
            (AsyncStatus::Running, _) => true,
            (AsyncStatus::Finished | AsyncStatus::Failed | AsyncStatus::Aborted, _) => false,
        }
    }

    /// Whether the event has ended (`FINISHED`, `FAILED` or `ABORTED`).
    pub fn has_ended(self) -> bool {
        self != AsyncStatus::Running
    }
}

/// A function a worker runs, by namespace and name (any qualifier).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FunctionRef {
    /// The namespace (`default`).
    pub namespace: String,
    /// The function name.
    pub name: String,
}

impl FunctionRef {
    /// The function `name` of `namespace`.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        FunctionRef {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// Whether `event` is an event of this function.
    pub fn runs(&self, event: &AsyncEvent) -> bool {
        self.namespace == event.namespace && self.name == event.function_name
    }
}

/// A worker's hold on an event: who, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The worker's name, unique among the processes that share the store (the invoker
    /// uses its node id).
    pub worker: String,
    /// When the lease runs out unless renewed.
    pub until: OffsetDateTime,
}

impl Lease {
    /// When a lease of `lease` taken at `now` runs out: `now + lease`, or the end of the
    /// calendar when that is later (every store computes it so).
    pub fn end(now: OffsetDateTime, lease: Duration) -> OffsetDateTime {
        time::Duration::try_from(lease)
            .ok()
            .and_then(|d| now.checked_add(d))
            .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc())
    }
}

/// An event a worker claimed: it is to run attempt [`retry_num`](Self::retry_num).
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The event as stored after the claim (`attempts` counts this attempt).
    pub event: AsyncEvent,
    /// The `RetryNum` of the attempt to run (0 for the first).
    pub retry_num: u32,
    /// How many attempts failed so far (a retry budget counts these; an interrupted or
    /// released attempt is not a failure).
    pub failures: u32,
    /// The `RetryNum` of an attempt that was running when its worker lost the lease: its
    /// log record is to be closed as interrupted (RetCode 3).
    pub interrupted: Option<u32>,
    /// The lease this claim holds.
    pub lease: Lease,
}

/// How an attempt ended, as its worker reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptEnd {
    /// It succeeded: the event is `FINISHED` with `status_code`.
    Finished {
        /// The attempt's status code (200).
        status_code: i64,
    },
    /// It failed and the next attempt runs at `at`: the event stays `RUNNING` (with this
    /// status code) and is due again then, for any worker.
    Retry {
        /// The failed attempt's status code.
        status_code: i64,
        /// When the next attempt is due.
        at: OffsetDateTime,
    },
    /// It failed, with no retry left (or none that could start within `MsgTTL`): the
    /// event is `FAILED` with `status_code`.
    Failed {
        /// The status code the event ends with.
        status_code: i64,
    },
    /// It could not run and never will (`MsgTTL` passed while it waited for room, its
    /// function is gone, its event is not JSON): the event is `FAILED` with
    /// `status_code`, and the claimed attempt is not counted.
    Abandoned {
        /// The status code the event ends with.
        status_code: i64,
    },
    /// It did not run (the worker is shutting down): the attempt is not counted, and the
    /// event is due again at once with the same `RetryNum`.
    Released,
}

/// What a renewal found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renewal {
    /// The lease is held until this time.
    Held(OffsetDateTime),
    /// The event was terminated: stop the attempt.
    Terminated,
    /// Another worker holds the event now (this lease ran out and it was claimed again),
    /// or it ended: stop the attempt and do not report it.
    Lost,
}

/// What [`AsyncQueue::end_attempt`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The event now has this status (`RUNNING` again for a retry or a release).
    Now(AsyncStatus),
    /// Nothing: the event was terminated, or the worker no longer held it.
    Ignored,
}

/// What [`AsyncQueue::terminate`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Termination {
    /// The event was `RUNNING` and is now `ABORTED`; `held_by` is the worker running it,
    /// if one was.
    Aborted {
        /// The worker whose lease was live, which learns it at its next renewal.
        held_by: Option<String>,
    },
    /// The event had already ended with this status.
    AlreadyEnded(AsyncStatus),
}

/// Where accepted async events wait, run and end. Methods block, as [`LogStore`]'s do.
///
/// [`LogStore`]: crate::LogStore
pub trait AsyncQueue: Send + Sync + std::fmt::Debug {
    /// Stores an accepted event (`RUNNING`, due at once); durable when this returns. An
    /// event with the same `invoke_request_id` is refused with
    /// [`StoreError::AsyncEventExists`].
    fn enqueue(&self, ev: &AsyncEvent) -> Result<(), StoreError>;

    /// Claims at most `limit` due events of the `functions` this worker runs (namespace
    /// and function name), oldest due first, each under a lease of `lease` from `now`.
    /// Due: `RUNNING`, its next attempt time reached, and no live lease. Each claim counts
    /// an attempt (`attempts + 1`). Events of other functions are left for a worker that
    /// runs them.
    fn claim(
        &self,
        worker: &str,
        lease: Duration,
        limit: usize,
        functions: &[FunctionRef],
        now: OffsetDateTime,
    ) -> Result<Vec<Claim>, StoreError>;

    /// Every `RUNNING` event, oldest accepted first (what a starting worker will find).
    fn unfinished(&self) -> Result<Vec<AsyncEvent>, StoreError>;

    /// When the next event becomes due, if any is waiting: the earliest next-attempt time
    /// or lease expiry among `RUNNING` events (so a worker knows how long it may sleep).
    fn next_due(&self) -> Result<Option<OffsetDateTime>, StoreError>;

    /// Extends `worker`'s lease on `id` to `now + lease`, or says why it cannot.
    fn renew(
        &self,
        id: &str,
        worker: &str,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Renewal, StoreError>;

    /// Ends `worker`'s attempt on `id` (see [`AttemptEnd`]) and drops its lease. Ignored
    /// when the worker no longer holds the event or it was terminated; errors with
    /// [`StoreError::AsyncEventNotFound`] for an unknown id.
    fn end_attempt(
        &self,
        id: &str,
        worker: &str,
        end: AttemptEnd,
        now: OffsetDateTime,
    ) -> Result<Ended, StoreError>;

    /// `TerminateAsyncEvent`: a `RUNNING` event becomes `ABORTED` with `status_code` and
    /// end time `now`, whoever holds it. Errors with [`StoreError::AsyncEventNotFound`]
    /// for an unknown id.
    fn terminate(
        &self,
        id: &str,
        status_code: i64,
        now: OffsetDateTime,
    ) -> Result<Termination, StoreError>;

    /// The event with this `InvokeRequestId`, if any.
    fn get_async(&self, invoke_request_id: &str) -> Result<Option<AsyncEvent>, StoreError>;

    /// `(TotalCount, EventList)` for `ListAsyncEvents`, after [`AsyncQuery::validate`].
    fn list_async(&self, q: &AsyncQuery) -> Result<(u64, Vec<AsyncEvent>), StoreError>;

    /// How many events wait for a worker at `now`: `RUNNING` and not held by a live lease
    /// (due now, or waiting for a retry).
    fn pending(&self, now: OffsetDateTime) -> Result<u64, StoreError>;

    /// Claims one tick of a timer trigger: `true` for the first caller with this
    /// `(trigger, tick)`, `false` for every other (another process fired it), so that
    /// processes sharing a store fire each tick once between them.
    fn claim_tick(&self, trigger: &str, tick: OffsetDateTime) -> Result<bool, StoreError>;
}
