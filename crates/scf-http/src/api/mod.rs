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
//! | `GetFunctionLogs` | `FunctionName`, `Offset`, `Limit`, `Order`, `OrderBy`, `Filter` {`RetCode`}, `Namespace`, `Qualifier`, `FunctionRequestId`, `StartTime`, `EndTime`, `SearchContext` (its `Keyword`: text the log must contain; a bounded search, see `scf_store::LogQuery::keyword`) | `TotalCount`, `Data` (array of `FunctionLog`), `SearchContext`; `TotalCountIsLowerBound: true` when a keyword search stopped early |
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

mod async_events;
mod functions;
mod invoke;
mod logs;
mod params;
pub(crate) mod protocol;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use scf_invoker::Invoker;
use scf_logs::ParseValueError;
use scf_store::StoreError;

use crate::error::{ApiError, ErrorCode};
use crate::metrics::Metrics;

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
        "Invoke" => invoke::invoke(ctx, body).await,
        "InvokeFunction" => invoke::invoke_function(ctx, body).await,
        "GetFunctionLogs" => logs::get_function_logs(ctx, body).await,
        "GetRequestStatus" => logs::get_request_status(ctx, body).await,
        "GetAsyncEventStatus" => async_events::get_async_event_status(ctx, body).await,
        "ListAsyncEvents" => async_events::list_async_events(ctx, body).await,
        "TerminateAsyncEvent" => async_events::terminate_async_event(ctx, body).await,
        "ListFunctions" => functions::list_functions(ctx, body),
        "GetFunction" => functions::get_function(ctx, body),
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
