//! Checks of [`LogStore`]'s log records: `put`'s upsert rule, `get`, and every
//! `GetFunctionLogs` ([`LogQuery`]) parameter.

use scf_logs::LogRecord;

use super::{rec, t};
use crate::{LogQuery, LogStore, Order, OrderBy, RetCodeFilter, StoreError};

#[track_caller]
fn put(store: &dyn LogStore, record: LogRecord) {
    let id = record.request_id.clone();
    if let Err(e) = store.put(record) {
        panic!("LogStore::put of `{id}` failed: {e}");
    }
}

#[track_caller]
fn flush(store: &dyn LogStore) {
    if let Err(e) = store.flush() {
        panic!("LogStore::flush failed: {e}");
    }
}

#[track_caller]
fn query(store: &dyn LogStore, q: &LogQuery) -> crate::LogPage {
    store
        .query(q)
        .unwrap_or_else(|e| panic!("LogStore::query failed: {e} (query {q:?})"))
}

#[track_caller]
fn get(store: &dyn LogStore, request_id: &str) -> Vec<LogRecord> {
    store
        .get(request_id)
        .unwrap_or_else(|e| panic!("LogStore::get(`{request_id}`) failed: {e}"))
}

/// Eight records over three functions, two namespaces and two qualifiers.
#[track_caller]
fn seed(store: &dyn LogStore) {
    let records = [
        rec("a", "default", "$LATEST", "r1", 0, 0, 200, 10.0, 100),
        rec("a", "default", "$LATEST", "r2", 10, 1, 430, 50.0, 300),
        rec("a", "default", "1", "r3", 20, 1, 433, 3000.0, 200),
        rec("a", "prod", "$LATEST", "r4", 30, 1, 432, 5.0, 900),
        rec("b", "default", "$LATEST", "r5", 40, 1, 434, 20.0, 50),
        rec("b", "default", "$LATEST", "r6", 50, 1, 443, 30.0, 60),
        rec("b", "default", "$LATEST", "r7", 60, 2, 0, 0.0, 0),
        rec("c", "default", "$LATEST", "r8", 70, 0, 200, 1.0, 10),
    ];
    for r in records {
        put(store, r);
    }
    flush(store);
}

#[track_caller]
fn ids(store: &dyn LogStore, q: LogQuery) -> Vec<String> {
    let page = query(store, &q);
    page.records.into_iter().map(|r| r.request_id).collect()
}

fn q() -> LogQuery {
    LogQuery {
        limit: 100,
        ..LogQuery::default()
    }
}

/// `FunctionName` keeps that function's records, newest first by default.
pub fn filters_by_function_name_newest_first_by_default(s: &dyn LogStore) {
    seed(s);
    let page = query(
        s,
        &LogQuery {
            function_name: Some("a".into()),
            ..q()
        },
    );
    assert_eq!(page.total_count, 4, "TotalCount of FunctionName a");
    let got: Vec<_> = page.records.iter().map(|r| r.request_id.as_str()).collect();
    assert_eq!(
        got,
        ["r4", "r3", "r2", "r1"],
        "FunctionName a, default order"
    );
}

/// `Namespace` keeps that namespace's records.
pub fn filters_by_namespace(s: &dyn LogStore) {
    seed(s);
    let got = ids(
        s,
        LogQuery {
            namespace: Some("prod".into()),
            ..q()
        },
    );
    assert_eq!(got, ["r4"], "Namespace prod");
}

/// `Qualifier` keeps that qualifier's records.
pub fn filters_by_qualifier(s: &dyn LogStore) {
    seed(s);
    let got = ids(
        s,
        LogQuery {
            qualifier: Some("1".into()),
            ..q()
        },
    );
    assert_eq!(got, ["r3"], "Qualifier 1");
}

/// `FunctionRequestId` keeps that request's records.
pub fn filters_by_request_id(s: &dyn LogStore) {
    seed(s);
    let got = ids(
        s,
        LogQuery {
            request_id: Some("r6".into()),
            ..q()
        },
    );
    assert_eq!(got, ["r6"], "FunctionRequestId r6");
}

