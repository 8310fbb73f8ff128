//! The per-minute rollup the durable stores keep beside the log records, from which
//! [`ConsoleStore::minute_stats`](crate::ConsoleStore::minute_stats) answers without
//! reading the records: one [`RollupRow`] per `(namespace, function, minute)`.
//!
//! A store adds each record to a [`Rollup`] when it is first stored finished (a new
//! finished record, or a running one replaced by its finished one), and merges the
//! batch's rollup into its rows in the transaction that writes the records, so the two
//! never disagree. Durations go into a histogram of fixed log-scale buckets
//! ([`bucket_of`]): exact below 16 µs, then 16 buckets per power of two, so a bucket is
//! at most 1/16 (6.25%) of its lower bound wide; a percentile is read as its bucket's
//! midpoint, clamped to the minute's shortest and longest duration, so it is within
//! 3.2% of the exact nearest-rank value (and exact when every duration of the minute
//! is the same).

use std::collections::BTreeMap;

use scf_handler::FunctionStatus;
use scf_logs::LogRecord;
use time::OffsetDateTime;

use crate::console::{duration_micros, percentile_rank, MinuteStats, StatsQuery};

/// µs per minute.
pub const MINUTE_MICROS: i64 = 60_000_000;

/// The most minutes one execution's running time is spread over (from its start
/// minute): 900 s, the longest timeout, spans at most 16; time past that is not counted.
pub const MAX_SPAN_MINUTES: i64 = 16;

/// The histogram bucket of a duration of `us` µs: `us` itself below 16; above, 16
/// buckets per power of two (the top four bits after the leading one).
pub fn bucket_of(us: u64) -> u16 {
    if us < 16 {
        return us as u16;
    }
    let e = 63 - u64::from(us.leading_zeros()); // 4..=63
    let m = (us >> (e - 4)) - 16; // 0..16
    (16 + (e - 4) * 16 + m) as u16
}

/// The bucket's bounds in µs: `[lower, upper)`.
pub fn bucket_bounds(b: u16) -> (u64, u64) {
    let b = u64::from(b);
    if b < 16 {
        return (b, b + 1);
    }
    let (e4, m) = ((b - 16) / 16, (b - 16) % 16);
    let lower = (16 + m) << e4;
    (lower, lower.saturating_add(1 << e4))
}

/// What one `(namespace, function, minute)` counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollupRow {
    /// Finished records started in the minute.
    pub invocations: u64,
    /// Of those, `RetCode` other than 0.
    pub errors: u64,
    /// Of those, status code 432.
    pub status_432: u64,
    /// Of those, status code 433.
    pub status_433: u64,
    /// Of those, status code 434.
    pub status_434: u64,
    /// Invocations refused with 432 by the concurrency limit in the minute (no record).
    pub throttles: u64,
    /// Peak memory of one record, bytes.
    pub max_mem_usage_bytes: u64,
    /// Running time (µs) of executions within the minute, whichever minute they started in.
    pub busy_micros: u64,
    /// Shortest duration started in the minute, µs (0 without invocations).
    pub min_micros: u64,
    /// Longest duration started in the minute, µs.
    pub max_micros: u64,
    /// Durations per bucket ([`bucket_of`]).
    pub histogram: BTreeMap<u16, u64>,
}

impl RollupRow {
    /// Adds `other`'s counts to this row's.
    pub fn merge(&mut self, other: &RollupRow) {
        if other.invocations > 0 {
            self.min_micros = if self.invocations == 0 {
                other.min_micros
            } else {
                self.min_micros.min(other.min_micros)
            };
            self.max_micros = self.max_micros.max(other.max_micros);
        }
        self.invocations += other.invocations;
        self.errors += other.errors;
        self.status_432 += other.status_432;
        self.status_433 += other.status_433;
        self.status_434 += other.status_434;
        self.throttles += other.throttles;
        self.max_mem_usage_bytes = self.max_mem_usage_bytes.max(other.max_mem_usage_bytes);
        self.busy_micros = self.busy_micros.saturating_add(other.busy_micros);
        for (b, n) in &other.histogram {
            *self.histogram.entry(*b).or_default() += n;
        }
    }

