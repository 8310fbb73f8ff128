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

use std::fmt::Write as _;

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

/// Caps what was written to `out` since `start` at [`MAX_LINE_BYTES`], on a char boundary.
fn cap_from(out: &mut String, start: usize) {
    if out.len() - start > MAX_LINE_BYTES {
        let keep = truncate_line(&out[start..], MAX_LINE_BYTES).len();
        out.truncate(start + keep);
    }
}

/// Writes `ms` as [`format_ms`] does, without allocating in the common case.
fn write_ms(out: &mut String, ms: f64) {
    // `-0.0` too: it prints as `0`, not `-0`.
    if !ms.is_finite() || ms <= 0.0 {
        out.push('0');
        return;
    }
    // Fast path: below 1e12 the product `ms * 1000` is within 2^-13 of the exact one, so
    // when it is not near a rounding tie its nearest integer is what `{:.3}` prints.
    let scaled = ms * 1000.0;
    if scaled < 1e12 {
        let rounded = scaled.round();
        if (scaled - rounded).abs() < 0.499 {
            // Checked above: 0 <= rounded < 1e15, so the cast is exact.
            let thousandths = rounded as u64;
            push_u64(out, thousandths / 1000);
            let frac = thousandths % 1000;
            if frac != 0 {
                let mut digits = [
                    b'0' + (frac / 100) as u8,
                    b'0' + (frac / 10 % 10) as u8,
                    b'0' + (frac % 10) as u8,
                ];
                let mut len = 3;
                while digits[len - 1] == b'0' {
                    len -= 1;
                }
                out.push('.');
                for d in &mut digits[..len] {
                    out.push(char::from(*d));
                }
            }
            return;
        }
    }
    let start = out.len();
    let _ = write!(out, "{ms:.3}");
    let trimmed = out[start..]
        .trim_end_matches('0')
        .trim_end_matches('.')
        .len();
    out.truncate(start + trimmed);
}

/// Writes `bytes` as the MB figure [`format_mb`] gives, without allocating in the common case.
fn write_mb(out: &mut String, bytes: u64) {
    const FRAC_BITS: u32 = 20;
    const FRAC_MASK: u64 = (1 << FRAC_BITS) - 1;
    // 5^20: frac / 2^20 == frac * 5^20 / 10^20, exactly.
    const FIVE_POW_20: u128 = 95_367_431_640_625;
    let whole = bytes >> FRAC_BITS;
    let frac = bytes & FRAC_MASK;
    if frac == 0 {
        push_u64(out, whole);
        return;
    }
    // The exact decimal expansion: 20 fraction digits, trailing zeros trimmed.
    let mut decimals = u128::from(frac) * FIVE_POW_20;
    let mut len = 20usize;
    while decimals % 10 == 0 {
        decimals /= 10;
        len -= 1;
    }
    let whole_digits = if whole == 0 {
        0
    } else {
        whole.ilog10() as usize + 1
    };
    let significant = if whole == 0 {
        // Leading zeros of the fraction are not significant.
        decimals.ilog10() as usize + 1
    } else {
        whole_digits + len
    };
    // Up to 15 significant digits the exact expansion is also the shortest text that
    // round-trips, which is what `Display` for f64 prints; otherwise let `Display` do it.
    if significant <= 15 {
        push_u64(out, whole);
        out.push('.');
        let mut digits = [b'0'; 20];
        let mut d = decimals;
        for slot in digits[..len].iter_mut().rev() {
            // d % 10 < 10: the cast is exact.
            let digit = (d % 10) as u8;
            *slot = b'0' + digit;
            d /= 10;
        }
        for d in &digits[..len] {
            out.push(char::from(*d));
        }
    } else {
        // u64 -> f64 loses precision only above 2^53 bytes, far beyond any memory size.
        #[allow(clippy::cast_precision_loss)]
        let mb = bytes as f64 / MIB;
        let _ = write!(out, "{mb}");
    }
}

fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        // n % 10 < 10: the cast is exact.
        let digit = (n % 10) as u8;
        buf[i] = b'0' + digit;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in &buf[i..] {
        out.push(char::from(*d));
    }
}

/// Milliseconds as SCF prints them: integers bare (`1`), fractions with up to 3 digits (`0.532`).
pub fn format_ms(ms: f64) -> String {
    let mut out = String::with_capacity(24);
    write_ms(&mut out, ms);
    out
}

