//! Who may use the console: the API's peer rule without credentials, a signed-in session
//! with them, and the cross-site checks on every state-changing request.
//!
//! - **No credentials**: loopback peers only (the cloud API's rule, through
//!   [`scf_http::peer`]), and the `Host` header must name a loopback host (`localhost`,
//!   `127.0.0.1`, `[::1]`), so that a DNS-rebinding page cannot read the console through a
//!   name of its own. The CSRF token is one per console, handed out by
//!   `GET /console/api/session` (which a cross-site page cannot read).
//! - **Credentials**: a session after `POST /console/login` with a SecretId and its
//!   SecretKey (compared in constant time). The session is a random 256-bit token in a
//!   cookie `HttpOnly; SameSite=Strict; Path=/console`, with a CSRF token of its own; it
//!   expires [`ConsoleConfig::session_ttl`](crate::ConsoleConfig::session_ttl) after
//!   sign-in, and at sign-out.
//! - **Every request that is not GET or HEAD** must carry `X-CSRF-Token` equal to the
//!   session's (constant time), and is refused when `Sec-Fetch-Site` says anything but
//!   `same-origin` or `none`, or `Origin` names another host than `Host`. The sign-in form
//!   itself (no session yet) is held to the `Origin`/`Sec-Fetch-Site` rule.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::HeaderMap;
use subtle::ConstantTimeEq;

use scf_http::Credentials;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "scf_console_session";

/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// At most this many sessions are kept; signing in past it drops the oldest.
const MAX_SESSIONS: usize = 1024;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not from a loopback peer while no credentials are configured (403).
    NotLoopback(String),
    /// Not signed in, or the session expired (401, or the sign-in page).
    SignIn,
    /// A state-changing request without the right CSRF token, or from another site (403).
    Forbidden(String),
}

#[derive(Debug, Clone)]
struct Session {
    csrf: String,
    secret_id: String,
    expires: Instant,
    created: Instant,
}

/// What a request is allowed as: its CSRF token and who signed in.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) csrf: String,
    /// The SecretId signed in with; `None` on loopback without credentials.
    pub(crate) secret_id: Option<String>,
}

/// The console's access rule, made from the credentials alone so that "open to anyone"
/// cannot be configured.
#[derive(Debug)]
pub(crate) struct Access {
    credentials: Credentials,
    /// The CSRF token without credentials (one per console).
    loopback_csrf: String,
    sessions: Mutex<HashMap<String, Session>>,
    ttl: Duration,
}

