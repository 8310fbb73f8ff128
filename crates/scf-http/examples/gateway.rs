//! A custom API gateway around two native Rust handlers: `cargo run -p scf-http --example gateway`,
//! then `curl localhost:9000/hello/scf` or `curl -d '{"a":2,"b":3}' localhost:9000/add`.
use scf_context::{Context, FunctionConfig};
use scf_event::{ApiGatewayRequest, ApiGatewayResponse};
use scf_handler::{handler_fn, FunctionError};
use scf_http::{apigw::Route, Server, ServerConfig};
use scf_invoker::{Invoker, InvokerConfig};

async fn hello(req: ApiGatewayRequest, _: Context) -> Result<ApiGatewayResponse, FunctionError> {
    let name = req
        .path_parameters
        .get("name")
        .map_or("world", String::as_str);
    Ok(ApiGatewayResponse::new(200, format!("hello {name}\n"))
        .with_header("Content-Type", "text/plain"))
}

async fn add(req: ApiGatewayRequest, _: Context) -> Result<ApiGatewayResponse, FunctionError> {
    let v: serde_json::Value = serde_json::from_str(req.body.as_deref().unwrap_or("{}"))?;
    let sum = v["a"].as_f64().unwrap_or(0.0) + v["b"].as_f64().unwrap_or(0.0);
    Ok(
        ApiGatewayResponse::new(200, serde_json::json!({ "sum": sum }).to_string())
            .with_header("Content-Type", "application/json"),
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let invoker = Invoker::new(InvokerConfig::default())?;
    invoker.add_function(FunctionConfig::new("hello"), handler_fn(hello))?;
    invoker.add_function(FunctionConfig::new("add"), handler_fn(add))?;
    let config = ServerConfig::new("127.0.0.1:9000".parse()?)
        .with_route(Route::new("GET", "/hello/{name}", "hello")?)
        .with_route(Route::new("POST", "/add", "add")?);
    let running = Server::new(config, invoker)?.bind().await?;
    println!("gateway listening on http://{}", running.local_addr());
    running.wait().await; // until SIGTERM or Ctrl-C
    Ok(())
}
