//! The writer thread's cost per record when records arrive one at a time, as an invoker
//! puts them: one thread puts `RATE` records a second (paced, not in bursts) for `SECS`
//! seconds, then flushes; prints the writer thread's CPU time and context switches per
//! record, and the process's peak resident memory (anonymous and file-mapped now).
//!
//! ```sh
//! cargo run --release -p scf-store-sqlite --example paced_puts -- FILE RATE SECS
//! ```

use std::time::Duration;

use scf_store::conformance::records::put_paced;
use scf_store::LogStore;
use scf_store_sqlite::SqliteStore;

/// (CPU ticks, voluntary + involuntary context switches) of this process's thread `name`.
fn thread_usage(name: &str) -> Option<(u64, u64)> {
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let dir = task.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim() != name {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        // Fields after the command's closing parenthesis: utime and stime are 12th and 13th.
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split(' ').collect();
        let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
        let status = std::fs::read_to_string(dir.join("status")).ok()?;
        let switches = status
            .lines()
            .filter(|l| l.contains("ctxt_switches"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum();
        return Some((ticks, switches));
    }
    None
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, rate, secs] = args.as_slice() else {
        return Err("usage: paced_puts FILE RATE SECS".into());
    };
    let rate: u64 = rate.parse()?;
    let secs: u64 = secs.parse()?;
    let store = SqliteStore::open(file)?;
    // The writer names its thread once it runs: look for it for a while.
    let mut before = None;
    for _ in 0..100 {
        before = thread_usage("scf-logs-writer");
        if before.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let before = before.ok_or("no writer thread")?;
    let ckpt_before = thread_usage("scf-logs-checkpoint").unwrap_or((0, 0));
    let n = rate * secs;
    put_paced(&store, rate, n)?;
    store.flush()?;
    let after = thread_usage("scf-logs-writer").ok_or("no writer thread")?;
    let ckpt_after = thread_usage("scf-logs-checkpoint").unwrap_or((0, 0));
    let per = |a: u64, b: u64| (b - a) as f64 / n as f64;
    println!(
        "{n} records at {rate}/s: writer {:.1} us CPU and {:.3} context switches per record; checkpointer {:.1} us per record",
        per(before.0, after.0) * 10_000.0,
        per(before.1, after.1),
        per(ckpt_before.0, ckpt_after.0) * 10_000.0,
    );
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map_or_else(String::new, |v| v.trim().to_string())
    };
    println!(
        "VmHWM {}, RssAnon {}, RssFile {}, file {} bytes",
        field("VmHWM:"),
        field("RssAnon:"),
        field("RssFile:"),
        std::fs::metadata(file).map(|m| m.len()).unwrap_or(0)
    );
    Ok(())
}
