//! The schema (version [`SCHEMA_VERSION`]) and its migrations: one step per version, each
//! applied once, in order, in one transaction under an advisory lock, so that nodes
//! opening the store at once migrate it once between them.
//!
//! - Version 1: the log. `logs` is partitioned by day of `start_time` (declarative
//!   partitioning; the partitions are made by the writer, see `partitions`) with a
//!   default partition for start times outside the years 1000-9999; `logs_seq` numbers
//!   records in insertion order (the query's tie-break); one index per filter and order
//!   of `LogQuery`.
//! - Version 2: the async queue (`async_events`) and the timer ticks (`timer_ticks`).
//! - Version 3: node ids (`logs.node`: the node that ran the attempt; `async_events.node`:
//!   the node that accepted the event; empty on rows from before), and deployment-wide
//!   concurrency slots (`concurrency_slots`).
//! - Version 4: packed log text (`logs.log_form`: 1 when `log` holds the text packed by
//!   `scf_store::packing`, its request id and return value stored once; 0, as every row
//!   from before, when it holds the text as it is: rows are not rewritten), and the
//!   console's saved test events (`test_events`).
//! - Version 5: the console's per-minute rollup (`minute_rollup`, see `rollup`), built
//!   from the records already there.
//!
//! `schema_version` holds one row, the version the tables are at. A database at a newer
//! version than this build knows is refused, never touched.

use deadpool_postgres::Object;
use scf_store::StoreError;

use crate::convert::describe;

/// The version this build creates and migrates to.
pub(crate) const SCHEMA_VERSION: i32 = 5;

/// Schema version 1: the log.
///
/// `request_id, retry_num, start_time` is unique: PostgreSQL's unique indexes on a
/// partitioned table must include the partition key, so an attempt is one row as long
/// as its records carry the attempt's start time (the invoker's do: the finished record
/// and the interrupted one are made from the running one).
///
/// The text columns that are keys or sort keys compare as bytes (`COLLATE "C"`), as
/// Rust's `String` does (the memory store's order), whatever the database's locale, and
/// more cheaply.
///
/// The indexes, each on every partition:
/// - `logs_key`: `get`, the `FunctionRequestId` filter, the upsert.
/// - `logs_fn_time`: by function, newest (or oldest) first, with the time range; also the
///   `function_name` order (an incremental sort puts each function's records in insertion
///   order: an index of its own cost appends a tenth of their speed) and the namespace and
///   qualifier filters within a function.
/// - `logs_fn_fail`: the `not0` filter (partial: successes, most records, skip it).
/// - `logs_fn_status`: the status-code filters (`TimeLimitExceeded`, …; partial, the
///   query adds the index's condition so that it applies).
/// - `logs_fn_duration`, `logs_fn_mem`: the `duration` and `mem_usage` orders.
/// - `logs_time`: queries without a function name, by start time.
const V1: &str = r#"
CREATE SEQUENCE logs_seq CACHE 1000;
CREATE TABLE logs (
    seq              bigint  NOT NULL DEFAULT nextval('logs_seq'),
    request_id       text    COLLATE "C" NOT NULL,
    retry_num        bigint  NOT NULL,
    function_name    text    COLLATE "C" NOT NULL,
    namespace        text    COLLATE "C" NOT NULL,
    qualifier        text    COLLATE "C" NOT NULL,
    start_time       bigint  NOT NULL, -- unix microseconds, UTC
    ret_code         bigint  NOT NULL,
    status_code      integer NOT NULL,
    invoke_finished  boolean NOT NULL,
    ret_msg          bytea   NOT NULL, -- UTF-8; bytea keeps NUL, which text refuses
    duration_ms      double precision NOT NULL,
    bill_duration_ms bigint  NOT NULL, -- u64 bits
    mem_usage_bytes  bigint  NOT NULL, -- u64 bits
    log              bytea   NOT NULL, -- UTF-8
    level            text    NOT NULL,
    source           text    NOT NULL,
    invocation_type  text    NOT NULL
) PARTITION BY RANGE (start_time);
ALTER SEQUENCE logs_seq OWNED BY logs.seq;
CREATE TABLE logs_other PARTITION OF logs DEFAULT;
CREATE UNIQUE INDEX logs_key ON logs (request_id, retry_num, start_time);
CREATE INDEX logs_fn_time ON logs (function_name, start_time, seq);
CREATE INDEX logs_fn_fail ON logs (function_name, start_time, seq) WHERE ret_code <> 0;
CREATE INDEX logs_fn_status ON logs (function_name, status_code, start_time, seq)
    WHERE status_code <> 200;
CREATE INDEX logs_fn_duration ON logs (function_name, duration_ms, seq);
CREATE INDEX logs_fn_mem ON logs (function_name, mem_usage_bytes, seq);
CREATE INDEX logs_time ON logs (start_time, seq);
"#;