/// `StartTime` and `EndTime` are both inclusive.
pub fn time_range_includes_both_ends(s: &dyn LogStore) {
    seed(s);
    let got = ids(
        s,
        LogQuery {
            start_time: Some(t(10)),
            end_time: Some(t(30)),
            order: Order::Asc,
            ..q()
        },
    );
    assert_eq!(got, ["r2", "r3", "r4"], "StartTime t(10) to EndTime t(30)");
}

#[track_caller]
fn retcode(s: &dyn LogStore, f: RetCodeFilter) -> Vec<String> {
    ids(
        s,
        LogQuery {
            ret_code: Some(f),
            order: Order::Asc,
            ..q()
        },
    )
}

/// `Filter.RetCode` `not0` keeps every record whose RetCode is not 0 (running ones too).
pub fn retcode_not0_keeps_every_nonzero_retcode(s: &dyn LogStore) {
    seed(s);
    assert_eq!(
        retcode(s, RetCodeFilter::Not0),
        ["r2", "r3", "r4", "r5", "r6", "r7"],
        "Filter.RetCode not0"
    );
}

/// `Filter.RetCode` `is0` keeps the successes.
pub fn retcode_is0_keeps_successes(s: &dyn LogStore) {
    seed(s);
    assert_eq!(
        retcode(s, RetCodeFilter::Is0),
        ["r1", "r8"],
        "Filter.RetCode is0"
    );
}

/// `Filter.RetCode` `TimeLimitExceeded` keeps status code 433.
pub fn retcode_time_limit_exceeded_is_status_433(s: &dyn LogStore) {
    seed(s);
    assert_eq!(
        retcode(s, RetCodeFilter::TimeLimitExceeded),
        ["r3"],
        "Filter.RetCode TimeLimitExceeded"
    );
}

/// `Filter.RetCode` `ResourceLimitExceeded` keeps status codes 432 and 434.
pub fn retcode_resource_limit_exceeded_is_status_432_or_434(s: &dyn LogStore) {
    seed(s);
    assert_eq!(
        retcode(s, RetCodeFilter::ResourceLimitExceeded),
        ["r4", "r5"],
        "Filter.RetCode ResourceLimitExceeded"
    );
}

/// `Filter.RetCode` `UserCodeException` keeps status codes 430 and 443.
pub fn retcode_user_code_exception_is_status_430_or_443(s: &dyn LogStore) {
    seed(s);
    assert_eq!(
        retcode(s, RetCodeFilter::UserCodeException),
        ["r2", "r6"],
        "Filter.RetCode UserCodeException"
    );
}

/// `Order` `asc` and `desc` by `start_time` are each other's reverse.
pub fn order_asc_and_desc_by_start_time(s: &dyn LogStore) {
    seed(s);
    let asc = ids(
        s,
        LogQuery {
            order: Order::Asc,
            ..q()
        },
    );
    let mut desc = ids(
        s,
        LogQuery {
            order: Order::Desc,
            ..q()
        },
    );
    assert_eq!(
        asc,
        ["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"],
        "Order asc by start_time"
    );
    desc.reverse();
    assert_eq!(asc, desc, "Order desc is not the reverse of asc");
}

/// `OrderBy` `duration` sorts by duration.
pub fn order_by_duration(s: &dyn LogStore) {
    seed(s);
    let got = ids(
        s,
        LogQuery {
            order_by: OrderBy::Duration,
            order: Order::Asc,
            ..q()
        },
    );
    assert_eq!(
        got,
        ["r7", "r8", "r4", "r1", "r5", "r6", "r2", "r3"],
        "OrderBy duration asc"
    );
}

