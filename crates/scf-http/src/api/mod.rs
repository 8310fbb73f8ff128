//! The cloud API actions (`X-TC-Action`), on top of the [`Invoker`].
//!
//! Each action reads its parameters exactly as SCF API 2018-04-16 names them (a name it
//! does not have is `UnknownParameter`, a wrong JSON type `InvalidParameter`, a bad value
//! `InvalidParameterValue`) and answers with the fields the API defines:
//!
//! | action | parameters | output |
//! |---|---|---|
//! | `Invoke` | `FunctionName`, `InvocationType` (`RequestResponse`/`Event`), `Qualifier` (`$LATEST`), `ClientContext` (the event, a JSON string), `LogType` (`None`/`Tail`), `Namespace`, `RoutingKey` | `Result` {`Log`, `RetMsg`, `ErrMsg`, `MemUsage`, `Duration`, `BillDuration`, `FunctionRequestId`, `InvokeResult`} |
//! | `InvokeFunction` | `FunctionName`, `Qualifier` (`$DEFAULT`), `Event`, `LogType`, `Namespace`, `RoutingKey` | `Result` as `Invoke` |
//! | `GetFunctionLogs` | `FunctionName`, `Offset`, `Limit`, `Order`, `OrderBy`, `Filter` {`RetCode`}, `Namespace`, `Qualifier`, `FunctionRequestId`, `StartTime`, `EndTime`, `SearchContext` (ignored) | `TotalCount`, `Data` (array of `FunctionLog`), `SearchContext` |
//! | `GetRequestStatus` | `FunctionName`, `FunctionRequestId`, `Namespace`, `StartTime`, `EndTime` | `TotalCount`, `Data` (array of `RequestStatus`) |
//! | `GetAsyncEventStatus` | `InvokeRequestId` | `Result` {`Status`, `StatusCode`, `InvokeRequestId`} |
//! | `ListAsyncEvents` | `FunctionName`, `Namespace`, `Qualifier`, `InvokeType`, `Status`, `StartTimeInterval`, `EndTimeInterval`, `Order`, `Orderby`, `Offset`, `Limit`, `InvokeRequestId` | `TotalCount`, `EventList` (array of `AsyncEvent`) |
//! | `TerminateAsyncEvent` | `FunctionName`, `InvokeRequestId`, `Namespace`, `GraceShutdown` | (only `RequestId`) |
//! | `ListFunctions` | `Order`, `Orderby`, `Offset`, `Limit`, `SearchKey`, `Namespace`, `Description`, `Filters` (ignored) | `Functions` (array of `Function`), `TotalCount` |
//! | `GetFunction` | `FunctionName`, `Qualifier`, `Namespace`, `ShowCode` (ignored) | the function's configuration |
//!
//! A function's own failure (error, timeout) is a successful `Invoke` whose `Result` says
//! so, as on SCF; refusals before it runs are API errors
//! ([`ApiError::from_invoke_error`]).

mod params;

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use scf_invoker::{AsyncEventError, EventPayload, InvokeRequest, Invoker, LogType};
use scf_logs::record::{format_api_datetime, RET_CODE_RUNNING, RET_CODE_SUCCESS};
use scf_logs::{InvocationType, LogRecord, ParseValueError};
use scf_store::{AsyncQuery, AsyncStatus, LogQuery, Order, OrderBy, RetCodeFilter, StoreError};

use crate::error::{ApiError, ErrorCode};
use crate::metrics::Metrics;
use params::{parse_datetime, Params};

/// The API version SCF answers for (`X-TC-Version`).
pub const API_VERSION: &str = "2018-04-16";

/// The actions this endpoint serves.
pub const ACTIONS: &[&str] = &[
    "Invoke",
    "InvokeFunction",
    "GetFunctionLogs",
    "GetRequestStatus",
    "GetAsyncEventStatus",
    "ListAsyncEvents",
    "TerminateAsyncEvent",
    "ListFunctions",
    "GetFunction",
];

/// What an action needs besides its parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ApiContext<'a> {
    pub(crate) invoker: &'a Invoker,
    pub(crate) metrics: &'a Metrics,
    /// When the server started (`AddTime`/`ModTime` of the functions it serves).
    pub(crate) started: OffsetDateTime,
}

