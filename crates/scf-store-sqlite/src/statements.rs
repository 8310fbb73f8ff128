//! The SQL the writer runs, named, and the prepared statements of one write transaction.

use rusqlite::{params, Transaction};

use crate::convert::{sat_i64, to_micros};
use crate::keys::{request_key, MergedKeys};
use scf_logs::record::RET_CODE_RUNNING;
use scf_logs::LogRecord;

/// The ids of the rows with this `rkey` (?1), in either key table.
pub(crate) const IDS_BY_KEY: &str = "SELECT id FROM logs_key_new WHERE rkey = ?1 \
    UNION ALL SELECT id FROM logs_key WHERE rkey = ?1";

/// The columns a log record is read from, in [`row_to_record`](crate::rows::row_to_record)'s
/// order.
pub(crate) const LOG_COLS: &str =
    "request_id, retry_num, function_name, namespace, qualifier, start_time, \
    ret_code, status_code, invoke_finished, ret_msg, duration_ms, bill_duration_ms, \
    mem_usage_bytes, log, level, source, invocation_type, node, log_form";

/// A row's log text as SQL, unpacked where `log_form` is 1 (what a keyword is searched
/// in; [`scf_store::packing`]).
pub(crate) fn log_text_sql() -> String {
    format!(
        "CASE WHEN log_form = 1 THEN {} ELSE log END",
        scf_store::packing::unpack_sql("log", "request_id", "ret_msg", "char")
    )
}

/// The columns of `logs` that schema version 1 had too (what its migration copies).
pub(crate) const LOG_COLS_V1: &str =
    "request_id, retry_num, function_name, namespace, qualifier, start_time, \
    ret_code, status_code, invoke_finished, ret_msg, duration_ms, bill_duration_ms, \
    mem_usage_bytes, log, level, source, invocation_type";

/// The rows holding `(rkey, retry_num)` (?1, ?2) in each key table: usually none.
pub(crate) const FIND_NEW_KEY: &str =
    "SELECT id, coll FROM logs_key_new WHERE rkey = ?1 AND retry_num = ?2";
pub(crate) const FIND_OLD_KEY: &str =
    "SELECT id, coll FROM logs_key WHERE rkey = ?1 AND retry_num = ?2";
/// The request id and return code of a row found by key.
pub(crate) const KEYED_ROW: &str = "SELECT request_id, ret_code FROM logs WHERE id = ?1";

pub(crate) const INSERT_LOG: &str =
    "INSERT INTO logs (rkey, request_id, retry_num, function_name, \
    namespace, qualifier, start_time, ret_code, status_code, invoke_finished, ret_msg, \
    duration_ms, bill_duration_ms, mem_usage_bytes, log, level, source, invocation_type, node, \
    log_form, coll) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
    ?17, ?18, ?19, ?20, ?21)";

pub(crate) const INSERT_KEY: &str =
    "INSERT INTO logs_key_new (rkey, retry_num, coll, id) VALUES (?1, ?2, ?3, ?4)";

/// Replaces the row of the same request id and retry (its key columns stay as they are).
pub(crate) const UPDATE_LOG: &str = "UPDATE logs SET function_name = ?4, namespace = ?5, \
    qualifier = ?6, start_time = ?7, ret_code = ?8, status_code = ?9, invoke_finished = ?10, \
    ret_msg = ?11, duration_ms = ?12, bill_duration_ms = ?13, mem_usage_bytes = ?14, \
    log = ?15, level = ?16, source = ?17, invocation_type = ?18, node = ?19, log_form = ?20 \
    WHERE id = ?21";

/// Moves the keys in `[?1, ?2]` from `logs_key_new` into `logs_key`, in key order.
pub(crate) const MERGE_KEYS: &str = "INSERT INTO logs_key (rkey, retry_num, coll, id) \
    SELECT rkey, retry_num, coll, id FROM logs_key_new WHERE rkey BETWEEN ?1 AND ?2 \
    ORDER BY rkey, retry_num, coll";
pub(crate) const DROP_MERGED_KEYS: &str = "DELETE FROM logs_key_new WHERE rkey BETWEEN ?1 AND ?2";
pub(crate) const NEW_KEYS_IN: &str = "SELECT rkey FROM logs_key_new WHERE rkey BETWEEN ?1 AND ?2";
/// Retention: the oldest log rows that started before ?1 (unix µs), at most ?2, with keys.
pub(crate) const EXPIRED_LOGS: &str =
    "SELECT id, rkey, retry_num, coll FROM logs WHERE start_time < ?1 \
    ORDER BY start_time LIMIT ?2";
pub(crate) const DROP_NEW_KEY: &str =
    "DELETE FROM logs_key_new WHERE rkey = ?1 AND retry_num = ?2 AND coll = ?3";
pub(crate) const DROP_OLD_KEY: &str =
    "DELETE FROM logs_key WHERE rkey = ?1 AND retry_num = ?2 AND coll = ?3";
pub(crate) const DROP_LOG: &str = "DELETE FROM logs WHERE id = ?1";
/// Retention: up to ?2 async events that ended before ?1 (unix µs); never a running one.
pub(crate) const PURGE_ASYNC: &str = "DELETE FROM async_events WHERE id IN (\
    SELECT id FROM async_events WHERE status <> 'RUNNING' AND end_time < ?1 LIMIT ?2)";

