//! The records the stores' benchmarks append, one definition for every store.

use scf_logs::LogRecord;
use time::macros::datetime;

const FUNCTIONS: u64 = 20;

/// Record `i` of the stores' append benchmarks: a realistic finished record (~200 bytes
/// of framed log, 5% failures, spread over 20 functions and one day), the same for every
/// store so that their figures compare.
pub fn bench_record(i: u64) -> LogRecord {
    let id = format!(
        "{:08x}-6d64-11e8-a7fe-{:012x}",
        i.wrapping_mul(2_654_435_761) as u32,
        i
    );
    let start =
        datetime!(2026-11-25 00:00:00 UTC) + time::Duration::milliseconds((i % 86_400_000) as i64);
    let mut r = LogRecord::new(
        format!("fn-{}", i % FUNCTIONS),
        "default",
        "$LATEST",
        &id,
        start,
    );
    // 5% failures, spread over every function.
    let failed = i % 101 < 5;
    r.ret_code = i64::from(failed);
    r.status_code = if failed { 430 } else { 200 };
    r.invoke_finished = true;
    r.ret_msg = if failed {
        "{\"errorMessage\":\"boom\"}".into()
    } else {
        "\"ok\"".into()
    };
    r.duration_ms = (i % 1000) as f64 / 10.0;
    r.bill_duration_ms = 1 + i % 100;
    r.mem_usage_bytes = 3_174_400 + i % 4096;
    r.log = format!(
        "START RequestId:{id}\n2026-11-25T00:00:00.000Z\t{id}\t[INFO]\thandled\nEND RequestId:{id}\nReport RequestId:{id} Duration:1ms Memory:128MB MemUsage:3MB\n"
    );
    r
}