/// Bytes as the MB figure SCF prints (`MemUsage:29.734375MB`): bytes / 2^20, shortest form.
pub fn format_mb(bytes: u64) -> String {
    let mut out = String::with_capacity(24);
    write_mb(&mut out, bytes);
    out
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

/// Writes a prefix, the request id and a suffix as one line into `out`, capped.
fn write_simple(out: &mut String, prefix: &str, request_id: &str, middle: &str, rest: &str) {
    let start = out.len();
    out.reserve(prefix.len() + request_id.len() + middle.len() + rest.len() + 1);
    out.push_str(prefix);
    out.push_str(request_id);
    out.push_str(middle);
    out.push_str(rest);
    cap_from(out, start);
}

fn write_report(out: &mut String, request_id: &str, report: &Report) {
    let start = out.len();
    out.push_str("Report RequestId:");
    out.push_str(request_id);
    out.push_str(" Duration:");
    write_ms(out, report.duration_ms);
    out.push_str("ms Memory:");
    push_u64(out, report.memory_mb);
    out.push_str("MB MemUsage:");
    write_mb(out, report.mem_usage_bytes);
    out.push_str("MB");
    cap_from(out, start);
}

fn write_init_report(out: &mut String, request_id: &str, report: &InitReport) {
    let start = out.len();
    out.push_str("Init Report RequestId: ");
    out.push_str(request_id);
    out.push_str(" InitDuration: ");
    write_ms(out, report.init_duration_ms);
    out.push_str("ms Duration: ");
    write_ms(out, report.duration_ms);
    out.push_str("ms Memory: ");
    push_u64(out, report.memory_mb);
    out.push_str("MB MemUsage: ");
    write_mb(out, report.mem_usage_bytes);
    out.push_str("MB");
    cap_from(out, start);
}

/// `START RequestId:<id>`.
pub fn start_line(request_id: &str) -> String {
    let mut out = String::new();
    write_simple(&mut out, "START RequestId:", request_id, "", "");
    out
}

/// `END RequestId:<id>`.
pub fn end_line(request_id: &str) -> String {
    let mut out = String::new();
    write_simple(&mut out, "END RequestId:", request_id, "", "");
    out
}

/// `Response RequestId:<id> RetMsg:<ret_msg>`, written on success.
///
/// `ret_msg` is the return value as text, usually its JSON (`"Hello World"` with quotes).
pub fn response_line(request_id: &str, ret_msg: &str) -> String {
    let mut out = String::new();
    write_simple(
        &mut out,
        "Response RequestId:",
        request_id,
        " RetMsg:",
        ret_msg,
    );
    out
}

/// `ERROR RequestId:<id> Result:<error json>`, written on failure.
pub fn error_line(request_id: &str, result_json: &str) -> String {
    let mut out = String::new();
    write_simple(
        &mut out,
        "ERROR RequestId:",
        request_id,
        " Result:",
        result_json,
    );
    out
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
    let mut out = String::with_capacity(request_id.len() + 80);
    write_report(&mut out, request_id, report);
    out
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
    let mut out = String::with_capacity(request_id.len() + 120);
    write_init_report(&mut out, request_id, report);
    out
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

/// Room for the framing lines around a request id (START, Response, END, Report).
const FRAME_BYTES: usize = 160;

impl LogFramer {
    /// Starts the log with `START RequestId:<id>`.
    pub fn new(request_id: impl Into<String>) -> Self {
        let request_id = request_id.into();
        let mut out = String::with_capacity(FRAME_BYTES + 4 * request_id.len());
        write_simple(&mut out, "START RequestId:", &request_id, "", "");
        out.push('\n');
        LogFramer { request_id, out }
    }

    /// Adds the cold-start `Init Report` line.
    pub fn init_report(&mut self, report: &InitReport) -> &mut Self {
        write_init_report(&mut self.out, &self.request_id, report);
        self.out.push('\n');
        self
    }

    /// Adds one user line as is (already formatted), capped at [`MAX_LINE_BYTES`].
    pub fn user_line(&mut self, line: &str) -> &mut Self {
        self.out.push_str(truncate_line(line, MAX_LINE_BYTES));
        self.out.push('\n');
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
        write_simple(
            &mut self.out,
            "Response RequestId:",
            &self.request_id,
            " RetMsg:",
            ret_msg,
        );
        self.out.push('\n');
        self
    }

    /// Adds `ERROR RequestId:<id> Result:<json>` (failure).
    pub fn error(&mut self, result_json: &str) -> &mut Self {
        write_simple(
            &mut self.out,
            "ERROR RequestId:",
            &self.request_id,
            " Result:",
            result_json,
        );
        self.out.push('\n');
        self
    }

    /// Adds `END` and `Report` and returns the whole log (each line ends in `\n`).
    pub fn finish(mut self, report: &Report) -> String {
        write_simple(&mut self.out, "END RequestId:", &self.request_id, "", "");
        self.out.push('\n');
        write_report(&mut self.out, &self.request_id, report);
        self.out.push('\n');
        self.out
    }
}
