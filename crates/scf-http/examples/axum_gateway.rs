//! An axum 0.8 app with the API Gateway under `/api` (one catch-all route to a function)
//! and the cloud API under `/scf`: `cargo run -p scf-http --features axum --example
//! axum_gateway`, then `curl localhost:3000/api/any/path` or
//! `curl -d '{"FunctionName":"site"}' -H 'Content-Type: application/json'
//! -H 'X-TC-Action: Invoke' -H 'X-TC-Version: 2018-04-16' localhost:3000/scf`.
use std::net::SocketAddr;

use axum::Router;
use scf_http::apigw::{Route, Routes};
use scf_http::{handler_fn, ApiGatewayRequest, ApiGatewayResponse, ApiService, Context};
use scf_http::{Credentials, FunctionConfig, FunctionError, GatewayService, Invoker};

async fn site(req: ApiGatewayRequest, _: Context) -> Result<ApiGatewayResponse, FunctionError> {
    let text = format!(
        "{} {} from {}\n",
        req.http_method, req.path, req.request_context.source_ip
    );
    Ok(ApiGatewayResponse::new(200, text).with_header("Content-Type", "text/plain"))
}

/// The function `site` on an invoker of its own.
pub fn invoker() -> Result<Invoker, Box<dyn std::error::Error>> {
    let invoker = Invoker::new(Default::default())?;
    invoker.add_function(FunctionConfig::new("site"), handler_fn(site))?;
    Ok(invoker)
}

/// The app: `/api/...` to `site` (the plain path `/` is a prefix of every path), the
/// cloud API at `/scf` (no credentials: loopback peers only).
pub fn app(invoker: Invoker) -> Result<Router, Box<dyn std::error::Error>> {
    let routes = Routes::new().with(Route::new("ANY", "/", "site")?);
    Ok(Router::new()
        .nest_service("/api", GatewayService::new(invoker.clone(), routes))
        .nest_service("/scf", ApiService::new(invoker, Credentials::new())))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = app(invoker()?)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    // With connect info, so that the API knows each request's peer.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