    /// The histogram as stored: per non-empty bucket, its number (2 bytes) and count
    /// (8 bytes), little-endian, by bucket.
    pub fn encode_histogram(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.histogram.len() * 10);
        for (b, n) in &self.histogram {
            out.extend_from_slice(&b.to_le_bytes());
            out.extend_from_slice(&n.to_le_bytes());
        }
        out
    }

    /// Reads a histogram [`encode_histogram`](Self::encode_histogram) wrote; `None` when
    /// `bytes` is not one.
    pub fn decode_histogram(bytes: &[u8]) -> Option<BTreeMap<u16, u64>> {
        if bytes.len() % 10 != 0 {
            return None;
        }
        let mut out = BTreeMap::new();
        for c in bytes.chunks_exact(10) {
            let b = u16::from_le_bytes([c[0], c[1]]);
            let n = u64::from_le_bytes([c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]]);
            out.insert(b, n);
        }
        Some(out)
    }

    /// The `pct`th percentile duration, ms: the midpoint of the bucket holding the
    /// nearest-rank value, clamped to `[min_micros, max_micros]`.
    pub fn percentile_ms(&self, pct: u64) -> f64 {
        let total: u64 = self.histogram.values().sum();
        if total == 0 {
            return 0.0;
        }
        let rank = percentile_rank(total, pct);
        let mut seen = 0;
        for (b, n) in &self.histogram {
            seen += n;
            if seen >= rank {
                let (lo, hi) = bucket_bounds(*b);
                let mid = lo + (hi - lo) / 2;
                let us = mid.clamp(self.min_micros, self.max_micros.max(self.min_micros));
                return us as f64 / 1000.0;
            }
        }
        self.max_micros as f64 / 1000.0
    }
}

/// The key of a [`RollupRow`]: namespace, function, minute (unix µs / 60,000,000).
pub type RollupKey = (String, String, i64);

/// Rollup rows being built: a write batch's, or the reference's over a set of records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rollup {
    /// The rows, by key (the order stores lock and write them in).
    pub rows: BTreeMap<RollupKey, RollupRow>,
}

impl Rollup {
    /// Nothing counted.
    pub fn new() -> Self {
        Rollup::default()
    }

    /// Whether nothing is counted.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn row(&mut self, namespace: &str, function_name: &str, minute: i64) -> &mut RollupRow {
        self.rows
            .entry((namespace.to_owned(), function_name.to_owned(), minute))
            .or_default()
    }

    /// Counts a finished record (running ones are not counted: nothing is known yet).
    pub fn add_record(&mut self, r: &LogRecord) {
        if r.is_running() {
            return;
        }
        let start = micros(r.start_time);
        self.add(
            &r.namespace,
            &r.function_name,
            start,
            r.duration_ms,
            r.ret_code,
            r.status_code,
            r.mem_usage_bytes,
        );
    }

    /// Counts a finished record given by its fields (`start_us`: unix µs).
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        namespace: &str,
        function_name: &str,
        start_us: i64,
        duration_ms: f64,
        ret_code: i64,
        status_code: u16,
        mem_usage_bytes: u64,
    ) {
        let minute = start_us.div_euclid(MINUTE_MICROS);
        let us = u64::try_from(duration_micros(duration_ms)).unwrap_or(u64::MAX);
        let row = self.row(namespace, function_name, minute);
        row.merge(&RollupRow {
            invocations: 1,
            errors: u64::from(ret_code != 0),
            status_432: u64::from(status_code == FunctionStatus::ResourceLimitReached.code()),
            status_433: u64::from(status_code == FunctionStatus::TimeLimitReached.code()),
            status_434: u64::from(status_code == FunctionStatus::MemoryLimitReached.code()),
            max_mem_usage_bytes: mem_usage_bytes,
            min_micros: us,
            max_micros: us,
            histogram: BTreeMap::from([(bucket_of(us), 1)]),
            ..RollupRow::default()
        });
        // Running time, spread over the minutes the execution ran in.
        let end = start_us.saturating_add(i64::try_from(us).unwrap_or(i64::MAX));
        let last =
            (minute + MAX_SPAN_MINUTES - 1).min(end.saturating_sub(1).div_euclid(MINUTE_MICROS));
        for m in minute..=last {
            let lo = start_us.max(m * MINUTE_MICROS);
            let hi = end.min((m + 1) * MINUTE_MICROS);
            if hi > lo {
                let row = self.row(namespace, function_name, m);
                row.busy_micros = row.busy_micros.saturating_add((hi - lo) as u64);
            }
        }
    }

    /// Counts an invocation refused by the concurrency limit at `at` (unix µs).
    pub fn add_throttle(&mut self, namespace: &str, function_name: &str, at_us: i64) {
        self.row(namespace, function_name, at_us.div_euclid(MINUTE_MICROS))
            .throttles += 1;
    }

    /// Adds every row of `other`.
    pub fn merge(&mut self, other: &Rollup) {
        for ((ns, f, m), row) in &other.rows {
            self.row(ns, f, *m).merge(row);
        }
    }
}

