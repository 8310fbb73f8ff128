//! The JSON endpoints under `/console/api/`.
//!
//! | endpoint | what it answers |
//! |---|---|
//! | `GET session` | the CSRF token, and who signed in |
//! | `GET functions` | every function: configuration, triggers, concurrency, running invocations, warm and busy instances (`null` for a function run in process), invocations and errors in the last hour (`?Counts=false`: without those two) |
//! | `GET templates` | the event templates (Hello World and those of `scf generate-event`) |
//! | `GET request?RequestId=` | every attempt of one request, with its full log |
//! | `GET metrics`, `GET events`, `POST events`, `POST events/delete` | the store's console queries (module `monitoring`) |
//! | `POST action/{Action}` | a cloud API action (`Invoke`, `GetFunctionLogs`, `ListAsyncEvents`, `TerminateAsyncEvent`, `GetFunction`, …) with its JSON parameters, answered as the API answers it |

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use serde_json::{json, Value};
use time::OffsetDateTime;

use scf_http::ResponseBody;
use scf_store::{LogQuery, RetCodeFilter};

use crate::access::Grant;
use crate::monitoring;
use crate::respond::{form, json, json_error};
use crate::Shared;

/// The cloud API actions the console may run.
const ACTIONS: &[&str] = &[
    "Invoke",
    "GetFunctionLogs",
    "GetRequestStatus",
    "GetAsyncEventStatus",
    "ListAsyncEvents",
    "TerminateAsyncEvent",
    "ListFunctions",
    "GetFunction",
];

