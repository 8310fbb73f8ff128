//! `Invoke` and `InvokeFunction`: run a function, synchronously or as an async event.

use serde_json::{json, Map, Value};

use scf_invoker::{EventPayload, InvokeRequest, LogType};
use scf_logs::InvocationType;

use super::params::Params;
use super::{namespace_exists, object, parse_enum, ApiContext};
use crate::error::ApiError;

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

pub(super) async fn invoke(
    ctx: ApiContext<'_>,
    body: &[u8],
) -> Result<Map<String, Value>, ApiError> {
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

pub(super) async fn invoke_function(
    ctx: ApiContext<'_>,
    body: &[u8],
) -> Result<Map<String, Value>, ApiError> {
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
