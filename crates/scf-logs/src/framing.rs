//! SCF's platform log framing (the `START` / `END` / `Report` lines) and the
//! user log line format.
//!
//! One attempt's log looks like this:
//!
//! ```text
//! START RequestId:<id>
//! Init Report RequestId: <id> InitDuration: 12ms Duration: 3ms Memory: 128MB MemUsage: 12.5MB   (cold start only)
//! 2026-11-25T12:00:00.123Z<TAB><id><TAB>[INFO]<TAB>user message
//! ERROR RequestId:<id> Result:{"errorCode":-1,...}                                           (failure)
//! Response RequestId:<id> RetMsg:"Hello World"                                               (success)
//! END RequestId:<id>
//! Report RequestId:<id> Duration:1ms Memory:128MB MemUsage:29.734375MB
//! ```
//!
//! (`<TAB>` stands for a tab character.)
//!
//! Every line is capped at [`MAX_LINE_BYTES`] (8 KB, SCF's `SCF_Message` limit):
//! longer lines are cut on a UTF-8 character boundary and the rest is dropped.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

/// Longest log line, in bytes (SCF keeps 8 KB of each `SCF_Message`).
pub const MAX_LINE_BYTES: usize = 8 * 1024;

/// How much of the log `Invoke` returns with `LogType: Tail`, in bytes.
pub const TAIL_BYTES: usize = 4 * 1024;

const USER_TS_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

const MIB: f64 = 1024.0 * 1024.0;

/// Cuts `line` to at most `max_bytes` bytes, on a char boundary.
pub fn truncate_line(line: &str, max_bytes: usize) -> &str {
    if line.len() <= max_bytes {
        return line;
    }
    let mut end = max_bytes;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}

/// The last `max_bytes` bytes of `log`, starting on a char boundary (for `LogType: Tail`).
pub fn tail(log: &str, max_bytes: usize) -> &str {
    if log.len() <= max_bytes {
        return log;
    }
    let mut start = log.len() - max_bytes;
    while !log.is_char_boundary(start) {
        start += 1;
    }
    &log[start..]
}

fn cap(line: String) -> String {
    if line.len() <= MAX_LINE_BYTES {
        line
    } else {
        truncate_line(&line, MAX_LINE_BYTES).to_owned()
    }
}

/// Milliseconds as SCF prints them: integers bare (`1`), fractions with up to 3 digits (`0.532`).
pub fn format_ms(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return "0".to_owned();
    }
    let s = format!("{ms:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

/// Bytes as the MB figure SCF prints (`MemUsage:29.734375MB`): bytes / 2^20, shortest form.
pub fn format_mb(bytes: u64) -> String {
    // u64 -> f64 loses precision only above 2^53 bytes, far beyond any memory size.
    #[allow(clippy::cast_precision_loss)]
    let mb = bytes as f64 / MIB;
    format!("{mb}")
}

/// A user log line: `<UTC time, ms>\t<request id>\t[<LEVEL>]\t<message>`,
/// e.g. `2026-11-25T12:00:00.123Z\t<id>\t[INFO]\thello`, capped at [`MAX_LINE_BYTES`].
///
/// The level is written as given (the capture layer passes `TRACE`, `DEBUG`,
/// `INFO`, `WARN` or `ERROR`). The message is not altered: a message with
/// embedded newlines stays one entry whose cap applies to the whole text.
pub fn user_line(at: OffsetDateTime, request_id: &str, level: &str, message: &str) -> String {
    let ts = at
        .to_offset(time::UtcOffset::UTC)
        .format(USER_TS_FORMAT)
        .unwrap_or_default();
    let mut line =
        String::with_capacity(ts.len() + request_id.len() + level.len() + message.len() + 6);
    line.push_str(&ts);
    line.push('\t');
    line.push_str(request_id);
    line.push_str("\t[");
    line.push_str(level);
    line.push_str("]\t");
    line.push_str(message);
    cap(line)
}

/// `START RequestId:<id>`.
pub fn start_line(request_id: &str) -> String {
    cap(format!("START RequestId:{request_id}"))
}

/// `END RequestId:<id>`.
pub fn end_line(request_id: &str) -> String {
    cap(format!("END RequestId:{request_id}"))
}

/// `Response RequestId:<id> RetMsg:<ret_msg>`, written on success.
///
/// `ret_msg` is the return value as text, usually its JSON (`"Hello World"` with quotes).
pub fn response_line(request_id: &str, ret_msg: &str) -> String {
    cap(format!("Response RequestId:{request_id} RetMsg:{ret_msg}"))
}

/// `ERROR RequestId:<id> Result:<error json>`, written on failure.
pub fn error_line(request_id: &str, result_json: &str) -> String {
    cap(format!("ERROR RequestId:{request_id} Result:{result_json}"))
}

/// Figures for the final `Report` line.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Report {
    /// Run time in milliseconds.
    pub duration_ms: f64,
    /// Configured memory size in MB.
    pub memory_mb: u64,
    /// Memory used, in bytes.
    pub mem_usage_bytes: u64,
}