/// Runs `action` with the raw JSON `body`; the output fields (without `RequestId`).
pub(crate) async fn dispatch(
    ctx: ApiContext<'_>,
    action: &str,
    body: &[u8],
) -> Result<Map<String, Value>, ApiError> {
    match action {
        "Invoke" => invoke(ctx, body).await,
        "InvokeFunction" => invoke_function(ctx, body).await,
        "GetFunctionLogs" => get_function_logs(ctx, body).await,
        "GetRequestStatus" => get_request_status(ctx, body).await,
        "GetAsyncEventStatus" => get_async_event_status(ctx, body).await,
        "ListAsyncEvents" => list_async_events(ctx, body).await,
        "TerminateAsyncEvent" => terminate_async_event(ctx, body).await,
        "ListFunctions" => list_functions(ctx, body),
        "GetFunction" => get_function(ctx, body),
        other => Err(ApiError::invalid_action(other)),
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn parse_enum<T: std::str::FromStr<Err = ParseValueError>>(
    name: &str,
    value: Option<String>,
) -> Result<Option<T>, ApiError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<T>().map_err(|e| {
                ApiError::invalid_value(name, &v, &format!("expected one of {}", e.expected))
            })
        })
        .transpose()
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::InvalidQuery { field, detail } if field.contains("Offset") => {
            ApiError::new(ErrorCode::LimitExceededOffset, format!("{field} {detail}."))
        }
        StoreError::InvalidQuery { field, detail } => ApiError::new(
            ErrorCode::InvalidParameterValue,
            format!("{field} {detail}."),
        ),
        other => ApiError::internal(format!("The log store failed: {other}.")),
    }
}

/// Whether a namespace has any function (`default` always exists).
fn namespace_exists(invoker: &Invoker, namespace: &str) -> bool {
    namespace == "default"
        || invoker
            .functions()
            .iter()
            .any(|f| f.config.namespace == namespace)
}

/// `ResourceNotFound.Namespace` / `.Function` unless some version of the function exists.
fn require_function(invoker: &Invoker, namespace: &str, name: &str) -> Result<(), ApiError> {
    let functions = invoker.functions();
    if functions
        .iter()
        .any(|f| f.config.namespace == namespace && f.config.name == name)
    {
        return Ok(());
    }
    if !namespace_exists(invoker, namespace) {
        return Err(ApiError::namespace_not_found(namespace));
    }
    Err(ApiError::function_not_found(name))
}

// ---- Invoke / InvokeFunction ----

struct InvokeParams {
    request: InvokeRequest,
}

async fn run_invoke(ctx: ApiContext<'_>, p: InvokeParams) -> Result<Map<String, Value>, ApiError> {
    let namespace = p.request.namespace.clone();
    let name = p.request.function_name.clone();
    match ctx.invoker.invoke(p.request).await {
        Ok(response) => {
            if response.invocation_type != InvocationType::Event {
                ctx.metrics.record_invocation(
                    &namespace,
                    &name,
                    response.status.code(),
                    Some(response.duration_ms),
                );
            }
            Ok(object(json!({ "Result": response.to_api() })))
        }
        Err(error) => {
            ctx.metrics
                .record_invocation(&namespace, &name, error.status().code(), None);
            Err(ApiError::from_invoke_error(
                &error,
                namespace_exists(ctx.invoker, &namespace),
            ))
        }
    }
}

fn log_type(p: &Params) -> Result<LogType, ApiError> {
    Ok(parse_enum::<LogType>("LogType", p.string("LogType")?)?.unwrap_or_default())
}

fn routing_key(p: &Params) -> Result<(), ApiError> {
    // Traffic routing between versions is not modelled; the key is checked and ignored.
    if let Some(key) = p.string("RoutingKey")? {
        if !key.is_empty() && serde_json::from_str::<Map<String, Value>>(&key).is_err() {
            return Err(ApiError::invalid_value(
                "RoutingKey",
                &key,
                "it must be a JSON object string, e.g. {\"k\":\"v\"}",
            ));
        }
    }
    Ok(())
}

