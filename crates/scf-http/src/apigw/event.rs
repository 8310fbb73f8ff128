//! Building the API Gateway trigger event (scf-spec 2.1) from an HTTP request.

use std::collections::BTreeMap;
use std::net::IpAddr;

use base64::Engine as _;
use http::request::Parts;
use scf_event::{ApiGatewayRequest, QueryValue};
use serde_json::{Map, Value};

use super::route::{percent_decode, RouteMatch};
use crate::body::REQUEST_ID_HEADER;

/// Parses a raw query string the way API Gateway fills `queryString`: a repeated key
/// becomes an array, a key without `=` becomes `true`; keys and values are
/// percent-decoded (`+` is a space).
///
/// ```
/// use scf_event::QueryValue;
/// let q = scf_http::apigw::parse_query("a=b&a=c&x=y&i");
/// assert_eq!(q["a"], QueryValue::Multi(vec!["b".into(), "c".into()]));
/// assert_eq!(q["x"], QueryValue::Single("y".into()));
/// assert_eq!(q["i"], QueryValue::Flag(true));
/// ```
pub fn parse_query(query: &str) -> BTreeMap<String, QueryValue> {
    let mut out: BTreeMap<String, QueryValue> = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = match pair.split_once('=') {
            Some((k, v)) => (percent_decode(k, true), Some(percent_decode(v, true))),
            None => (percent_decode(pair, true), None),
        };
        let entry = out.remove(&key);
        let merged = match (entry, value) {
            (None, Some(v)) => QueryValue::Single(v),
            (None, None) => QueryValue::Flag(true),
            (Some(previous), v) => {
                let mut values: Vec<String> = match previous {
                    QueryValue::Single(s) => vec![s],
                    QueryValue::Multi(m) => m,
                    QueryValue::Flag(_) => vec![String::new()],
                };
                values.push(v.unwrap_or_default());
                QueryValue::Multi(values)
            }
        };
        out.insert(key, merged);
    }
    out
}

/// A header value as text: as is when visible ASCII, else lossy UTF-8.
fn header_text(v: &http::HeaderValue) -> std::borrow::Cow<'_, str> {
    match v.to_str() {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(v.as_bytes()),
    }
}

/// `ip` as text in one allocation (`to_string` grows its string as each part is
/// written).
fn ip_text(ip: IpAddr) -> String {
    use std::io::Write as _;
    if let IpAddr::V4(v4) = ip {
        // Digits by hand: `Display` for an address costs a request about a thousand
        // instructions.
        let mut out = String::with_capacity(15);
        for (i, octet) in v4.octets().into_iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            if octet >= 100 {
                out.push(char::from(b'0' + octet / 100));
            }
            if octet >= 10 {
                out.push(char::from(b'0' + octet / 10 % 10));
            }
            out.push(char::from(b'0' + octet % 10));
        }
        return out;
    }
    let mut buf = [0u8; 64];
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    match write!(cursor, "{ip}") {
        Ok(()) => {
            let n = usize::try_from(cursor.position()).unwrap_or(0);
            String::from_utf8_lossy(&buf[..n]).into_owned()
        }
        Err(_) => ip.to_string(),
    }
}

/// Everything the event needs besides the route: the request, its body, the caller and
/// the ids.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct EventSource<'a> {
    /// The request head.
    pub parts: &'a Parts,
    /// The raw body.
    pub body: &'a [u8],
    /// The peer's address (`requestContext.sourceIp`).
    pub source_ip: IpAddr,
    /// This request's id (`requestContext.requestId`, header `x-api-requestid`).
    pub request_id: &'a str,
    /// The gateway's service id (`requestContext.serviceId`).
    pub service_id: &'a str,
}

impl<'a> EventSource<'a> {
    /// A source from its parts.
    pub fn new(
        parts: &'a Parts,
        body: &'a [u8],
        source_ip: IpAddr,
        request_id: &'a str,
        service_id: &'a str,
    ) -> Self {
        Self {
            parts,
            body,
            source_ip,
            request_id,
            service_id,
        }
    }
}

/// Builds the event API Gateway sends for a request that matched `matched`.
///
/// - `headers`: every request header, lower-case names; a header sent several times is
///   joined with `, ` (`cookie` with `; `); `host` comes from the URI for HTTP/2; the
///   gateway adds `x-api-requestid`.
/// - `body`: the body as a string, absent when empty; a body that is not UTF-8 is Base64
///   with `isBase64Encoded: true`.
/// - `queryStringParameters`/`headerParameters`: only the parameters the route declares.
/// - `stageVariables`: the route's, or `{"stage": <stage>}` when it has none.
pub fn build_event(matched: &RouteMatch<'_>, source: EventSource<'_>) -> ApiGatewayRequest {
    // The JSON form is the one source of truth; the typed form reads it back. It cannot
    // fail (every field is built with the type the event has), and never panics if it did.
    serde_json::from_value(build_event_json(matched, source)).unwrap_or_default()
}

