//! The day partitions of `logs`, and retention: whole partitions are dropped, so that
//! expiring records never rewrites or vacuums the table.
//!
//! A partition holds the records whose `start_time` falls in one UTC day, and is named
//! after it (`logs_20261125`). The writer makes the partition of each day it writes
//! before its first `INSERT` there (under an advisory lock, so nodes do not race) and
//! remembers which exist. Start times outside the years 1000-9999 go to the default
//! partition `logs_other`, which retention leaves alone.

use std::collections::HashSet;
use std::time::Duration;

use scf_store::StoreError;
use time::{Date, OffsetDateTime};

use crate::convert::{describe, to_micros};

const DAY_US: i64 = 86_400_000_000;

/// The day (days since 1970-01-01) of `start_time` µs.
pub(crate) fn day_of(start_us: i64) -> i64 {
    start_us.div_euclid(DAY_US)
}

/// The partition of `day`, if it has one of its own (years 1000-9999).
fn partition(day: i64) -> Option<(String, i64, i64)> {
    let t = OffsetDateTime::from_unix_timestamp(day.checked_mul(86_400)?).ok()?;
    let d = t.date();
    if !(1000..=9999).contains(&d.year()) {
        return None;
    }
    let name = format!(
        "logs_{:04}{:02}{:02}",
        d.year(),
        u8::from(d.month()),
        d.day()
    );
    Some((name, day * DAY_US, (day + 1) * DAY_US))
}

/// The day a partition's name stands for.
fn day_of_name(name: &str) -> Option<i64> {
    let digits = name.strip_prefix("logs_")?;
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = digits[0..4].parse().ok()?;
    let month: u8 = digits[4..6].parse().ok()?;
    let day: u8 = digits[6..8].parse().ok()?;
    let date = Date::from_calendar_date(year, month.try_into().ok()?, day).ok()?;
    Some(
        date.midnight()
            .assume_utc()
            .unix_timestamp()
            .div_euclid(86_400),
    )
}

/// The days that have a partition now.
pub(crate) async fn existing(client: &tokio_postgres::Client) -> Result<HashSet<i64>, StoreError> {
    let rows = client
        .query(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'logs'::regclass",
            &[],
        )
        .await
        .map_err(|e| StoreError::Read {
            what: "the partitions of logs".into(),
            detail: describe(&e),
        })?;
    Ok(rows
        .iter()
        .filter_map(|r| day_of_name(&r.get::<_, String>(0)))
        .collect())
}

/// Makes the partitions of `days` that `known` does not list, and adds them to it.
pub(crate) async fn ensure(
    client: &mut deadpool_postgres::Object,
    schema: &str,
    days: impl IntoIterator<Item = i64>,
    known: &mut HashSet<i64>,
) -> Result<(), tokio_postgres::Error> {
    let mut missing: Vec<(i64, String, i64, i64)> = days
        .into_iter()
        .filter(|d| !known.contains(d))
        .filter_map(|d| partition(d).map(|(n, a, b)| (d, n, a, b)))
        .collect();
    missing.sort();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    let tx = client.transaction().await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('scf-store-postgres partitions ' || $1))",
        &[&schema],
    )
    .await?;
    for (_, name, from, to) in &missing {
        tx.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {name} PARTITION OF logs FOR VALUES FROM ({from}) TO ({to})"
        ))
        .await?;
    }
    tx.commit().await?;
    known.extend(missing.into_iter().map(|(d, ..)| d));
    Ok(())
}

/// Drops the partitions whose every record started longer ago than `retention` at `now`;
/// returns how many it dropped.
pub(crate) async fn drop_expired(
    client: &mut deadpool_postgres::Object,
    schema: &str,
    retention: Duration,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    let cutoff =
        to_micros(now).saturating_sub(i64::try_from(retention.as_micros()).unwrap_or(i64::MAX));
    let fail = |what: &str, e: &tokio_postgres::Error| StoreError::Write {
        what: format!("log retention: {what}"),
        detail: describe(e),
    };
    let days = existing(client).await?;
    let mut expired: Vec<i64> = days
        .into_iter()
        .filter(|d| (d + 1).saturating_mul(DAY_US) <= cutoff)
        .collect();
    expired.sort_unstable();
    let mut dropped = 0u64;
    for day in expired {
        let Some((name, ..)) = partition(day) else {
            continue;
        };
        let tx = client
            .transaction()
            .await
            .map_err(|e| fail("starting", &e))?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('scf-store-postgres partitions ' || $1))",
            &[&schema],
        )
        .await
        .map_err(|e| fail("taking the partition lock", &e))?;
        // Dropping a partition locks `logs` itself for a moment; never wait long for it
        // behind a slow query (the next purge tries again).
        tx.batch_execute("SET LOCAL lock_timeout = '2s'")
            .await
            .map_err(|e| fail("setting lock_timeout", &e))?;
        tx.batch_execute(&format!("DROP TABLE IF EXISTS {name}"))
            .await
            .map_err(|e| fail(&format!("dropping {name}"), &e))?;
        crate::rollup::purge_through_day(&*tx, day)
            .await
            .map_err(|e| fail("forgetting the day's per-minute rollup", &e))?;
        tx.commit()
            .await
            .map_err(|e| fail(&format!("dropping {name}"), &e))?;
        dropped += 1;
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_round_trip_to_their_day() {
        let t = time::macros::datetime!(2026-11-25 13:00 UTC);
        let day = day_of(to_micros(t));
        let (name, from, to) = partition(day).expect("a day of its own");
        assert_eq!(name, "logs_20261125");
        assert!(from <= to_micros(t) && to_micros(t) < to);
        assert_eq!(day_of_name(&name), Some(day));
        assert_eq!(day_of_name("logs_other"), None);
        assert_eq!(partition(day_of(i64::MIN)), None);
    }
}
