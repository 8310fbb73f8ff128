//! TC3-HMAC-SHA256: verifying (and, for tests and load generators, making) the signature
//! of a Tencent Cloud API 3.0 request.
//!
//! The algorithm is the documented one (scf-spec 1.1). What the official clients really
//! sign differs from it in two ways, and the [`Verifier`] accepts exactly those:
//!
//! | client | service in the scope | `host:` line signed |
//! |---|---|---|
//! | Python SDK | `scf` | the `Host` header as sent (`127.0.0.1:PORT`) |
//! | tccli | `scf` | the `Host` header as sent, scheme included (`http://127.0.0.1:PORT`) |
//! | Node SDK (N1, N2) | first `.`-label of the endpoint (`127`, or `scf` for `scf.…:PORT`) | the host without the port (`127.0.0.1`) |
//!
//! Any other service name, or any other spelling of the host, fails with
//! `AuthFailure.SignatureFailure`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use hmac::{Hmac, Mac};
use http::header::{HeaderMap, AUTHORIZATION, HOST};
use http::Method;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

/// The only algorithm API 3.0 signs JSON requests with.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// How far `X-TC-Timestamp` may be from the server's clock.
pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(300);
/// The service name SCF's own endpoint signs with.
pub const SCF_SERVICE: &str = "scf";
/// The `X-TC-Content-SHA256` value that makes the signed payload hash that of this literal.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

type HmacSha256 = Hmac<Sha256>;

/// SecretId → SecretKey pairs the server accepts.
///
/// `Debug` prints the SecretIds only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    keys: BTreeMap<String, String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Credentials {
    /// No credentials: the server then runs unauthenticated (loopback only).
    pub fn new() -> Self {
        Self::default()
    }

    /// Credentials holding one pair.
    pub fn single(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self::new().with(secret_id, secret_key)
    }

    /// Adds a pair (replacing the key of an existing SecretId); for chaining.
    pub fn with(mut self, secret_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        self.insert(secret_id, secret_key);
        self
    }

    /// Adds a pair, replacing the key of an existing SecretId.
    pub fn insert(&mut self, secret_id: impl Into<String>, secret_key: impl Into<String>) {
        self.keys.insert(secret_id.into(), secret_key.into());
    }

    /// Whether no pair is configured.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The SecretKey of `secret_id`.
    pub fn secret_key(&self, secret_id: &str) -> Option<&str> {
        self.keys.get(secret_id).map(String::as_str)
    }
}

/// Why a request's signature was refused; each variant is one API error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// `Authorization` is absent or not of the TC3 form (`AuthFailure.InvalidAuthorization`).
    #[error("Authorization header is invalid: {reason}. Expected `TC3-HMAC-SHA256 Credential=<SecretId>/<YYYY-MM-DD>/<service>/tc3_request, SignedHeaders=content-type;host, Signature=<64 hex digits>`.")]
    InvalidAuthorization {
        /// What is wrong with it.
        reason: String,
    },
    /// `X-TC-Timestamp` is absent (`MissingParameter`).
    #[error("The request is missing a required parameter `X-TC-Timestamp` (the signing time in UNIX seconds).")]
    MissingTimestamp,
    /// `X-TC-Timestamp` is not an integer (`InvalidParameterValue`).
    #[error("The value `{value}` of `X-TC-Timestamp` is invalid: it must be the signing time in UNIX seconds.")]
    InvalidTimestamp {
        /// The value sent.
        value: String,
    },
    /// No such SecretId (`AuthFailure.SecretIdNotFound`).
    #[error(
        "The SecretId `{secret_id}` is not found, please ensure that your SecretId is correct."
    )]
    SecretIdNotFound {
        /// The SecretId sent.
        secret_id: String,
    },
    /// The timestamp is too far from now, or the scope date is not its UTC date
    /// (`AuthFailure.SignatureExpire`).
    #[error("Signature expired: {reason}.")]
    SignatureExpire {
        /// Which rule failed, with the values.
        reason: String,
    },
    /// The signature does not match (`AuthFailure.SignatureFailure`).
    #[error(
        "The provided credentials could not be validated. Please check your signature is correct."
    )]
    SignatureFailure,
}