/// `Report RequestId:<id> Duration:<ms>ms Memory:<MB>MB MemUsage:<MB>MB`.
pub fn report_line(request_id: &str, report: &Report) -> String {
    cap(format!(
        "Report RequestId:{request_id} Duration:{}ms Memory:{}MB MemUsage:{}MB",
        format_ms(report.duration_ms),
        report.memory_mb,
        format_mb(report.mem_usage_bytes)
    ))
}

/// Figures for the cold-start `Init Report` line.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct InitReport {
    /// Initialisation time in milliseconds.
    pub init_duration_ms: f64,
    /// Run time of the first invocation in milliseconds.
    pub duration_ms: f64,
    /// Configured memory size in MB.
    pub memory_mb: u64,
    /// Memory used after initialisation, in bytes.
    pub mem_usage_bytes: u64,
}

/// `Init Report RequestId: <id> InitDuration: <n>ms Duration: <n>ms Memory: <MB>MB MemUsage: <MB>MB`
/// (SCF writes this one with spaces after the colons).
pub fn init_report_line(request_id: &str, report: &InitReport) -> String {
    cap(format!(
        "Init Report RequestId: {request_id} InitDuration: {}ms Duration: {}ms Memory: {}MB MemUsage: {}MB",
        format_ms(report.init_duration_ms),
        format_ms(report.duration_ms),
        report.memory_mb,
        format_mb(report.mem_usage_bytes)
    ))
}

/// Builds one attempt's framed log, line by line, in SCF's order.
///
/// ```
/// use scf_logs::framing::{LogFramer, Report};
/// let mut f = LogFramer::new("req-1");
/// f.user_text("2026-11-25T12:00:00.123Z\treq-1\t[INFO]\thi");
/// f.response("\"ok\"");
/// let log = f.finish(&Report { duration_ms: 1.0, memory_mb: 128, mem_usage_bytes: 1048576 });
/// assert_eq!(log, "START RequestId:req-1\n\
///     2026-11-25T12:00:00.123Z\treq-1\t[INFO]\thi\n\
///     Response RequestId:req-1 RetMsg:\"ok\"\n\
///     END RequestId:req-1\n\
///     Report RequestId:req-1 Duration:1ms Memory:128MB MemUsage:1MB\n");
/// ```
#[derive(Debug, Clone)]
pub struct LogFramer {
    request_id: String,
    out: String,
}

impl LogFramer {
    /// Starts the log with `START RequestId:<id>`.
    pub fn new(request_id: impl Into<String>) -> Self {
        let request_id = request_id.into();
        let mut f = LogFramer {
            out: String::new(),
            request_id,
        };
        let line = start_line(&f.request_id);
        f.push(&line);
        f
    }

    fn push(&mut self, line: &str) {
        self.out.push_str(line);
        self.out.push('\n');
    }

    /// Adds the cold-start `Init Report` line.
    pub fn init_report(&mut self, report: &InitReport) -> &mut Self {
        let line = init_report_line(&self.request_id, report);
        self.push(&line);
        self
    }

    /// Adds one user line as is (already formatted), capped at [`MAX_LINE_BYTES`].
    pub fn user_line(&mut self, line: &str) -> &mut Self {
        self.push(truncate_line(line, MAX_LINE_BYTES));
        self
    }

    /// Adds user text (lines separated by `\n`, e.g. [`LogBuffer::text`](crate::capture::LogBuffer::text)),
    /// each line capped at [`MAX_LINE_BYTES`]. Empty text adds nothing.
    pub fn user_text(&mut self, text: &str) -> &mut Self {
        if text.is_empty() {
            return self;
        }
        for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
            self.user_line(line);
        }
        self
    }

    /// Adds `Response RequestId:<id> RetMsg:<ret_msg>` (success).
    pub fn response(&mut self, ret_msg: &str) -> &mut Self {
        let line = response_line(&self.request_id, ret_msg);
        self.push(&line);
        self
    }

    /// Adds `ERROR RequestId:<id> Result:<json>` (failure).
    pub fn error(&mut self, result_json: &str) -> &mut Self {
        let line = error_line(&self.request_id, result_json);
        self.push(&line);
        self
    }

    /// Adds `END` and `Report` and returns the whole log (each line ends in `\n`).
    pub fn finish(mut self, report: &Report) -> String {
        let end = end_line(&self.request_id);
        self.push(&end);
        let rep = report_line(&self.request_id, report);
        self.push(&rep);
        self.out
    }
}
