//! Signing: the canonical request, the string to sign, the HMAC chain and its cached keys,
//! and [`SigningRequest`] for clients (tests, load generators).

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{ALGORITHM, SCF_SERVICE};

type HmacSha256 = Hmac<Sha256>;

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

pub(super) fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
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
pub(super) struct SigningKeys(std::sync::Arc<std::sync::Mutex<Vec<DerivedKey>>>);

struct DerivedKey {
    secret_key: String,
    date: String,
    service: String,
    key: [u8; 32],
}

impl SigningKeys {
    const MAX: usize = 32;

    pub(super) fn get(&self, secret_key: &str, date: &str, service: &str) -> [u8; 32] {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_date_is_utc() {
        assert_eq!(scope_date(1551113065).as_deref(), Some("2019-02-25"));
        assert_eq!(scope_date(1700000000).as_deref(), Some("2023-11-14"));
        assert_eq!(scope_date(i64::MAX), None);
    }
}
