//! The elastic thread pool behind `Execution::Isolated`.
//!
//! Each job is handed directly to one idle thread (or a new one), never left in a shared
//! queue while a thread is free, so a thread stuck in a handler that cannot be stopped
//! never delays another invocation: the pool simply grows. Threads that stay idle for
//! `idle_timeout` exit. Only at `max_threads` do jobs wait in a queue.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::config::ThreadPoolConfig;

/// A job gets its thread's [`Finish`]: calling it before handing a result to a waiting
/// caller puts the thread back among the idle ones first, so that the caller's next job
/// can go to this (still running, spinning) thread instead of waking a parked one.
pub(crate) type Job = Box<dyn FnOnce(&mut Finish<'_>) + Send + 'static>;

/// Lets a job return its thread to the pool before the job itself returns; see [`Job`].
/// After [`Finish::now`] the job must only deliver its result and return.
pub(crate) struct Finish<'a> {
    shared: &'a Shared,
    me: &'a Arc<Worker>,
    state: Finished,
}

enum Finished {
    /// The job has not called [`Finish::now`].
    Running,
    /// The thread is idle again; whether it should spin while it waits.
    Idle { spin: bool },
    /// The thread took a queued job instead of going idle.
    Next(Job),
    /// The pool is closed: the thread exits.
    Exit,
}

impl Finish<'_> {
    /// Returns the thread to the pool now (takes a queued job, or joins the idle ones).
    /// With `spin`, the job says its caller may hand over another job at once (nothing
    /// else is running), so the thread watches for one before it parks.
    pub(crate) fn now(&mut self, spin: bool) {
        if matches!(self.state, Finished::Running) {
            self.state = release(self.shared, self.me, spin);
        }
    }
}

pub(crate) struct Pool {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    config: ThreadPoolConfig,
    next_id: AtomicUsize,
    closed: AtomicBool,
}

#[derive(Default)]
struct State {
    idle: Vec<Arc<Worker>>,
    queue: VecDeque<Job>,
    total: usize,
    busy: usize,
}

#[derive(Default)]
struct Worker {
    slot: Mutex<Option<Job>>,
    cv: Condvar,
    /// Set with the slot, so that a spinning worker sees its job without the lock.
    has_job: AtomicBool,
    /// Set (under the slot lock) while the worker waits on `cv`; a submitter only pays for
    /// a wake-up when it is set.
    parked: AtomicBool,
}

/// How long a worker that just finished watches for its next job before it parks: handing
/// a job to a spinning worker costs no system call, which matters for back-to-back short
/// invocations. Only when no other job is running: under concurrent load the spin would
/// take a CPU from the threads doing the work (on a 2-core machine it cut a gateway's
/// throughput by a fifth), and jobs come often enough that few wake-ups are saved.
const SPIN: Duration = Duration::from_micros(20);

impl Worker {
    fn give(&self, job: Job) {
        let parked = {
            let mut slot = lock(&self.slot);
            *slot = Some(job);
            self.has_job.store(true, Ordering::Release);
            self.parked.load(Ordering::Acquire)
        };
        if parked {
            self.cv.notify_one();
        }
    }

    fn took(&self, job: Job) -> Option<Job> {
        self.has_job.store(false, Ordering::Release);
        self.parked.store(false, Ordering::Release);
        Some(job)
    }
}

