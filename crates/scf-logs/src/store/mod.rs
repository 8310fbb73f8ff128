//! Storage for log records and the async event queue.
//!
//! [`LogStore`] is the interface the invoker writes to and `GetFunctionLogs` /
//! `ListAsyncEvents` read from. Two implementations: [`MemoryStore`] (bounded,
//! nothing kept across restarts) and [`SqliteStore`] (a SQLite file, batched
//! background writes). Methods are blocking; callers on an async runtime should
//! run queries with `spawn_blocking`.

mod memory;
mod query;
mod sqlite;

pub use memory::{MemoryStore, DEFAULT_ASYNC_CAPACITY, DEFAULT_LOG_CAPACITY};
pub use query::{
    AsyncEvent, AsyncOrderBy, AsyncQuery, AsyncStatus, LogPage, LogQuery, Order, OrderBy,
    RetCodeFilter, TimeInterval, MAX_ASYNC_LIMIT, MAX_OFFSET_PLUS_LIMIT,
};
pub use sqlite::{PurgeReport, SqliteStore, SqliteStoreConfig, SCF_ASYNC_RETENTION};

use time::OffsetDateTime;

use crate::error::StoreError;
use crate::record::LogRecord;

/// Where log records and async events are kept.
pub trait LogStore: Send + Sync + std::fmt::Debug {
    /// Upserts `record` by `(request_id, retry_num)`: a running record is later
    /// replaced by the finished one. A running record never replaces a
    /// finished one (a late write of the running state is ignored).
    ///
    /// May be buffered: the record is visible to reads after the next commit
    /// and durable after [`flush`](Self::flush).
    fn put(&self, record: LogRecord) -> Result<(), StoreError>;

    /// Returns when everything put before is durable (and visible to reads).
    /// Reports a background write failure that happened since the last call.
    fn flush(&self) -> Result<(), StoreError>;

    /// All attempts of `request_id`, ordered by `retry_num`.
    fn get(&self, request_id: &str) -> Result<Vec<LogRecord>, StoreError>;

    /// A page of records matching `q` (`GetFunctionLogs`), after [`LogQuery::validate`].
    fn query(&self, q: &LogQuery) -> Result<LogPage, StoreError>;

    /// Stores an accepted async event; it is durable when this returns.
    /// An event with the same `invoke_request_id` is replaced.
    fn enqueue_async(&self, ev: &AsyncEvent) -> Result<(), StoreError>;

    /// Updates an async event's status, status code, end time and attempt count.
    /// Errors with [`StoreError::AsyncEventNotFound`] for an unknown id.
    fn update_async(
        &self,
        invoke_request_id: &str,
        status: AsyncStatus,
        status_code: i64,
        end_time: Option<OffsetDateTime>,
        attempts: u32,
    ) -> Result<(), StoreError>;

    /// The async event with this `InvokeRequestId`, if any.
    fn get_async(&self, invoke_request_id: &str) -> Result<Option<AsyncEvent>, StoreError>;

    /// `(TotalCount, EventList)` for `ListAsyncEvents`, after [`AsyncQuery::validate`].
    fn list_async(&self, q: &AsyncQuery) -> Result<(u64, Vec<AsyncEvent>), StoreError>;

    /// Every async event still `RUNNING`, oldest first (to re-run after a restart).
    fn unfinished_async(&self) -> Result<Vec<AsyncEvent>, StoreError>;
}
