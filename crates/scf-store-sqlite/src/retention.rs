//! Retention: deleting log records and ended async events past their configured age, in
//! bounded batches so that appends never wait for a whole backlog.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, TransactionBehavior};
use time::OffsetDateTime;

use crate::config::{PurgeReport, SqliteStoreConfig};
use crate::convert::{lock, sat_i64, to_micros, write_err};
use crate::keys::KeyMerge;
use crate::statements::{
    DROP_LOG, DROP_NEW_KEY, DROP_OLD_KEY, EXPIRED_LOGS, PURGE_ASYNC, PURGE_TICKS,
};
use scf_store::StoreError;

/// The writer's retention purge: when it is due, and one step of it.
#[derive(Debug)]
pub(crate) struct Purge {
    log_retention: Option<Duration>,
    async_retention: Option<Duration>,
    interval: Duration,
    batch: usize,
    /// When the next step runs.
    pub(crate) due: Instant,
}

impl Purge {
    pub(crate) fn new(cfg: &SqliteStoreConfig) -> Self {
        Purge {
            log_retention: cfg.log_retention,
            async_retention: cfg.async_retention,
            interval: cfg.purge_interval,
            batch: cfg.purge_batch.max(1),
            due: Instant::now(),
        }
    }

    /// Whether any retention is configured.
    pub(crate) fn enabled(&self) -> bool {
        self.log_retention.is_some() || self.async_retention.is_some()
    }

    /// One batch of each kind; the next step is due at once while a batch came back
    /// full (a backlog, deleted between appends), else after the interval. A failure is
    /// reported once through `failed` and tried again after the interval.
    pub(crate) fn step(
        &mut self,
        conn: &mut Connection,
        keys: &mut KeyMerge,
        failed: &Mutex<Option<StoreError>>,
    ) {
        let more = match self.once(conn, keys) {
            Ok(report) => self.full(&report),
            Err(e) => {
                lock(failed).get_or_insert(e);
                false
            }
        };
        self.due = if more { Instant::now() } else { self.later() };
    }

    /// When the next step is due after a complete one: an interval too long for the
    /// clock waits for ever (for an explicit purge or the next write).
    fn later(&self) -> Instant {
        let now = Instant::now();
        now.checked_add(self.interval)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
    }

    /// Every batch until nothing is left past the retention.
    pub(crate) fn all(
        &mut self,
        conn: &mut Connection,
        keys: &mut KeyMerge,
    ) -> Result<PurgeReport, StoreError> {
        let mut total = PurgeReport::default();
        loop {
            let report = self.once(conn, keys)?;
            total.log_records += report.log_records;
            total.async_events += report.async_events;
            total.timer_ticks += report.timer_ticks;
            if !self.full(&report) {
                self.due = self.later();
                return Ok(total);
            }
        }
    }

    /// Whether a batch of some kind came back full (more may be left).
    fn full(&self, report: &PurgeReport) -> bool {
        let batch = self.batch as u64;
        report.log_records >= batch || report.async_events >= batch || report.timer_ticks >= batch
    }

    fn once(&self, conn: &mut Connection, keys: &mut KeyMerge) -> Result<PurgeReport, StoreError> {
        let now = OffsetDateTime::now_utc();
        // A retention longer than the calendar reaches back keeps everything.
        let cutoff = |keep: Duration| {
            time::Duration::try_from(keep)
                .ok()
                .and_then(|keep| now.checked_sub(keep))
                .map_or(i64::MIN, to_micros)
        };
        let mut report = PurgeReport::default();
        if let Some(keep) = self.log_retention {
            let (records, new_keys) = purge_logs(conn, cutoff(keep), self.batch)
                .map_err(|e| write_err("deleting expired log records", e))?;
            report.log_records = records;
            // The merge counts the small key table's rows; these left it.
            keys.new_rows = keys.new_rows.saturating_sub(new_keys);
        }
        if let Some(keep) = self.async_retention {
            report.async_events = conn
                .prepare_cached(PURGE_ASYNC)
                .and_then(|mut st| st.execute(params![cutoff(keep), sat_i64(self.batch as u64)]))
                .map_err(|e| write_err("deleting expired async events", e))?
                as u64;
            report.timer_ticks = conn
                .prepare_cached(PURGE_TICKS)
                .and_then(|mut st| st.execute(params![cutoff(keep), sat_i64(self.batch as u64)]))
                .map_err(|e| write_err("deleting expired timer ticks", e))?
                as u64;
        }
        Ok(report)
    }
}

/// Deletes, in one transaction, up to `limit` log records that started before
/// `cutoff_us` (oldest first, through the `logs_time` index) and their keys; how many
/// records, and how many of their keys were in the small key table.
pub(crate) fn purge_logs(
    conn: &mut Connection,
    cutoff_us: i64,
    limit: usize,
) -> rusqlite::Result<(u64, u64)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let rows: Vec<(i64, i64, i64, i64)> = tx
        .prepare_cached(EXPIRED_LOGS)?
        .query_map(params![cutoff_us, sat_i64(limit as u64)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut new_keys = 0;
    {
        let mut drop_new = tx.prepare_cached(DROP_NEW_KEY)?;
        let mut drop_old = tx.prepare_cached(DROP_OLD_KEY)?;
        let mut drop_row = tx.prepare_cached(DROP_LOG)?;
        for (id, rkey, retry_num, coll) in &rows {
            // Every key is in exactly one of the two tables. The writer's Bloom filter
            // of the large one keeps a deleted key: a false positive, one lookup more.
            if drop_new.execute(params![rkey, retry_num, coll])? > 0 {
                new_keys += 1;
            } else {
                drop_old.execute(params![rkey, retry_num, coll])?;
            }
            drop_row.execute([id])?;
        }
    }
    crate::rollup::purge(&tx, cutoff_us)?;
    tx.commit()?;
    Ok((rows.len() as u64, new_keys))
}
