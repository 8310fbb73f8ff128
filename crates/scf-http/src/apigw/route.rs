//! Routes: method (or `ANY`) + path (`=exact`, `^~prefix`, `{variables}`, plain prefix)
//! + stage → function, matched as Tencent's API Gateway matches them ([`Routes::find`]).

use std::collections::BTreeMap;
use std::fmt;

use http::Method;

/// The default stage of a route (`release`, as API Gateway's default environment).
pub const DEFAULT_STAGE: &str = "release";

/// Why a route definition is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// The method is neither an HTTP method nor `ANY`.
    #[error("route method {0:?} is invalid: use an HTTP method (GET, POST, ...) or ANY")]
    Method(String),
    /// The path template breaks a rule.
    #[error("route path {path:?} is invalid: {rule}")]
    Path {
        /// The template given.
        path: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The stage is empty or has a `/`.
    #[error("route stage {0:?} is invalid: it must be a non-empty name without `/`")]
    Stage(String),
}

/// Which requests' method a route takes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RouteMethod {
    /// Every method.
    Any,
    /// One method.
    Exact(Method),
}

impl RouteMethod {
    /// Parses `ANY` (any case) or an HTTP method name (upper case).
    pub fn parse(s: &str) -> Result<Self, RouteError> {
        if s.eq_ignore_ascii_case("ANY") {
            return Ok(Self::Any);
        }
        let upper = s.to_ascii_uppercase();
        Method::from_bytes(upper.as_bytes())
            .ok()
            .filter(|_| !s.is_empty())
            .map(Self::Exact)
            .ok_or_else(|| RouteError::Method(s.to_string()))
    }

    /// The method as `requestContext.httpMethod` spells it (`ANY`, `POST`).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Any => "ANY",
            Self::Exact(m) => m.as_str(),
        }
    }

    fn matches(&self, method: &Method) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(m) => m == method,
        }
    }
}

impl fmt::Display for RouteMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// How a route's path matches a request path, in the order Tencent's API Gateway tries
/// them (see [`Routes::find`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PathKind {
    /// `=/a/b`: exactly this path.
    Exact,
    /// `^~/a/`: a preferred prefix (no variables).
    PreferredPrefix,
    /// `/a/{b}`: a path with variables; each `{name}` takes one segment, and the path
    /// must have exactly the template's segments.
    Variables,
    /// `/a/`: a plain path, matched as a prefix (`/product/` takes
    /// `/product/apigw/document`).
    Prefix,
}

/// A route's path as Tencent's API Gateway writes it: `=/exact`, `^~/preferred/prefix`,
/// `/with/{variables}`, or a plain `/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    text: String,
    kind: PathKind,
    segments: Vec<Segment>,
}

fn split_path(path: &str) -> Vec<&str> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').collect()
    }
}

impl PathTemplate {
    /// Parses a path: an optional `=` or `^~` marker, then a path that starts with `/`;
    /// a segment is literal text or `{name}` (letters, digits, `_`, `-`), names unique;
    /// `=` and `^~` paths have no variables.
    pub fn parse(path: &str) -> Result<Self, RouteError> {
        let bad = |rule| RouteError::Path {
            path: path.to_string(),
            rule,
        };
        let (marker, rest) = if let Some(rest) = path.strip_prefix('=') {
            (Some(PathKind::Exact), rest)
        } else if let Some(rest) = path.strip_prefix("^~") {
            (Some(PathKind::PreferredPrefix), rest)
        } else {
            (None, path)
        };
        if !rest.starts_with('/') {
            return Err(bad(if marker.is_some() {
                "it must start with `/` after its `=` or `^~`"
            } else {
                "it must start with `/`"
            }));
        }
        let mut segments = Vec::new();
        for seg in split_path(rest) {
            if seg.is_empty() {
                return Err(bad("it must not contain an empty segment (`//`)"));
            }
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let ok = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !ok {
                    return Err(bad(
                        "a parameter must be `{name}` with letters, digits, `_` or `-`",
                    ));
                }
                if segments
                    .iter()
                    .any(|s| matches!(s, Segment::Param(n) if n == name))
                {
                    return Err(bad("a parameter name appears twice"));
                }
                segments.push(Segment::Param(name.to_string()));
            } else if seg.contains(['{', '}']) {
                return Err(bad("`{` and `}` may only enclose a whole segment"));
            } else {
                segments.push(Segment::Literal(seg.to_string()));
            }
        }
        let has_params = segments.iter().any(|s| matches!(s, Segment::Param(_)));
        let kind = match marker {
            Some(_) if has_params => {
                return Err(bad(
                    "an exact (`=`) or preferred prefix (`^~`) path cannot have `{variables}`",
                ))
            }
            Some(kind) => kind,
            None if has_params => PathKind::Variables,
            None => PathKind::Prefix,
        };
        Ok(Self {
            text: path.to_string(),
            kind,
            segments,
        })
    }

    /// The path as written, marker included (`=/a`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The path without its `=` or `^~` marker (`requestContext.path`).
    pub fn path(&self) -> &str {
        match self.kind {
            PathKind::Exact => &self.text[1..],
            PathKind::PreferredPrefix => &self.text[2..],
            _ => &self.text,
        }
    }

    /// How it matches.
    pub fn kind(&self) -> PathKind {
        self.kind
    }

    /// Whether `path` (raw, undecoded) matches, with its parameters. A trailing `/` is
    /// ignored, and prefixes match whole segments (`/api` takes `/api` and `/api/x`, not
    /// `/apix`).
    fn match_path<'p>(&self, path: &'p str) -> Option<Vec<(&str, &'p str)>> {
        let parts = split_path(path);
        let literal = |seg: &Segment, part: &str| matches!(seg, Segment::Literal(l) if l == part);
        match self.kind {
            PathKind::Exact | PathKind::Variables if parts.len() != self.segments.len() => None,
            PathKind::Prefix | PathKind::PreferredPrefix if parts.len() < self.segments.len() => {
                None
            }
            PathKind::Exact | PathKind::Prefix | PathKind::PreferredPrefix => self
                .segments
                .iter()
                .zip(&parts)
                .all(|(seg, part)| literal(seg, part))
                .then(Vec::new),
            PathKind::Variables => {
                let mut params = Vec::new();
                for (seg, part) in self.segments.iter().zip(parts) {
                    match seg {
                        Segment::Param(name) if !part.is_empty() => {
                            params.push((name.as_str(), part));
                        }
                        s if literal(s, part) => {}
                        _ => return None,
                    }
                }
                Some(params)
            }
        }
    }

    /// How specific a match is within its kind: the length of a prefix, the literal
    /// segments of a path with variables.
    fn specificity(&self) -> usize {
        match self.kind {
            PathKind::Variables => self
                .segments
                .iter()
                .filter(|s| matches!(s, Segment::Literal(_)))
                .count(),
            _ => self.segments.len(),
        }
    }
}

