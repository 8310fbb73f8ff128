//! The bounded keyword search ([`LogQuery::keyword`]): the ids of the records the other
//! filters keep, in the query's order, at most `keyword_scan` of them, whose unpacked log
//! text holds the keyword, read one at a time until `offset + limit + 1` matched (the
//! statement stops there); then those records by id.

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::convert::read_err;
use crate::rows::{collect, count, order_column, order_sql, row_to_record};
use crate::statements::{log_text_sql, LOG_COLS};
use scf_store::{LogPage, LogQuery, StoreError};

/// The page of `q` (which has a keyword) over `from` with the other filters' `wh`
/// (` WHERE …` or empty) and their `params`.
pub(crate) fn keyword_page(
    conn: &Connection,
    q: &LogQuery,
    keyword: &str,
    from: &str,
    wh: &str,
    mut params: Vec<Value>,
) -> Result<LogPage, StoreError> {
    let what = "keyword search";
    let dir = order_sql(q.order);
    let col = order_column(q.order_by);
    let n = params.len();
    // The scan orders ids only (through the index), so that the sorter never carries log
    // text; each id's text is then read and searched in that order.
    let scan = format!(
        "SELECT id FROM {from}{wh} ORDER BY {col} {dir}, id {dir} LIMIT ?{}",
        n + 1
    );
    let sql = format!(
        "SELECT s.id FROM ({scan}) AS s JOIN logs ON logs.id = s.id WHERE instr({text}, ?{}) > 0",
        n + 2,
        text = log_text_sql(),
    );
    params.push(Value::Integer(i64::from(q.keyword_scan)));
    params.push(Value::Text(keyword.to_owned()));
    let wanted = q.offset as usize + q.limit as usize + 1;
    let mut ids: Vec<i64> = Vec::new();
    {
        let mut st = conn.prepare_cached(&sql).map_err(|e| read_err(what, e))?;
        let mut rows = st
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(|e| read_err(what, e))?;
        while ids.len() < wanted {
            match rows.next().map_err(|e| read_err(what, e))? {
                Some(row) => ids.push(row.get(0).map_err(|e| read_err(what, e))?),
                None => break,
            }
        }
    }
    // Fewer matches than wanted: the scan ended, at the end or at `keyword_scan`.
    let scan_full = ids.len() < wanted && {
        let mut p = params[..n].to_vec();
        p.push(Value::Integer(i64::from(q.keyword_scan) + 1));
        let rows = count(
            conn,
            what,
            &format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM {from}{wh} LIMIT ?{})",
                n + 1
            ),
            &p,
        )?;
        rows > u64::from(q.keyword_scan)
    };
    let page: Vec<i64> = ids
        .iter()
        .copied()
        .skip(q.offset as usize)
        .take(q.limit as usize)
        .collect();
    let mut records = if page.is_empty() {
        Vec::new()
    } else {
        let list: Vec<String> = page.iter().map(i64::to_string).collect();
        let sql = format!(
            "SELECT {LOG_COLS}, id FROM logs WHERE id IN ({})",
            list.join(", ")
        );
        collect(conn, what, &sql, &[], |row| {
            let id: i64 = row.get(19).map_err(|e| read_err("keyword search row", e))?;
            Ok((id, row_to_record(row)?))
        })?
    };
    records.sort_by_key(|(id, _)| page.iter().position(|p| p == id));
    let records = records.into_iter().map(|(_, r)| r).collect();
    Ok(LogPage::of_search(q, ids.len(), records, scan_full))
}
