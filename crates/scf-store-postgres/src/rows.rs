//! Reading rows back: records and events from rows, and the column lists they read.

use scf_logs::{InvocationType, LogRecord};
use scf_store::{AsyncEvent, StoreError};
use tokio_postgres::Row;

use crate::convert::from_micros;

/// Whether a row's log text holds the keyword (`$text`, and `$bytes` the same as bytea):
/// packed rows (`log_form` 1, NUL-free) unpacked as text, the others searched as bytes.
pub(crate) fn log_holds_sql(text: usize, bytes: usize) -> String {
    format!(
        "(CASE WHEN log_form = 1 THEN strpos({}, ${text}) > 0 ELSE position(${bytes} IN log) > 0 END)",
        scf_store::packing::unpack_sql(
            "convert_from(log, 'UTF8')",
            "request_id",
            "convert_from(ret_msg, 'UTF8')",
            "chr"
        )
    )
}

/// The columns [`row_to_record`] reads, in its order.
pub(crate) const LOG_COLS: &str = "request_id, retry_num, function_name, namespace, qualifier, \
    start_time, ret_code, status_code, invoke_finished, ret_msg, duration_ms, bill_duration_ms, \
    mem_usage_bytes, log, level, source, invocation_type, node, log_form";

/// The columns [`row_to_event`] reads, in its order.
pub(crate) const ASYNC_COLS: &str = "invoke_request_id, function_name, namespace, qualifier, \
    invoke_type, status, status_code, start_time, end_time, event, attempts, node";

pub(crate) fn row_to_record(row: &Row) -> Result<LogRecord, StoreError> {
    let request_id: String = row.try_get(0).map_err(|e| StoreError::CorruptRow {
        request_id: "(unreadable)".into(),
        detail: e.to_string(),
    })?;
    let corrupt = |detail: String| StoreError::CorruptRow {
        request_id: request_id.clone(),
        detail,
    };
    let get = |e: tokio_postgres::Error| corrupt(e.to_string());
    let text = |bytes: Vec<u8>, column: &str| {
        String::from_utf8(bytes).map_err(|e| corrupt(format!("{column} is not UTF-8: {e}")))
    };
    let retry: i64 = row.try_get(1).map_err(get)?;
    let start_us: i64 = row.try_get(5).map_err(get)?;
    let status: i32 = row.try_get(7).map_err(get)?;
    let bill: i64 = row.try_get(11).map_err(get)?;
    let mem: i64 = row.try_get(12).map_err(get)?;
    let inv: String = row.try_get(16).map_err(get)?;
    let ret_msg = text(row.try_get(9).map_err(get)?, "ret_msg")?;
    let stored_log = text(row.try_get(13).map_err(get)?, "log")?;
    let log_form: i16 = row.try_get(18).map_err(get)?;
    let log = match log_form {
        0 => stored_log,
        1 => scf_store::packing::unpack_log(&stored_log, &request_id, &ret_msg),
        other => return Err(corrupt(format!("unknown log_form {other}"))),
    };
    Ok(LogRecord {
        retry_num: u32::try_from(retry).map_err(|_| corrupt(format!("retry_num {retry}")))?,
        function_name: row.try_get(2).map_err(get)?,
        namespace: row.try_get(3).map_err(get)?,
        qualifier: row.try_get(4).map_err(get)?,
        start_time: from_micros(start_us, &request_id, "start_time")?,
        ret_code: row.try_get(6).map_err(get)?,
        status_code: u16::try_from(status).map_err(|_| corrupt(format!("status_code {status}")))?,
        invoke_finished: row.try_get(8).map_err(get)?,
        ret_msg,
        duration_ms: row.try_get(10).map_err(get)?,
        // The u64 was stored as its bits.
        bill_duration_ms: bill as u64,
        mem_usage_bytes: mem as u64,
        log,
        level: row.try_get(14).map_err(get)?,
        source: row.try_get(15).map_err(get)?,
        invocation_type: inv
            .parse::<InvocationType>()
            .map_err(|e| corrupt(e.to_string()))?,
        node: row.try_get(17).map_err(get)?,
        request_id: request_id.clone(),
    })
}

pub(crate) fn row_to_event(row: &Row) -> Result<AsyncEvent, StoreError> {
    let id: String = row.try_get(0).map_err(|e| StoreError::CorruptRow {
        request_id: "(unreadable)".into(),
        detail: e.to_string(),
    })?;
    let corrupt = |detail: String| StoreError::CorruptRow {
        request_id: id.clone(),
        detail,
    };
    let get = |e: tokio_postgres::Error| corrupt(e.to_string());
    let status: String = row.try_get(5).map_err(get)?;
    let start_us: i64 = row.try_get(7).map_err(get)?;
    let end_us: Option<i64> = row.try_get(8).map_err(get)?;
    let attempts: i64 = row.try_get(10).map_err(get)?;
    Ok(AsyncEvent {
        function_name: row.try_get(1).map_err(get)?,
        namespace: row.try_get(2).map_err(get)?,
        qualifier: row.try_get(3).map_err(get)?,
        invoke_type: row.try_get(4).map_err(get)?,
        status: status
            .parse()
            .map_err(|e: scf_logs::ParseValueError| corrupt(e.to_string()))?,
        status_code: row.try_get(6).map_err(get)?,
        start_time: from_micros(start_us, &id, "start_time")?,
        end_time: end_us
            .map(|us| from_micros(us, &id, "end_time"))
            .transpose()?,
        event: row.try_get(9).map_err(get)?,
        attempts: u32::try_from(attempts).map_err(|_| corrupt(format!("attempts {attempts}")))?,
        node: row.try_get(11).map_err(get)?,
        invoke_request_id: id.clone(),
    })
}
