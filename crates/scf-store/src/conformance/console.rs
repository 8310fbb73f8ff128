//! Checks of [`ConsoleStore`]: per-minute aggregates ([`StatsQuery`]) and saved test
//! events ([`TestEvent`]), over a store that is also a [`LogStore`] (the aggregates are
//! of its records).

use scf_logs::LogRecord;
use time::Duration;

use super::{rec, t};
use crate::rollup::Rollup;
use crate::{
    ConsoleStore, LogStore, MinuteStats, StatsQuery, StoreError, TestEvent,
    MAX_TEST_EVENTS_PER_FUNCTION,
};

/// A store the console checks run over: a [`LogStore`] and a [`ConsoleStore`].
pub trait ConsoleLogStore: LogStore + ConsoleStore {}

impl<T: LogStore + ConsoleStore> ConsoleLogStore for T {}

#[track_caller]
fn put_all(s: &dyn ConsoleLogStore, records: impl IntoIterator<Item = LogRecord>) {
    for r in records {
        let id = r.request_id.clone();
        if let Err(e) = s.put(r) {
            panic!("LogStore::put of `{id}` failed: {e}");
        }
    }
    if let Err(e) = s.flush() {
        panic!("LogStore::flush failed: {e}");
    }
}

#[track_caller]
fn stats(s: &dyn ConsoleLogStore, q: &StatsQuery) -> Vec<MinuteStats> {
    s.minute_stats(q)
        .unwrap_or_else(|e| panic!("ConsoleStore::minute_stats failed: {e} (query {q:?})"))
}

/// The query over namespace `default`, `function` (or all), `[t(from), t(to))`.
fn sq(function: Option<&str>, from: i64, to: i64) -> StatsQuery {
    StatsQuery {
        namespace: "default".into(),
        function_name: function.map(str::to_owned),
        start: t(from),
        end: t(to),
    }
}

/// Counts per minute: invocations, errors (any `RetCode` but 0) and the 432/433/434
/// status codes; running records are left out; minutes without records are absent.
pub fn counts_invocations_errors_and_status_codes_per_minute(s: &dyn ConsoleLogStore) {
    put_all(
        s,
        [
            rec("a", "default", "$LATEST", "r1", 0, 0, 200, 10.0, 100),
            rec("a", "default", "$LATEST", "r2", 5, 1, 430, 20.0, 100),
            rec("a", "default", "$LATEST", "r3", 10, 1, 432, 30.0, 100),
            rec("a", "default", "$LATEST", "r4", 15, 1, 433, 40.0, 100),
            rec("a", "default", "$LATEST", "r5", 20, 1, 434, 50.0, 100),
            rec("a", "default", "$LATEST", "r6", 25, 3, 439, 50.0, 100),
            rec("a", "default", "$LATEST", "r7", 30, 2, 0, 0.0, 0),
            rec("a", "default", "$LATEST", "r8", 125, 0, 200, 5.0, 100),
        ],
    );
    let got = stats(s, &sq(Some("a"), 0, 3600));
    assert_eq!(got.len(), 2, "two minutes hold records: {got:?}");
    let m = &got[0];
    assert_eq!(m.minute, t(0), "the first minute");
    assert_eq!(
        m.invocations, 6,
        "six finished records (the running one is left out)"
    );
    assert_eq!(m.errors, 5, "every RetCode but 0 is an error");
    assert_eq!((m.status_432, m.status_433, m.status_434), (1, 1, 1));
    let m = &got[1];
    assert_eq!(
        m.minute,
        t(120),
        "the third minute (the second has no record)"
    );
    assert_eq!((m.invocations, m.errors), (1, 0));
}