/// The parts of a parsed `Authorization: TC3-HMAC-SHA256 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Authorization {
    /// The SecretId.
    pub secret_id: String,
    /// The scope date, `YYYY-MM-DD`.
    pub date: String,
    /// The scope's service name.
    pub service: String,
    /// Lower-case header names, in the order signed.
    pub signed_headers: Vec<String>,
    /// The signature's 32 bytes.
    pub signature: [u8; 32],
}

impl Authorization {
    /// Parses an `Authorization` header value.
    pub fn parse(value: &str) -> Result<Self, AuthError> {
        let bad = |reason: &str| AuthError::InvalidAuthorization {
            reason: reason.to_string(),
        };
        let rest = value
            .strip_prefix(ALGORITHM)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or_else(|| bad("it must start with `TC3-HMAC-SHA256 `"))?;
        let (mut credential, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let part = part.trim();
            let (key, val) = part
                .split_once('=')
                .ok_or_else(|| bad("each part must be `Name=value`"))?;
            let slot = match key {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed,
                "Signature" => &mut signature,
                _ => return Err(bad(&format!("unknown part `{key}`"))),
            };
            if slot.replace(val).is_some() {
                return Err(bad(&format!("`{key}` appears twice")));
            }
        }
        let credential = credential.ok_or_else(|| bad("`Credential` is missing"))?;
        let signed = signed.ok_or_else(|| bad("`SignedHeaders` is missing"))?;
        let signature = signature.ok_or_else(|| bad("`Signature` is missing"))?;

        let scope: Vec<&str> = credential.split('/').collect();
        let [secret_id, date, service, terminator] = scope[..] else {
            return Err(bad(
                "`Credential` must be `<SecretId>/<YYYY-MM-DD>/<service>/tc3_request`",
            ));
        };
        if terminator != "tc3_request" {
            return Err(bad("the credential scope must end in `tc3_request`"));
        }
        if secret_id.is_empty() || service.is_empty() {
            return Err(bad("the SecretId and the service must not be empty"));
        }
        if parse_date(date).is_none() {
            return Err(bad("the credential date must be `YYYY-MM-DD`"));
        }
        let signed_headers: Vec<String> = signed.split(';').map(str::to_string).collect();
        let header_name_ok = |h: &String| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if !signed_headers.iter().all(header_name_ok) {
            return Err(bad(
                "`SignedHeaders` must be lower-case header names joined by `;`",
            ));
        }
        for required in ["content-type", "host"] {
            if !signed_headers.iter().any(|h| h == required) {
                return Err(bad(&format!("`SignedHeaders` must include `{required}`")));
            }
        }
        let mut sig = [0u8; 32];
        if signature.len() != 64 || hex::decode_to_slice(signature, &mut sig).is_err() {
            return Err(bad("`Signature` must be 64 hex digits"));
        }
        Ok(Self {
            secret_id: secret_id.to_string(),
            date: date.to_string(),
            service: service.to_string(),
            signed_headers,
            signature: sig,
        })
    }
}

fn parse_date(date: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    (date.len() == 10)
        .then(|| time::Date::parse(date, &format).ok())
        .flatten()
}