/// One API: method + path template + stage → function, with the parameters API Gateway
/// would be configured to pass.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Route {
    /// The method it takes.
    pub method: RouteMethod,
    /// The path template.
    pub path: PathTemplate,
    /// The stage (`release` by default).
    pub stage: String,
    /// The function invoked.
    pub function_name: String,
    /// The function's namespace (`default`).
    pub namespace: String,
    /// The version or alias invoked; `None` for the invoker's default.
    pub qualifier: Option<String>,
    /// Query parameters configured on the API (`queryStringParameters`).
    pub query_parameters: Vec<String>,
    /// Header parameters configured on the API (`headerParameters`).
    pub header_parameters: Vec<String>,
    /// `stageVariables`; when empty the event carries `{"stage": <stage>}` as the
    /// documented sample does.
    pub stage_variables: BTreeMap<String, String>,
    /// Whether the function is a web function (`Type: HTTP`): its failures answer with
    /// their status code as the HTTP status, as SCF's web functions do, instead of 200.
    pub web: bool,
}

impl Route {
    /// A route on stage `release` in namespace `default`.
    ///
    /// ```
    /// let route = scf_http::apigw::Route::new("ANY", "/test/{path}", "hello").unwrap();
    /// assert_eq!(route.stage, "release");
    /// ```
    pub fn new(
        method: &str,
        path: &str,
        function_name: impl Into<String>,
    ) -> Result<Self, RouteError> {
        Ok(Self {
            method: RouteMethod::parse(method)?,
            path: PathTemplate::parse(path)?,
            stage: DEFAULT_STAGE.to_string(),
            function_name: function_name.into(),
            namespace: "default".to_string(),
            qualifier: None,
            query_parameters: Vec::new(),
            header_parameters: Vec::new(),
            stage_variables: BTreeMap::new(),
            web: false,
        })
    }

    /// Marks the function a web function (see [`Route::web`]); for chaining.
    pub fn with_web(mut self, web: bool) -> Self {
        self.web = web;
        self
    }

    /// Sets the stage; for chaining.
    pub fn with_stage(mut self, stage: &str) -> Result<Self, RouteError> {
        if stage.is_empty() || stage.contains('/') {
            return Err(RouteError::Stage(stage.to_string()));
        }
        self.stage = stage.to_string();
        Ok(self)
    }

    /// Sets the namespace; for chaining.
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Sets the qualifier; for chaining.
    pub fn with_qualifier(mut self, qualifier: impl Into<String>) -> Self {
        self.qualifier = Some(qualifier.into());
        self
    }

    /// Declares a query parameter passed in `queryStringParameters`; for chaining.
    pub fn with_query_parameter(mut self, name: impl Into<String>) -> Self {
        self.query_parameters.push(name.into());
        self
    }

