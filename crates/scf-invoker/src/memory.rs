//! How `MemUsage` is measured, and how a handler reports its own figure.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use scf_context::HostReport;

use crate::alloc::CountingAllocator;

/// How an invocation's `MemUsage` was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MemSource {
    /// The handler reported it with [`Context::report_mem_usage`](scf_context::Context::report_mem_usage) (an out-of-process runtime
    /// reports its process's peak).
    Reported,
    /// The process's peak heap allocation during the invocation, counted by
    /// [`CountingAllocator`]. With other invocations running at the same time it
    /// includes their allocations too: an upper bound.
    PeakAllocation,
    /// The process's resident set size (`VmRSS`), sampled at most 100 ms before the
    /// invocation ended. It includes the whole host process.
    ProcessRss,
    /// Nothing could be measured (no counting allocator, and no `/proc` on this system);
    /// `MemUsage` is 0.
    Unavailable,
}

/// Invocations in flight while the counting allocator measures; its peak is reset only
/// when none is, so concurrent invocations never lose part of their own peak.
static MEASURING: AtomicUsize = AtomicUsize::new(0);

/// The memory measure of one invocation, started when it starts.
#[derive(Debug)]
pub(crate) struct Probe {
    counting: bool,
}

impl Probe {
    pub(crate) fn begin() -> Self {
        let counting = CountingAllocator::is_installed();
        if counting && MEASURING.fetch_add(1, Ordering::AcqRel) == 0 {
            CountingAllocator::reset_peak();
        }
        Probe { counting }
    }

    /// The figure when the invocation ends: the handler's report if there is one, else
    /// what the invoker can measure.
    pub(crate) fn end(&self, usage: &Usage, now: Instant) -> (u64, MemSource) {
        if let Some(bytes) = usage.reported() {
            return (bytes, MemSource::Reported);
        }
        if self.counting {
            return (CountingAllocator::peak() as u64, MemSource::PeakAllocation);
        }
        match process_rss(now) {
            Some(bytes) => (bytes, MemSource::ProcessRss),
            None => (0, MemSource::Unavailable),
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        if self.counting {
            MEASURING.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// What a handler reported about its own memory.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    reported: AtomicU64,
    has_report: AtomicBool,
    /// Cold-start init time the handler reported, in microseconds.
    init_micros: AtomicU64,
    /// Whether the handler is waiting for a cold instance to initialise.
    in_init: AtomicBool,
}

/// A handler's reports, through its context (see [`scf_context::Context::report_mem_usage`]).
impl HostReport for Usage {
    fn mem_usage(&self, bytes: u64) {
        self.reported.fetch_max(bytes, Ordering::Relaxed);
        self.has_report.store(true, Ordering::Release);
    }

    fn init_started(&self) {
        self.in_init.store(true, Ordering::Release);
    }

    fn init_duration(&self, init: Duration) {
        let micros = u64::try_from(init.as_micros()).unwrap_or(u64::MAX);
        self.init_micros.fetch_max(micros, Ordering::AcqRel);
        self.in_init.store(false, Ordering::Release);
    }
}

impl Usage {
    /// Whether the handler said it is waiting for init (and has not said it ended).
    pub(crate) fn in_init(&self) -> bool {
        self.in_init.load(Ordering::Acquire)
    }

    /// The init time the handler reported (zero when none): it is not part of the
    /// invocation's time limit, nor of its `Duration`.
    pub(crate) fn init(&self) -> Duration {
        Duration::from_micros(self.init_micros.load(Ordering::Acquire))
    }

    fn reported(&self) -> Option<u64> {
        self.has_report
            .load(Ordering::Acquire)
            .then(|| self.reported.load(Ordering::Relaxed))
    }
}

const RSS_REFRESH: Duration = Duration::from_millis(100);
static RSS_BYTES: AtomicU64 = AtomicU64::new(0);
/// Milliseconds since `epoch()` at the last sample, plus one (0 = never sampled).
static RSS_SAMPLED_AT: AtomicU64 = AtomicU64::new(0);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// The process's RSS in bytes, re-read from `/proc/self/status` at most every 100 ms
/// (reading it costs microseconds, more than an invocation's own overhead).
fn process_rss(now: Instant) -> Option<u64> {
    let since = now.saturating_duration_since(epoch());
    let now_ms = u64::try_from(since.as_millis()).unwrap_or(u64::MAX - 1) + 1;
    let last = RSS_SAMPLED_AT.load(Ordering::Acquire);
    let stale = last == 0 || now_ms.saturating_sub(last) >= RSS_REFRESH.as_millis() as u64;
    if stale
        && RSS_SAMPLED_AT
            .compare_exchange(last, now_ms, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    {
        if let Some(bytes) = read_rss() {
            RSS_BYTES.store(bytes, Ordering::Release);
        }
    }
    match RSS_BYTES.load(Ordering::Acquire) {
        0 => None,
        bytes => Some(bytes),
    }
}

fn read_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb.saturating_mul(1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_report_wins() {
        let usage = Usage::default();
        assert_eq!(usage.reported(), None);
        usage.mem_usage(10);
        usage.mem_usage(30);
        usage.mem_usage(20);
        assert_eq!(usage.reported(), Some(30));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn process_rss_is_measured_on_linux() {
        assert!(process_rss(Instant::now()).unwrap_or(0) > 1024 * 1024);
    }
}
