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

/// Record `i` as the invoker frames it (`scf-invoker`'s `run.rs`: [`LogFramer`] with a
/// user line, the `Response` or `ERROR` line, `END` and `Report`): a UUID request id, a
/// node id, 5% failures with SCF's error JSON as `RetMsg`, spread like [`bench_record`].
/// What the bytes-per-record measurements store.
///
/// [`LogFramer`]: scf_logs::framing::LogFramer
pub fn invoker_record(i: u64) -> LogRecord {
    use scf_logs::framing::{user_line, LogFramer, Report};
    let mut r = bench_record(i);
    let id = format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        i.wrapping_mul(2_654_435_761) as u32,
        (i >> 7) & 0xffff,
        i & 0xfff,
        (i >> 3) & 0xfff,
        i.wrapping_mul(0x9e37_79b9_7f4a_7c15) & 0xffff_ffff_ffff
    );
    r.request_id = id.clone();
    r.node = "devbox-41227".into();
    let mut framer = LogFramer::new(id.as_str());
    framer.user_line(&user_line(r.start_time, &id, "INFO", "handled the event"));
    if r.ret_code == 0 {
        r.ret_msg = "{\"statusCode\":200,\"body\":\"hello from scf\"}".into();
        framer.response(&r.ret_msg);
    } else {
        r.ret_msg = format!(
            "{{\"errorCode\":-1,\"errorMessage\":\"boom\",\"requestId\":\"{id}\",\"statusCode\":430}}"
        );
        framer.error(&r.ret_msg);
    }
    r.log = framer.finish(&Report {
        duration_ms: r.duration_ms,
        memory_mb: 128,
        mem_usage_bytes: r.mem_usage_bytes,
    });
    r
}

/// Puts [`invoker_record`] `0..n` into `store` at `rate` records a second, paced (each at
/// its own instant, not in bursts), as an invoker under a steady load puts them: what the
/// stores' `paced_puts` examples measure a writer under.
pub fn put_paced(store: &dyn crate::LogStore, rate: u64, n: u64) -> Result<(), crate::StoreError> {
    let started = std::time::Instant::now();
    for i in 0..n {
        let due = started + std::time::Duration::from_nanos(i * 1_000_000_000 / rate.max(1));
        if let Some(wait) = due.checked_duration_since(std::time::Instant::now()) {
            std::thread::sleep(wait);
        }
        store.put(invoker_record(i))?;
    }
    Ok(())
}