fn strings(map: BTreeMap<String, String>) -> Value {
    let mut out = Map::new();
    for (k, v) in map {
        out.insert(k, Value::String(v));
    }
    Value::Object(out)
}

/// [`build_event`] as JSON, built directly (what the server hands the invoker: no
/// intermediate typed value to copy).
pub fn build_event_json(matched: &RouteMatch<'_>, source: EventSource<'_>) -> Value {
    build_event_from(
        RouteMatch {
            route: matched.route,
            path_parameters: matched.path_parameters.clone(),
            path: matched.path.clone(),
        },
        source,
    )
}

/// [`build_event_json`] of a match the caller is done with: its path and parameters move
/// into the event.
pub(crate) fn build_event_from(matched: RouteMatch<'_>, source: EventSource<'_>) -> Value {
    let route = matched.route;
    let parts = source.parts;

    let mut headers: Map<String, Value> = Map::new();
    for name in parts.headers.keys() {
        let mut values = parts.headers.get_all(name).iter();
        let mut joined = values
            .next()
            .map(|v| header_text(v).into_owned())
            .unwrap_or_default();
        let sep = if name == http::header::COOKIE {
            "; "
        } else {
            ", "
        };
        for v in values {
            joined.push_str(sep);
            joined.push_str(&header_text(v));
        }
        headers.insert(name.as_str().to_string(), Value::String(joined));
    }
    if !headers.contains_key("host") {
        if let Some(authority) = parts.uri.authority() {
            headers.insert("host".into(), authority.as_str().into());
        }
    }
    headers.insert(REQUEST_ID_HEADER.into(), source.request_id.into());

    let query_string = parse_query(parts.uri.query().unwrap_or(""));
    let mut query_string_parameters = Map::new();
    for name in &route.query_parameters {
        if let Some(value) = query_string.get(name) {
            let value = Value::String(value.first().unwrap_or("").to_string());
            query_string_parameters.insert(name.clone(), value);
        }
    }
    let mut header_parameters = Map::new();
    for name in &route.header_parameters {
        if let Some(value) = headers.get(&name.to_ascii_lowercase()) {
            header_parameters.insert(name.clone(), value.clone());
        }
    }
    let stage_variables = if route.stage_variables.is_empty() {
        let mut stage = Map::new();
        stage.insert("stage".into(), route.stage.as_str().into());
        Value::Object(stage)
    } else {
        strings(route.stage_variables.clone())
    };

    // Maps built from their entries in key order: one bulk build instead of a search and
    // an insert per key (the event is the largest part of a request's cost).
    let context = Map::from_iter([
        ("httpMethod".into(), route.method.as_str().into()),
        ("identity".into(), Value::Object(Map::new())),
        ("path".into(), route.path.path().into()),
        ("requestId".into(), source.request_id.into()),
        ("serviceId".into(), source.service_id.into()),
        ("sourceIp".into(), ip_text(source.source_ip).into()),
        ("stage".into(), route.stage.as_str().into()),
    ]);
    let mut query = Map::new();
    for (k, v) in query_string {
        let v = match v {
            QueryValue::Single(s) => Value::String(s),
            QueryValue::Multi(m) => Value::Array(m.into_iter().map(Value::String).collect()),
            QueryValue::Flag(b) => Value::Bool(b),
            // A shape added to QueryValue later keeps its own serialization.
            #[allow(unreachable_patterns)]
            other => serde_json::to_value(other).unwrap_or(Value::Null),
        };
        query.insert(k, v);
    }
    let mut event = Map::from_iter([
        ("headerParameters".into(), Value::Object(header_parameters)),
        ("headers".into(), Value::Object(headers)),
        ("httpMethod".into(), parts.method.as_str().into()),
        ("path".into(), Value::String(matched.path)),
        ("pathParameters".into(), strings(matched.path_parameters)),
        ("queryString".into(), Value::Object(query)),
        (
            "queryStringParameters".into(),
            Value::Object(query_string_parameters),
        ),
        ("requestContext".into(), Value::Object(context)),
        ("stageVariables".into(), stage_variables),
    ]);
    if !source.body.is_empty() {
        match std::str::from_utf8(source.body) {
            Ok(text) => {
                event.insert("body".into(), text.into());
            }
            Err(_) => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(source.body);
                event.insert("body".into(), encoded.into());
                event.insert("isBase64Encoded".into(), true.into());
            }
        }
    }
    Value::Object(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_ips_are_written_as_display_writes_them() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "9.10.99.100",
            "255.255.255.255",
            "10.0.200.7",
            "::1",
            "2001:db8::8a2e:370:7334",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(ip), ip.to_string());
        }
    }
}
