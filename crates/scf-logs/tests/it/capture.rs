//! Per-invocation capture of `tracing` and `log` output.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, Once};
use std::task::{Context, Poll, Wake, Waker};

use scf_logs::capture::{capture_log_crate, CaptureLogger};
use scf_logs::framing::MAX_LINE_BYTES;
use scf_logs::LogBuffer;

fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // `log` records reach `tracing` (and so the capture) through the opt-in bridge.
        capture_log_crate().unwrap();
    });
}

/// Returns `Pending` once (waking itself) so the executor re-queues the task,
/// possibly onto another worker thread.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

type BoxFut = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A tiny multi-threaded executor: a shared run queue served by N worker threads.
struct Task {
    fut: Mutex<Option<BoxFut>>,
    queue: Arc<Queue>,
}

#[derive(Default)]
struct Queue {
    tasks: Mutex<(VecDeque<Arc<Task>>, usize)>, // (ready tasks, unfinished count)
    cv: Condvar,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        let q = Arc::clone(&self.queue);
        q.tasks.lock().unwrap().0.push_back(self);
        q.cv.notify_one();
    }
}

fn run_on_threads(futures: Vec<BoxFut>, workers: usize) {
    let queue = Arc::new(Queue::default());
    {
        let mut g = queue.tasks.lock().unwrap();
        g.1 = futures.len();
        for f in futures {
            g.0.push_back(Arc::new(Task {
                fut: Mutex::new(Some(f)),
                queue: Arc::clone(&queue),
            }));
        }
    }
    std::thread::scope(|s| {
        for _ in 0..workers {
            let queue = Arc::clone(&queue);
            s.spawn(move || loop {
                let task = {
                    let mut g = queue.tasks.lock().unwrap();
                    loop {
                        if g.1 == 0 {
                            return;
                        }
                        if let Some(t) = g.0.pop_front() {
                            break t;
                        }
                        g = queue.cv.wait(g).unwrap();
                    }
                };
                let waker = Waker::from(Arc::clone(&task));
                let mut slot = task.fut.lock().unwrap();
                if let Some(mut fut) = slot.take() {
                    if fut
                        .as_mut()
                        .poll(&mut Context::from_waker(&waker))
                        .is_pending()
                    {
                        *slot = Some(fut);
                    } else {
                        let mut g = queue.tasks.lock().unwrap();
                        g.1 -= 1;
                        queue.cv.notify_all();
                    }
                }
            });
        }
    });
}

fn messages(buf: &LogBuffer) -> Vec<String> {
    buf.lines()
        .iter()
        .map(|l| l.splitn(4, '\t').nth(3).unwrap().to_owned())
        .collect()
}

#[test]
fn concurrent_invocations_on_several_threads_each_see_only_their_own_lines() {
    setup();
    let buffers: Vec<LogBuffer> = (0..64)
        .map(|i| LogBuffer::new(format!("req-{i}")))
        .collect();
    let futures: Vec<BoxFut> = buffers
        .iter()
        .enumerate()
        .map(|(i, buf)| {
            let fut = async move {
                for step in 0..20 {
                    if step % 2 == 0 {
                        tracing::info!(inv = i, step, "tracing line");
                    } else {
                        log::info!("log line inv={i} step={step}");
                    }
                    YieldNow(false).await;
                }
            };
            Box::pin(buf.scope(fut)) as BoxFut
        })
        .collect();
    run_on_threads(futures, 4);
    for (i, buf) in buffers.iter().enumerate() {
        let lines = buf.lines();
        assert_eq!(lines.len(), 20, "invocation {i}: {lines:#?}");
        for (step, line) in lines.iter().enumerate() {
            assert!(line.contains(&format!("\treq-{i}\t[INFO]\t")), "{line}");
            let want = if step % 2 == 0 {
                format!("tracing line inv={i} step={step}")
            } else {
                format!("log line inv={i} step={step}")
            };
            assert!(line.ends_with(&want), "invocation {i} got {line}");
        }
    }
}

