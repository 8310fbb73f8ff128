//! Function configuration as a value, validated like the platform validates it.

use std::collections::BTreeMap;
use std::time::Duration;

/// The smallest and largest function timeout SCF accepts.
pub const TIMEOUT_RANGE: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(900));
/// The largest `InitTimeout` an account may set (`InitTimeoutLimit`).
pub const MAX_INIT_TIMEOUT: Duration = Duration::from_secs(300);
/// The default `InitTimeout` of a function.
pub const DEFAULT_INIT_TIMEOUT: Duration = Duration::from_secs(65);
/// The most async retries an account may configure (`RetryNumLimit`).
pub const MAX_RETRIES: u8 = 2;

/// The longest an accepted async event may wait to run (`MsgTTL`, the account limit
/// `MaxMsgTTL`): 21600 s, which is also the default.
pub const MAX_MSG_TTL: Duration = Duration::from_secs(21_600);
/// The size limit of a function's environment variables, counted as the bytes of `KEY=VALUE` pairs.
pub const MAX_ENVIRONMENT_BYTES: usize = 4096;
/// Environment variable prefixes reserved by the platform.
pub const RESERVED_ENV_PREFIXES: [&str; 3] = ["SCF_", "QCLOUD_", "TENCENTCLOUD_"];

/// What a function is: its identity, limits and environment.
///
/// Build one with [`FunctionConfig::new`] and set the public fields; call
/// [`FunctionConfig::validate`] (hosts such as the invoker do) to check it against
/// the platform's rules.
///
/// ```
/// use std::time::Duration;
/// use scf_context::FunctionConfig;
///
/// let mut config = FunctionConfig::new("hello");
/// config.memory_mb = 256;
/// config.timeout = Duration::from_secs(10);
/// config.environment.insert("GREETING".into(), "hi".into());
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FunctionConfig {
    /// Function name: 2–60 characters of letters, digits, `-` and `_`, starting with a letter
    /// and ending with a letter or digit.
    pub name: String,
    /// Namespace, `default` by default.
    pub namespace: String,
    /// Version the config describes, `$LATEST` by default.
    pub version: String,
    /// The execution method, `file.method` (`index.main_handler` by default).
    pub handler: String,
    /// Runtime name as SCF spells it (`Python3.9`, `Nodejs16.13`, `CustomRuntime`…); `None` for a
    /// function served in process.
    pub runtime: Option<String>,
    /// Memory limit in MB: 64, or 128–3072 in steps of 128. Default 128.
    pub memory_mb: u32,
    /// Execution time limit: 1–900 s. Default 3 s.
    pub timeout: Duration,
    /// Time allowed for an out-of-process instance to become ready: up to 300 s. Default 65 s.
    pub init_timeout: Duration,
    /// Region reported to the function, `ap-guangzhou` by default.
    pub region: String,
    /// Account APPID reported to the function.
    pub appid: String,
    /// Account UIN reported to the function.
    pub uin: String,
    /// The function's own environment variables.
    pub environment: BTreeMap<String, String>,
    /// Most invocations of this function that may run at once; `None` leaves it to the host.
    pub max_concurrency: Option<u32>,
    /// How asynchronous invocations are retried after a function error.
    pub retry: RetryConfig,
}

impl Default for FunctionConfig {
    fn default() -> Self {
        Self::new("hello-from-scf")
    }
}

/// Retry policy for asynchronous invocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Retries after the first failed attempt: 0–2, default 2.
    pub max_retries: u8,
    /// Time between attempts, default 60 s.
    pub interval: Duration,
    /// `MsgTTL`: how long after it was accepted an async event may still start an
    /// attempt (a first one delayed by the concurrency limit or a restart, or a retry);
    /// past it the event ends `FAILED`. Default and most [`MAX_MSG_TTL`] (6 hours). SCF
    /// takes 60 s at least; shorter ones are accepted here, as a shorter `interval` is,
    /// so that tests need not wait.
    pub msg_ttl: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: MAX_RETRIES,
            interval: Duration::from_secs(60),
            msg_ttl: MAX_MSG_TTL,
        }
    }
}

impl RetryConfig {
    /// A policy with `max_retries` retries `interval` apart, and the default `MsgTTL`.
    pub fn new(max_retries: u8, interval: Duration) -> Self {
        Self {
            max_retries,
            interval,
            msg_ttl: MAX_MSG_TTL,
        }
    }

    /// Sets `MsgTTL`.
    pub fn with_msg_ttl(mut self, msg_ttl: Duration) -> Self {
        self.msg_ttl = msg_ttl;
        self
    }
}

