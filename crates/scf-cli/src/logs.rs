//! `scf logs`: a function's invocation logs from the project's data directory.

use std::path::PathBuf;
use std::time::Duration;

use scf_store::{LogQuery, LogStore, Order, OrderBy, RetCodeFilter};
use time::OffsetDateTime;

use crate::project::open_store;

/// What `scf logs` needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LogsOptions {
    /// The function's name.
    pub function: String,
    /// The namespace.
    pub namespace: String,
    /// Only this request.
    pub request_id: Option<String>,
    /// Only failures (`RetCode` `not0`).
    pub failed: bool,
    /// At most this many records.
    pub limit: u32,
    /// Only records that started within this long before now.
    pub since: Option<Duration>,
    /// Where the logs are.
    pub data_dir: PathBuf,
}

impl LogsOptions {
    /// Options with the command line's defaults.
    pub fn new(function: String) -> Self {
        Self {
            function,
            namespace: "default".into(),
            request_id: None,
            failed: false,
            limit: 20,
            since: None,
            data_dir: PathBuf::from(".scf"),
        }
    }
}

/// Parses the value of the command-line option `flag`: `30s`, `10m`, `2h`, `7d`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(scf_cli::logs::parse_duration("--since", "10m"), Ok(Duration::from_secs(600)));
/// assert!(scf_cli::logs::parse_duration("--log-retention", "7 days")
///     .unwrap_err()
///     .starts_with("--log-retention \"7 days\""));
/// ```
pub fn parse_duration(flag: &str, s: &str) -> Result<Duration, String> {
    let err = || format!("{flag} {s:?}: expected a number followed by s, m, h or d (e.g. 10m)");
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?);
    let n: u64 = num.parse().map_err(|_| err())?;
    let per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(err()),
    };
    n.checked_mul(per_unit)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{flag} {s:?}: too long"))
}

/// Prints the matching records, newest first; returns how many.
pub fn logs(opts: &LogsOptions) -> Result<usize, String> {
    let path = opts.data_dir.join(crate::project::STORE_FILE);
    if !path.exists() {
        return Err(format!(
            "no logs yet: {} does not exist (run `scf serve` or `scf invoke` first)",
            path.display()
        ));
    }
    let store = open_store(&opts.data_dir, None)?;
    let mut q = LogQuery {
        function_name: Some(opts.function.clone()),
        namespace: Some(opts.namespace.clone()),
        request_id: opts.request_id.clone(),
        ret_code: opts.failed.then_some(RetCodeFilter::Not0),
        order: Order::Desc,
        order_by: OrderBy::StartTime,
        limit: opts.limit,
        ..LogQuery::default()
    };
    if let Some(since) = opts.since {
        q.start_time = Some(OffsetDateTime::now_utc() - since);
    }
    let page = store.query(&q).map_err(|e| e.to_string())?;
    for r in &page.records {
        crate::outln!(
            "{} {} RetCode:{} StatusCode:{} Duration:{}ms BillDuration:{}ms MemUsage:{} RetryNum:{}",
            scf_logs::record::format_api_datetime(r.start_time),
            r.request_id,
            r.ret_code,
            r.status_code,
            scf_logs::framing::format_ms(r.duration_ms),
            r.bill_duration_ms,
            r.mem_usage_bytes,
            r.retry_num
        );
        crate::outln!("{}", r.log.trim_end());
        crate::outln!();
    }
    crate::errln!("{} of {} record(s)", page.records.len(), page.total_count);
    Ok(page.records.len())
}
