//! `GetFunctionLogs` query parameters (parsing, validation) and `MemoryStore`'s eviction;
//! the queries themselves run over every store in the conformance suite
//! (`scf_store::conformance::log`, see `conformance.rs`).

use crate::common;

use common::{numbered, t};
use scf_store::{LogQuery, LogStore, MemoryStore, Order, OrderBy, RetCodeFilter, StoreError};

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
        s.put(numbered(i)).unwrap();
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
