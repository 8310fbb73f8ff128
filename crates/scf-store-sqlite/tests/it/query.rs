//! `GetFunctionLogs` queries, run against both stores.

use crate::common;

use common::{rec, t};
use scf_logs::LogRecord;
use scf_store::{LogQuery, LogStore, MemoryStore, Order, OrderBy, RetCodeFilter, StoreError};

/// Eight records over three functions, two namespaces and two qualifiers.
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
        store.put(r).unwrap();
    }
    store.flush().unwrap();
}

fn ids(store: &dyn LogStore, q: LogQuery) -> Vec<String> {
    let page = store.query(&q).unwrap();
    page.records.into_iter().map(|r| r.request_id).collect()
}

fn q() -> LogQuery {
    LogQuery {
        limit: 100,
        ..LogQuery::default()
    }
}

fn filters_by_function_name_newest_first_by_default(s: &dyn LogStore) {
    seed(s);
    let page = s
        .query(&LogQuery {
            function_name: Some("a".into()),
            ..q()
        })
        .unwrap();
    assert_eq!(page.total_count, 4);
    let got: Vec<_> = page.records.iter().map(|r| r.request_id.as_str()).collect();
    assert_eq!(got, ["r4", "r3", "r2", "r1"]);
}

fn filters_by_namespace(s: &dyn LogStore) {
    seed(s);
    let got = ids(
        s,
        LogQuery {
            namespace: Some("prod".into()),
            ..q()
        },
    );
    assert_eq!(got, ["r4"]);
}

fn filters_by_qualifier(s: &dyn LogStore) {
    seed(s);
    let got = ids(
        s,
        LogQuery {
            qualifier: Some("1".into()),
            ..q()
        },
    );
    assert_eq!(got, ["r3"]);
}

fn filters_by_request_id(s: &dyn LogStore) {
    seed(s);
    let got = ids(
        s,
        LogQuery {
            request_id: Some("r6".into()),
            ..q()
        },
    );
    assert_eq!(got, ["r6"]);
}

fn time_range_includes_both_ends(s: &dyn LogStore) {
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
    assert_eq!(got, ["r2", "r3", "r4"]);
}

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

fn retcode_not0_keeps_every_nonzero_retcode(s: &dyn LogStore) {
    seed(s);
    assert_eq!(
        retcode(s, RetCodeFilter::Not0),
        ["r2", "r3", "r4", "r5", "r6", "r7"]
    );
}

fn retcode_is0_keeps_successes(s: &dyn LogStore) {
    seed(s);
    assert_eq!(retcode(s, RetCodeFilter::Is0), ["r1", "r8"]);
}

fn retcode_time_limit_exceeded_is_status_433(s: &dyn LogStore) {
    seed(s);
    assert_eq!(retcode(s, RetCodeFilter::TimeLimitExceeded), ["r3"]);
}

fn retcode_resource_limit_exceeded_is_status_432_or_434(s: &dyn LogStore) {
    seed(s);
    assert_eq!(
        retcode(s, RetCodeFilter::ResourceLimitExceeded),
        ["r4", "r5"]
    );
}

fn retcode_user_code_exception_is_status_430_or_443(s: &dyn LogStore) {
    seed(s);
    assert_eq!(retcode(s, RetCodeFilter::UserCodeException), ["r2", "r6"]);
}

fn order_asc_and_desc_by_start_time(s: &dyn LogStore) {
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
    assert_eq!(asc, ["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"]);
    desc.reverse();
    assert_eq!(asc, desc);
}

fn order_by_duration(s: &dyn LogStore) {
    seed(s);
    let got = ids(
        s,
        LogQuery {
            order_by: OrderBy::Duration,
            order: Order::Asc,
            ..q()
        },
    );
    assert_eq!(got, ["r7", "r8", "r4", "r1", "r5", "r6", "r2", "r3"]);
}

fn order_by_mem_usage(s: &dyn LogStore) {
    seed(s);
    let got = ids(
        s,
        LogQuery {
            order_by: OrderBy::MemUsage,
            order: Order::Desc,
            ..q()
        },
    );
    assert_eq!(got, ["r4", "r2", "r3", "r1", "r6", "r5", "r8", "r7"]);
}

fn order_by_function_name(s: &dyn LogStore) {
    seed(s);
    let page = s
        .query(&LogQuery {
            order_by: OrderBy::FunctionName,
            order: Order::Desc,
            ..q()
        })
        .unwrap();
    let names: Vec<_> = page
        .records
        .iter()
        .map(|r| r.function_name.as_str())
        .collect();
    assert_eq!(names, ["c", "b", "b", "b", "a", "a", "a", "a"]);
}

fn offset_and_limit_page_while_total_count_counts_all(s: &dyn LogStore) {
    seed(s);
    let page = s
        .query(&LogQuery {
            order: Order::Asc,
            offset: 2,
            limit: 3,
            ..LogQuery::default()
        })
        .unwrap();
    assert_eq!(page.total_count, 8);
    let got: Vec<_> = page.records.iter().map(|r| r.request_id.as_str()).collect();
    assert_eq!(got, ["r3", "r4", "r5"]);
    let past = s
        .query(&LogQuery {
            offset: 50,
            limit: 10,
            ..LogQuery::default()
        })
        .unwrap();
    assert_eq!(past.total_count, 8);
    assert!(past.records.is_empty());
}

fn default_limit_is_20(s: &dyn LogStore) {
    for i in 0..25 {
        s.put(rec(
            "f",
            "default",
            "$LATEST",
            &format!("id{i}"),
            i,
            0,
            200,
            1.0,
            1,
        ))
        .unwrap();
    }
    s.flush().unwrap();
    let page = s.query(&LogQuery::default()).unwrap();
    assert_eq!(page.total_count, 25);
    assert_eq!(page.records.len(), 20);
}

