//! Embeds the invoker with the seed's two handlers: one echoes `{"key":"abctest"}`, the
//! other raises `UserNameAlreadyExistsException`. Prints both results and their logs.
//!
//! Run with `cargo run -p scf-invoker --example embed`.

use scf_invoker::{
    handler_fn, Context, FunctionConfig, FunctionError, InvokeRequest, Invoker, InvokerConfig,
    LogType,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize)]
struct KeyEvent {
    key: String,
}

async fn echo(event: KeyEvent, ctx: Context) -> Result<KeyEvent, FunctionError> {
    tracing::info!("echoing key {} in {}", event.key, ctx.function_name);
    Ok(event)
}

#[derive(Debug, thiserror::Error)]
#[error("user name {0} already exists")]
struct UserNameAlreadyExistsException(String);

#[derive(Debug, Deserialize)]
struct NewUser {
    username: String,
}

async fn register(event: NewUser, _ctx: Context) -> Result<(), UserNameAlreadyExistsException> {
    log::warn!("registering {}", event.username);
    Err(UserNameAlreadyExistsException(event.username))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // This program bridges `log` into nothing else, so it opts in for `register`'s
    // `log::warn!` to reach its SCF log (`tracing` lines need no set-up).
    scf_invoker::capture_log_crate()?;
    let invoker = Invoker::new(InvokerConfig::default())?;
    invoker.add_function(FunctionConfig::new("echo"), handler_fn(echo))?;
    invoker.add_function(FunctionConfig::new("register"), handler_fn(register))?;

    let calls = [
        InvokeRequest::new("echo", r#"{"key":"abctest"}"#),
        InvokeRequest::new("register", r#"{"username":"alice"}"#),
    ];
    for request in calls {
        let name = request.function_name.clone();
        let response = invoker.invoke(request.with_log_type(LogType::Tail)).await?;
        println!("== {name}: status {}", response.status);
        println!("{}", serde_json::to_string_pretty(&response.to_api())?);
        println!("-- log --\n{}", response.log);
    }
    invoker.shutdown_default().await;
    Ok(())
}