/// `OrderBy` `mem_usage` sorts by memory usage.
pub fn order_by_mem_usage(s: &dyn LogStore) {
    seed(s);
    let got = ids(
        s,
        LogQuery {
            order_by: OrderBy::MemUsage,
            order: Order::Desc,
            ..q()
        },
    );
    assert_eq!(
        got,
        ["r4", "r2", "r3", "r1", "r6", "r5", "r8", "r7"],
        "OrderBy mem_usage desc"
    );
}

/// `OrderBy` `function_name` sorts by function name.
pub fn order_by_function_name(s: &dyn LogStore) {
    seed(s);
    let page = query(
        s,
        &LogQuery {
            order_by: OrderBy::FunctionName,
            order: Order::Desc,
            ..q()
        },
    );
    let names: Vec<_> = page
        .records
        .iter()
        .map(|r| r.function_name.as_str())
        .collect();
    assert_eq!(
        names,
        ["c", "b", "b", "b", "a", "a", "a", "a"],
        "OrderBy function_name desc"
    );
}

/// `Offset` and `Limit` cut a page while `TotalCount` counts every match.
pub fn offset_and_limit_page_while_total_count_counts_all(s: &dyn LogStore) {
    seed(s);
    let page = query(
        s,
        &LogQuery {
            order: Order::Asc,
            offset: 2,
            limit: 3,
            ..LogQuery::default()
        },
    );
    assert_eq!(page.total_count, 8, "TotalCount with Offset 2, Limit 3");
    let got: Vec<_> = page.records.iter().map(|r| r.request_id.as_str()).collect();
    assert_eq!(got, ["r3", "r4", "r5"], "the page at Offset 2, Limit 3");
    let past = query(
        s,
        &LogQuery {
            offset: 50,
            limit: 10,
            ..LogQuery::default()
        },
    );
    assert_eq!(past.total_count, 8, "TotalCount with Offset past the end");
    assert!(
        past.records.is_empty(),
        "a page past the end has records: {:?}",
        past.records
    );
}

/// The default `Limit` is 20.
pub fn default_limit_is_20(s: &dyn LogStore) {
    for i in 0..25 {
        put(
            s,
            rec(
                "f",
                "default",
                "$LATEST",
                &format!("id{i}"),
                i,
                0,
                200,
                1.0,
                1,
            ),
        );
    }
    flush(s);
    let page = query(s, &LogQuery::default());
    assert_eq!(page.total_count, 25, "TotalCount of 25 records");
    assert_eq!(page.records.len(), 20, "records of a default page");
}

/// `Offset + Limit` over 10000 is refused with `InvalidQuery`; exactly 10000 is not.
pub fn offset_plus_limit_over_10000_is_rejected(s: &dyn LogStore) {
    seed(s);
    let result = s.query(&LogQuery {
        offset: 9901,
        limit: 100,
        ..LogQuery::default()
    });
    let Err(err) = result else {
        panic!("Offset 9901 + Limit 100 was accepted");
    };
    assert!(
        matches!(
            err,
            StoreError::InvalidQuery {
                field: "Offset + Limit",
                ..
            }
        ),
        "Offset 9901 + Limit 100: {err}"
    );
    assert!(err.to_string().contains("10001"), "{err}");
    let at_most = s.query(&LogQuery {
        offset: 9900,
        limit: 100,
        ..LogQuery::default()
    });
    assert!(
        at_most.is_ok(),
        "Offset 9900 + Limit 100 was refused: {at_most:?}"
    );
}

/// A running record is replaced by the finished one, never the other way round.
pub fn running_record_is_replaced_by_the_finished_one(s: &dyn LogStore) {
    let running = LogRecord::new("f", "default", "$LATEST", "req", t(0));
    assert!(running.is_running());
    put(s, running.clone());
    flush(s);
    assert_eq!(
        get(s, "req"),
        std::slice::from_ref(&running),
        "the running record"
    );
    let finished = rec("f", "default", "$LATEST", "req", 0, 0, 200, 12.5, 4096);
    put(s, finished.clone());
    flush(s);
    assert_eq!(
        get(s, "req"),
        std::slice::from_ref(&finished),
        "the finished record did not replace the running one"
    );
    // A late running write does not undo the finished one.
    put(s, running);
    flush(s);
    assert_eq!(
        get(s, "req"),
        [finished],
        "a late running record replaced the finished one"
    );
    assert_eq!(
        query(s, &LogQuery::default()).total_count,
        1,
        "TotalCount after upserts of one key"
    );
}

