//! What the runtime reads from its environment, without ever panicking.

use scf_context::FunctionConfig;

/// Where the Custom Runtime API is and what this instance serves.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeConfig {
    /// Host of the Custom Runtime API (`SCF_RUNTIME_API`).
    pub api_host: String,
    /// Port of the Custom Runtime API (`SCF_RUNTIME_API_PORT`).
    pub api_port: u16,
    /// The configured handler string (`_HANDLER`).
    pub handler: String,
    /// The lean transport's Unix socket, when the host offers one (`SCF_RUNTIME_SOCKET`,
    /// set by `scf serve`, not by SCF); the HTTP API is used when it is absent or cannot
    /// be reached.
    pub socket: Option<String>,
    /// The function as the platform describes it in the environment (name, version,
    /// namespace, region, appid, uin); memory and timeout come with each event.
    pub function: FunctionConfig,
}

/// A required variable is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("environment variable {0} is not set: this program is an SCF Custom Runtime bootstrap and must be started by SCF or `scf serve`")]
    Missing(&'static str),
    /// A variable has a value that cannot be used.
    #[error("environment variable {name} is {value:?}: {rule}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it should be.
        rule: &'static str,
    },
}

impl RuntimeConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads variables through `get` (tests pass a map instead of the process environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |k: &'static str| {
            get(k)
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError::Missing(k))
        };
        let api_host = required("SCF_RUNTIME_API")?;
        let port_text = required("SCF_RUNTIME_API_PORT")?;
        let api_port =
            port_text
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or(ConfigError::Invalid {
                    name: "SCF_RUNTIME_API_PORT",
                    value: port_text.clone(),
                    rule: "must be a port number from 1 to 65535",
                })?;
        let handler = required("_HANDLER")?;
        let mut function = FunctionConfig::new(get("SCF_FUNCTIONNAME").unwrap_or_default());
        let set = |target: &mut String, k: &str| {
            if let Some(v) = get(k).filter(|v| !v.is_empty()) {
                *target = v;
            }
        };
        set(&mut function.version, "SCF_FUNCTIONVERSION");
        set(&mut function.namespace, "SCF_NAMESPACE");
        set(&mut function.region, "TENCENTCLOUD_REGION");
        set(&mut function.appid, "TENCENTCLOUD_APPID");
        set(&mut function.uin, "TENCENTCLOUD_UIN");
        function.handler = handler.clone();
        function.runtime = get("SCF_RUNTIME");
        Ok(Self {
            api_host,
            api_port,
            socket: get("SCF_RUNTIME_SOCKET").filter(|v| !v.is_empty()),
            handler,
            function,
        })
    }
}