async fn invoke(ctx: ApiContext<'_>, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let p = Params::parse(
        "Invoke",
        body,
        &[
            "FunctionName",
            "InvocationType",
            "Qualifier",
            "ClientContext",
            "LogType",
            "Namespace",
            "RoutingKey",
        ],
    )?;
    let name = p.required_string("FunctionName")?;
    let invocation_type =
        parse_enum::<InvocationType>("InvocationType", p.string("InvocationType")?)?
            .unwrap_or_default();
    let event = match p.string("ClientContext")? {
        Some(text) if !text.is_empty() => EventPayload::from(text),
        _ => EventPayload::default(),
    };
    let log_type = log_type(&p)?;
    routing_key(&p)?;
    let request = InvokeRequest::new(name, event)
        .with_invocation_type(invocation_type)
        .with_qualifier(p.string_or("Qualifier", "$LATEST")?)
        .with_namespace(p.string_or("Namespace", "default")?)
        .with_log_type(log_type);
    run_invoke(ctx, InvokeParams { request }).await
}

async fn invoke_function(ctx: ApiContext<'_>, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let p = Params::parse(
        "InvokeFunction",
        body,
        &[
            "FunctionName",
            "Qualifier",
            "Event",
            "LogType",
            "Namespace",
            "RoutingKey",
        ],
    )?;
    let name = p.required_string("FunctionName")?;
    let event = match p.string("Event")? {
        Some(text) if !text.is_empty() => EventPayload::from(text),
        _ => EventPayload::default(),
    };
    let log_type = log_type(&p)?;
    routing_key(&p)?;
    let request = InvokeRequest::new(name, event)
        .with_qualifier(p.string_or("Qualifier", "$DEFAULT")?)
        .with_namespace(p.string_or("Namespace", "default")?)
        .with_log_type(log_type);
    run_invoke(ctx, InvokeParams { request }).await
}

// ---- GetFunctionLogs / GetRequestStatus ----

/// The longest `StartTime`..`EndTime` span `GetFunctionLogs` accepts.
const MAX_LOG_SPAN: time::Duration = time::Duration::days(1);

fn time_range(p: &Params) -> Result<(Option<OffsetDateTime>, Option<OffsetDateTime>), ApiError> {
    let start = p.datetime("StartTime")?;
    let end = p.datetime("EndTime")?;
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValue,
                "The value of `StartTime` must not be later than `EndTime`.",
            ));
        }
        if e - s > MAX_LOG_SPAN {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValue,
                "`StartTime` and `EndTime` must be at most one day apart.",
            ));
        }
    }
    Ok((start, end))
}

async fn get_function_logs(
    ctx: ApiContext<'_>,
    body: &[u8],
) -> Result<Map<String, Value>, ApiError> {
    let p = Params::parse(
        "GetFunctionLogs",
        body,
        &[
            "FunctionName",
            "Offset",
            "Limit",
            "Order",
            "OrderBy",
            "Filter",
            "Namespace",
            "Qualifier",
            "FunctionRequestId",
            "StartTime",
            "EndTime",
            "SearchContext",
        ],
    )?;
    let function_name = p.string("FunctionName")?.filter(|s| !s.is_empty());
    let namespace = p.string_or("Namespace", "default")?;
    let ret_code = match p.object("Filter")? {
        None => None,
        Some(filter) => {
            if let Some(unknown) = filter.keys().find(|k| *k != "RetCode") {
                return Err(ApiError::unknown_parameter(
                    "GetFunctionLogs",
                    &format!("Filter.{unknown}"),
                ));
            }
            let value = match filter.get("RetCode") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(ApiError::wrong_type("Filter.RetCode", "a string")),
            };
            parse_enum::<RetCodeFilter>("Filter.RetCode", value)?
        }
    };
    // Marked offline by SCF; checked and ignored.
    let _ = p.object("SearchContext")?;
    let (start_time, end_time) = time_range(&p)?;
    let mut query = LogQuery::default();
    query.function_name = function_name.clone();
    query.namespace = Some(namespace.clone());
    query.qualifier = p.string("Qualifier")?.filter(|s| !s.is_empty());
    query.request_id = p.string("FunctionRequestId")?.filter(|s| !s.is_empty());
    query.start_time = start_time;
    query.end_time = end_time;
    query.ret_code = ret_code;
    query.order = parse_enum::<Order>("Order", p.string("Order")?)?.unwrap_or_default();
    query.order_by = parse_enum::<OrderBy>("OrderBy", p.string("OrderBy")?)?.unwrap_or_default();
    query.offset = p.u32("Offset")?.unwrap_or(0);
    query.limit = p.u32("Limit")?.unwrap_or(query.limit);
    if let Some(name) = &function_name {
        require_function(ctx.invoker, &namespace, name)?;
    }
    let page = ctx.invoker.get_logs(query).await.map_err(store_error)?;
    let data: Vec<Value> = page.records.iter().map(LogRecord::to_api).collect();
    Ok(object(json!({
        "TotalCount": page.total_count,
        "Data": data,
        "SearchContext": {"Offset": "", "Limit": 0, "Keyword": "", "Type": ""},
    })))
}

