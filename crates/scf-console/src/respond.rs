//! Building the console's responses, and reading forms and query strings.

use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use http::{Response, StatusCode};
use serde_json::{json, Value};

use scf_http::ResponseBody;

use crate::access::Refusal;

/// What every console response carries: no framing by other sites, no content sniffing,
/// scripts and styles from the console only, no referrer to other sites.
pub(crate) fn secure(response: &mut Response<ResponseBody>) {
    let h = response.headers_mut();
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    if !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

fn with_type(
    status: StatusCode,
    body: impl Into<ResponseBody>,
    kind: &'static str,
) -> Response<ResponseBody> {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    r
}

pub(crate) fn html(status: StatusCode, page: &str) -> Response<ResponseBody> {
    with_type(status, page.to_string(), "text/html; charset=utf-8")
}

pub(crate) fn json(status: StatusCode, value: &Value) -> Response<ResponseBody> {
    with_type(status, value.to_string(), "application/json")
}

pub(crate) fn json_error(status: StatusCode, message: &str) -> Response<ResponseBody> {
    json(status, &json!({ "error": message }))
}

pub(crate) fn asset(body: &'static [u8], kind: &'static str) -> Response<ResponseBody> {
    let mut r = with_type(StatusCode::OK, bytes::Bytes::from_static(body), kind);
    r.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    r
}

/// 303 See Other to `to`, setting `cookie` when given.
pub(crate) fn redirect(to: &'static str, cookie: Option<String>) -> Response<ResponseBody> {
    let mut r = Response::new(ResponseBody::default());
    *r.status_mut() = StatusCode::SEE_OTHER;
    r.headers_mut()
        .insert(LOCATION, HeaderValue::from_static(to));
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().insert(SET_COOKIE, c);
    }
    r
}

pub(crate) fn refusal(r: &Refusal) -> Response<ResponseBody> {
    match r {
        Refusal::NotLoopback(why) | Refusal::Forbidden(why) => {
            json_error(StatusCode::FORBIDDEN, why)
        }
        Refusal::SignIn => json_error(
            StatusCode::UNAUTHORIZED,
            "sign in first: POST /console/login with a SecretId and its SecretKey",
        ),
    }
}

/// The pairs of an `application/x-www-form-urlencoded` body or a query string.
pub(crate) fn form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Percent-decoding with `+` as a space; invalid escapes are kept as written.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_percent_decoded() {
        let f = form(b"secret_id=AKID%2Fx&secret_key=a+b%3D%3D&bad=%zz&end=%4");
        assert_eq!(
            f,
            vec![
                ("secret_id".to_string(), "AKID/x".to_string()),
                ("secret_key".to_string(), "a b==".to_string()),
                ("bad".to_string(), "%zz".to_string()),
                ("end".to_string(), "%4".to_string()),
            ]
        );
    }
}
