//! The hello function as an SCF Custom Runtime bootstrap.
//!
//! ```text
//! cargo build --release -p scf-runtime --example hello
//! cargo run --release -p scf-cli -- serve -t examples/rust-hello/template.yaml
//! ```
//!
//! Deployed to SCF, this binary is the package's `bootstrap` (see docs/deploy-rust.md).

use scf_context::Context;
use scf_handler::{handler_fn, FunctionError};
use serde_json::{json, Value};

async fn main_handler(event: Value, ctx: Context) -> Result<Value, FunctionError> {
    // API Gateway events get an integration response; anything else gets a JSON echo.
    if event.get("requestContext").is_some() {
        return Ok(json!({
            "isBase64Encoded": false,
            "statusCode": 200,
            "headers": {"Content-Type": "text/plain"},
            "body": "hello from rust",
        }));
    }
    Ok(
        json!({"hello": event.get("key").cloned().unwrap_or(Value::Null), "request_id": ctx.request_id}),
    )
}

fn main() -> std::process::ExitCode {
    scf_runtime::start(handler_fn(main_handler))
}