/// `get` returns every attempt of a request, ordered by `retry_num`.
pub fn get_returns_every_attempt_by_retry_num(s: &dyn LogStore) {
    for retry in [2u32, 0, 1] {
        let mut r = rec(
            "f",
            "default",
            "$LATEST",
            "req",
            i64::from(retry),
            1,
            430,
            1.0,
            1,
        );
        r.retry_num = retry;
        put(s, r);
    }
    put(
        s,
        rec("f", "default", "$LATEST", "other", 0, 0, 200, 1.0, 1),
    );
    flush(s);
    let got: Vec<u32> = get(s, "req").iter().map(|r| r.retry_num).collect();
    assert_eq!(got, [0, 1, 2], "retry numbers of `req`");
    assert!(get(s, "missing").is_empty(), "get of an unknown request id");
}

/// Every field of a record (non-ASCII text, large numbers, microseconds) reads back equal.
pub fn every_field_round_trips(s: &dyn LogStore) {
    let mut r = rec(
        "函数",
        "ns",
        "v2",
        "req-ü",
        5,
        3,
        439,
        0.532,
        u64::from(u32::MAX) + 7,
    );
    r.invoke_finished = false;
    r.log = "line 1\n日志 line 2\n".into();
    r.level = "ERROR".into();
    r.source = "Platform".into();
    r.retry_num = 4;
    r.invocation_type = scf_logs::InvocationType::Event;
    r.start_time = t(5) + time::Duration::microseconds(123_456);
    r.node = "node-ü-1".into();
    put(s, r.clone());
    flush(s);
    assert_eq!(get(s, "req-ü"), [r], "the record read back");
}

/// The node that ran an attempt is kept with its record, through the running record's
/// replacement by the finished one (which a different node may write, when the lease of
/// the first ran out), and in `GetFunctionLogs` pages as in `get`.
pub fn node_id_round_trips_and_follows_the_replacing_record(s: &dyn LogStore) {
    let mut running = rec("a", "default", "$LATEST", "r1", 1, 2, 0, 0.0, 0);
    running.node = "host-a-100".into();
    put(s, running);
    let mut unknown = rec("a", "default", "$LATEST", "r2", 2, 0, 200, 1.0, 0);
    unknown.node = String::new();
    put(s, unknown);
    flush(s);
    assert_eq!(
        get(s, "r1")[0].node,
        "host-a-100",
        "the running record's node"
    );
    let mut finished = rec("a", "default", "$LATEST", "r1", 1, 0, 200, 1.0, 0);
    finished.node = "host-b-200".into();
    put(s, finished);
    flush(s);
    assert_eq!(
        get(s, "r1")[0].node,
        "host-b-200",
        "the finished record's node"
    );
    let page = query(
        s,
        &LogQuery {
            function_name: Some("a".into()),
            order: Order::Asc,
            ..LogQuery::default()
        },
    );
    let nodes: Vec<&str> = page.records.iter().map(|r| r.node.as_str()).collect();
    assert_eq!(nodes, ["host-b-200", ""], "nodes in a GetFunctionLogs page");
}