    /// Declares a header parameter passed in `headerParameters`; for chaining.
    pub fn with_header_parameter(mut self, name: impl Into<String>) -> Self {
        self.header_parameters.push(name.into());
        self
    }

    /// Adds a stage variable; for chaining.
    pub fn with_stage_variable(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.stage_variables.insert(name.into(), value.into());
        self
    }
}

/// A matched route and the request path's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouteMatch<'r> {
    /// The route.
    pub route: &'r Route,
    /// Path parameters, percent-decoded.
    pub path_parameters: BTreeMap<String, String>,
    /// The request path without the stage prefix (the event's `path`).
    pub path: String,
}

impl<'r> RouteMatch<'r> {
    /// `route` matched request path `path` (the event's `path`), with no path
    /// parameters: for a gateway that matches routes its own way and still builds the
    /// event with [`build_event_json`](super::build_event_json).
    pub fn new(route: &'r Route, path: impl Into<String>) -> Self {
        Self {
            route,
            path_parameters: BTreeMap::new(),
            path: path.into(),
        }
    }

    /// Adds a (decoded) path parameter; for chaining.
    pub fn with_path_parameter(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.path_parameters.insert(name.into(), value.into());
        self
    }
}

/// The gateway's routes, matched most specific first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Routes {
    routes: Vec<Route>,
    /// When true the first path segment names the stage (`/release/test/x`), as on the
    /// real gateway's URLs; when false (the default) paths are matched as they are and
    /// every route is reachable whatever its stage.
    pub stage_in_path: bool,
}

impl Routes {
    /// No routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route; for chaining.
    pub fn with(mut self, route: Route) -> Self {
        self.routes.push(route);
        self
    }

    /// Adds a route.
    pub fn push(&mut self, route: Route) {
        self.routes.push(route);
    }

    /// Sets [`Routes::stage_in_path`]; for chaining.
    pub fn with_stage_in_path(mut self, on: bool) -> Self {
        self.stage_in_path = on;
        self
    }

    /// Whether there are no routes.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Every route, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    /// The route for `method` and `path` (the URI path, raw, without its query), as
    /// Tencent's API Gateway picks it (API Gateway FAQ, "How do I determine the API hit
    /// priority?", <https://www.tencentcloud.com/document/product/628/11939>):
    ///
    /// 1. a path starting with `=` matches exactly, and comes first;
    /// 2. then a path starting with `^~`, a prefix (the longest that matches);
    /// 3. then a path with `{variables}`;
    /// 4. then a plain path, a prefix: the longest that matches (`/product/` takes
    ///    `/product/apigw/document`).
    ///
    /// Only routes whose method matches (or `ANY`) take part. These rules are ours, not
    /// in Tencent's FAQ: prefixes match whole segments (`/api` takes `/api/x`, not
    /// `/apix`) and a trailing `/` is ignored everywhere (`=/a` takes `/a/`); among paths
    /// with variables the one with the most literal segments wins; at equal rank an exact
    /// method wins over `ANY`, then the route added first.
    pub fn find(&self, method: &Method, path: &str) -> Option<RouteMatch<'_>> {
        let (stage, rest) = if self.stage_in_path {
            let trimmed = path.strip_prefix('/').unwrap_or(path);
            let (stage, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
            (Some(stage), format!("/{rest}"))
        } else {
            (None, path.to_string())
        };
        // (kind, specificity, exact method) ranks a candidate; the first of equals wins.
        type Rank = (std::cmp::Reverse<PathKind>, usize, bool);
        type Candidate<'a, 'p> = (Rank, &'a Route, Vec<(&'a str, &'p str)>);
        let mut best: Option<Candidate<'_, '_>> = None;
        for route in &self.routes {
            if stage.is_some_and(|s| s != route.stage) || !route.method.matches(method) {
                continue;
            }
            let Some(params) = route.path.match_path(&rest) else {
                continue;
            };
            let rank = (
                std::cmp::Reverse(route.path.kind()),
                route.path.specificity(),
                matches!(route.method, RouteMethod::Exact(_)),
            );
            if best.as_ref().is_none_or(|b| rank > b.0) {
                best = Some((rank, route, params));
            }
        }
        let (_, route, params) = best?;
        let path_parameters = params
            .into_iter()
            .map(|(k, v)| (k.to_string(), percent_decode(v, false)))
            .collect();
        Some(RouteMatch {
            route,
            path_parameters,
            path: rest,
        })
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`); invalid escapes stay
/// as written and invalid UTF-8 becomes U+FFFD.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decode_keeps_invalid_escapes() {
        assert_eq!(percent_decode("a%20b", false), "a b");
        assert_eq!(percent_decode("a+b", true), "a b");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        assert_eq!(percent_decode("%", false), "%");
        assert_eq!(percent_decode("%e4%b8%ad", false), "中");
        assert_eq!(percent_decode("%ff", false), "\u{fffd}");
    }
}