pub(crate) async fn answer(
    shared: &Shared,
    grant: &Grant,
    request: Request<Bytes>,
    path: &str,
) -> Response<ResponseBody> {
    let query = form(request.uri().query().unwrap_or("").as_bytes());
    let param = |k: &str| {
        query
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let is_read = request.method() == http::Method::GET || request.method() == http::Method::HEAD;
    match (path, is_read) {
        ("session", true) => json(
            StatusCode::OK,
            &json!({
                "csrf": grant.csrf,
                "secretId": grant.secret_id,
                "signIn": shared.access.needs_sign_in(),
            }),
        ),
        ("functions", true) => functions(shared, param("Counts").as_deref() != Some("false")).await,
        ("templates", true) => json(StatusCode::OK, &templates()),
        ("request", true) => match param("RequestId") {
            Some(id) => request_logs(shared, &id).await,
            None => json_error(StatusCode::BAD_REQUEST, "RequestId is required"),
        },
        ("metrics", true) => {
            let namespace = param("Namespace").unwrap_or_else(|| "default".into());
            monitoring::metrics(shared, namespace, param("FunctionName"), param("Minutes")).await
        }
        ("events", true) => match param("FunctionName") {
            Some(f) => {
                let namespace = param("Namespace").unwrap_or_else(|| "default".into());
                monitoring::list_events(shared, namespace, f).await
            }
            None => json_error(StatusCode::BAD_REQUEST, "FunctionName is required"),
        },
        ("events", false) => monitoring::change_event(shared, request.body(), false).await,
        ("events/delete", false) => monitoring::change_event(shared, request.body(), true).await,
        (p, false) if p.starts_with("action/") => {
            let action = &p["action/".len()..];
            if !ACTIONS.contains(&action) {
                return json_error(
                    StatusCode::NOT_FOUND,
                    &format!(
                        "the console runs the actions {}, not {action:?}",
                        ACTIONS.join(", ")
                    ),
                );
            }
            shared.api.handle_authorized(action, request.body()).await
        }
        _ => json_error(
            StatusCode::NOT_FOUND,
            &format!(
                "the console has no endpoint {} /console/api/{path}",
                request.method()
            ),
        ),
    }
}

/// Hello World, then every service and action of `scf generate-event`.
fn templates() -> Value {
    let mut out = vec![json!({"name": "Hello World", "event": scf_event::samples::hello_world()})];
    let params = scf_event::samples::EventParams::default();
    for (service, actions) in scf_event::samples::CATALOG {
        for action in *actions {
            if let Ok(event) = scf_event::samples::generate(service, action, &params) {
                out.push(json!({"name": format!("{service} {action}"), "event": event}));
            }
        }
    }
    Value::Array(out)
}

/// Every function; with `counts`, its invocations and errors of the last hour too (the
/// other pages take the list without them).
async fn functions(shared: &Shared, counts: bool) -> Response<ResponseBody> {
    let mut seen = std::collections::BTreeMap::new();
    for info in shared.invoker.functions() {
        let key = (info.config.namespace.clone(), info.config.name.clone());
        let entry = seen.entry(key).or_insert_with(|| info.clone());
        if info.config.version == "$LATEST" {
            *entry = info;
        }
    }
    let now = OffsetDateTime::now_utc();
    let hour_ago = now - time::Duration::hours(1);
    let mut out = Vec::new();
    for ((namespace, name), info) in seen {
        let c = &info.config;
        let extras = shared
            .functions
            .iter()
            .find(|f| f.namespace == namespace && f.name == name);
        let count = |filter: Option<RetCodeFilter>| {
            let query = LogQuery {
                function_name: Some(name.clone()),
                namespace: Some(namespace.clone()),
                start_time: Some(hour_ago),
                end_time: Some(now),
                ret_code: filter,
                limit: 1,
                ..LogQuery::default()
            };
            let invoker = shared.invoker.clone();
            async move { invoker.get_logs(query).await.map(|p| p.total_count) }
        };
        let counted = match &shared.store {
            _ if !counts => Ok((0, 0)),
            // From the per-minute aggregates (indexed), when the store has them.
            Some(store) => crate::monitoring::last_hour(store, &namespace, &name).await,
            None => match (count(None).await, count(Some(RetCodeFilter::Not0)).await) {
                (Ok(a), Ok(b)) => Ok((a, b)),
                (Err(e), _) | (_, Err(e)) => Err(e),
            },
        };
        let (invocations, errors) = match counted {
            Ok(_) if !counts => (Value::Null, Value::Null),
            Ok((a, b)) => (json!(a), json!(b)),
            Err(e) => {
                return json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("the log store failed: {e}"),
                )
            }
        };
        let variables: serde_json::Map<String, Value> = c
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        out.push(json!({
            "namespace": namespace,
            "name": name,
            "qualifier": c.version,
            "runtime": c.runtime.clone().unwrap_or_else(|| "CustomRuntime".into()),
            "handler": c.handler,
            "type": extras.map_or("Event", |e| e.function_type.as_str()),
            "memoryMb": c.memory_mb,
            "timeoutS": c.timeout.as_secs(),
            "initTimeoutS": c.init_timeout.as_secs(),
            "environment": variables,
            "triggers": extras.map_or(&[][..], |e| e.triggers.as_slice()),
            "concurrencyLimit": info.concurrency_limit,
            "busy": info.running,
            "warmInstances": info.instances.map(|i| i.warm),
            "busyInstances": info.instances.map(|i| i.busy),
            "invocationsLastHour": invocations,
            "errorsLastHour": errors,
        }));
    }
    json(StatusCode::OK, &json!({ "functions": out }))
}

async fn request_logs(shared: &Shared, id: &str) -> Response<ResponseBody> {
    match shared.invoker.request_logs(id).await {
        Ok(records) if records.is_empty() => json_error(
            StatusCode::NOT_FOUND,
            &format!("no log record has request id {id:?}"),
        ),
        Ok(records) => {
            let attempts: Vec<Value> = records
                .iter()
                .map(|r| {
                    let mut v = r.to_api();
                    if let Value::Object(m) = &mut v {
                        m.insert("StatusCode".into(), json!(r.status_code));
                        m.insert("Namespace".into(), json!(r.namespace));
                        m.insert("Node".into(), json!(r.node));
                    }
                    v
                })
                .collect();
            json(StatusCode::OK, &json!({ "attempts": attempts }))
        }
        Err(e) => json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("the log store failed: {e}"),
        ),
    }
}
