//! Keeping the WAL bounded: the checkpoint thread, and the writer's restart of the WAL
//! past its size limit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::config::SqliteStoreConfig;
use crate::convert::{lock, write_err};
use scf_store::StoreError;

/// How a `PRAGMA wal_checkpoint` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checkpoint {
    /// Finished; the WAL is this many frames long.
    Done(i64),
    /// Another connection's checkpoint holds the checkpoint lock: nothing was done.
    LockHeld,
    /// Started but could not finish (a reader still uses the WAL), or failed.
    Unfinished,
}

/// Runs `PRAGMA wal_checkpoint(mode)`. A failure other than a busy database is also
/// reported through `failed` (it loses nothing: the pages stay in the WAL).
pub(crate) fn wal_checkpoint(
    conn: &Connection,
    mode: &str,
    failed: &Mutex<Option<StoreError>>,
) -> Checkpoint {
    let res: rusqlite::Result<(i64, i64, i64)> =
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        });
    match res {
        Ok((0, wal_frames, _copied)) => Checkpoint::Done(wal_frames),
        // SQLite answers -1 frames when it could not take the checkpoint lock at all.
        Ok((_busy, -1, _)) => Checkpoint::LockHeld,
        Ok(_) => Checkpoint::Unfinished,
        Err(e) => {
            if e.sqlite_error_code() != Some(rusqlite::ErrorCode::DatabaseBusy) {
                let mut slot = lock(failed);
                if slot.is_none() {
                    *slot = Some(write_err(format!("WAL checkpoint ({mode})"), e));
                }
            }
            Checkpoint::Unfinished
        }
    }
}

/// The writer's side of the checkpointer's channel. A tick tells the checkpointer that a
/// commit is waiting for a checkpoint; it is sent only when none was pending, so the
/// checkpointer wakes once per checkpoint however many transactions commit meanwhile (a
/// wake-up per commit was a context switch per single-event queue write).
#[derive(Debug)]
pub(crate) struct Ticks {
    tx: SyncSender<()>,
    pending: Arc<AtomicBool>,
}

impl Ticks {
    /// The sender, and the receiver and pending flag for [`checkpointer_loop`].
    pub(crate) fn new() -> (Ticks, Receiver<()>, Arc<AtomicBool>) {
        let (tx, rx) = mpsc::sync_channel(1);
        let pending = Arc::new(AtomicBool::new(false));
        let ticks = Ticks {
            tx,
            pending: Arc::clone(&pending),
        };
        (ticks, rx, pending)
    }

    /// After a commit.
    pub(crate) fn committed(&self) {
        if !self.pending.swap(true, Ordering::AcqRel) {
            // Only the writer sends, and only after the checkpointer took the last tick.
            let _ = self.tx.try_send(());
        }
    }
}

/// Copies committed WAL pages back into the database file, off the writer's thread:
/// after a commit (the writer's tick), at most once per `interval`, and once more when
/// the writer stops. PASSIVE checkpoints never block the writer or readers.
///
/// A passive checkpoint cannot let the WAL start again from its beginning: that needs
/// every frame copied with no commit in between, which sustained appends never leave time
/// for, so the WAL would only grow. When it is `restart_pages` long, this sets
/// `restart_due`, and the writer runs a RESTART checkpoint between two of its own
/// transactions (`writer_loop`): it copies only the frames written since the passive one
/// and lets the next commit reuse the file from its start.
pub(crate) fn checkpointer_loop(
    conn: &Connection,
    ticks: &Receiver<()>,
    pending: &AtomicBool,
    interval: Duration,
    restart_pages: i64,
    restart_due: &AtomicBool,
    failed: &Mutex<Option<StoreError>>,
) {
    let checkpoint = || {
        // Cleared first: a commit from now on sends the next tick.
        pending.store(false, Ordering::Release);
        if let Checkpoint::Done(frames) = wal_checkpoint(conn, "PASSIVE", failed) {
            if frames >= restart_pages {
                restart_due.store(true, Ordering::Release);
            }
        }
    };
    let mut due = Instant::now();
    while ticks.recv().is_ok() {
        // Let more commits gather in the WAL until the interval is over (they send no
        // tick while this one is pending); a stopping writer ends the wait.
        loop {
            let now = Instant::now();
            if now >= due {
                break;
            }
            match ticks.recv_timeout(due - now) {
                Ok(()) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    checkpoint();
                    return;
                }
            }
        }
        checkpoint();
        due = Instant::now() + interval;
    }
    checkpoint();
}

/// The writer's RESTART checkpoint, between two of its transactions (so it never waits for
/// itself; see `checkpointer_loop`); true when the WAL will start over. While the checkpoint
/// thread's own checkpoint holds the lock, it waits for that one to end (up to the busy
/// timeout): the WAL cannot grow meanwhile, which is what keeps it bounded. It never waits
/// for readers (perhaps another process's open transaction): without a busy timeout it
/// gives up at once and is tried again after the next commit, so the writer never stalls.
pub(crate) fn restart_wal(
    conn: &Connection,
    cfg: &SqliteStoreConfig,
    failed: &Mutex<Option<StoreError>>,
) -> bool {
    let _ = conn.busy_timeout(Duration::ZERO);
    let give_up = Instant::now() + cfg.busy_timeout;
    let outcome = loop {
        match wal_checkpoint(conn, "RESTART", failed) {
            Checkpoint::LockHeld if Instant::now() < give_up => {
                std::thread::sleep(Duration::from_millis(1));
            }
            other => break other,
        }
    };
    let _ = conn.busy_timeout(cfg.busy_timeout);
    matches!(outcome, Checkpoint::Done(_))
}
