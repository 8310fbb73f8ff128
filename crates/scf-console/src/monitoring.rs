//! The endpoints on the store's console queries (`scf_store::ConsoleStore`): per-minute
//! aggregates for the Monitoring page, and the saved test events of the Function page.
//!
//! | endpoint | what it answers |
//! |---|---|
//! | `GET metrics?Namespace=&FunctionName=&Minutes=` | one entry per minute of the last `Minutes` (1–10080, default 60), oldest first, zeros where nothing ran; for one function (with its memory limit) or the whole namespace |
//! | `GET events?Namespace=&FunctionName=` | the function's saved test events |
//! | `POST events` `{"Namespace","FunctionName","Name","Event"}` | saves one (at most five per function) |
//! | `POST events/delete` `{"Namespace","FunctionName","Name"}` | deletes one |

use std::sync::Arc;

use http::{Response, StatusCode};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use scf_http::ResponseBody;
use scf_store::{minute_of, ConsoleStore, MinuteStats, StatsQuery, StoreError, TestEvent};

use crate::respond::{json, json_error};
use crate::Shared;

/// A refused request: its status and why, answered as `{"error": …}`.
struct Fail(StatusCode, String);

impl Fail {
    fn response(self) -> Response<ResponseBody> {
        json_error(self.0, &self.1)
    }
}

/// The response of `r`, or of its failure.
fn answer(r: Result<Response<ResponseBody>, Fail>) -> Response<ResponseBody> {
    r.unwrap_or_else(Fail::response)
}

/// Runs a store call on tokio's blocking pool (the stores are synchronous).
async fn blocking<T: Send + 'static>(
    store: &Arc<dyn ConsoleStore>,
    f: impl FnOnce(&dyn ConsoleStore) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Fail> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || f(store.as_ref())).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e @ (StoreError::InvalidQuery { .. } | StoreError::TestEventsFull { .. }))) => {
            Err(Fail(StatusCode::BAD_REQUEST, e.to_string()))
        }
        Ok(Err(e)) => Err(Fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the store failed: {e}"),
        )),
        Err(e) => Err(Fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the store call failed: {e}"),
        )),
    }
}

fn store(shared: &Shared) -> Result<&Arc<dyn ConsoleStore>, Fail> {
    shared.store.as_ref().ok_or_else(|| {
        Fail(
            StatusCode::NOT_IMPLEMENTED,
            "this console was started without a store for its own queries (monitoring, saved test events)".into(),
        )
    })
}

/// `GET metrics`.
pub(crate) async fn metrics(
    shared: &Shared,
    namespace: String,
    function: Option<String>,
    minutes: Option<String>,
) -> Response<ResponseBody> {
    answer(metrics_of(shared, namespace, function, minutes).await)
}

async fn metrics_of(
    shared: &Shared,
    namespace: String,
    function: Option<String>,
    minutes: Option<String>,
) -> Result<Response<ResponseBody>, Fail> {
    let minutes = match minutes.as_deref().map(str::parse::<i64>) {
        None => 60,
        Some(Ok(m)) if (1..=10_080).contains(&m) => m,
        Some(_) => {
            return Err(Fail(
                StatusCode::BAD_REQUEST,
                "Minutes must be a whole number from 1 to 10080 (7 days)".into(),
            ))
        }
    };
    let store = store(shared)?;
    let end = minute_of(OffsetDateTime::now_utc()) + Duration::minutes(1);
    let start = end - Duration::minutes(minutes);
    let query = StatsQuery {
        namespace: namespace.clone(),
        function_name: function.clone(),
        start,
        end,
    };
    let stats = blocking(store, move |s| {
        query.validate()?;
        s.minute_stats(&query)
    })
    .await?;
    let limit_mb = function.as_ref().and_then(|name| {
        shared
            .invoker
            .functions()
            .into_iter()
            .find(|f| f.config.namespace == namespace && &f.config.name == name)
            .map(|f| f.config.memory_mb)
    });
    Ok(json(
        StatusCode::OK,
        &json!({
            "namespace": namespace,
            "functionName": function,
            "memoryLimitMb": limit_mb,
            "start": start.unix_timestamp(),
            "minutes": fill(start, minutes, &stats),
        }),
    ))
}