/// Retention: up to ?2 timer ticks older than ?1 (unix µs).
pub(crate) const PURGE_TICKS: &str = "DELETE FROM timer_ticks WHERE (trigger, tick) IN (\
    SELECT trigger, tick FROM timer_ticks WHERE tick < ?1 LIMIT ?2)";

/// Every `RUNNING` event, oldest first (`AsyncQueue::unfinished`), through the two
/// partial indexes that hold them (see [`ASYNC_INDEXES`](crate::schema::ASYNC_INDEXES)).
pub(crate) const UNFINISHED_ASYNC: &str = "SELECT invoke_request_id, function_name, namespace, \
    qualifier, invoke_type, status, status_code, start_time, end_time, event, attempts, node FROM (\
      SELECT * FROM async_events INDEXED BY async_due \
        WHERE status = 'RUNNING' AND lease_until IS NULL \
      UNION ALL \
      SELECT * FROM async_events INDEXED BY async_leased \
        WHERE status = 'RUNNING' AND lease_until IS NOT NULL) \
    ORDER BY start_time, id";

pub(crate) const ASYNC_COLS: &str =
    "invoke_request_id, function_name, namespace, qualifier, invoke_type, \
    status, status_code, start_time, end_time, event, attempts, node";

/// The writer's prepared log statements for one transaction; the rare paths prepare
/// theirs when needed.
pub(crate) struct LogStatements<'c> {
    tx: &'c Transaction<'c>,
    find_new: rusqlite::CachedStatement<'c>,
    find_old: rusqlite::CachedStatement<'c>,
    insert: rusqlite::CachedStatement<'c>,
    insert_key: rusqlite::CachedStatement<'c>,
    merged: &'c MergedKeys,
    /// Keys added to `logs_key_new` by this transaction.
    pub(crate) new_keys: u64,
}

impl<'c> LogStatements<'c> {
    pub(crate) fn prepare(
        tx: &'c Transaction<'c>,
        merged: &'c MergedKeys,
    ) -> rusqlite::Result<Self> {
        Ok(LogStatements {
            tx,
            merged,
            find_new: tx.prepare_cached(FIND_NEW_KEY)?,
            find_old: tx.prepare_cached(FIND_OLD_KEY)?,
            insert: tx.prepare_cached(INSERT_LOG)?,
            insert_key: tx.prepare_cached(INSERT_KEY)?,
            new_keys: 0,
        })
    }

    /// Upserts by `(request_id, retry_num)`; a running record never replaces a finished one.
    /// Whether the record is now stored finished where it was not before (what the
    /// per-minute rollup counts: [`crate::rollup`]).
    pub(crate) fn upsert(&mut self, r: &LogRecord) -> rusqlite::Result<bool> {
        let rkey = request_key(&r.request_id);
        // The rows holding this key: usually none; more than one only when request ids'
        // keys collide, each then with its own `coll`.
        let mut held: Vec<(i64, i64)> = Vec::new();
        let finds = if self.merged.may_contain(rkey) {
            [Some(&mut self.find_new), Some(&mut self.find_old)]
        } else {
            [Some(&mut self.find_new), None]
        };
        for find in finds.into_iter().flatten() {
            let mut rows = find.query(params![rkey, r.retry_num])?;
            while let Some(row) = rows.next()? {
                held.push((row.get(0)?, row.get(1)?));
            }
        }
        let mut next_coll = 0_i64;
        let mut mine: Option<(i64, i64)> = None;
        for (id, coll) in held {
            next_coll = next_coll.max(coll + 1);
            let mut row = self.tx.prepare_cached(KEYED_ROW)?;
            let (request_id, ret_code): (String, i64) =
                row.query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))?;
            if request_id == r.request_id {
                mine = Some((id, ret_code));
            }
        }
        // The log text packed (its request id and return value stored once) when that is
        // exact: `log_form` 1; as it is otherwise: 0.
        let packed = scf_store::packing::pack_log(&r.log, &r.request_id, &r.ret_msg);
        let log_form: i64 = i64::from(packed.is_some());
        let log_text = packed.as_deref().unwrap_or(&r.log);
        let values = params![
            rkey,
            r.request_id,
            r.retry_num,
            r.function_name,
            r.namespace,
            r.qualifier,
            to_micros(r.start_time),
            r.ret_code,
            r.status_code,
            r.invoke_finished,
            r.ret_msg,
            r.duration_ms,
            sat_i64(r.bill_duration_ms),
            sat_i64(r.mem_usage_bytes),
            log_text,
            r.level,
            r.source,
            r.invocation_type.as_str(),
            r.node,
            log_form,
        ];
        let mut all: Vec<&dyn rusqlite::ToSql> = values.to_vec();
        match mine {
            // A late running record never replaces a finished one.
            Some((_, old_ret_code)) if r.is_running() && old_ret_code != RET_CODE_RUNNING => {
                Ok(false)
            }
            Some((id, old_ret_code)) => {
                all.push(&id);
                self.tx
                    .prepare_cached(UPDATE_LOG)?
                    .execute(all.as_slice())?;
                Ok(!r.is_running() && old_ret_code == RET_CODE_RUNNING)
            }
            None => {
                all.push(&next_coll);
                self.insert.execute(all.as_slice())?;
                let id = self.tx.last_insert_rowid();
                self.insert_key
                    .execute(params![rkey, r.retry_num, next_coll, id])?;
                self.new_keys += 1;
                Ok(!r.is_running())
            }
        }
    }
}
