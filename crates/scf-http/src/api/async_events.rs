//! `GetAsyncEventStatus`, `ListAsyncEvents` and `TerminateAsyncEvent`: the async queue.

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use scf_invoker::AsyncEventError;
use scf_logs::record::format_api_datetime;
use scf_store::{AsyncQuery, AsyncStatus, Order};

use super::params::{parse_datetime, Params};
use super::{object, parse_enum, require_function, store_error, ApiContext};
use crate::error::{ApiError, ErrorCode};

/// `YYYY-MM-DD HH:MM:SS.mmm`, the `AsyncEvent` time format.
fn format_event_time(t: OffsetDateTime) -> String {
    format!(
        "{}.{:03}",
        format_api_datetime(t),
        t.to_offset(time::UtcOffset::UTC).millisecond()
    )
}

pub(super) async fn get_async_event_status(
    ctx: ApiContext<'_>,
    body: &[u8],
) -> Result<Map<String, Value>, ApiError> {
    let p = Params::parse("GetAsyncEventStatus", body, &["InvokeRequestId"])?;
    let id = p.required_string("InvokeRequestId")?;
    let event = ctx
        .invoker
        .get_async_event(&id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| ApiError::async_event_not_found(&id))?;
    Ok(object(json!({
        "Result": {
            "Status": event.status.as_str(),
            "StatusCode": event.status_code,
            "InvokeRequestId": event.invoke_request_id,
        }
    })))
}

fn time_interval(p: &Params, name: &str) -> Result<Option<scf_store::TimeInterval>, ApiError> {
    let Some(obj) = p.object(name)? else {
        return Ok(None);
    };
    if let Some(unknown) = obj.keys().find(|k| *k != "Start" && *k != "End") {
        return Err(ApiError::unknown_parameter(
            "ListAsyncEvents",
            &format!("{name}.{unknown}"),
        ));
    }
    let field = |key: &str| -> Result<OffsetDateTime, ApiError> {
        let full = format!("{name}.{key}");
        match obj.get(key) {
            Some(Value::String(s)) => parse_datetime(&full, s),
            None | Some(Value::Null) => Err(ApiError::missing_parameter(&full)),
            Some(_) => Err(ApiError::wrong_type(&full, "a string")),
        }
    };
    Ok(Some(scf_store::TimeInterval {
        start: field("Start")?,
        end: field("End")?,
    }))
}

pub(super) async fn list_async_events(
    ctx: ApiContext<'_>,
    body: &[u8],
) -> Result<Map<String, Value>, ApiError> {
    let p = Params::parse(
        "ListAsyncEvents",
        body,
        &[
            "FunctionName",
            "Namespace",
            "Qualifier",
            "InvokeType",
            "Status",
            "StartTimeInterval",
            "EndTimeInterval",
            "Order",
            "Orderby",
            "Offset",
            "Limit",
            "InvokeRequestId",
        ],
    )?;
    let name = p.required_string("FunctionName")?;
    let namespace = p.string_or("Namespace", "default")?;
    let mut query = AsyncQuery::default();
    query.function_name = Some(name.clone());
    query.namespace = Some(namespace.clone());
    query.qualifier = p.string("Qualifier")?.filter(|s| !s.is_empty());
    query.invoke_types = p.string_list("InvokeType")?;
    query.statuses = p
        .string_list("Status")?
        .into_iter()
        .map(|s| {
            s.parse::<AsyncStatus>().map_err(|e| {
                ApiError::invalid_value("Status", &s, &format!("expected one of {}", e.expected))
            })
        })
        .collect::<Result<_, _>>()?;
    query.start_time_interval = time_interval(&p, "StartTimeInterval")?;
    query.end_time_interval = time_interval(&p, "EndTimeInterval")?;
    query.order = parse_enum::<Order>("Order", p.string("Order")?)?.unwrap_or_default();
    query.order_by = parse_enum("Orderby", p.string("Orderby")?)?.unwrap_or_default();
    query.offset = p.u32("Offset")?.unwrap_or(0);
    query.limit = p.u32("Limit")?.unwrap_or(query.limit);
    query.invoke_request_id = p.string("InvokeRequestId")?.filter(|s| !s.is_empty());
    if query.limit > scf_store::MAX_ASYNC_LIMIT {
        return Err(ApiError::invalid_value(
            "Limit",
            &query.limit.to_string(),
            &format!("it must be at most {}", scf_store::MAX_ASYNC_LIMIT),
        ));
    }
    require_function(ctx.invoker, &namespace, &name)?;
    let (total, events) = ctx.invoker.list_async(query).await.map_err(store_error)?;
    let list: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "InvokeRequestId": e.invoke_request_id,
                "InvokeType": e.invoke_type,
                "Qualifier": e.qualifier,
                "Status": e.status.as_str(),
                "StartTime": format_event_time(e.start_time),
                "EndTime": e.end_time.map(format_event_time).unwrap_or_default(),
            })
        })
        .collect();
    Ok(object(json!({ "TotalCount": total, "EventList": list })))
}

pub(super) async fn terminate_async_event(
    ctx: ApiContext<'_>,
    body: &[u8],
) -> Result<Map<String, Value>, ApiError> {
    let p = Params::parse(
        "TerminateAsyncEvent",
        body,
        &[
            "FunctionName",
            "InvokeRequestId",
            "Namespace",
            "GraceShutdown",
        ],
    )?;
    let name = p.required_string("FunctionName")?;
    let id = p.required_string("InvokeRequestId")?;
    let namespace = p.string_or("Namespace", "default")?;
    // Both kinds of termination cancel the attempt's context; a cooperative handler sees it.
    let _grace = p.bool("GraceShutdown")?.unwrap_or(false);
    require_function(ctx.invoker, &namespace, &name)?;
    match ctx.invoker.terminate(&id, &namespace, &name).await {
        Ok(()) => Ok(Map::new()),
        Err(AsyncEventError::NotFound { .. }) => Err(ApiError::async_event_not_found(&id)),
        Err(AsyncEventError::AlreadyEnded { status, .. }) => Err(ApiError::new(
            ErrorCode::AsyncEventStatus,
            format!("The async event {id} has already ended with status {status}; only a RUNNING event can be terminated."),
        )),
        Err(other) => Err(ApiError::internal(other.to_string())),
    }
}