/// `n` random bytes from the operating system as lowercase hex.
pub(crate) fn random_hex(n: usize) -> Result<String, String> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| format!("no randomness from the system: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl Access {
    pub(crate) fn new(credentials: Credentials, ttl: Duration) -> Result<Self, String> {
        Ok(Self {
            credentials,
            loopback_csrf: random_hex(32)?,
            sessions: Mutex::new(HashMap::new()),
            ttl,
        })
    }

    /// Whether a sign-in is needed (credentials are configured).
    pub(crate) fn needs_sign_in(&self) -> bool {
        !self.credentials.is_empty()
    }

    /// The grant of a request, or why it has none.
    pub(crate) fn grant(
        &self,
        peer: Option<SocketAddr>,
        headers: &HeaderMap,
    ) -> Result<Grant, Refusal> {
        if !self.needs_sign_in() {
            match peer {
                Some(p) if p.ip().to_canonical().is_loopback() => {}
                Some(p) => {
                    return Err(Refusal::NotLoopback(format!(
                        "the console without credentials answers loopback peers only, not {}",
                        p.ip()
                    )))
                }
                None => {
                    return Err(Refusal::NotLoopback(
                        "the console without credentials answers loopback peers only, and this request's peer is unknown".into(),
                    ))
                }
            }
            let host = header(headers, "host").unwrap_or("");
            if !is_loopback_host(host) {
                return Err(Refusal::NotLoopback(format!(
                    "the console without credentials answers requests for a loopback host only (localhost, 127.0.0.1, [::1]), not Host: {host}"
                )));
            }
            return Ok(Grant {
                csrf: self.loopback_csrf.clone(),
                secret_id: None,
            });
        }
        let token = cookie(headers, SESSION_COOKIE).ok_or(Refusal::SignIn)?;
        let mut sessions = lock(&self.sessions);
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        let session = sessions.get(token).ok_or(Refusal::SignIn)?;
        Ok(Grant {
            csrf: session.csrf.clone(),
            secret_id: Some(session.secret_id.clone()),
        })
    }

    /// Signs in with a SecretId and SecretKey: the new session's token, or `None` when the
    /// pair is not one of the credentials.
    pub(crate) fn sign_in(
        &self,
        secret_id: &str,
        secret_key: &str,
    ) -> Result<Option<String>, String> {
        // An unknown SecretId is compared against a key of the same length as the one
        // given, so that the answer takes as long as for a known one.
        let known = self.credentials.secret_key(secret_id);
        let expected = known.unwrap_or(secret_key);
        let matches = ct_eq(expected, secret_key) & known.is_some();
        if !matches {
            return Ok(None);
        }
        let token = random_hex(32)?;
        let now = Instant::now();
        let session = Session {
            csrf: random_hex(32)?,
            secret_id: secret_id.to_string(),
            expires: now + self.ttl,
            created: now,
        };
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, s| s.expires > now);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(k, _)| k.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(token.clone(), session);
        Ok(Some(token))
    }

    /// Ends the session of these headers, if any.
    pub(crate) fn sign_out(&self, headers: &HeaderMap) {
        if let Some(token) = cookie(headers, SESSION_COOKIE) {
            lock(&self.sessions).remove(token);
        }
    }

    /// The `Set-Cookie` value of a new session.
    pub(crate) fn session_cookie(&self, token: &str) -> String {
        format!(
            "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/console; Max-Age={}",
            self.ttl.as_secs()
        )
    }
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn cleared_cookie() -> String {
    format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/console; Max-Age=0")
}

/// The cross-site rule of a state-changing request: `Sec-Fetch-Site` is `same-origin` or
/// `none` when present, and `Origin`, when present, names the host the request was sent to.
pub(crate) fn check_same_origin(headers: &HeaderMap) -> Result<(), Refusal> {
    if let Some(site) = header(headers, "sec-fetch-site") {
        if site != "same-origin" && site != "none" {
            return Err(Refusal::Forbidden(format!(
                "a cross-site request (Sec-Fetch-Site: {site}) may not change anything"
            )));
        }
    }
    if let Some(origin) = header(headers, "origin") {
        let host = header(headers, "host").unwrap_or("");
        let origin_host = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .unwrap_or("");
        if origin_host.is_empty() || !origin_host.eq_ignore_ascii_case(host) {
            return Err(Refusal::Forbidden(format!(
                "a request from origin {origin} may not change anything on {host}"
            )));
        }
    }
    Ok(())
}

/// The CSRF rule: [`check_same_origin`], and `X-CSRF-Token` equal to the grant's.
pub(crate) fn check_csrf(headers: &HeaderMap, grant: &Grant) -> Result<(), Refusal> {
    check_same_origin(headers)?;
    match header(headers, CSRF_HEADER) {
        Some(token) if ct_eq(token, &grant.csrf) => Ok(()),
        Some(_) => Err(Refusal::Forbidden("the CSRF token is wrong".into())),
        None => Err(Refusal::Forbidden(format!(
            "a request that changes something must carry the {CSRF_HEADER} header"
        ))),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether a `Host` header names a loopback host (with or without a port).
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_told_from_others() {
        for h in [
            "localhost",
            "localhost:9000",
            "127.0.0.1:1",
            "[::1]:80",
            "127.9.9.9",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "",
            "evil.example",
            "evil.example:9000",
            "10.0.0.1",
            "localhost.evil",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            "cookie",
            "a=1; scf_console_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
