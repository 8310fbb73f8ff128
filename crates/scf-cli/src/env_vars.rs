//! `--env-vars FILE` of `scf serve` and `scf invoke`: environment variables that override
//! (or add to) a template's, in the format of SCF CLI's `--env-vars`: one JSON object
//! keyed by function name, each a map of variables.
//!
//! ```json
//! {"hello": {"DB_HOST": "10.0.2.2", "DEBUG": true}}
//! ```
//!
//! Values are strings, numbers or booleans (written as text: `true`, `3`); `null` is the
//! empty string. SCF CLI ignores a variable the template does not declare; here it is
//! added, and the result is checked with the platform's rules
//! ([`FunctionConfig::validate`](scf_context::FunctionConfig::validate): key syntax,
//! reserved prefixes, 4 KB in all), so a typo or a reserved key is an error naming the
//! file, the function and the key rather than a variable silently missing. A function the
//! template does not have is an error too. SCF CLI has no form that applies to every
//! function, so neither is there one here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::template::Template;

/// The variables of an `--env-vars` file, by function name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvOverrides {
    path: PathBuf,
    functions: BTreeMap<String, BTreeMap<String, String>>,
}

impl EnvOverrides {
    /// Reads and checks the file's shape.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--env-vars {}: cannot read it: {e}", path.display()))?;
        Self::parse(&text, path)
    }

    /// Parses `text`; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, String> {
        let file = path.display();
        let value: Value = serde_json::from_str(text).map_err(|e| {
            format!(
                "--env-vars {file}:{}:{}: not JSON: {e}",
                e.line(),
                e.column()
            )
        })?;
        let Value::Object(top) = value else {
            return Err(format!(
                "--env-vars {file}: must be a JSON object keyed by function name, {{\"FunctionName\": {{\"KEY\": \"value\"}}}}"
            ));
        };
        let mut functions = BTreeMap::new();
        for (function, vars) in top {
            let Value::Object(vars) = vars else {
                return Err(format!(
                    "--env-vars {file}: function {function}: must be an object of variables, {{\"{function}\": {{\"KEY\": \"value\"}}}}, got {vars}"
                ));
            };
            let mut out = BTreeMap::new();
            for (key, v) in vars {
                let text = match v {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => String::new(),
                    other => {
                        return Err(format!(
                            "--env-vars {file}: function {function}: {key}: must be a string, number or boolean, got {other}"
                        ))
                    }
                };
                out.insert(key, text);
            }
            functions.insert(function, out);
        }
        Ok(Self {
            path: path.to_path_buf(),
            functions,
        })
    }

    /// Sets the variables on `template`'s functions and checks each changed function's
    /// configuration with the platform's rules.
    pub fn apply(&self, template: &mut Template) -> Result<(), String> {
        let file = self.path.display();
        for (function, vars) in &self.functions {
            let Some(def) = template
                .functions
                .iter_mut()
                .find(|f| &f.config.name == function)
            else {
                return Err(format!(
                    "--env-vars {file}: function {function}: not in {}",
                    template.path.display()
                ));
            };
            for (k, v) in vars {
                def.config.environment.insert(k.clone(), v.clone());
            }
            // The platform's messages name the key at fault.
            def.config
                .validate()
                .map_err(|e| format!("--env-vars {file}: function {function}: {e}"))?;
        }
        Ok(())
    }
}

/// Loads the template at `path` with the variables of `env_vars` (if any) applied: what
/// `scf serve` and `scf invoke` run.
pub fn load_template(path: &Path, env_vars: Option<&Path>) -> Result<Template, String> {
    let mut template = Template::load(path).map_err(|e| e.to_string())?;
    template.print_warnings();
    if let Some(file) = env_vars {
        EnvOverrides::load(file)?.apply(&mut template)?;
    }
    Ok(template)
}
