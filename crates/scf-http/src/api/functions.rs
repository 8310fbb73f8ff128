//! `ListFunctions` and `GetFunction`: the functions the invoker serves.

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use scf_logs::record::format_api_datetime;
use scf_store::Order;

use super::params::Params;
use super::{namespace_exists, object, parse_enum, require_function, ApiContext};
use crate::error::ApiError;

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

pub(super) fn list_functions(
    ctx: ApiContext<'_>,
    body: &[u8],
) -> Result<Map<String, Value>, ApiError> {
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

pub(super) fn get_function(
    ctx: ApiContext<'_>,
    body: &[u8],
) -> Result<Map<String, Value>, ApiError> {
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
