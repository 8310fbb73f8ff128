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
//!
//! # Replays
//!
//! The signature covers the timestamp, the headers signed and the body, but no nonce: a
//! captured request can be sent again, unchanged, for as long as its `X-TC-Timestamp` is
//! within [`DEFAULT_MAX_SKEW`] (5 minutes either way) of the server's clock, and it is
//! accepted each time. SCF's own endpoint behaves the same, so that is the default here.
//! Over plain HTTP anyone who can see a request can replay it (an `Invoke` runs the
//! function again); use TLS in front of a public endpoint. For deployments that want
//! more, the optional replay cache ([`Verifier::with_replay_cache`],
//! `ServerConfig::replay_cache`, `scf serve --replay-cache`) accepts each signature once
//! and refuses it again within the window (`AuthFailure.SignatureExpire`); it holds the
//! signatures of one window (about 50 bytes each), and clients must sign a retried
//! request again, as the SDKs do.

mod header;
mod replay;
mod sign;
mod verify;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

pub use header::Authorization;
pub use sign::{
    canonical_request, scope_date, sha256_hex, signature, signature_bytes, string_to_sign,
    SigningRequest,
};
pub use verify::{Verified, Verifier};

/// The only algorithm API 3.0 signs JSON requests with.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// How far `X-TC-Timestamp` may be from the server's clock.
pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(300);
/// The service name SCF's own endpoint signs with.
pub const SCF_SERVICE: &str = "scf";
/// The `X-TC-Content-SHA256` value that makes the signed payload hash that of this literal.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

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

    /// Credentials holding one pair, refusing an empty (or blank) SecretId or SecretKey:
    /// what a host should build from flags or environment variables, where an unset
    /// variable becomes `""`.
    ///
    /// ```
    /// use scf_http::auth::{Credentials, CredentialsError};
    /// assert!(Credentials::try_single("AKIDexample", "secret").is_ok());
    /// assert_eq!(
    ///     Credentials::try_single("AKIDexample", "").unwrap_err(),
    ///     CredentialsError::EmptySecretKey { secret_id: "AKIDexample".into() }
    /// );
    /// ```
    pub fn try_single(
        secret_id: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Result<Self, CredentialsError> {
        let mut c = Self::new();
        c.try_insert(secret_id, secret_key)?;
        Ok(c)
    }

    /// Adds a pair like [`Credentials::insert`], refusing an empty or blank SecretId or
    /// SecretKey.
    pub fn try_insert(
        &mut self,
        secret_id: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Result<(), CredentialsError> {
        let (secret_id, secret_key) = (secret_id.into(), secret_key.into());
        check_pair(&secret_id, &secret_key)?;
        self.keys.insert(secret_id, secret_key);
        Ok(())
    }

    /// The first pair with an empty or blank SecretId or SecretKey, as the error that
    /// names it. [`Server::new`](crate::Server::new) refuses such credentials, and the
    /// verifier never accepts a request signed with an empty key.
    pub fn check(&self) -> Result<(), CredentialsError> {
        self.keys
            .iter()
            .try_for_each(|(id, key)| check_pair(id, key))
    }

    /// Credentials holding one pair (unchecked; see [`Credentials::try_single`]).
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

    /// The SecretKey of `secret_id` (never an empty one: a pair with an empty key is no
    /// key).
    pub fn secret_key(&self, secret_id: &str) -> Option<&str> {
        self.keys
            .get(secret_id)
            .map(String::as_str)
            .filter(|k| !k.trim().is_empty())
    }
}

fn check_pair(secret_id: &str, secret_key: &str) -> Result<(), CredentialsError> {
    if secret_id.trim().is_empty() {
        return Err(CredentialsError::EmptySecretId);
    }
    if secret_key.trim().is_empty() {
        return Err(CredentialsError::EmptySecretKey {
            secret_id: secret_id.to_string(),
        });
    }
    Ok(())
}

/// Why a SecretId/SecretKey pair was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The SecretId is empty or blank.
    #[error("the SecretId is empty: give a SecretId (an unset variable is not one)")]
    EmptySecretId,
    /// The SecretKey is empty or blank.
    #[error("the SecretKey of SecretId `{secret_id}` is empty: give a SecretKey (an unset variable is not one)")]
    EmptySecretKey {
        /// The SecretId whose key is empty.
        secret_id: String,
    },
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
    /// The same signature was accepted before, within the timestamp window, and the
    /// replay cache is on (`AuthFailure.SignatureExpire`).
    #[error("This signature was already used: the server refuses a signed request sent a second time within the {window} s timestamp window (its replay cache is on). Sign the request again.")]
    Replayed {
        /// The window in seconds.
        window: u64,
    },
    /// The signature does not match (`AuthFailure.SignatureFailure`).
    #[error(
        "The provided credentials could not be validated. Please check your signature is correct."
    )]
    SignatureFailure,
}