/// One entry per minute from `start`, the store's where it has one, zeros elsewhere.
fn fill(start: OffsetDateTime, minutes: i64, stats: &[MinuteStats]) -> Vec<Value> {
    let mut found = stats.iter().peekable();
    (0..minutes)
        .map(|i| {
            let minute = start + Duration::minutes(i);
            while found.peek().is_some_and(|m| m.minute < minute) {
                found.next();
            }
            let m = found.peek().filter(|m| m.minute == minute);
            // A minute with only throttles or running time has no durations or memory.
            let ran = |v: f64| m.filter(|m| m.invocations > 0).map(|_| v);
            match m {
                Some(m) => json!({
                    "t": minute.unix_timestamp(),
                    "invocations": m.invocations,
                    "errors": m.errors,
                    "s432": m.status_432,
                    "s433": m.status_433,
                    "s434": m.status_434,
                    "p50": ran(m.duration_p50_ms),
                    "p95": ran(m.duration_p95_ms),
                    "p99": ran(m.duration_p99_ms),
                    "memMb": ran(m.max_mem_usage_bytes as f64 / 1_048_576.0),
                    "concurrency": m.concurrency(),
                    "throttles": m.throttles,
                }),
                None => json!({
                    "t": minute.unix_timestamp(), "invocations": 0, "errors": 0, "s432": 0,
                    "s433": 0, "s434": 0, "p50": null, "p95": null, "p99": null,
                    "memMb": null, "concurrency": 0, "throttles": 0,
                }),
            }
        })
        .collect()
}

/// `GET events`.
pub(crate) async fn list_events(
    shared: &Shared,
    namespace: String,
    function: String,
) -> Response<ResponseBody> {
    answer(
        async {
            let events = blocking(store(shared)?, move |s| {
                s.list_test_events(&namespace, &function)
            })
            .await?;
            let list: Vec<Value> = events
                .iter()
                .map(|e| json!({"name": e.name, "event": e.event}))
                .collect();
            Ok(json(StatusCode::OK, &json!({ "events": list })))
        }
        .await,
    )
}

fn field(body: &Value, name: &str) -> Result<String, Fail> {
    body.get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            Fail(
                StatusCode::BAD_REQUEST,
                format!("{name} (a string) is required"),
            )
        })
}

/// `POST events` and `POST events/delete`.
pub(crate) async fn change_event(
    shared: &Shared,
    body: &[u8],
    delete: bool,
) -> Response<ResponseBody> {
    answer(change(shared, body, delete).await)
}

async fn change(
    shared: &Shared,
    body: &[u8],
    delete: bool,
) -> Result<Response<ResponseBody>, Fail> {
    let store = store(shared)?;
    let body: Value = serde_json::from_slice(body).map_err(|e| {
        Fail(
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
        )
    })?;
    let namespace = field(&body, "Namespace")?;
    let function = field(&body, "FunctionName")?;
    let name = field(&body, "Name")?;
    if delete {
        let deleted = blocking(store, move |s| {
            s.delete_test_event(&namespace, &function, &name)
        })
        .await?;
        return Ok(json(StatusCode::OK, &json!({ "deleted": deleted })));
    }
    let event = field(&body, "Event")?;
    if let Err(e) = serde_json::from_str::<Value>(&event) {
        return Err(Fail(
            StatusCode::BAD_REQUEST,
            format!("Event is not JSON text: {e}"),
        ));
    }
    let event = TestEvent::new(namespace, function, name, event);
    blocking(store, move |s| {
        event.validate()?;
        s.save_test_event(&event)
    })
    .await?;
    Ok(json(StatusCode::OK, &json!({ "saved": true })))
}

/// Invocations and errors of a function in the last 60 minutes (this one included), from
/// the per-minute aggregates.
pub(crate) async fn last_hour(
    store: &Arc<dyn ConsoleStore>,
    namespace: &str,
    name: &str,
) -> Result<(u64, u64), StoreError> {
    let end = minute_of(OffsetDateTime::now_utc()) + Duration::minutes(1);
    let query = StatsQuery {
        namespace: namespace.to_string(),
        function_name: Some(name.to_string()),
        start: end - Duration::minutes(60),
        end,
    };
    let store = store.clone();
    let stats = tokio::task::spawn_blocking(move || store.minute_stats(&query))
        .await
        .map_err(|e| StoreError::Read {
            what: "per-minute aggregates".into(),
            detail: e.to_string(),
        })??;
    Ok(stats
        .iter()
        .fold((0, 0), |(i, e), m| (i + m.invocations, e + m.errors)))
}
