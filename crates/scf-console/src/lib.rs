//! The web console of `scf serve`: what SCF's cloud console shows for a function, on the
//! local invoker and store.
//!
//! [`Console`] is a `tower::Service<http::Request<B>>` for any body type (like
//! `scf-http`'s `ApiService`), serving the pages under `/console` and their JSON endpoints
//! under `/console/api/`; [`Console::mount`] gives it to `scf-http`'s `Server` as a
//! [`scf_http::Mount`], which is how `scf serve` serves it on the API's listener.
//!
//! - **Pages** (one page app, plain HTML, CSS and JavaScript embedded in the binary with
//!   `include_str!`, no build step; `docs/console.md`): Functions, Function (configuration
//!   and test: an event editor with the templates of `scf generate-event`), Logs, Async
//!   events, Monitoring (charts drawn with uPlot, vendored in `assets/vendor` with its
//!   licence, so that the console needs no network).
//! - **Data**: everything comes through the invoker and the store the API uses. The cloud
//!   API's actions run through `scf_http::ApiService::handle_authorized` (the same
//!   parameters and answers as a signed call): `POST /console/api/action/{Action}`.
//! - **Access** (module `access`): without credentials, loopback peers (and
//!   loopback `Host` names) only; with credentials, a sign-in with a SecretId and its
//!   SecretKey, a session cookie `HttpOnly; SameSite=Strict; Path=/console` that expires,
//!   and a CSRF token (plus `Origin`/`Sec-Fetch-Site` checks) on every request that is not
//!   a GET. Never open.
//!
//! Dependencies and why: `scf-http` (the API's actions, the peer rule, the mount point
//! and the credentials), `scf-invoker` and `scf-store` (functions, log records, async
//! events), `scf-event` (the event templates), `http`, `http-body`, `bytes` and
//! `tower-service` (the service), `serde`/`serde_json` (the JSON endpoints), `time`
//! (query ranges), `subtle` (constant-time comparison of keys and tokens), `getrandom`
//! (session and CSRF tokens from the operating system).

mod access;
mod assets;
mod endpoints;
mod monitoring;
mod respond;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::Body;

use scf_http::body::{read_limited, BoxError};
use scf_http::{ApiService, Credentials, Mount, ResponseBody};
use scf_invoker::Invoker;
use scf_store::ConsoleStore;

pub use access::{CSRF_HEADER, SESSION_COOKIE};

use access::{check_csrf, check_same_origin, Access, Refusal};
use respond::{html, json_error, redirect};

/// Where the console is served.
pub const PREFIX: &str = "/console";

/// The largest request body the console reads (a sync invocation's event, 6 MB, as JSON
/// text inside the action's parameters, with room to spare).
const MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;

/// What the template says of a function that the invoker does not know.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct FunctionExtras {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `Event` or `HTTP`.
    pub function_type: String,
    /// Its triggers, one line each (`APIGW ANY /hello`, `Timer every_second * * * * * * *`).
    pub triggers: Vec<String>,
}

impl FunctionExtras {
    /// The extras of `namespace`/`name`.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
            function_type: "Event".into(),
            triggers: Vec::new(),
        }
    }

    /// With a trigger line; for chaining.
    pub fn with_trigger(mut self, trigger: impl Into<String>) -> Self {
        self.triggers.push(trigger.into());
        self
    }
}

/// How the console is configured.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConsoleConfig {
    /// SecretId → SecretKey pairs that may sign in (empty: no sign-in, loopback only).
    pub credentials: Credentials,
    /// How long a session lasts after sign-in. Default 8 hours.
    pub session_ttl: Duration,
    /// What the template says of each function.
    pub functions: Vec<FunctionExtras>,
    /// The store's console queries (monitoring, saved test events); `None`: those pages
    /// say the store has none.
    pub store: Option<Arc<dyn ConsoleStore>>,
}

impl ConsoleConfig {
    /// A console for `credentials`, with the defaults.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            session_ttl: Duration::from_secs(8 * 3600),
            functions: Vec::new(),
            store: None,
        }
    }
}

struct Shared {
    invoker: Invoker,
    api: ApiService,
    access: Access,
    functions: Vec<FunctionExtras>,
    store: Option<Arc<dyn ConsoleStore>>,
}