fn offset_plus_limit_over_10000_is_rejected(s: &dyn LogStore) {
    seed(s);
    let err = s
        .query(&LogQuery {
            offset: 9901,
            limit: 100,
            ..LogQuery::default()
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::InvalidQuery {
                field: "Offset + Limit",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("10001"), "{err}");
    assert!(s
        .query(&LogQuery {
            offset: 9900,
            limit: 100,
            ..LogQuery::default()
        })
        .is_ok());
}

fn running_record_is_replaced_by_the_finished_one(s: &dyn LogStore) {
    let running = LogRecord::new("f", "default", "$LATEST", "req", t(0));
    assert!(running.is_running());
    s.put(running.clone()).unwrap();
    s.flush().unwrap();
    assert_eq!(s.get("req").unwrap(), std::slice::from_ref(&running));
    let finished = rec("f", "default", "$LATEST", "req", 0, 0, 200, 12.5, 4096);
    s.put(finished.clone()).unwrap();
    s.flush().unwrap();
    assert_eq!(s.get("req").unwrap(), std::slice::from_ref(&finished));
    // A late running write does not undo the finished one.
    s.put(running).unwrap();
    s.flush().unwrap();
    assert_eq!(s.get("req").unwrap(), [finished]);
    assert_eq!(s.query(&LogQuery::default()).unwrap().total_count, 1);
}

fn get_returns_every_attempt_by_retry_num(s: &dyn LogStore) {
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
        s.put(r).unwrap();
    }
    s.put(rec("f", "default", "$LATEST", "other", 0, 0, 200, 1.0, 1))
        .unwrap();
    s.flush().unwrap();
    let got: Vec<u32> = s.get("req").unwrap().iter().map(|r| r.retry_num).collect();
    assert_eq!(got, [0, 1, 2]);
    assert!(s.get("missing").unwrap().is_empty());
}

fn every_field_round_trips(s: &dyn LogStore) {
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
    s.put(r.clone()).unwrap();
    s.flush().unwrap();
    assert_eq!(s.get("req-ü").unwrap(), [r]);
}

crate::for_each_store!(
    filters_by_function_name_newest_first_by_default,
    filters_by_namespace,
    filters_by_qualifier,
    filters_by_request_id,
    time_range_includes_both_ends,
    retcode_not0_keeps_every_nonzero_retcode,
    retcode_is0_keeps_successes,
    retcode_time_limit_exceeded_is_status_433,
    retcode_resource_limit_exceeded_is_status_432_or_434,
    retcode_user_code_exception_is_status_430_or_443,
    order_asc_and_desc_by_start_time,
    order_by_duration,
    order_by_mem_usage,
    order_by_function_name,
    offset_and_limit_page_while_total_count_counts_all,
    default_limit_is_20,
    offset_plus_limit_over_10000_is_rejected,
    running_record_is_replaced_by_the_finished_one,
    get_returns_every_attempt_by_retry_num,
    every_field_round_trips,
);

#[test]
fn retcode_filter_parses_the_api_strings() {
    for (s, f) in [
        ("not0", RetCodeFilter::Not0),
        ("is0", RetCodeFilter::Is0),
        ("TimeLimitExceeded", RetCodeFilter::TimeLimitExceeded),
        (
            "ResourceLimitExceeded",
            RetCodeFilter::ResourceLimitExceeded,
        ),
        ("UserCodeException", RetCodeFilter::UserCodeException),
    ] {
        assert_eq!(s.parse::<RetCodeFilter>().unwrap(), f);
        assert_eq!(f.to_string(), s);
    }
}

#[test]
fn retcode_filter_error_names_the_bad_value_and_the_choices() {
    let err = "NotAvailable".parse::<RetCodeFilter>().unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("`NotAvailable`") && msg.contains("Filter.RetCode"),
        "{msg}"
    );
    assert!(msg.contains("not0, is0"), "{msg}");
}

#[test]
fn order_and_order_by_parse_the_api_strings() {
    assert_eq!("asc".parse::<Order>().unwrap(), Order::Asc);
    assert_eq!("DESC".parse::<Order>().unwrap(), Order::Desc);
    assert!("acs"
        .parse::<Order>()
        .unwrap_err()
        .to_string()
        .contains("`acs`"));
    for (s, o) in [
        ("function_name", OrderBy::FunctionName),
        ("duration", OrderBy::Duration),
        ("mem_usage", OrderBy::MemUsage),
        ("start_time", OrderBy::StartTime),
        ("startTime", OrderBy::StartTime),
    ] {
        assert_eq!(s.parse::<OrderBy>().unwrap(), o);
    }
    assert!("requestId"
        .parse::<OrderBy>()
        .unwrap_err()
        .to_string()
        .contains("OrderBy"));
}

#[test]
fn start_time_after_end_time_is_rejected() {
    let q = LogQuery {
        start_time: Some(t(10)),
        end_time: Some(t(0)),
        ..LogQuery::default()
    };
    assert!(matches!(
        q.validate(),
        Err(StoreError::InvalidQuery {
            field: "StartTime",
            ..
        })
    ));
}

#[test]
fn memory_store_evicts_the_oldest_record_when_full() {
    let s = MemoryStore::new(3);
    for i in 0..5 {
        s.put(rec(
            "f",
            "default",
            "$LATEST",
            &format!("r{i}"),
            i,
            0,
            200,
            1.0,
            1,
        ))
        .unwrap();
    }
    assert_eq!(s.len(), 3);
    let got = ids(
        &s,
        LogQuery {
            order: Order::Asc,
            ..q()
        },
    );
    assert_eq!(got, ["r2", "r3", "r4"]);
}
