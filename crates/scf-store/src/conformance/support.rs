//! Record builders the checks share, public so that a store crate's own tests build
//! their records the same way.

use scf_logs::LogRecord;

use super::t;

/// A finished record (running when `ret_code` is 2) at `t(secs)`.
#[allow(clippy::too_many_arguments)]
pub fn rec(
    function: &str,
    namespace: &str,
    qualifier: &str,
    id: &str,
    secs: i64,
    ret_code: i64,
    status_code: u16,
    duration_ms: f64,
    mem: u64,
) -> LogRecord {
    let mut r = LogRecord::new(function, namespace, qualifier, id, t(secs));
    r.ret_code = ret_code;
    r.status_code = status_code;
    r.invoke_finished = ret_code != 2;
    r.duration_ms = duration_ms;
    r.bill_duration_ms = duration_ms.ceil() as u64;
    r.mem_usage_bytes = mem;
    r.ret_msg = format!("msg of {id}");
    r.log = format!("START RequestId:{id}\nEND RequestId:{id}\n");
    r
}
