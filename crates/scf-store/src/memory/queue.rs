//! [`AsyncQueue`] for [`MemoryStore`]: the reference the other stores are checked
//! against (the conformance suite runs over each).

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use time::OffsetDateTime;

use super::{page, Inner, MemoryStore};
use crate::error::StoreError;
use crate::query::{AsyncEvent, AsyncQuery, AsyncStatus};
use crate::queue::{
    AsyncQueue, AttemptEnd, Claim, Ended, FunctionRef, Lease, Renewal, Termination,
};

/// The queue's view of one `RUNNING` event.
#[derive(Debug, Clone)]
pub(super) struct Queued {
    next_attempt_at: OffsetDateTime,
    lease: Option<Lease>,
    failures: u32,
}

impl Queued {
    pub(super) fn due_at(start: OffsetDateTime) -> Self {
        Queued {
            next_attempt_at: start,
            lease: None,
            failures: 0,
        }
    }

    fn is_due(&self, now: OffsetDateTime) -> bool {
        self.next_attempt_at <= now && self.lease.as_ref().is_none_or(|l| l.until <= now)
    }

    /// When this event next needs a worker: its lease's end, or its next attempt.
    fn wakes_at(&self) -> OffsetDateTime {
        self.lease
            .as_ref()
            .map_or(self.next_attempt_at, |l| l.until)
    }
}

/// Claimed timer ticks, bounded: the oldest are forgotten first.
#[derive(Debug, Default)]
pub(super) struct Ticks {
    seen: HashSet<(String, OffsetDateTime)>,
    order: VecDeque<(String, OffsetDateTime)>,
}

impl Inner {
    /// The sequence number and event of `id`, and its queue state: there is one exactly
    /// while the event is `RUNNING` (so that the queue's reads visit only those).
    fn queued_mut(
        &mut self,
        id: &str,
    ) -> Result<(u64, &mut AsyncEvent, Option<&mut Queued>), StoreError> {
        let not_found = || StoreError::AsyncEventNotFound(id.to_owned());
        let seq = *self.event_index.get(id).ok_or_else(not_found)?;
        let event = self.events.get_mut(&seq).ok_or_else(not_found)?;
        Ok((seq, event, self.queued.get_mut(&seq)))
    }
}