async fn get_request_status(
    ctx: ApiContext<'_>,
    body: &[u8],
) -> Result<Map<String, Value>, ApiError> {
    let p = Params::parse(
        "GetRequestStatus",
        body,
        &[
            "FunctionName",
            "FunctionRequestId",
            "Namespace",
            "StartTime",
            "EndTime",
        ],
    )?;
    let name = p.required_string("FunctionName")?;
    let request_id = p.required_string("FunctionRequestId")?;
    let namespace = p.string_or("Namespace", "default")?;
    let (start, end) = time_range(&p)?;
    require_function(ctx.invoker, &namespace, &name)?;
    let records = ctx
        .invoker
        .request_logs(&request_id)
        .await
        .map_err(store_error)?;
    let data: Vec<Value> = records
        .iter()
        .filter(|r| r.function_name == name && r.namespace == namespace)
        .filter(|r| {
            start.is_none_or(|s| r.start_time >= s) && end.is_none_or(|e| r.start_time <= e)
        })
        .map(|r| {
            // RequestStatus.RetCode: 0 success, 1 running, -1 error.
            let ret_code = match r.ret_code {
                RET_CODE_SUCCESS => 0,
                RET_CODE_RUNNING => 1,
                _ => -1,
            };
            // MemUsage is a Float in RequestStatus; the byte count fits f64 exactly below 2^53.
            #[allow(clippy::cast_precision_loss)]
            let mem = r.mem_usage_bytes as f64;
            json!({
                "FunctionName": r.function_name,
                "RetMsg": r.ret_msg,
                "RequestId": r.request_id,
                "StartTime": format_api_datetime(r.start_time),
                "RetCode": ret_code,
                "Duration": r.duration_ms,
                "MemUsage": mem,
                "RetryNum": r.retry_num,
            })
        })
        .collect();
    Ok(object(json!({ "TotalCount": data.len(), "Data": data })))
}

// ---- async events ----

/// `YYYY-MM-DD HH:MM:SS.mmm`, the `AsyncEvent` time format.
fn format_event_time(t: OffsetDateTime) -> String {
    format!(
        "{}.{:03}",
        format_api_datetime(t),
        t.to_offset(time::UtcOffset::UTC).millisecond()
    )
}

