//! Reading rows back: records and events from rows, counts, and the SQL of the query shapes.

use rusqlite::types::Value;
use rusqlite::{Connection, Row};

use crate::convert::{from_micros, read_err};
use scf_logs::{InvocationType, LogRecord};
use scf_store::{AsyncEvent, Order, OrderBy, StoreError};

pub(crate) fn row_to_record(row: &Row<'_>) -> Result<LogRecord, StoreError> {
    let request_id: String = row.get(0).map_err(|e| read_err("log row", e))?;
    let corrupt = |detail: String| StoreError::CorruptRow {
        request_id: request_id.clone(),
        detail,
    };
    let get_err = |e: rusqlite::Error| corrupt(e.to_string());
    let start_us: i64 = row.get(5).map_err(get_err)?;
    let bill: i64 = row.get(11).map_err(get_err)?;
    let mem: i64 = row.get(12).map_err(get_err)?;
    let inv: String = row.get(16).map_err(get_err)?;
    let stored_log: String = row.get(13).map_err(get_err)?;
    let log_form: i64 = row.get(18).map_err(get_err)?;
    let ret_msg: String = row.get(9).map_err(get_err)?;
    let log = match log_form {
        0 => stored_log,
        1 => scf_store::packing::unpack_log(&stored_log, &request_id, &ret_msg),
        other => return Err(corrupt(format!("unknown log_form {other}"))),
    };
    Ok(LogRecord {
        retry_num: row.get(1).map_err(get_err)?,
        function_name: row.get(2).map_err(get_err)?,
        namespace: row.get(3).map_err(get_err)?,
        qualifier: row.get(4).map_err(get_err)?,
        start_time: from_micros(start_us, &request_id, "start_time")?,
        ret_code: row.get(6).map_err(get_err)?,
        status_code: row.get(7).map_err(get_err)?,
        invoke_finished: row.get(8).map_err(get_err)?,
        ret_msg,
        duration_ms: row.get(10).map_err(get_err)?,
        bill_duration_ms: u64::try_from(bill)
            .map_err(|_| corrupt(format!("negative bill_duration_ms {bill}")))?,
        mem_usage_bytes: u64::try_from(mem)
            .map_err(|_| corrupt(format!("negative mem_usage_bytes {mem}")))?,
        log,
        level: row.get(14).map_err(get_err)?,
        source: row.get(15).map_err(get_err)?,
        invocation_type: inv
            .parse::<InvocationType>()
            .map_err(|e| corrupt(e.to_string()))?,
        node: row.get(17).map_err(get_err)?,
        request_id: request_id.clone(),
    })
}

pub(crate) fn row_to_event(row: &Row<'_>) -> Result<AsyncEvent, StoreError> {
    let id: String = row.get(0).map_err(|e| read_err("async event row", e))?;
    let corrupt = |detail: String| StoreError::CorruptRow {
        request_id: id.clone(),
        detail,
    };
    let get_err = |e: rusqlite::Error| corrupt(e.to_string());
    let status: String = row.get(5).map_err(get_err)?;
    let start_us: i64 = row.get(7).map_err(get_err)?;
    let end_us: Option<i64> = row.get(8).map_err(get_err)?;
    Ok(AsyncEvent {
        function_name: row.get(1).map_err(get_err)?,
        namespace: row.get(2).map_err(get_err)?,
        qualifier: row.get(3).map_err(get_err)?,
        invoke_type: row.get(4).map_err(get_err)?,
        status: status
            .parse()
            .map_err(|e: scf_logs::ParseValueError| corrupt(e.to_string()))?,
        status_code: row.get(6).map_err(get_err)?,
        start_time: from_micros(start_us, &id, "start_time")?,
        end_time: end_us
            .map(|us| from_micros(us, &id, "end_time"))
            .transpose()?,
        event: row.get(9).map_err(get_err)?,
        attempts: row.get(10).map_err(get_err)?,
        node: row.get(11).map_err(get_err)?,
        invoke_request_id: id.clone(),
    })
}

pub(crate) fn collect<T>(
    conn: &Connection,
    what: &str,
    sql: &str,
    params: &[Value],
    map: fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(|e| read_err(what, e))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(|e| read_err(what, e))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| read_err(what, e))? {
        out.push(map(row)?);
    }
    Ok(out)
}

pub(crate) fn count(
    conn: &Connection,
    what: &str,
    sql: &str,
    params: &[Value],
) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached(sql)
        .and_then(|mut s| s.query_row(rusqlite::params_from_iter(params.iter()), |r| r.get(0)))
        .map_err(|e| read_err(what, e))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(crate) fn where_clause(conds: &[String]) -> String {
    if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    }
}

/// `ASC` or `DESC`.
pub(crate) fn order_sql(order: Order) -> &'static str {
    match order {
        Order::Asc => "ASC",
        Order::Desc => "DESC",
    }
}

/// The column a `GetFunctionLogs` `OrderBy` sorts on.
pub(crate) fn order_column(by: OrderBy) -> &'static str {
    match by {
        OrderBy::FunctionName => "function_name",
        OrderBy::Duration => "duration_ms",
        OrderBy::MemUsage => "mem_usage_bytes",
        OrderBy::StartTime => "start_time",
    }
}
