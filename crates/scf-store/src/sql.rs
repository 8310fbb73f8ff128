//! SQL text the durable stores share (SQLite and PostgreSQL speak the same here, but for
//! a few functions): the per-minute aggregates of [`ConsoleStore::minute_stats`](crate::ConsoleStore::minute_stats).

/// The SQL dialect a statement is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dialect {
    /// SQLite (3.35 or later: `MATERIALIZED`, window functions).
    Sqlite,
    /// PostgreSQL (12 or later).
    Postgres,
}

/// The per-minute aggregates, in the database, of the records `source` selects: a
/// `SELECT` of the finished records to count, with columns `t` (start time, unix µs),
/// `d` (duration, ms), `rc` (`RetCode`), `sc` (status code) and `mem` (bytes). Rows, oldest
/// minute first: minute (unix µs / 60,000,000), invocations, errors, status 432, 433, 434
/// counts, peak memory, duration p50, p95, p99 (nearest rank, as
/// [`percentile_rank`](crate::percentile_rank)), most running at once at a start (as
/// [`MinuteStats`](crate::MinuteStats) documents).
pub fn minute_stats_sql(dialect: Dialect, source: &str) -> String {
    // A duration as whole µs, truncated, never negative: `duration_micros`.
    let end = match dialect {
        Dialect::Sqlite => "t + max(0, CAST(d * 1000 AS INTEGER))",
        Dialect::Postgres => "t + GREATEST(0, CAST(trunc(d * 1000) AS bigint))",
    };
    let count = |cond: &str| format!("SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)");
    let pct =
        |p: u32| format!("MIN(CASE WHEN ranked.rn = ({p} * agg.n + 99) / 100 THEN ranked.d END)");
    format!(
        "WITH r AS MATERIALIZED ({source}), \
         agg AS (SELECT t / 60000000 AS m, COUNT(*) AS n, {errors} AS errors, {s432} AS s432, \
           {s433} AS s433, {s434} AS s434, MAX(mem) AS mem FROM r GROUP BY t / 60000000), \
         ranked AS (SELECT t / 60000000 AS m, d, \
           ROW_NUMBER() OVER (PARTITION BY t / 60000000 ORDER BY d) AS rn FROM r), \
         pct AS (SELECT ranked.m AS m, {p50} AS p50, {p95} AS p95, {p99} AS p99 \
           FROM ranked JOIN agg ON agg.m = ranked.m GROUP BY ranked.m), \
         edges AS (SELECT t AS at, 1 AS e FROM r UNION ALL SELECT {end} AS at, -1 AS e FROM r), \
         running AS (SELECT at, e, SUM(e) OVER (ORDER BY at, e ROWS UNBOUNDED PRECEDING) AS c \
           FROM edges), \
         conc AS (SELECT at / 60000000 AS m, MAX(c) AS c FROM running WHERE e = 1 \
           GROUP BY at / 60000000) \
         SELECT agg.m, agg.n, agg.errors, agg.s432, agg.s433, agg.s434, agg.mem, \
           pct.p50, pct.p95, pct.p99, conc.c \
         FROM agg JOIN pct ON pct.m = agg.m JOIN conc ON conc.m = agg.m ORDER BY agg.m",
        errors = count("rc <> 0"),
        s432 = count("sc = 432"),
        s433 = count("sc = 433"),
        s434 = count("sc = 434"),
        p50 = pct(50),
        p95 = pct(95),
        p99 = pct(99),
    )
}