async fn get_async_event_status(
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

async fn list_async_events(
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

async fn terminate_async_event(
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

// ---- functions ----

fn function_summary(
    info: &scf_invoker::FunctionInfo,
    started: OffsetDateTime,
) -> Map<String, Value> {
    let c = &info.config;
    let time = format_api_datetime(started);
    object(json!({
        "ModTime": time,
        "AddTime": time,
        "Runtime": c.runtime.clone().unwrap_or_else(|| "CustomRuntime".to_string()),
        "FunctionName": c.name,
        "FunctionId": format!("lam-{}", &c.name),
        "Namespace": c.namespace,
        "Status": "Active",
        "StatusDesc": "",
        "Description": "",
        "Tags": [],
        "Type": "Event",
        "StatusReasons": [],
        "TotalProvisionedConcurrencyMem": 0,
        "ReservedConcurrencyMem": u64::from(info.concurrency_limit) * u64::from(c.memory_mb),
        "AsyncRunEnable": "FALSE",
        "TraceEnable": "FALSE",
    }))
}

fn list_functions(ctx: ApiContext<'_>, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let p = Params::parse(
        "ListFunctions",
        body,
        &[
            "Order",
            "Orderby",
            "Offset",
            "Limit",
            "SearchKey",
            "Namespace",
            "Description",
            "Filters",
        ],
    )?;
    let namespace = p.string_or("Namespace", "default")?;
    let order = parse_enum::<Order>("Order", p.string("Order")?)?.unwrap_or(Order::Asc);
    let order_by = p
        .string("Orderby")?
        .unwrap_or_else(|| "AddTime".to_string());
    if !matches!(
        order_by.as_str(),
        "AddTime" | "ModTime" | "FunctionName" | ""
    ) {
        return Err(ApiError::invalid_value(
            "Orderby",
            &order_by,
            "expected one of AddTime, ModTime, FunctionName",
        ));
    }
    let offset = p.u32("Offset")?.unwrap_or(0) as usize;
    let limit = p.u32("Limit")?.unwrap_or(20) as usize;
    let search = p.string("SearchKey")?.unwrap_or_default();
    let _ = p.string("Description")?;
    // Filters on tags and runtimes have nothing to select here; checked and ignored.
    let _ = p.array("Filters")?;
    if !namespace_exists(ctx.invoker, &namespace) {
        return Err(ApiError::namespace_not_found(&namespace));
    }
    // One entry per function: its `$LATEST` version, else its first version.
    let mut seen = std::collections::BTreeMap::new();
    for info in ctx.invoker.functions() {
        if info.config.namespace != namespace || !info.config.name.contains(&search) {
            continue;
        }
        let entry = seen
            .entry(info.config.name.clone())
            .or_insert_with(|| info.clone());
        if info.config.version == "$LATEST" {
            *entry = info;
        }
    }
    let mut functions: Vec<_> = seen.into_values().collect();
    if order == Order::Desc {
        functions.reverse();
    }
    let total = functions.len();
    let page: Vec<Value> = functions
        .iter()
        .skip(offset)
        .take(limit)
        .map(|f| Value::Object(function_summary(f, ctx.started)))
        .collect();
    Ok(object(json!({ "Functions": page, "TotalCount": total })))
}

fn get_function(ctx: ApiContext<'_>, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let p = Params::parse(
        "GetFunction",
        body,
        &["FunctionName", "Qualifier", "Namespace", "ShowCode"],
    )?;
    let name = p.required_string("FunctionName")?;
    let qualifier = p.string_or("Qualifier", "$LATEST")?;
    let namespace = p.string_or("Namespace", "default")?;
    let _ = p.string("ShowCode")?;
    require_function(ctx.invoker, &namespace, &name)?;
    let info = ctx
        .invoker
        .function(&namespace, &name, &qualifier)
        .ok_or_else(|| ApiError::qualifier_not_found(&name, &qualifier))?;
    let c = &info.config;
    let variables: Vec<Value> = c
        .environment
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    let mut out = function_summary(&info, ctx.started);
    for key in [
        "Tags",
        "StatusReasons",
        "TotalProvisionedConcurrencyMem",
        "ReservedConcurrencyMem",
    ] {
        out.remove(key);
    }
    let timeout_s = c.timeout.as_secs();
    let extra = json!({
        "Handler": c.handler,
        "Timeout": timeout_s,
        "InitTimeout": c.init_timeout.as_secs(),
        "FunctionVersion": c.version,
        "Qualifier": qualifier,
        "MemorySize": c.memory_mb,
        "Environment": {"Variables": variables},
        "Triggers": [],
        "Layers": [],
        "Tags": [],
        "CodeSize": 0,
        "CodeInfo": "",
        "CodeResult": "success",
        "CodeError": "",
        "ErrNo": 0,
        "Role": "",
        "InstallDependency": "FALSE",
        "ClsLogsetId": "",
        "ClsTopicId": "",
        "L5Enable": "FALSE",
        "OnsEnable": "FALSE",
        "AvailableStatus": "Available",
        "UseGpu": "FALSE",
        "DnsCache": "FALSE",
        "ProtocolType": "",
    });
    out.extend(object(extra));
    Ok(out)
}