impl AsyncQueue for MemoryStore {
    fn enqueue(&self, ev: &AsyncEvent) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.event_index.contains_key(&ev.invoke_request_id) {
            return Err(StoreError::AsyncEventExists(ev.invoke_request_id.clone()));
        }
        inner.insert_event(ev, self.async_capacity)
    }

    fn claim(
        &self,
        worker: &str,
        lease: Duration,
        limit: usize,
        functions: &[FunctionRef],
        now: OffsetDateTime,
    ) -> Result<Vec<Claim>, StoreError> {
        let mut inner = self.lock();
        let inner = &mut *inner;
        let events = &inner.events;
        let mut due: Vec<(OffsetDateTime, OffsetDateTime, u64)> = inner
            .queued
            .iter()
            .filter(|(_, q)| q.is_due(now))
            .filter_map(|(seq, q)| {
                let e = events.get(seq)?;
                functions.iter().any(|f| f.runs(e)).then_some((
                    q.next_attempt_at,
                    e.start_time,
                    *seq,
                ))
            })
            .collect();
        due.sort_unstable();
        let until = Lease::end(now, lease);
        let mut claims = Vec::new();
        for (_, _, seq) in due.into_iter().take(limit) {
            let (Some(event), Some(q)) = (inner.events.get_mut(&seq), inner.queued.get_mut(&seq))
            else {
                continue;
            };
            let interrupted = q.lease.take().and_then(|_| event.attempts.checked_sub(1));
            let retry_num = event.attempts;
            event.attempts = event.attempts.saturating_add(1);
            let lease = Lease {
                worker: worker.to_owned(),
                until,
            };
            q.lease = Some(lease.clone());
            claims.push(Claim {
                event: event.clone(),
                retry_num,
                failures: q.failures,
                interrupted,
                lease,
            });
        }
        Ok(claims)
    }

    fn unfinished(&self) -> Result<Vec<AsyncEvent>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<(u64, AsyncEvent)> = inner
            .queued
            .keys()
            .filter_map(|s| Some((*s, inner.events.get(s)?.clone())))
            .collect();
        out.sort_by(|(sa, a), (sb, b)| a.start_time.cmp(&b.start_time).then(sa.cmp(sb)));
        Ok(out.into_iter().map(|(_, e)| e).collect())
    }

    fn next_due(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        let inner = self.lock();
        Ok(inner.queued.values().map(Queued::wakes_at).min())
    }

    fn renew(
        &self,
        id: &str,
        worker: &str,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Renewal, StoreError> {
        let mut inner = self.lock();
        let (_, event, q) = inner.queued_mut(id)?;
        Ok(match (event.status, q.and_then(|q| q.lease.as_mut())) {
            (AsyncStatus::Aborted, _) => Renewal::Terminated,
            (AsyncStatus::Running, Some(held)) if held.worker == worker => {
                held.until = Lease::end(now, lease);
                Renewal::Held(held.until)
            }
            _ => Renewal::Lost,
        })
    }

    fn end_attempt(
        &self,
        id: &str,
        worker: &str,
        end: AttemptEnd,
        now: OffsetDateTime,
    ) -> Result<Ended, StoreError> {
        let mut inner = self.lock();
        let (seq, event, q) = inner.queued_mut(id)?;
        let Some(q) = q.filter(|q| q.lease.as_ref().is_some_and(|l| l.worker == worker)) else {
            return Ok(Ended::Ignored);
        };
        let next = match end {
            AttemptEnd::Finished { .. } => AsyncStatus::Finished,
            AttemptEnd::Failed { .. } | AttemptEnd::Abandoned { .. } => AsyncStatus::Failed,
            AttemptEnd::Retry { .. } | AttemptEnd::Released => AsyncStatus::Running,
        };
        if !event.status.can_become(next) {
            return Ok(Ended::Ignored);
        }
        q.lease = None;
        match end {
            AttemptEnd::Finished { status_code } | AttemptEnd::Failed { status_code } => {
                if matches!(end, AttemptEnd::Failed { .. }) {
                    q.failures = q.failures.saturating_add(1);
                }
                event.status_code = status_code;
                event.end_time = Some(now);
            }
            AttemptEnd::Abandoned { status_code } => {
                event.attempts = event.attempts.saturating_sub(1);
                event.status_code = status_code;
                event.end_time = Some(now);
            }
            AttemptEnd::Retry { status_code, at } => {
                q.failures = q.failures.saturating_add(1);
                event.status_code = status_code;
                q.next_attempt_at = at;
            }
            AttemptEnd::Released => {
                event.attempts = event.attempts.saturating_sub(1);
                q.next_attempt_at = now;
            }
        }
        event.status = next;
        if next.has_ended() {
            inner.queued.remove(&seq);
        }
        Ok(Ended::Now(next))
    }

    fn terminate(
        &self,
        id: &str,
        status_code: i64,
        now: OffsetDateTime,
    ) -> Result<Termination, StoreError> {
        let mut inner = self.lock();
        let (seq, event, q) = inner.queued_mut(id)?;
        if !event.status.can_become(AsyncStatus::Aborted) {
            return Ok(Termination::AlreadyEnded(event.status));
        }
        let held_by = q
            .and_then(|q| q.lease.take())
            .filter(|l| l.until > now)
            .map(|l| l.worker);
        event.status = AsyncStatus::Aborted;
        event.status_code = status_code;
        event.end_time = Some(now);
        inner.queued.remove(&seq);
        Ok(Termination::Aborted { held_by })
    }

    fn get_async(&self, invoke_request_id: &str) -> Result<Option<AsyncEvent>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .event_index
            .get(invoke_request_id)
            .and_then(|s| inner.events.get(s))
            .cloned())
    }

    fn list_async(&self, q: &AsyncQuery) -> Result<(u64, Vec<AsyncEvent>), StoreError> {
        q.validate()?;
        let inner = self.lock();
        let hits = inner
            .events
            .iter()
            .filter(|(_, e)| q.matches(e))
            .map(|(s, e)| (*s, e));
        Ok(page(
            hits,
            |a, b| q.compare(a, b),
            q.order,
            q.offset,
            q.limit,
        ))
    }

    fn pending(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let inner = self.lock();
        Ok(inner
            .queued
            .values()
            .filter(|q| q.lease.as_ref().is_none_or(|l| l.until <= now))
            .count() as u64)
    }

    fn claim_tick(&self, trigger: &str, tick: OffsetDateTime) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let ticks = &mut inner.ticks;
        let key = (trigger.to_owned(), tick);
        if !ticks.seen.insert(key.clone()) {
            return Ok(false);
        }
        ticks.order.push_back(key);
        while ticks.order.len() > self.async_capacity.max(1) {
            if let Some(old) = ticks.order.pop_front() {
                ticks.seen.remove(&old);
            }
        }
        Ok(true)
    }
}