/// Duration percentiles are nearest-rank ones (`ceil(p * n / 100)`th smallest), read
/// from the histogram: within 3.2% of the exact value, exact where all are equal.
pub fn duration_percentiles_are_nearest_rank_within_the_bucket_precision(s: &dyn ConsoleLogStore) {
    // 200 records with durations 1..=200 ms, stored in a scrambled order, in one minute.
    let records = (0..200u32).map(|i| {
        let d = f64::from((i * 77) % 200 + 1);
        rec(
            "a",
            "default",
            "$LATEST",
            &format!("p{i}"),
            i64::from(i % 60),
            0,
            200,
            d,
            1,
        )
    });
    put_all(s, records);
    let got = stats(s, &sq(Some("a"), 0, 60));
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(m.invocations, 200);
    for (name, got, exact) in [
        ("p50", m.duration_p50_ms, 100.0),
        ("p95", m.duration_p95_ms, 190.0),
        ("p99", m.duration_p99_ms, 198.0),
    ] {
        assert!(
            (got - exact).abs() <= exact * 0.032,
            "{name} of 1..=200 is {got}, more than 3.2% from {exact}"
        );
    }
    put_all(
        s,
        [rec("b", "default", "$LATEST", "one", 0, 0, 200, 7.5, 1)],
    );
    let one = stats(s, &sq(Some("b"), 0, 60));
    assert_eq!(
        (one[0].duration_p50_ms, one[0].duration_p99_ms),
        (7.5, 7.5),
        "one record is every percentile"
    );
}

/// Peak memory is the largest record's; running time counts in each minute an
/// execution ran in (the mean concurrency is that time over 60 s).
pub fn peak_memory_and_running_time_per_minute(s: &dyn ConsoleLogStore) {
    put_all(
        s,
        [
            rec("a", "default", "$LATEST", "c1", 0, 0, 200, 30_000.0, 300),
            rec("a", "default", "$LATEST", "c2", 1, 0, 200, 30_000.0, 900),
            // Runs from t(50) to t(80): 10 s in the first minute, 20 s in the second.
            rec("a", "default", "$LATEST", "c3", 50, 0, 200, 30_000.0, 200),
            // 90 s from t(170): 10 s in the third minute, 60 s in the fourth, 20 s in
            // the fifth (where nothing starts).
            rec("a", "default", "$LATEST", "c4", 170, 0, 200, 90_000.0, 50),
        ],
    );
    let got = stats(s, &sq(Some("a"), 0, 3600));
    let busy: Vec<(i64, u64)> = got
        .iter()
        .map(|m| ((m.minute - t(0)).whole_seconds(), m.busy_micros / 1_000_000))
        .collect();
    assert_eq!(
        busy,
        vec![(0, 70), (60, 20), (120, 10), (180, 60), (240, 20)],
        "{got:?}"
    );
    assert_eq!(got[0].max_mem_usage_bytes, 900);
    assert_eq!(got[0].concurrency(), 70.0 / 60.0);
    assert_eq!(got[1].invocations, 0, "c3 started in the first minute");
    assert_eq!(got[2].max_mem_usage_bytes, 50);
}

/// A running record replaced by its finished one counts once, as finished.
pub fn a_finished_record_replacing_its_running_one_counts_once(s: &dyn ConsoleLogStore) {
    put_all(s, [rec("a", "default", "$LATEST", "r", 0, 2, 0, 0.0, 0)]);
    assert_eq!(
        stats(s, &sq(Some("a"), 0, 60)),
        vec![],
        "running: not counted"
    );
    put_all(
        s,
        [rec("a", "default", "$LATEST", "r", 0, 1, 433, 3000.0, 10)],
    );
    let got = stats(s, &sq(Some("a"), 0, 60));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].invocations, got[0].errors, got[0].status_433),
        (1, 1, 1)
    );
    put_all(s, [rec("a", "default", "$LATEST", "r", 0, 2, 0, 0.0, 0)]);
    assert_eq!(
        stats(s, &sq(Some("a"), 0, 60))[0].invocations,
        1,
        "a late running write changes nothing"
    );
}

/// Throttles (invocations refused by the concurrency limit) count per function and
/// minute, with no record, and a minute with only throttles is returned.
pub fn throttles_count_per_function_and_minute(s: &dyn ConsoleLogStore) {
    put_all(s, [rec("a", "default", "$LATEST", "x", 0, 0, 200, 1.0, 1)]);
    s.throttled("default", "a", t(5));
    s.throttled("default", "a", t(6));
    s.throttled("default", "a", t(130));
    s.throttled("default", "b", t(7));
    s.throttled("prod", "a", t(8));
    if let Err(e) = s.flush() {
        panic!("LogStore::flush failed: {e}");
    }
    let got = stats(s, &sq(Some("a"), 0, 3600));
    let per_minute: Vec<(i64, u64, u64)> = got
        .iter()
        .map(|m| {
            (
                (m.minute - t(0)).whole_seconds(),
                m.invocations,
                m.throttles,
            )
        })
        .collect();
    assert_eq!(per_minute, vec![(0, 1, 2), (120, 0, 1)], "{got:?}");
    let all = stats(s, &sq(None, 0, 60));
    assert_eq!(all[0].throttles, 3, "a and b of default");
    assert!(
        matches!(s.get("x").map(|v| v.len()), Ok(1)),
        "a throttle writes no log record"
    );
}