/// The first and last minute (unix µs / 60,000,000) `q` covers: every minute that
/// overlaps `[start, end)`.
pub fn minute_range(q: &StatsQuery) -> (i64, i64) {
    let first = micros(q.start).div_euclid(MINUTE_MICROS);
    let last = (micros(q.end) - 1).div_euclid(MINUTE_MICROS);
    (first, last)
}

/// The [`MinuteStats`] of `q` from rollup rows (of its namespace, any functions, any
/// minutes: those outside `q` are left out), the functions' rows of a minute merged;
/// oldest minute first.
pub fn stats_from_rows<'a>(
    q: &StatsQuery,
    rows: impl IntoIterator<Item = (&'a RollupKey, &'a RollupRow)>,
) -> Vec<MinuteStats> {
    let (first, last) = minute_range(q);
    let mut minutes: BTreeMap<i64, RollupRow> = BTreeMap::new();
    for ((ns, f, m), row) in rows {
        if *ns == q.namespace
            && q.function_name.as_deref().is_none_or(|w| w == f)
            && (first..=last).contains(m)
        {
            minutes.entry(*m).or_default().merge(row);
        }
    }
    minutes
        .into_iter()
        .map(|(m, row)| {
            let at = OffsetDateTime::from_unix_timestamp(m.saturating_mul(60))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH);
            let mut s = MinuteStats::new(at);
            s.invocations = row.invocations;
            s.errors = row.errors;
            s.status_432 = row.status_432;
            s.status_433 = row.status_433;
            s.status_434 = row.status_434;
            s.throttles = row.throttles;
            s.max_mem_usage_bytes = row.max_mem_usage_bytes;
            s.duration_p50_ms = row.percentile_ms(50);
            s.duration_p95_ms = row.percentile_ms(95);
            s.duration_p99_ms = row.percentile_ms(99);
            s.busy_micros = row.busy_micros;
            s
        })
        .collect()
}

fn micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_their_values_and_are_at_most_a_sixteenth_wide() {
        for us in (0..5000u64).chain([65_535, 65_536, 100_000, 900_000_000, u64::MAX]) {
            let (lo, hi) = bucket_bounds(bucket_of(us));
            assert!(
                lo <= us && (us < hi || hi == u64::MAX),
                "{us} in [{lo}, {hi})"
            );
            assert!(lo < 16 || (hi - lo) * 16 <= lo, "width of [{lo}, {hi})");
        }
        assert!(bucket_of(1_000) < bucket_of(1_100));
    }

    #[test]
    fn a_histogram_survives_encoding() {
        let mut r = Rollup::new();
        for d in [1.0, 2.5, 2.5, 900_000.0] {
            r.add("ns", "f", 0, d, 0, 200, 1);
        }
        let row = &r.rows[&("ns".to_owned(), "f".to_owned(), 0)];
        let bytes = row.encode_histogram();
        assert_eq!(
            RollupRow::decode_histogram(&bytes).as_ref(),
            Some(&row.histogram)
        );
        assert_eq!(RollupRow::decode_histogram(&bytes[1..]), None);
    }
}
