//! Verifying a request's signature the ways the official clients sign it.

use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderMap, AUTHORIZATION, HOST};
use http::Method;
use subtle::ConstantTimeEq;

use super::replay::ReplayCache;
use super::sign::{canonical_request, hmac, scope_date, sha256_hex, string_to_sign, SigningKeys};
use super::{
    AuthError, Authorization, Credentials, DEFAULT_MAX_SKEW, SCF_SERVICE, UNSIGNED_PAYLOAD,
};

/// Who signed a verified request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// The SecretId that signed it.
    pub secret_id: String,
}

/// Checks TC3-HMAC-SHA256 signatures against a set of [`Credentials`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Verifier {
    /// The accepted pairs.
    pub credentials: Credentials,
    /// The service name the endpoint answers for (`scf`).
    pub service: String,
    /// How far the timestamp may be from now; `None` disables the check (for
    /// known-answer tests only).
    pub max_skew: Option<Duration>,
    keys: SigningKeys,
    replay: Option<Arc<ReplayCache>>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new(Credentials::default())
    }
}

fn single_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, AuthError> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::InvalidAuthorization {
            reason: format!("the signed header `{name}` appears more than once"),
        });
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| AuthError::InvalidAuthorization {
            reason: format!("the header `{name}` is not visible ASCII"),
        })
}

/// The host without its port, for a plain `host[:port]` authority; `None` when there is
/// no port to strip or the value is not an authority (tccli's `http://…`).
fn strip_port(host: &str) -> Option<&str> {
    if host.contains("://") || host.contains('/') {
        return None;
    }
    let (name, port) = host.rsplit_once(':')?;
    let is_port = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    let bracketed = name.starts_with('[') && name.ends_with(']');
    (is_port && (bracketed || !name.contains(':'))).then_some(name)
}