/// One function, or the whole namespace; other namespaces never count; the range is
/// `[start, end)`.
pub fn filters_by_function_namespace_and_range(s: &dyn ConsoleLogStore) {
    put_all(
        s,
        [
            rec("a", "default", "$LATEST", "f1", 0, 0, 200, 1.0, 1),
            rec("b", "default", "$LATEST", "f2", 10, 0, 200, 1.0, 1),
            rec("a", "prod", "$LATEST", "f3", 20, 0, 200, 1.0, 1),
            rec("a", "default", "$LATEST", "f4", 60, 0, 200, 1.0, 1),
        ],
    );
    let count = |q: StatsQuery| -> u64 { stats(s, &q).iter().map(|m| m.invocations).sum() };
    assert_eq!(count(sq(Some("a"), 0, 3600)), 2, "function a of default");
    assert_eq!(count(sq(None, 0, 3600)), 3, "all of default");
    assert_eq!(count(sq(Some("a"), 0, 60)), 1, "the end is exclusive");
    assert_eq!(count(sq(Some("a"), 60, 61)), 1, "the start is inclusive");
    assert_eq!(
        count(sq(Some("a"), 30, 61)),
        2,
        "a minute that overlaps the range counts whole"
    );
    assert_eq!(
        count(sq(Some("zz"), 0, 3600)),
        0,
        "an unknown function has none"
    );
    let prod = StatsQuery {
        namespace: "prod".into(),
        ..sq(None, 0, 3600)
    };
    assert_eq!(count(prod), 1, "namespace prod");
}

