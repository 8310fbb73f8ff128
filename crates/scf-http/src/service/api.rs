//! The cloud API endpoint: protocol checks, the signature, then the action.

use http::{Request, Response};
use hyper::body::Body;

use super::body::now_unix;
use super::{declared_length, new_request_id, read_body, with_request_id, BodyError};
use super::{ResponseBody, ScfService};
use crate::api::{self, protocol, ApiContext};
use crate::error::{ApiError, ErrorCode};
use crate::metrics::Endpoint;

impl ScfService {
    pub(super) async fn api<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let _in_flight = self.shared.metrics.start_request(Endpoint::Api);
        let request_id = new_request_id();
        let response = match self.api_inner(request).await {
            Ok(output) => crate::error::api_response(&output, &request_id),
            Err(error) => {
                tracing::debug!(request_id = %request_id, code = %error.code(), "scf-http: API error");
                error.to_response(&request_id)
            }
        };
        with_request_id(response, &request_id)
    }

    async fn api_inner<B>(
        &self,
        request: Request<B>,
    ) -> Result<serde_json::Map<String, serde_json::Value>, ApiError>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        protocol::check_method_and_type(&parts)?;
        let limit = self.shared.limits.max_api_body_bytes;
        if declared_length(&parts.headers).is_some_and(|n| n > limit) {
            return Err(ApiError::body_too_large(limit));
        }
        let body = match read_body(body, limit, self.shared.limits.body_read_timeout).await {
            Ok(b) => b,
            Err(BodyError::TooLarge) => return Err(ApiError::body_too_large(limit)),
            Err(BodyError::Timeout) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameter,
                    "The request body was not received in time.",
                ))
            }
            Err(BodyError::Failed(e)) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameter,
                    format!("The request body could not be read: {e}."),
                ))
            }
        };
        if let Some(verifier) = &self.shared.verifier {
            let query = parts.uri.query().unwrap_or("");
            let authority = parts.uri.authority().map(|a| a.as_str());
            verifier.verify(
                &parts.method,
                query,
                authority,
                &parts.headers,
                &body,
                now_unix(),
            )?;
        }
        let action = protocol::action(&parts)?;
        let ctx = ApiContext {
            invoker: &self.shared.invoker,
            metrics: &self.shared.metrics,
            started: self.shared.started,
        };
        api::dispatch(ctx, &action, &body).await
    }
}