/// How many threads the pool has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PoolStats {
    /// Threads alive, busy or idle.
    pub threads: usize,
    /// Threads running a handler (including ones stuck in a timed-out handler).
    pub busy: usize,
    /// Jobs waiting because the pool is at `max_threads`.
    pub queued: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Jobs run outside the locks and their panics are caught, so a poisoned lock only
    // means a panic in this module's own short critical sections; the data is still whole.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("config", &self.shared.config)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Pool {
    pub(crate) fn new(config: ThreadPoolConfig) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                config,
                next_id: AtomicUsize::new(0),
                closed: AtomicBool::new(false),
            }),
        }
    }

    pub(crate) fn stats(&self) -> PoolStats {
        let st = lock(&self.shared.state);
        PoolStats {
            threads: st.total,
            busy: st.busy,
            queued: st.queue.len(),
        }
    }

    /// Runs `job` on a pool thread. Fails only when no thread exists and none can be
    /// started.
    pub(crate) fn submit(&self, job: Job) -> Result<(), std::io::Error> {
        let mut st = lock(&self.shared.state);
        if let Some(worker) = st.idle.pop() {
            st.busy += 1;
            drop(st);
            worker.give(job);
            return Ok(());
        }
        if st.total >= self.shared.config.max_threads {
            st.queue.push_back(job);
            return Ok(());
        }
        st.total += 1;
        st.busy += 1;
        drop(st);
        let worker = Arc::new(Worker::default());
        *lock(&worker.slot) = Some(job);
        match self.spawn(worker.clone()) {
            Ok(()) => Ok(()),
            Err(e) => {
                let job = lock(&worker.slot).take();
                let mut st = lock(&self.shared.state);
                st.total -= 1;
                st.busy -= 1;
                match job {
                    // Another thread will take it when it is free.
                    Some(job) if st.total > 0 => {
                        st.queue.push_back(job);
                        Ok(())
                    }
                    _ => Err(e),
                }
            }
        }
    }

    fn spawn(&self, worker: Arc<Worker>) -> Result<(), std::io::Error> {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let mut builder = std::thread::Builder::new().name(format!("scf-invoker-{id}"));
        if let Some(size) = self.shared.config.stack_size {
            builder = builder.stack_size(size);
        }
        let shared = self.shared.clone();
        builder.spawn(move || worker_main(&shared, &worker))?;
        Ok(())
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let idle = {
            let mut st = lock(&self.shared.state);
            self.shared.closed.store(true, Ordering::Release);
            std::mem::take(&mut st.idle)
        };
        for worker in idle {
            let _slot = lock(&worker.slot);
            worker.cv.notify_one();
        }
    }
}

fn worker_main(shared: &Shared, me: &Arc<Worker>) {
    let mut job = lock(&me.slot).take();
    while let Some(j) = job.take() {
        let mut finish = Finish {
            shared,
            me,
            state: Finished::Running,
        };
        // A job catches its handler's panics itself; this only keeps the thread alive.
        let _ = catch_unwind(AssertUnwindSafe(|| j(&mut finish)));
        let state = match finish.state {
            Finished::Running => release(shared, me, true),
            state => state,
        };
        job = match state {
            Finished::Next(next) => Some(next),
            Finished::Idle { spin } => wait_for_job(shared, me, spin),
            Finished::Running | Finished::Exit => None,
        };
    }
}

/// The thread's job is done: it takes the next queued job, or joins the idle threads
/// (spinning for its next job when `spin` allows and no other job runs: see [`SPIN`]),
/// or, when the pool is closed, leaves its books.
fn release(shared: &Shared, me: &Arc<Worker>, spin: bool) -> Finished {
    let mut st = lock(&shared.state);
    if let Some(j) = st.queue.pop_front() {
        return Finished::Next(j);
    }
    st.busy -= 1;
    if shared.closed.load(Ordering::Acquire) {
        st.total -= 1;
        return Finished::Exit;
    }
    let spin = spin && st.busy == 0;
    st.idle.push(me.clone());
    Finished::Idle { spin }
}

/// Calls `poll` until it returns `Some` or `until` passes, with one CPU pause between
/// calls, so that a value handed over by another thread is seen within tens of
/// nanoseconds. The clock is read only every 16 calls: reading it costs about as much as
/// a pause (~25 ns on the development machine).
pub(crate) fn spin_until<T>(until: Instant, mut poll: impl FnMut() -> Option<T>) -> Option<T> {
    loop {
        for _ in 0..16 {
            if let Some(value) = poll() {
                return Some(value);
            }
            std::hint::spin_loop();
        }
        if Instant::now() >= until {
            return None;
        }
    }
}