/// Schema version 2: the async queue.
///
/// `next_attempt_at` is when the event is next due (µs; its start time until a retry is
/// scheduled); a claim sets `lease_worker` and `lease_until`, which stay set while the
/// worker holds the event and after its lease ran out (so that the next claim knows an
/// attempt was interrupted), and are cleared when the attempt ends. `failures` counts
/// failed attempts. `async_due` holds the `RUNNING` events in the claim's order (a claim
/// skips those under a live lease); `async_leased` the held ones by lease end
/// (`next_due`, `pending`); `async_ended` the ended ones by end time (retention).
const V2: &str = r#"
CREATE TABLE async_events (
    id                bigserial PRIMARY KEY,
    invoke_request_id text   COLLATE "C" NOT NULL UNIQUE,
    function_name     text   COLLATE "C" NOT NULL,
    namespace         text   COLLATE "C" NOT NULL,
    qualifier         text   COLLATE "C" NOT NULL,
    invoke_type       text   COLLATE "C" NOT NULL,
    status            text   COLLATE "C" NOT NULL,
    status_code       bigint NOT NULL,
    start_time        bigint NOT NULL, -- unix microseconds, UTC
    end_time          bigint,
    event             text   NOT NULL,
    attempts          bigint NOT NULL,
    next_attempt_at   bigint NOT NULL,
    lease_worker      text,
    lease_until       bigint,
    failures          bigint NOT NULL DEFAULT 0
);
CREATE INDEX async_fn_ns_time ON async_events (function_name, namespace, start_time);
CREATE INDEX async_due ON async_events (next_attempt_at, start_time, id)
    WHERE status = 'RUNNING';
CREATE INDEX async_leased ON async_events (lease_until)
    WHERE status = 'RUNNING' AND lease_until IS NOT NULL;
CREATE INDEX async_ended ON async_events (end_time) WHERE status <> 'RUNNING';
CREATE TABLE timer_ticks (
    trigger text   COLLATE "C" NOT NULL,
    tick    bigint NOT NULL, -- unix microseconds, UTC
    PRIMARY KEY (trigger, tick)
);
CREATE INDEX timer_ticks_time ON timer_ticks (tick);
"#;

/// Schema version 3: node ids, and the slots of deployment-wide concurrency limits (held
/// under leases; `concurrency_slots_fn` counts a function's live ones). Adding a column
/// with a constant default rewrites no table.
const V3: &str = r#"
ALTER TABLE logs ADD COLUMN node text NOT NULL DEFAULT '';
ALTER TABLE async_events ADD COLUMN node text NOT NULL DEFAULT '';
CREATE TABLE concurrency_slots (
    id            bigserial PRIMARY KEY,
    namespace     text   COLLATE "C" NOT NULL,
    function_name text   COLLATE "C" NOT NULL,
    holder        text   NOT NULL,
    lease_until   bigint NOT NULL -- unix microseconds, UTC
);
CREATE INDEX concurrency_slots_fn ON concurrency_slots (namespace, function_name, lease_until);
"#;

/// Schema version 4: packed log text, and saved test events (at most five per function:
/// a save counts them under an advisory lock of the function). Adding a column with a
/// constant default rewrites no table.
const V4: &str = r#"
ALTER TABLE logs ADD COLUMN log_form smallint NOT NULL DEFAULT 0;
CREATE TABLE test_events (
    namespace     text COLLATE "C" NOT NULL,
    function_name text COLLATE "C" NOT NULL,
    name          text COLLATE "C" NOT NULL,
    event         text NOT NULL,
    PRIMARY KEY (namespace, function_name, name)
);
"#;

/// The step to each version, from 1: `MIGRATIONS[v - 1]` takes version `v - 1` to `v`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [V1, V2, V3, V4, crate::rollup::V5];

/// Brings `schema` to version `target` (creating it when missing), or says what failed.
pub(crate) async fn migrate(
    client: &mut Object,
    schema: &str,
    target: i32,
) -> Result<i32, StoreError> {
    let fail = |step: &str, e: &tokio_postgres::Error| {
        StoreError::Schema(format!("schema `{schema}`: {step}: {}", describe(e)))
    };
    let tx = client
        .transaction()
        .await
        .map_err(|e| fail("starting the migration", &e))?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('scf-store-postgres schema ' || $1))",
        &[&schema],
    )
    .await
    .map_err(|e| fail("taking the migration lock", &e))?;
    let exists = tx
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
        .await
        .map_err(|e| fail("looking for the schema", &e))?
        .is_some();
    if !exists {
        tx.batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
            .await
            .map_err(|e| fail("creating the schema", &e))?;
    }
    tx.batch_execute(&format!(
        "SET LOCAL search_path TO \"{schema}\";
         CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL);"
    ))
    .await
    .map_err(|e| fail("creating schema_version", &e))?;
    let found: Option<i32> = tx
        .query_opt("SELECT version FROM schema_version", &[])
        .await
        .map_err(|e| fail("reading schema_version", &e))?
        .map(|r| r.get(0));
    let from = match found {
        Some(v) => v,
        None => {
            tx.execute("INSERT INTO schema_version (version) VALUES (0)", &[])
                .await
                .map_err(|e| fail("writing schema_version", &e))?;
            0
        }
    };
    if from > SCHEMA_VERSION {
        return Err(StoreError::Schema(format!(
            "schema `{schema}` is at version {from}, newer than this build's {SCHEMA_VERSION}: \
             upgrade scf-store-postgres"
        )));
    }
    if from < 0 {
        return Err(StoreError::Schema(format!(
            "schema `{schema}`: schema_version holds {from}, not a version"
        )));
    }
    for v in from + 1..=target.min(SCHEMA_VERSION) {
        let Some(step) = usize::try_from(v - 1).ok().and_then(|i| MIGRATIONS.get(i)) else {
            break;
        };
        tx.batch_execute(step)
            .await
            .map_err(|e| fail(&format!("migrating from version {} to {v}", v - 1), &e))?;
        if v == 5 {
            crate::rollup::build(&tx)
                .await
                .map_err(|e| fail("building the per-minute rollup from the records", &e))?;
        }
        tx.execute("UPDATE schema_version SET version = $1", &[&v])
            .await
            .map_err(|e| fail("writing schema_version", &e))?;
    }
    tx.commit()
        .await
        .map_err(|e| fail("committing the migration", &e))?;
    Ok(target.min(SCHEMA_VERSION).max(from))
}