/// A configuration value that breaks one of the platform's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The function name breaks the naming rule.
    #[error("FunctionName {name:?} is invalid: {rule}")]
    FunctionName {
        /// The name given.
        name: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The namespace breaks the naming rule.
    #[error("Namespace {name:?} is invalid: {rule}")]
    Namespace {
        /// The namespace given.
        name: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// Memory is not an allowed size.
    #[error("MemorySize {value} MB is invalid: must be 64, or 128 to 3072 in steps of 128")]
    MemorySize {
        /// The size given, in MB.
        value: u32,
    },
    /// Timeout outside 1–900 s.
    #[error("Timeout {value_ms} ms is invalid: must be 1 to 900 seconds")]
    Timeout {
        /// The timeout given, in ms.
        value_ms: u128,
    },
    /// InitTimeout outside 1–300 s.
    #[error("InitTimeout {value_ms} ms is invalid: must be 1 to 300 seconds")]
    InitTimeout {
        /// The init timeout given, in ms.
        value_ms: u128,
    },
    /// More retries than the account limit.
    #[error("RetryNum {value} is invalid: must be 0 to 2")]
    RetryNum {
        /// The retry count given.
        value: u8,
    },
    /// `MsgTTL` of zero or over [`MAX_MSG_TTL`].
    #[error("MsgTTL {value_ms} ms is invalid: must be more than 0 and at most 21600 seconds")]
    MsgTtl {
        /// The TTL given, in ms.
        value_ms: u128,
    },
    /// A concurrency limit of zero.
    #[error("ReservedConcurrency 0 is invalid: must be at least 1")]
    Concurrency,
    /// An environment variable key that does not match `[A-Za-z][A-Za-z0-9_]*`.
    #[error("Environment variable key {key:?} is invalid: must match [A-Za-z][A-Za-z0-9_]*")]
    EnvKey {
        /// The key given.
        key: String,
    },
    /// An environment variable key with a reserved prefix.
    #[error("Environment variable key {key:?} is reserved: keys starting with SCF_, QCLOUD_ or TENCENTCLOUD_ belong to the platform")]
    EnvReserved {
        /// The key given.
        key: String,
    },
    /// Environment variables over 4 KB in total.
    #[error("Environment variables take {size} bytes: the limit is 4096 bytes of KEY=VALUE pairs")]
    EnvTooLarge {
        /// Their total size in bytes.
        size: usize,
    },
}

fn check_name(name: &str) -> Result<(), &'static str> {
    let len = name.chars().count();
    if !(2..=60).contains(&len) {
        return Err("must be 2 to 60 characters");
    }
    let bytes = name.as_bytes();
    if !bytes[0].is_ascii_alphabetic() {
        return Err("must start with a letter");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
    {
        return Err("may contain only letters, digits, '-' and '_'");
    }
    if !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
        return Err("must end with a letter or a digit");
    }
    Ok(())
}

/// Checks one environment variable key against the platform's rules.
pub fn validate_env_key(key: &str) -> Result<(), ConfigError> {
    let mut chars = key.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(ConfigError::EnvKey { key: key.into() });
    }
    if RESERVED_ENV_PREFIXES.iter().any(|p| key.starts_with(p)) {
        return Err(ConfigError::EnvReserved { key: key.into() });
    }
    Ok(())
}

impl FunctionConfig {
    /// A configuration with the platform's defaults and the given name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            namespace: "default".into(),
            version: "$LATEST".into(),
            handler: "index.main_handler".into(),
            runtime: None,
            memory_mb: 128,
            timeout: Duration::from_secs(3),
            init_timeout: DEFAULT_INIT_TIMEOUT,
            region: "ap-guangzhou".into(),
            appid: String::new(),
            uin: String::new(),
            environment: BTreeMap::new(),
            max_concurrency: None,
            retry: RetryConfig::default(),
        }
    }

    /// Checks every field against the platform's rules; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_name(&self.name).map_err(|rule| ConfigError::FunctionName {
            name: self.name.clone(),
            rule,
        })?;
        if self.namespace != "default" {
            check_name(&self.namespace).map_err(|rule| ConfigError::Namespace {
                name: self.namespace.clone(),
                rule,
            })?;
        }
        let m = self.memory_mb;
        if !(m == 64 || (128..=3072).contains(&m) && m % 128 == 0) {
            return Err(ConfigError::MemorySize { value: m });
        }
        if self.timeout < TIMEOUT_RANGE.0 || self.timeout > TIMEOUT_RANGE.1 {
            return Err(ConfigError::Timeout {
                value_ms: self.timeout.as_millis(),
            });
        }
        if self.init_timeout < Duration::from_secs(1) || self.init_timeout > MAX_INIT_TIMEOUT {
            return Err(ConfigError::InitTimeout {
                value_ms: self.init_timeout.as_millis(),
            });
        }
        if self.retry.max_retries > MAX_RETRIES {
            return Err(ConfigError::RetryNum {
                value: self.retry.max_retries,
            });
        }
        if self.retry.msg_ttl.is_zero() || self.retry.msg_ttl > MAX_MSG_TTL {
            return Err(ConfigError::MsgTtl {
                value_ms: self.retry.msg_ttl.as_millis(),
            });
        }
        if self.max_concurrency == Some(0) {
            return Err(ConfigError::Concurrency);
        }
        let mut size = 0;
        for (k, v) in &self.environment {
            validate_env_key(k)?;
            size += k.len() + 1 + v.len();
        }
        if size > MAX_ENVIRONMENT_BYTES {
            return Err(ConfigError::EnvTooLarge { size });
        }
        Ok(())
    }

    /// The variables SCF sets in a function's process (scf-spec 4.6) that apply to a local
    /// host, followed by the function's own variables.
    pub fn process_environment(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = vec![
            ("SCF_FUNCTIONNAME".into(), self.name.clone()),
            ("SCF_FUNCTIONVERSION".into(), self.version.clone()),
            ("SCF_NAMESPACE".into(), self.namespace.clone()),
            ("TENCENTCLOUD_REGION".into(), self.region.clone()),
            ("TENCENTCLOUD_APPID".into(), self.appid.clone()),
            ("TENCENTCLOUD_UIN".into(), self.uin.clone()),
            ("TENCENTCLOUD_RUNENV".into(), "SCF".into()),
            ("TENCENTCLOUD_TZ".into(), "UTC".into()),
        ];
        if let Some(runtime) = &self.runtime {
            env.push(("SCF_RUNTIME".into(), runtime.clone()));
        }
        env.extend(self.environment.iter().map(|(k, v)| (k.clone(), v.clone())));
        env
    }
}