/// The console as a service: see the crate docs. Cheap to clone.
#[derive(Clone)]
pub struct Console {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("sign_in", &self.shared.access.needs_sign_in())
            .finish_non_exhaustive()
    }
}

impl Console {
    /// The console over `invoker`; fails only when the system gives no randomness.
    pub fn new(invoker: Invoker, config: ConsoleConfig) -> Result<Self, String> {
        let access = Access::new(config.credentials, config.session_ttl)?;
        let api = ApiService::new(invoker.clone(), Credentials::new());
        Ok(Self {
            shared: Arc::new(Shared {
                invoker,
                api,
                access,
                functions: config.functions,
                store: config.store,
            }),
        })
    }

    /// The console as a mount of `scf-http`'s `Server` at [`PREFIX`].
    pub fn mount(&self) -> Mount {
        let console = self.clone();
        Mount::new(
            PREFIX,
            Arc::new(move |request: Request<Bytes>| {
                let console = console.clone();
                Box::pin(async move { console.handle(request).await })
            }),
        )
    }

    /// Answers one request whose body has been read.
    pub async fn handle(&self, request: Request<Bytes>) -> Response<ResponseBody> {
        let mut response = self.route(request).await;
        respond::secure(&mut response);
        response
    }

    async fn route(&self, request: Request<Bytes>) -> Response<ResponseBody> {
        let path = request.uri().path().to_string();
        let Some(rest) = path.strip_prefix(PREFIX) else {
            return json_error(StatusCode::NOT_FOUND, "not a console path");
        };
        let rest = rest.to_string();
        let method = request.method().clone();
        let is_read = method == Method::GET || method == Method::HEAD;
        let access = &self.shared.access;
        let peer = scf_http::peer::peer_addr(request.extensions());
        // Static assets carry nothing secret, but are served on the same terms as the rest.
        if rest == "/login" {
            if !access.needs_sign_in() {
                return redirect("/console/", None);
            }
            return match method {
                Method::GET | Method::HEAD => html(StatusCode::OK, &assets::login_page(None)),
                Method::POST => self.sign_in(&request),
                _ => json_error(StatusCode::METHOD_NOT_ALLOWED, "GET or POST"),
            };
        }
        let grant = match access.grant(peer, request.headers()) {
            Ok(g) => g,
            Err(Refusal::SignIn) if is_read && !rest.starts_with("/api/") => {
                return redirect("/console/login", None)
            }
            Err(r) => return respond::refusal(&r),
        };
        if !is_read {
            if let Err(r) = check_csrf(request.headers(), &grant) {
                return respond::refusal(&r);
            }
        }
        match (rest.as_str(), is_read) {
            ("" | "/", true) => html(StatusCode::OK, assets::INDEX_HTML),
            ("/logout", false) => {
                access.sign_out(request.headers());
                redirect("/console/login", Some(access::cleared_cookie()))
            }
            (r, true) if r.starts_with("/assets/") => assets::asset(&r["/assets/".len()..]),
            (r, _) if r.starts_with("/api/") => {
                endpoints::answer(&self.shared, &grant, request, &r["/api/".len()..]).await
            }
            _ => json_error(
                StatusCode::NOT_FOUND,
                &format!("the console has no {method} {path}"),
            ),
        }
    }

    fn sign_in(&self, request: &Request<Bytes>) -> Response<ResponseBody> {
        if let Err(r) = check_same_origin(request.headers()) {
            return respond::refusal(&r);
        }
        let form = respond::form(request.body());
        let field = |k: &str| {
            form.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        match self
            .shared
            .access
            .sign_in(field("secret_id"), field("secret_key"))
        {
            Ok(Some(token)) => {
                redirect("/console/", Some(self.shared.access.session_cookie(&token)))
            }
            Ok(None) => html(
                StatusCode::UNAUTHORIZED,
                &assets::login_page(Some("The SecretId or the SecretKey is wrong.")),
            ),
            Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, &e),
        }
    }
}

impl<B> tower_service::Service<Request<B>> for Console
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = match read_limited(body, MAX_BODY_BYTES).await {
                Ok(bytes) => this.handle(Request::from_parts(parts, bytes)).await,
                Err(e) => json_error(
                    StatusCode::BAD_REQUEST,
                    &format!("the request body was not read: {e}"),
                ),
            };
            Ok(response)
        })
    }
}

// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
