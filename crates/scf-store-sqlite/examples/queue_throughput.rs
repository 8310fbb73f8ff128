//! Async queue throughput on one SQLite file, for one process or several sharing it:
//! `THREADS` threads each enqueue their share of `EVENTS` events, then claim them 64 at a
//! time and finish each (`end_attempt`), until nothing is due; prints events/s.
//!
//! ```sh
//! cargo run --release -p scf-store-sqlite --example queue_throughput -- FILE EVENTS THREADS NAME
//! # two processes on one file: start both at once with the same FILE, different NAMEs
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use scf_store::{AsyncEvent, AsyncQueue, AttemptEnd, FunctionRef};
use scf_store_sqlite::SqliteStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, events, threads, name] = args.as_slice() else {
        return Err("usage: queue_throughput FILE EVENTS THREADS NAME".into());
    };
    let events: u64 = events.parse()?;
    let threads: u64 = threads.parse()?;
    let store = Arc::new(SqliteStore::open(file)?);
    let functions = [FunctionRef::new("default", "job")];
    let started = Instant::now();
    let handled: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let store = store.clone();
                let functions = &functions;
                scope.spawn(move || -> Result<u64, scf_store::StoreError> {
                    let now = time::OffsetDateTime::now_utc();
                    for n in (t..events).step_by(threads as usize) {
                        let id = format!("{name}-{n:010}");
                        let text = format!("{{\"n\":{n}}}");
                        store.enqueue(&AsyncEvent::new(
                            id, "job", "default", "$LATEST", "OTHERS", now, text,
                        ))?;
                    }
                    let worker = format!("{name}/{t}");
                    let mut done = 0;
                    loop {
                        let now = time::OffsetDateTime::now_utc();
                        let claims =
                            store.claim(&worker, Duration::from_secs(60), 64, functions, now)?;
                        if claims.is_empty() {
                            return Ok(done);
                        }
                        for c in claims {
                            let end = AttemptEnd::Finished { status_code: 200 };
                            store.end_attempt(&c.event.invoke_request_id, &worker, end, now)?;
                            done += 1;
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().map_err(|_| "a worker thread panicked"))
            .map(|r| r.map(|done| done.unwrap_or(0)))
            .sum::<Result<u64, _>>()
    })?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{name}: enqueued {events}, finished {handled} in {secs:.2} s: {:.0} events/s",
        events as f64 / secs
    );
    Ok(())
}
