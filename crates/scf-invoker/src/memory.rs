//! How `MemUsage` is measured, and how a handler reports its own figure.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::alloc::CountingAllocator;

/// How an invocation's `MemUsage` was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MemSource {
    /// The handler reported it with [`report_mem_usage`] (an out-of-process runtime
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

impl Usage {
    fn report(&self, bytes: u64) {
        self.reported.fetch_max(bytes, Ordering::Relaxed);
        self.has_report.store(true, Ordering::Release);
    }

    fn report_init(&self, init: Duration) {
        let micros = u64::try_from(init.as_micros()).unwrap_or(u64::MAX);
        self.init_micros.fetch_max(micros, Ordering::AcqRel);
        self.in_init.store(false, Ordering::Release);
    }

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

thread_local! {
    static CURRENT: RefCell<Option<Arc<Usage>>> = const { RefCell::new(None) };
}

/// Sets `usage` as this thread's current invocation while `f` runs.
pub(crate) fn with_usage<R>(usage: &Arc<Usage>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<Usage>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            // try_with: the thread-local may be gone during thread teardown.
            let _ = CURRENT.try_with(|c| *c.borrow_mut() = previous);
        }
    }
    let previous = CURRENT.with(|c| c.borrow_mut().replace(usage.clone()));
    let _restore = Restore(previous);
    f()
}

/// Reports the memory the current invocation used, in bytes; the invocation's
/// `MemUsage` is then the largest figure reported instead of the invoker's own measure.
///
/// Call it from inside a handler: while its future is polled, or on a thread it started
/// through [`Context::wrap_thread_task`](scf_context::Context::wrap_thread_task). A
/// handler that runs the function in another process (a Custom Runtime, a Python or
/// Node.js runtime) reports that process's peak here, as SCF does. Returns `false`, and
/// does nothing, when called outside an invocation.
///
/// ```
/// # use scf_context::Context;
/// # use scf_handler::FunctionError;
/// async fn handler(_event: serde_json::Value, _ctx: Context) -> Result<serde_json::Value, FunctionError> {
///     // ... run the function in a child process, read its peak RSS ...
///     scf_invoker::report_mem_usage(29 * 1024 * 1024);
///     Ok(serde_json::json!("done"))
/// }
/// ```
pub fn report_mem_usage(bytes: u64) -> bool {
    CURRENT.with(|c| match &*c.borrow() {
        Some(usage) => {
            usage.report(bytes);
            true
        }
        None => false,
    })
}

/// Reports that the current invocation starts waiting for a cold instance to initialise
/// (an out-of-process runtime's `InitTimeout` phase, which the handler bounds itself):
/// until [`report_init_duration`], the invocation's time limit does not run out. Returns
/// `false`, and does nothing, outside an invocation.
pub fn report_init_started() -> bool {
    CURRENT.with(|c| match &*c.borrow() {
        Some(usage) => {
            usage.in_init.store(true, Ordering::Release);
            true
        }
        None => false,
    })
}

/// Reports that the current invocation waited `init` for a cold instance to initialise,
/// so that, as on SCF, init is timed separately: the invocation's deadline moves later by
/// `init`, and its `Duration` and `BillDuration` leave it out. It also ends the wait begun
/// by [`report_init_started`]. Returns `false`, and does nothing, outside an invocation.
///
/// Call it like [`report_mem_usage`], from inside the handler.
pub fn report_init_duration(init: Duration) -> bool {
    CURRENT.with(|c| match &*c.borrow() {
        Some(usage) => {
            usage.report_init(init);
            true
        }
        None => false,
    })
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
    fn report_outside_an_invocation_does_nothing() {
        assert!(!report_mem_usage(1));
    }

    #[test]
    fn the_largest_report_wins_inside_a_scope() {
        let usage = Arc::new(Usage::default());
        with_usage(&usage, || {
            assert!(report_mem_usage(10));
            assert!(report_mem_usage(30));
            assert!(report_mem_usage(20));
        });
        assert_eq!(usage.reported(), Some(30));
        assert!(!report_mem_usage(1), "the scope is restored afterwards");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn process_rss_is_measured_on_linux() {
        assert!(process_rss(Instant::now()).unwrap_or(0) > 1024 * 1024);
    }
}
