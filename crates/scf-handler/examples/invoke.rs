//! Invokes one of the seed's handlers from the command line and prints the SCF result.
//!
//! ```text
//! cargo run -p scf-handler --example invoke -- index.main_handler '{"key":"abctest"}'
//! cargo run -p scf-handler --example invoke -- index.always_failed_handler '{}'
//! ```

use scf_context::{Context, FunctionConfig};
use scf_handler::{handler_fn, FunctionError, Registry};
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
#[error("user name {0} already exists")]
struct UserNameAlreadyExistsException(String);

async fn main_handler(event: Value, _ctx: Context) -> Result<Value, FunctionError> {
    Ok(event["key"].clone())
}

async fn always_failed_handler(_event: Value, _ctx: Context) -> Result<Value, FunctionError> {
    Err(UserNameAlreadyExistsException("abctest".into()).into())
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "index.main_handler".into());
    let event_text = args.next().unwrap_or_else(|| r#"{"key":"abctest"}"#.into());
    let registry = Registry::new()
        .with("index.main_handler", handler_fn(main_handler))
        .and_then(|r| {
            r.with(
                "index.always_failed_handler",
                handler_fn(always_failed_handler),
            )
        })
        .expect("the seed's handler names are valid");
    let event: Value = match serde_json::from_str(&event_text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: the event is not JSON: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut config = FunctionConfig::new("hello-from-scf");
    config.handler = name.clone();
    let ctx = Context::new(&config, &request_id);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime starts");
    let outcome = match registry.resolve_str(&name) {
        Ok(handler) => rt.block_on(handler.call(event, ctx)),
        Err(e) => Err(e.to_function_error()),
    };
    let result = match &outcome {
        Ok(value) => {
            json!({"FunctionRequestId": request_id, "RetMsg": value.to_string(), "ErrMsg": "", "InvokeResult": 0})
        }
        Err(e) => {
            let scf = serde_json::to_string(&e.to_scf_json(&request_id)).unwrap_or_default();
            json!({"FunctionRequestId": request_id, "RetMsg": scf, "ErrMsg": e.to_string(), "InvokeResult": 1})
        }
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&result).unwrap_or_default()
    );
    if outcome.is_ok() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