impl Verifier {
    /// A verifier for SCF (`service` = `scf`) with the 5-minute window.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            service: SCF_SERVICE.to_string(),
            max_skew: Some(DEFAULT_MAX_SKEW),
            keys: SigningKeys::default(),
            replay: None,
        }
    }

    /// Turns the replay cache on or off (off by default); for chaining. With it on, a
    /// signature is accepted once: the same signed request sent again while its
    /// timestamp is inside the window is refused (`AuthFailure.SignatureExpire`). Clones
    /// of the verifier share the cache. See the [`auth`](crate::auth) module docs.
    pub fn with_replay_cache(mut self, on: bool) -> Self {
        self.replay = on.then(|| Arc::new(ReplayCache::default()));
        self
    }

    /// Whether the replay cache is on.
    pub fn has_replay_cache(&self) -> bool {
        self.replay.is_some()
    }

    /// Replaces the service name; for chaining.
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// Replaces the clock window; for chaining.
    pub fn with_max_skew(mut self, max_skew: Option<Duration>) -> Self {
        self.max_skew = max_skew;
        self
    }

    /// The checks that need no body: the `Authorization` form, a known SecretId, the
    /// timestamp (window and scope date). A server runs them before it reads the body, so
    /// that an unsigned or wrongly keyed request costs no body in memory; [`verify`]
    /// runs them again with the signature.
    ///
    /// [`verify`]: Verifier::verify
    pub fn check_headers(&self, headers: &HeaderMap, now: i64) -> Result<(), AuthError> {
        self.precheck(headers, now).map(drop)
    }

    fn precheck(
        &self,
        headers: &HeaderMap,
        now: i64,
    ) -> Result<(Authorization, &str, i64), AuthError> {
        let raw = single_header(headers, AUTHORIZATION.as_str())?.ok_or_else(|| {
            AuthError::InvalidAuthorization {
                reason: "the header is missing".to_string(),
            }
        })?;
        let auth = Authorization::parse(raw)?;
        let secret_key = self
            .credentials
            .secret_key(&auth.secret_id)
            .ok_or_else(|| AuthError::SecretIdNotFound {
                secret_id: auth.secret_id.clone(),
            })?;

        let ts_raw =
            single_header(headers, "x-tc-timestamp")?.ok_or(AuthError::MissingTimestamp)?;
        let timestamp: i64 = ts_raw
            .trim()
            .parse()
            .map_err(|_| AuthError::InvalidTimestamp {
                value: ts_raw.to_string(),
            })?;
        if let Some(max) = self.max_skew {
            let skew = now.abs_diff(timestamp);
            if skew > max.as_secs() {
                return Err(AuthError::SignatureExpire {
                    reason: format!(
                        "X-TC-Timestamp {timestamp} is {skew} s away from the server time {now}; at most {} s is allowed",
                        max.as_secs()
                    ),
                });
            }
        }
        let ts_date = scope_date(timestamp).ok_or_else(|| AuthError::InvalidTimestamp {
            value: ts_raw.to_string(),
        })?;
        if ts_date != auth.date {
            return Err(AuthError::SignatureExpire {
                reason: format!(
                    "the credential date {} is not the UTC date {ts_date} of X-TC-Timestamp {timestamp}",
                    auth.date
                ),
            });
        }
        Ok((auth, secret_key, timestamp))
    }

    /// Verifies a request: its method, query (empty for POST), headers and the raw body
    /// bytes as received, at `now` (UNIX seconds).
    ///
    /// `authority` is the request URI's authority, used as the host when there is no
    /// `Host` header (HTTP/2).
    ///
    /// Checks, in order: the `Authorization` form, the SecretId, the timestamp (window
    /// and scope date), then the signature in constant time.
    pub fn verify(
        &self,
        method: &Method,
        query: &str,
        authority: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, AuthError> {
        let (auth, secret_key, timestamp) = self.precheck(headers, now)?;

        let host = match single_header(headers, HOST.as_str())? {
            Some(h) => h,
            None => authority.ok_or(AuthError::SignatureFailure)?,
        };
        let host = host.trim();
        // Which (service, host line) pairs the official clients produce; see the module docs.
        let host_no_port = strip_port(host);
        let node_service = host.split('.').next().unwrap_or(host);
        let mut candidates: Vec<&str> = Vec::with_capacity(2);
        if auth.service == self.service {
            candidates.push(host);
            candidates.extend(host_no_port);
        } else if auth.service == node_service {
            candidates.push(host_no_port.unwrap_or(host));
        } else {
            return Err(AuthError::SignatureFailure);
        }

        let payload_hash = match single_header(headers, "x-tc-content-sha256")? {
            Some(v) if v.trim() == UNSIGNED_PAYLOAD => sha256_hex(UNSIGNED_PAYLOAD.as_bytes()),
            _ => sha256_hex(body),
        };
        let query = if method == Method::POST { "" } else { query };

        let signing_key = self.keys.get(secret_key, &auth.date, &auth.service);
        // Each comparison is constant-time. Stopping at the first match tells a client only
        // which spelling of its own Host header it signed, nothing about the signature.
        for candidate in candidates {
            for lowercase in [true, false] {
                let mut values: Vec<(&str, String)> = Vec::new();
                for name in &auth.signed_headers {
                    let value = if name == "host" {
                        candidate.to_string()
                    } else {
                        single_header(headers, name)?
                            .ok_or_else(|| AuthError::InvalidAuthorization {
                                reason: format!("the signed header `{name}` is not in the request"),
                            })?
                            .trim()
                            .to_string()
                    };
                    values.push((name, value));
                }
                let lowered: Vec<(&str, String)> = values
                    .iter()
                    .map(|(n, v)| (*n, v.to_ascii_lowercase()))
                    .collect();
                // The documented form lower-cases values; the SDKs sign them as sent. Try
                // the second only when it differs.
                let chosen = if lowercase {
                    &lowered
                } else if lowered == values {
                    continue;
                } else {
                    &values
                };
                let pairs: Vec<(&str, &str)> =
                    chosen.iter().map(|(n, v)| (*n, v.as_str())).collect();
                let creq = canonical_request(method.as_str(), query, &pairs, &payload_hash);
                let sts = string_to_sign(timestamp, &auth.date, &auth.service, &creq);
                let expected = hmac(&signing_key, sts.as_bytes());
                if bool::from(expected.ct_eq(&auth.signature)) {
                    if let Some(cache) = &self.replay {
                        let window = self.max_skew.unwrap_or(DEFAULT_MAX_SKEW).as_secs();
                        if !cache.first_use(auth.signature, timestamp, now, window) {
                            return Err(AuthError::Replayed { window });
                        }
                    }
                    return Ok(Verified {
                        secret_id: auth.secret_id,
                    });
                }
            }
        }
        Err(AuthError::SignatureFailure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_port_handles_authorities_only() {
        assert_eq!(strip_port("127.0.0.1:9000"), Some("127.0.0.1"));
        assert_eq!(strip_port("[::1]:9000"), Some("[::1]"));
        assert_eq!(strip_port("::1"), None);
        assert_eq!(strip_port("127.0.0.1"), None);
        assert_eq!(strip_port("http://127.0.0.1:9000"), None);
        assert_eq!(strip_port("host:"), None);
    }
}
