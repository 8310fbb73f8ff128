//! The `Authorization: TC3-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header.

use super::{AuthError, ALGORITHM};

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