/// The `YYYY-MM-DD` UTC date of a UNIX timestamp, as the credential scope spells it.
pub fn scope_date(timestamp: i64) -> Option<String> {
    let t = OffsetDateTime::from_unix_timestamp(timestamp).ok()?;
    let d = t.date();
    Some(format!(
        "{:04}-{:02}-{:02}",
        d.year(),
        u8::from(d.month()),
        d.day()
    ))
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// `CanonicalRequest`: method, `/`, query, the `name:value\n` lines of the signed
/// headers, the signed header names, and the payload hash, joined by `\n`.
///
/// `headers` are `(lower-case name, value)` in signing order; values are used as given
/// (the caller trims and lower-cases them as the algorithm says).
pub fn canonical_request(
    method: &str,
    query: &str,
    headers: &[(&str, &str)],
    payload_hash: &str,
) -> String {
    let mut lines = String::new();
    for (name, value) in headers {
        lines.push_str(name);
        lines.push(':');
        lines.push_str(value);
        lines.push('\n');
    }
    let names = headers
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(";");
    format!("{method}\n/\n{query}\n{lines}\n{names}\n{payload_hash}")
}

/// `StringToSign` for a canonical request.
pub fn string_to_sign(
    timestamp: i64,
    date: &str,
    service: &str,
    canonical_request: &str,
) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{date}/{service}/tc3_request\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The signature's raw bytes: HMAC chain `TC3`+key → date → service → `tc3_request`,
/// then HMAC of the string to sign.
pub fn signature_bytes(
    secret_key: &str,
    date: &str,
    service: &str,
    string_to_sign: &str,
) -> [u8; 32] {
    hmac(
        &signing_key(secret_key, date, service),
        string_to_sign.as_bytes(),
    )
}

/// The key that signs a day's requests to `service`: the first three HMACs of the chain,
/// the same for every request of that day.
fn signing_key(secret_key: &str, date: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac(&k_date, service.as_bytes());
    hmac(&k_service, b"tc3_request")
}

/// Signing keys already derived, by (SecretKey, date, service): three of the four HMACs
/// of every request signed on the same day. A few entries (one per credential, service
/// spelling and day in use), searched in order; past [`SigningKeys::MAX`] the oldest goes.
#[derive(Clone, Default)]
struct SigningKeys(std::sync::Arc<std::sync::Mutex<Vec<DerivedKey>>>);

struct DerivedKey {
    secret_key: String,
    date: String,
    service: String,
    key: [u8; 32],
}

impl SigningKeys {
    const MAX: usize = 32;

    fn get(&self, secret_key: &str, date: &str, service: &str) -> [u8; 32] {
        let mut keys = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = keys
            .iter()
            .find(|k| k.secret_key == secret_key && k.date == date && k.service == service)
        {
            return found.key;
        }
        if keys.len() >= Self::MAX {
            keys.remove(0);
        }
        let key = signing_key(secret_key, date, service);
        keys.push(DerivedKey {
            secret_key: secret_key.into(),
            date: date.into(),
            service: service.into(),
            key,
        });
        key
    }
}

impl fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKeys")
    }
}

/// The signature as lower-case hex.
pub fn signature(secret_key: &str, date: &str, service: &str, string_to_sign: &str) -> String {
    hex::encode(signature_bytes(secret_key, date, service, string_to_sign))
}

/// What a client signs: enough to build the `Authorization` header the official Python
/// SDK sends for a POST (`SignedHeaders=content-type;host`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SigningRequest<'a> {
    /// SecretId.
    pub secret_id: &'a str,
    /// SecretKey.
    pub secret_key: &'a str,
    /// Service name in the scope (`scf`).
    pub service: &'a str,
    /// The `host:` value signed.
    pub host: &'a str,
    /// The `content-type:` value signed.
    pub content_type: &'a str,
    /// `X-TC-Timestamp`.
    pub timestamp: i64,
    /// The raw body.
    pub payload: &'a [u8],
}

impl<'a> SigningRequest<'a> {
    /// A request to sign as the Python SDK does: service `scf`, `application/json`.
    pub fn new(
        secret_id: &'a str,
        secret_key: &'a str,
        host: &'a str,
        timestamp: i64,
        payload: &'a [u8],
    ) -> Self {
        Self {
            secret_id,
            secret_key,
            service: SCF_SERVICE,
            host,
            content_type: "application/json",
            timestamp,
            payload,
        }
    }

    /// Replaces the service name; for chaining.
    pub fn with_service(mut self, service: &'a str) -> Self {
        self.service = service;
        self
    }

    /// Replaces the content type; for chaining.
    pub fn with_content_type(mut self, content_type: &'a str) -> Self {
        self.content_type = content_type;
        self
    }

    /// The `Authorization` header value (`None` for a timestamp outside years 1–9999).
    pub fn authorization(&self) -> Option<String> {
        let date = scope_date(self.timestamp)?;
        let creq = canonical_request(
            "POST",
            "",
            &[("content-type", self.content_type), ("host", self.host)],
            &sha256_hex(self.payload),
        );
        let sts = string_to_sign(self.timestamp, &date, self.service, &creq);
        let sig = signature(self.secret_key, &date, self.service, &sts);
        Some(format!(
            "{ALGORITHM} Credential={}/{date}/{}/tc3_request, SignedHeaders=content-type;host, Signature={sig}",
            self.secret_id, self.service
        ))
    }
}

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
        }
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

    #[test]
    fn scope_date_is_utc() {
        assert_eq!(scope_date(1551113065).as_deref(), Some("2019-02-25"));
        assert_eq!(scope_date(1700000000).as_deref(), Some("2023-11-14"));
        assert_eq!(scope_date(i64::MAX), None);
    }
}