/// `keyword` keeps the records whose log text holds it (case-sensitive), with the other
/// filters; `TotalCount` counts only those.
pub fn keyword_keeps_records_whose_log_holds_it(s: &dyn LogStore) {
    let mut records = Vec::new();
    for (i, text) in ["disk full", "all good", "Disk FULL", "disk fullness"]
        .iter()
        .enumerate()
    {
        let id = format!("k{i}");
        let mut r = rec("a", "default", "$LATEST", &id, i as i64, 0, 200, 1.0, 1);
        r.log = format!("START RequestId:{id}\n{text}\nEND RequestId:{id}\n");
        records.push(r);
    }
    let mut other = rec("b", "default", "$LATEST", "k9", 9, 0, 200, 1.0, 1);
    other.log = "disk full".into();
    records.push(other);
    for r in records {
        put(s, r);
    }
    flush(s);
    let found = |keyword: &str, function: Option<&str>| {
        let page = query(
            s,
            &LogQuery {
                keyword: Some(keyword.into()),
                function_name: function.map(str::to_owned),
                order: Order::Asc,
                ..q()
            },
        );
        let ids: Vec<String> = page.records.into_iter().map(|r| r.request_id).collect();
        assert_eq!(
            page.total_count,
            ids.len() as u64,
            "TotalCount of keyword {keyword:?}"
        );
        ids
    };
    assert_eq!(found("disk full", Some("a")), ["k0", "k3"]);
    assert_eq!(found("disk full", None), ["k0", "k3", "k9"]);
    assert_eq!(found("FULL", Some("a")), ["k2"], "case-sensitive");
    assert_eq!(
        found("RequestId:k1", Some("a")),
        ["k1"],
        "the framing lines are log text too"
    );
    assert!(found("nowhere", None).is_empty());
}

/// A keyword search is bounded: newest first it stops once it found a page and one more
/// match, or after reading `keyword_scan` records, and says its total is then a lower
/// bound; a search that read everything is exact.
pub fn a_keyword_search_stops_early_and_says_its_total_is_a_lower_bound(s: &dyn LogStore) {
    for i in 0..40i64 {
        let id = format!("n{i:02}");
        let mut r = rec("a", "default", "$LATEST", &id, i, 0, 200, 1.0, 1);
        // Every other record holds the keyword.
        r.log = if i % 2 == 0 {
            format!("needle {id}\n")
        } else {
            "hay\n".into()
        };
        put(s, r);
    }
    flush(s);
    let search = |limit: u32, offset: u32, scan: u32| {
        let page = query(
            s,
            &LogQuery {
                function_name: Some("a".into()),
                keyword: Some("needle".into()),
                limit,
                offset,
                keyword_scan: scan,
                ..q()
            },
        );
        let ids: Vec<String> = page.records.into_iter().map(|r| r.request_id).collect();
        (page.total_count, page.total_is_lower_bound, ids)
    };
    assert_eq!(
        search(3, 0, 1000),
        (4, true, vec!["n38".into(), "n36".into(), "n34".into()]),
        "newest first, stopped after a page and one more"
    );
    let (total, lower, ids) = search(3, 3, 1000);
    assert_eq!(
        (total, lower, ids.len()),
        (7, true, 3),
        "the next page: {ids:?}"
    );
    assert_eq!(ids[0], "n32");
    assert_eq!(search(100, 0, 1000).0, 20, "read to the end: exact");
    assert!(!search(100, 0, 1000).1, "read to the end: exact");
    let (total, lower, ids) = search(100, 0, 10);
    assert_eq!(
        (total, lower, ids.len()),
        (5, true, 5),
        "only the newest 10 records were read"
    );
    assert!(
        !search(100, 0, 40).1,
        "a scan limit of exactly every record"
    );
}

/// An empty keyword, or one over 128 bytes, is refused naming `Keyword`.
pub fn keyword_empty_or_over_128_bytes_is_rejected(s: &dyn LogStore) {
    for k in [String::new(), "x".repeat(129)] {
        match s.query(&LogQuery {
            keyword: Some(k.clone()),
            ..q()
        }) {
            Err(StoreError::InvalidQuery { field, .. }) => assert_eq!(field, "Keyword"),
            other => panic!(
                "keyword of {} bytes: expected InvalidQuery, got {other:?}",
                k.len()
            ),
        }
    }
    assert!(s
        .query(&LogQuery {
            keyword: Some("x".repeat(128)),
            ..q()
        })
        .is_ok());
}