#[test]
fn blocking_code_on_many_std_threads_is_captured_per_buffer() {
    setup();
    std::thread::scope(|s| {
        for i in 0..16 {
            s.spawn(move || {
                let buf = LogBuffer::new(format!("t{i}"));
                buf.in_scope(|| {
                    for n in 0..100 {
                        log::warn!("thread {i} n {n}");
                    }
                });
                let msgs = messages(&buf);
                assert_eq!(msgs.len(), 100);
                assert!(msgs
                    .iter()
                    .all(|m| m.starts_with(&format!("thread {i} n "))));
                assert!(buf
                    .lines()
                    .iter()
                    .all(|l| l.contains(&format!("\tt{i}\t[WARN]\t"))));
            });
        }
    });
}

#[test]
fn tracing_events_keep_level_message_and_fields() {
    setup();
    let buf = LogBuffer::new("r");
    buf.in_scope(|| {
        tracing::error!(user = "ann", count = 3, "failed to save");
        tracing::debug!(only_field = true);
    });
    let lines = buf.lines();
    assert!(
        lines[0].contains("\tr\t[ERROR]\tfailed to save user=ann count=3"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].ends_with("\t[DEBUG]\tonly_field=true"),
        "{}",
        lines[1]
    );
}

#[test]
fn user_lines_start_with_a_utc_millisecond_timestamp() {
    setup();
    let buf = LogBuffer::new("r");
    buf.in_scope(|| log::info!("x"));
    let line = &buf.lines()[0];
    let ts = line.split('\t').next().unwrap();
    assert_eq!(ts.len(), "2026-11-25T12:00:00.123Z".len(), "{ts}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T');
}

#[test]
fn logs_outside_any_scope_are_not_captured() {
    setup();
    let buf = LogBuffer::new("r");
    log::info!("stray log");
    tracing::info!("stray tracing");
    buf.in_scope(|| {});
    assert!(buf.lines().is_empty());
    assert!(LogBuffer::current().is_none());
}

#[test]
fn nested_scopes_write_to_the_inner_buffer_and_restore_the_outer() {
    setup();
    let outer = LogBuffer::new("outer");
    let inner = LogBuffer::new("inner");
    outer.in_scope(|| {
        log::info!("one");
        inner.in_scope(|| log::info!("two"));
        tracing::info!("three");
    });
    assert_eq!(messages(&outer), ["one", "three"]);
    assert_eq!(messages(&inner), ["two"]);
}

#[test]
fn nested_future_scopes_restore_the_outer_buffer() {
    setup();
    let outer = LogBuffer::new("outer");
    let inner = LogBuffer::new("inner");
    let inner2 = inner.clone();
    let fut = outer.scope(async move {
        log::info!("a");
        inner2.scope(async { log::info!("b") }).await;
        log::info!("c");
    });
    run_on_threads(vec![Box::pin(fut)], 1);
    assert_eq!(messages(&outer), ["a", "c"]);
    assert_eq!(messages(&inner), ["b"]);
}

#[test]
fn a_panic_inside_a_scope_restores_the_previous_buffer() {
    setup();
    let outer = LogBuffer::new("outer");
    outer.in_scope(|| {
        let inner = LogBuffer::new("inner");
        let r = std::panic::catch_unwind(|| inner.in_scope(|| panic!("boom")));
        assert!(r.is_err());
        log::info!("after");
    });
    assert_eq!(messages(&outer), ["after"]);
}

#[test]
fn a_line_is_capped_at_8kb_on_a_char_boundary() {
    setup();
    let buf = LogBuffer::new("r");
    let long = "é".repeat(6000);
    buf.in_scope(|| log::info!("{long}"));
    let line = &buf.lines()[0];
    assert!(line.len() <= MAX_LINE_BYTES && line.len() >= MAX_LINE_BYTES - 1);
    assert!(line.ends_with('é'));
}

#[test]
fn a_full_buffer_drops_and_counts_lines() {
    let buf = LogBuffer::with_max_bytes("r", 200);
    for _ in 0..10 {
        buf.push_line("INFO", "0123456789012345678901234567890123456789");
    }
    assert!(buf.text().len() <= 200);
    assert_eq!(buf.lines().len() as u64 + buf.dropped(), 10);
    assert!(buf.dropped() > 0);
}

#[test]
fn take_empties_the_buffer_and_text_joins_lines() {
    let buf = LogBuffer::new("r");
    buf.push_raw("a");
    buf.push_raw("b");
    assert_eq!(buf.text(), "a\nb");
    assert_eq!(buf.take(), ["a", "b"]);
    assert!(buf.lines().is_empty());
    assert_eq!(buf.request_id(), "r");
}

#[test]
fn capture_log_crate_a_second_time_fails_and_changes_nothing() {
    setup();
    assert!(capture_log_crate().is_err());
    let buf = LogBuffer::new("r");
    buf.in_scope(|| log::info!("still captured"));
    assert_eq!(messages(&buf), ["still captured"]);
}

#[test]
fn tracing_events_are_captured_with_no_subscriber_installed_anywhere() {
    // No setup(): nothing global, no `log` bridge.
    let buf = LogBuffer::new("r");
    buf.in_scope(|| tracing::warn!(n = 1, "plain tracing"));
    assert_eq!(messages(&buf), ["plain tracing n=1"]);
}

/// A `MakeWriter` for `tracing_subscriber::fmt` that keeps what it is given.
#[derive(Clone, Default)]
struct Written(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Written {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Written {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn app_subscriber(out: &Written) -> impl tracing::Subscriber + Send + Sync {
    let out = out.clone();
    tracing_subscriber::fmt()
        .with_writer(move || out.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish()
}

#[test]
fn the_application_subscriber_sees_every_captured_line_and_its_spans() {
    let out = Written::default();
    let buf = LogBuffer::new("r");
    tracing::subscriber::with_default(app_subscriber(&out), || {
        tracing::info!("app before");
        buf.in_scope(|| {
            let span = tracing::info_span!("handler_span", id = 7);
            let _entered = span.enter();
            tracing::info!("function line");
            tracing::debug!("function debug line");
        });
        tracing::info!("app after");
    });
    let text = out.text();
    assert!(
        text.contains("app before") && text.contains("app after"),
        "{text}"
    );
    assert!(
        text.contains("handler_span{id=7}: ") && text.contains("function line"),
        "{text}"
    );
    // The application's filter (INFO) decides what it is shown; the capture keeps all.
    assert!(!text.contains("function debug line"), "{text}");
    assert_eq!(messages(&buf), ["function line", "function debug line"]);
}

#[test]
fn a_span_made_in_a_scope_and_dropped_after_it_goes_back_to_the_application() {
    let out = Written::default();
    let buf = LogBuffer::new("r");
    tracing::subscriber::with_default(app_subscriber(&out), || {
        let span = buf.in_scope(|| tracing::info_span!("kept"));
        span.in_scope(|| tracing::info!("outside the capture scope"));
        drop(span);
    });
    assert!(out.text().contains("kept: "), "{}", out.text());
    assert!(out.text().contains("outside the capture scope"));
    assert!(buf.lines().is_empty());
}

#[test]
fn a_future_captured_on_pool_threads_reaches_the_threads_default_too() {
    // Worker threads have no subscriber of their own; the scope forwards to the thread's
    // current dispatcher (none here), and the capture still works on every thread.
    let buffers: Vec<LogBuffer> = (0..8).map(|i| LogBuffer::new(format!("p{i}"))).collect();
    let futures: Vec<BoxFut> = buffers
        .iter()
        .map(|buf| {
            Box::pin(buf.scope(async {
                tracing::info!("one");
                YieldNow(false).await;
                tracing::info!("two");
            })) as BoxFut
        })
        .collect();
    run_on_threads(futures, 3);
    for buf in &buffers {
        assert_eq!(messages(buf), ["one", "two"]);
    }
}

#[test]
fn capture_logger_captures_inside_scopes_and_forwards_every_record_to_its_inner_logger() {
    #[derive(Default)]
    struct Counter(Arc<Mutex<Vec<String>>>);
    impl log::Log for Counter {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, r: &log::Record<'_>) {
            self.0.lock().unwrap().push(r.args().to_string());
        }
        fn flush(&self) {}
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let logger = CaptureLogger::with_inner(Box::new(Counter(Arc::clone(&seen))));
    let record = |msg: &'static str| {
        log::Log::log(
            &logger,
            &log::Record::builder()
                .args(format_args!("{msg}"))
                .level(log::Level::Info)
                .build(),
        );
    };
    record("outside");
    let buf = LogBuffer::new("r");
    buf.in_scope(|| record("inside"));
    assert_eq!(*seen.lock().unwrap(), ["outside", "inside"]);
    assert_eq!(messages(&buf), ["inside"]);
}