/// A range over 7 days, or one that ends before it starts, is refused naming the rule.
pub fn a_range_over_7_days_or_reversed_is_rejected(s: &dyn ConsoleLogStore) {
    let week = 7 * 24 * 3600;
    assert!(
        s.minute_stats(&sq(None, 0, week)).is_ok(),
        "7 days exactly is allowed"
    );
    for (q, field) in [
        (sq(None, 0, week + 60), "EndTime - StartTime"),
        (sq(None, 60, 0), "StartTime"),
        (sq(None, 60, 60), "StartTime"),
    ] {
        match s.minute_stats(&q) {
            Err(StoreError::InvalidQuery { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected InvalidQuery({field}) for {q:?}, got {other:?}"),
        }
    }
}

/// On a few thousand varied records over an hour, some put running first, the store's
/// aggregates are exactly [`MinuteStats::compute`]'s over the records.
pub fn aggregates_equal_the_reference_on_varied_records(s: &dyn ConsoleLogStore) {
    let statuses = [
        (0, 200),
        (1, 430),
        (1, 432),
        (1, 433),
        (1, 434),
        (3, 439),
        (2, 0),
    ];
    let mut records = Vec::new();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..3000u64 {
        // xorshift: the same varied records on every run.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let function = ["a", "b", "c"][(x % 3) as usize];
        let (ret, status) = statuses[((x >> 8) % statuses.len() as u64) as usize];
        let mut r = rec(
            function,
            if x % 11 == 0 { "prod" } else { "default" },
            "$LATEST",
            &format!("v{i}"),
            ((x >> 16) % 3600) as i64,
            ret,
            status,
            ((x >> 24) % 200_000) as f64 / 7.0,
            (x >> 40) % 1_000_000,
        );
        r.start_time += Duration::milliseconds(((x >> 32) % 1000) as i64);
        if x % 5 == 0 && !r.is_running() {
            let mut running = r.clone();
            running.ret_code = 2;
            put_all(s, [running]);
        }
        records.push(r);
    }
    put_all(s, records.clone());
    for q in [
        sq(None, 0, 3600),
        sq(Some("b"), 600, 1800),
        sq(Some("c"), 0, 86_400),
    ] {
        let want = MinuteStats::compute(&q, &records, &Rollup::new());
        let got = stats(s, &q);
        assert_eq!(got.len(), want.len(), "minutes of {q:?}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g, w, "minute {} of {q:?}", w.minute);
        }
    }
}

#[track_caller]
fn save(s: &dyn ConsoleLogStore, ev: &TestEvent) {
    if let Err(e) = s.save_test_event(ev) {
        panic!("ConsoleStore::save_test_event({:?}) failed: {e}", ev.name);
    }
}

#[track_caller]
fn list(s: &dyn ConsoleLogStore, ns: &str, f: &str) -> Vec<TestEvent> {
    s.list_test_events(ns, f)
        .unwrap_or_else(|e| panic!("ConsoleStore::list_test_events failed: {e}"))
}

/// Saved events are listed by name, each function's apart, and deleted by name.
pub fn test_events_are_saved_listed_by_name_and_deleted(s: &dyn ConsoleLogStore) {
    let hello = TestEvent::new("default", "a", "hello", r#"{"key1":"value1"}"#);
    let timer = TestEvent::new("default", "a", "Timer", r#"{"Type":"Timer"}"#);
    let other = TestEvent::new("default", "b", "hello", "[1, 2]");
    let prod = TestEvent::new("prod", "a", "hello", "null");
    for ev in [&hello, &timer, &other, &prod] {
        save(s, ev);
    }
    assert_eq!(
        list(s, "default", "a"),
        vec![timer.clone(), hello.clone()],
        "by name"
    );
    assert_eq!(list(s, "default", "b"), vec![other]);
    assert_eq!(list(s, "prod", "a"), vec![prod]);
    assert_eq!(list(s, "default", "zz"), vec![], "none saved");
    let deleted = s.delete_test_event("default", "a", "Timer");
    assert!(
        matches!(deleted, Ok(true)),
        "deleting a saved event: {deleted:?}"
    );
    let again = s.delete_test_event("default", "a", "Timer");
    assert!(matches!(again, Ok(false)), "deleting it again: {again:?}");
    assert_eq!(list(s, "default", "a"), vec![hello]);
}

/// Saving under a name already saved replaces that event.
pub fn saving_under_a_saved_name_replaces_it(s: &dyn ConsoleLogStore) {
    save(s, &TestEvent::new("default", "a", "e", r#"{"v":1}"#));
    let newer = TestEvent::new("default", "a", "e", r#"{"v":2}"#);
    save(s, &newer);
    assert_eq!(list(s, "default", "a"), vec![newer]);
}

/// A function keeps at most five: a sixth name is refused naming the limit, while saving
/// under one of the five names, or after a delete, still works.
pub fn a_sixth_test_event_is_refused(s: &dyn ConsoleLogStore) {
    for i in 0..MAX_TEST_EVENTS_PER_FUNCTION {
        save(s, &TestEvent::new("default", "a", format!("e{i}"), "{}"));
    }
    let sixth = s.save_test_event(&TestEvent::new("default", "a", "e5", "{}"));
    match sixth {
        Err(StoreError::TestEventsFull { max, .. }) => assert_eq!(max, 5),
        other => panic!("a sixth test event should be refused, got {other:?}"),
    }
    assert_eq!(list(s, "default", "a").len(), 5, "the sixth was not kept");
    save(s, &TestEvent::new("default", "a", "e0", "[]"));
    save(s, &TestEvent::new("default", "b", "e5", "{}"));
    assert!(matches!(
        s.delete_test_event("default", "a", "e1"),
        Ok(true)
    ));
    save(s, &TestEvent::new("default", "a", "e5", "{}"));
    assert_eq!(list(s, "default", "a").len(), 5);
}

/// An event that is not JSON, or an empty or overlong name, is refused and not kept.
pub fn an_invalid_test_event_is_refused(s: &dyn ConsoleLogStore) {
    for (ev, field) in [
        (
            TestEvent::new("default", "a", "bad", "{not json"),
            "TestEvent",
        ),
        (TestEvent::new("default", "a", "", "{}"), "TestEventName"),
        (
            TestEvent::new("default", "a", "x".repeat(65), "{}"),
            "TestEventName",
        ),
        (
            TestEvent::new("default", "a", "tab\there", "{}"),
            "TestEventName",
        ),
        (TestEvent::new("default", "", "e", "{}"), "FunctionName"),
    ] {
        match s.save_test_event(&ev) {
            Err(StoreError::InvalidQuery { field: f, .. }) => assert_eq!(f, field, "{ev:?}"),
            other => panic!("expected InvalidQuery({field}) for {ev:?}, got {other:?}"),
        }
    }
    assert_eq!(list(s, "default", "a"), vec![], "nothing was kept");
}
