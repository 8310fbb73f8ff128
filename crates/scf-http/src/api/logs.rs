//! `GetFunctionLogs` and `GetRequestStatus`: the log records of past invocations.

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use scf_logs::record::{format_api_datetime, RET_CODE_RUNNING, RET_CODE_SUCCESS};
use scf_logs::LogRecord;
use scf_store::{LogQuery, Order, OrderBy, RetCodeFilter};

use super::params::Params;
use super::{object, parse_enum, require_function, store_error, ApiContext};
use crate::error::{ApiError, ErrorCode};

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

pub(super) async fn get_function_logs(
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
    // SCF marks it offline; its `Keyword` (a text the log must contain) is searched in
    // the store, the rest of it is checked and ignored.
    let keyword = match p.object("SearchContext")? {
        None => None,
        Some(ctx) => match ctx.get("Keyword") {
            None | Some(Value::Null) => None,
            Some(Value::String(k)) if k.is_empty() => None,
            Some(Value::String(k)) => Some(k.clone()),
            Some(_) => return Err(ApiError::wrong_type("SearchContext.Keyword", "a string")),
        },
    };
    let (start_time, end_time) = time_range(&p)?;
    let mut query = LogQuery::default();
    query.function_name = function_name.clone();
    query.namespace = Some(namespace.clone());
    query.qualifier = p.string("Qualifier")?.filter(|s| !s.is_empty());
    query.request_id = p.string("FunctionRequestId")?.filter(|s| !s.is_empty());
    query.start_time = start_time;
    query.end_time = end_time;
    query.ret_code = ret_code;
    query.keyword = keyword;
    query.order = parse_enum::<Order>("Order", p.string("Order")?)?.unwrap_or_default();
    query.order_by = parse_enum::<OrderBy>("OrderBy", p.string("OrderBy")?)?.unwrap_or_default();
    query.offset = p.u32("Offset")?.unwrap_or(0);
    query.limit = p.u32("Limit")?.unwrap_or(query.limit);
    if let Some(name) = &function_name {
        require_function(ctx.invoker, &namespace, name)?;
    }
    let page = ctx.invoker.get_logs(query).await.map_err(store_error)?;
    let data: Vec<Value> = page.records.iter().map(LogRecord::to_api).collect();
    let mut out = object(json!({
        "TotalCount": page.total_count,
        "Data": data,
        "SearchContext": {"Offset": "", "Limit": 0, "Keyword": "", "Type": ""},
    }));
    // A keyword search is bounded (`LogQuery::keyword`): its total may be "at least".
    if page.total_is_lower_bound {
        out.insert("TotalCountIsLowerBound".into(), Value::Bool(true));
    }
    Ok(out)
}

pub(super) async fn get_request_status(
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