/// Waits for a job handed to `me`; `None` when the thread should exit (idle too long, or
/// the pool is gone), in which case it has left the pool's books. The two locks are
/// never held together.
fn wait_for_job(shared: &Shared, me: &Arc<Worker>, spin: bool) -> Option<Job> {
    if spin {
        spin_until(Instant::now() + SPIN, || {
            me.has_job.load(Ordering::Acquire).then_some(())
        });
    }
    let mut slot = lock(&me.slot);
    me.parked.store(true, Ordering::Release);
    loop {
        if let Some(job) = slot.take() {
            return me.took(job);
        }
        let (guard, timeout) = me
            .cv
            .wait_timeout(slot, shared.config.idle_timeout)
            .unwrap_or_else(|e| e.into_inner());
        slot = guard;
        if slot.is_some() {
            continue;
        }
        let closed = shared.closed.load(Ordering::Acquire);
        if !timeout.timed_out() && !closed {
            continue;
        }
        drop(slot);
        let mut st = lock(&shared.state);
        if let Some(pos) = st.idle.iter().position(|w| Arc::ptr_eq(w, me)) {
            st.idle.swap_remove(pos);
            st.total -= 1;
            return None;
        }
        if closed {
            // `Drop` took the idle list. No submit can run any more, so a job handed over
            // before is already in the slot.
            drop(st);
            let job = lock(&me.slot).take();
            match job {
                Some(job) => return me.took(job),
                None => {
                    lock(&shared.state).total -= 1;
                    return None;
                }
            }
        }
        drop(st);
        // A submitter popped this thread and is handing it a job: wait on.
        slot = lock(&me.slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A job that ignores its `Finish` (the thread is released when it returns).
    fn job(f: impl FnOnce() + Send + 'static) -> Job {
        Box::new(move |_: &mut Finish<'_>| f())
    }

    fn config(max: usize, idle: Duration) -> ThreadPoolConfig {
        ThreadPoolConfig {
            max_threads: max,
            idle_timeout: idle,
            stack_size: None,
        }
    }

    #[test]
    fn a_stuck_job_does_not_delay_the_next_one() {
        let pool = Pool::new(config(8, Duration::from_secs(5)));
        let (release_tx, release_rx) = mpsc::channel::<()>();
        pool.submit(job(move || {
            let _ = release_rx.recv();
        }))
        .unwrap();
        let (tx, rx) = mpsc::channel();
        pool.submit(job(move || tx.send(()).unwrap())).unwrap();
        rx.recv_timeout(Duration::from_secs(2)).unwrap();
        assert_eq!(pool.stats().threads, 2);
        release_tx.send(()).unwrap();
    }

    #[test]
    fn idle_threads_are_reused_then_exit() {
        let pool = Pool::new(config(8, Duration::from_millis(100)));
        for _ in 0..3 {
            let (tx, rx) = mpsc::channel();
            pool.submit(job(move || tx.send(()).unwrap())).unwrap();
            rx.recv_timeout(Duration::from_secs(2)).unwrap();
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(pool.stats().threads, 1, "one thread served the three jobs");
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(pool.stats().threads, 0);
    }

    #[test]
    fn at_max_threads_jobs_queue_until_a_thread_is_free() {
        let pool = Pool::new(config(1, Duration::from_secs(5)));
        let (release_tx, release_rx) = mpsc::channel::<()>();
        pool.submit(job(move || {
            let _ = release_rx.recv();
        }))
        .unwrap();
        let (tx, rx) = mpsc::channel();
        pool.submit(job(move || tx.send(()).unwrap())).unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
        assert_eq!(pool.stats().queued, 1);
        release_tx.send(()).unwrap();
        rx.recv_timeout(Duration::from_secs(2)).unwrap();
    }

    #[test]
    fn a_job_that_finishes_before_delivering_gets_the_next_job_on_its_own_thread() {
        let pool = Pool::new(config(8, Duration::from_secs(5)));
        let mut names = Vec::new();
        for _ in 0..50 {
            let (tx, rx) = mpsc::channel();
            pool.submit(Box::new(move |finish: &mut Finish<'_>| {
                let name = std::thread::current().name().map(str::to_owned);
                finish.now(true);
                tx.send(name).unwrap();
            }))
            .unwrap();
            // The next job is submitted the moment the result arrives, as a caller does.
            names.push(rx.recv_timeout(Duration::from_secs(2)).unwrap());
        }
        assert_eq!(pool.stats().threads, 1, "threads used: {names:?}");
        assert!(names.windows(2).all(|w| w[0] == w[1]), "{names:?}");
    }

    #[test]
    fn a_job_finished_early_still_takes_a_queued_job() {
        let pool = Pool::new(config(1, Duration::from_secs(5)));
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (tx, rx) = mpsc::channel();
        pool.submit(Box::new(move |finish: &mut Finish<'_>| {
            let _ = release_rx.recv();
            finish.now(true);
        }))
        .unwrap();
        pool.submit(job(move || tx.send(()).unwrap())).unwrap();
        assert_eq!(pool.stats().queued, 1);
        release_tx.send(()).unwrap();
        rx.recv_timeout(Duration::from_secs(2)).unwrap();
        assert_eq!(pool.stats().threads, 1);
    }

    #[test]
    fn a_panicking_job_keeps_its_thread() {
        let pool = Pool::new(config(1, Duration::from_secs(5)));
        pool.submit(job(|| panic!("boom"))).unwrap();
        let (tx, rx) = mpsc::channel();
        pool.submit(job(move || tx.send(()).unwrap())).unwrap();
        rx.recv_timeout(Duration::from_secs(2)).unwrap();
        assert_eq!(pool.stats().threads, 1);
    }
}
