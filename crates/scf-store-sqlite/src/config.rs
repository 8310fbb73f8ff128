//! [`SqliteStoreConfig`], the store's tuning and retention, and [`PurgeReport`].

use std::time::Duration;

/// Tuning for [`SqliteStore`](crate::SqliteStore).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteStoreConfig {
    /// Most records committed in one transaction (default 65536).
    pub batch_size: usize,
    /// Longest a put waits for more records before its batch is committed (default 5 ms).
    pub batch_interval: Duration,
    /// Records that may wait in the channel; `put` blocks when it is full (default 65536).
    pub channel_capacity: usize,
    /// How long a connection waits for a lock held by another process (default 5 s).
    pub busy_timeout: Duration,
    /// Least time between two WAL checkpoints (default 250 ms). Checkpoints run on their
    /// own thread and connection, after a commit, so the writer never copies pages
    /// back into the database file itself.
    pub checkpoint_interval: Duration,
    /// WAL length, in pages, past which the checkpointer restarts the WAL from its
    /// beginning (default 16384: 64 MiB of 4 KiB pages). Passive checkpoints alone never
    /// let a WAL under sustained appends start over, so without this it would only grow.
    pub wal_restart_pages: u32,
    /// Request-id keys the small key table (`logs_key_new`) may hold before the writer
    /// moves them into the large one (`logs_key`), in key order (default 262144). Random
    /// request ids make every insert into a large B-tree rewrite one of its pages; new
    /// keys go to the small table, whose pages a commit rewrites a few times over, and
    /// the merge rewrites each page of the large one once per many keys. Larger: fewer
    /// rewrites of the large table's pages per record, more of the small one's per commit.
    pub key_merge_rows: u64,
    /// Log records that started longer ago than this are deleted, with their request-id
    /// keys (default `None`: kept for ever). The writer deletes them when the store opens
    /// (before any write) and then every `purge_interval`.
    pub log_retention: Option<Duration>,
    /// Async events that ended (`FINISHED`, `FAILED`, `ABORTED`) longer ago than this are
    /// deleted; a `RUNNING` event never is (default `None`: kept for ever). SCF keeps them
    /// 3 days: [`SCF_ASYNC_RETENTION`]. Timer ticks older than this are deleted too.
    pub async_retention: Option<Duration>,
    /// How often the writer deletes what is past its retention (default 60 s).
    pub purge_interval: Duration,
    /// Most rows of one kind deleted in one transaction (default 10000): appends wait for
    /// at most one such transaction, and a long backlog is deleted a batch at a time
    /// between appends.
    pub purge_batch: usize,
}

/// How long SCF keeps an async event's status after it ended: 3 days.
pub const SCF_ASYNC_RETENTION: Duration = Duration::from_secs(3 * 24 * 3600);

/// What a purge deleted ([`SqliteStore::purge`](crate::SqliteStore::purge)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PurgeReport {
    /// Log records (attempts) deleted.
    pub log_records: u64,
    /// Async events deleted.
    pub async_events: u64,
    /// Timer ticks ([`claim_tick`](scf_store::AsyncQueue::claim_tick)) deleted: those
    /// older than the async retention.
    pub timer_ticks: u64,
}

impl Default for SqliteStoreConfig {
    fn default() -> Self {
        SqliteStoreConfig {
            batch_size: 65536,
            batch_interval: Duration::from_millis(5),
            channel_capacity: 65536,
            busy_timeout: Duration::from_secs(5),
            checkpoint_interval: Duration::from_millis(250),
            wal_restart_pages: 16384,
            key_merge_rows: 262_144,
            log_retention: None,
            async_retention: None,
            purge_interval: Duration::from_secs(60),
            purge_batch: 10_000,
        }
    }
}
