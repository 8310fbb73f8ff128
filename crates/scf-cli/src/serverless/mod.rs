//! `serverless.yml` / `serverless.yaml` in the Serverless Framework's format for Tencent's
//! SCF component (`component: scf`, `inputs: {name, src, handler, runtime, …}`), read
//! into the same project model as `template.yaml` ([`Template`]), with every error naming
//! the file, line, column and key.
//!
//! - Every `inputs` field the component documents is read: those with a local meaning
//!   (`name`, `namespace`, `src`, `handler`, `runtime`, `description`, `memorySize`,
//!   `timeout`, `initTimeout`, `environment.variables`, `events`, `type`, `retryNum`,
//!   `msgTTL`, `region`) set the function; the cloud-only ones (`role`, `vpcConfig`, `eip`,
//!   `cls`, `tags`, `cfs`, `deadLetter`…) are accepted and change nothing; `image` (a
//!   container image) and code kept in a COS bucket are refused with what to write
//!   instead; any other key is refused by name.
//! - `layers` (a cloud layer is a name and a version) are looked for beside the file, in
//!   `layers/NAME-VERSION`, `layers/NAME` or `layers/NAME.zip`; one not there is refused.
//! - Triggers: `apigw` (one route per endpoint, the stage from `environment`), `timer`
//!   (`cronExpression`, `enable`, `argument` as the message); `cos`, `cmq`, `ckafka`,
//!   `cls`, `mps`, `clb` are listed by `scf validate` and not served.
//! - Variables: see [`vars`](self) (`${env:X}` with a `.env` beside the file, `${self:…}`,
//!   `${name}`, `${app}`, `${stage}`, `${org}`; `${output:…}` refused).
//! - A directory whose subdirectories hold one `serverless.yml` each (one component
//!   instance per directory, as multi-function projects are laid out) is one project:
//!   [`load_dir`].
//! - A `src` that is not a directory, or a handler whose file is not in it, gives way to
//!   the `config.json` beside the file when that is Tencent's console template
//!   ([`console_app`]) describing the function with a handler that is there (as the
//!   console deploys it), with a warning in [`Template::warnings`].

pub mod console_app;
mod fallback;
mod raw;
mod vars;

use std::path::{Path, PathBuf};
use std::time::Duration;

use scf_context::{ConfigError, FunctionConfig};
use serde_json::Value;
use serde_saphyr::{Location, Spanned};

use crate::cron::Cron;
use crate::layer::{LayerDef, MAX_LAYERS};
use crate::template::{
    check_runtime, from_yaml, FunctionDef, Template, TemplateError, Trigger, METHODS,
};
use raw::{RawEvent, RawInputs, RawServerless, RawSrc, RawTrigger, Scalar};
use vars::Vars;

/// The file names of a Serverless project, in the order they are looked for.
pub const SERVERLESS_FILES: [&str; 2] = ["serverless.yml", "serverless.yaml"];

/// Whether `text` is a Serverless Framework file rather than a `template.yaml`: it has a
/// top-level `component:` or `inputs:` key.
pub fn looks_like(text: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with("component:") || l.starts_with("inputs:"))
}

/// The project file `scf` reads: `given` (`-t`) as it is, else in the current directory
/// `template.yaml`, `serverless.yml` or `serverless.yaml`, else the current directory
/// itself when its subdirectories hold Serverless files ([`load_dir`]).
pub fn find_project(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = given {
        return Ok(path.to_path_buf());
    }
    let dir = Path::new(".");
    for name in std::iter::once("template.yaml").chain(SERVERLESS_FILES) {
        if Path::new(name).is_file() {
            return Ok(PathBuf::from(name));
        }
    }
    if !component_files(dir).is_empty() {
        return Ok(dir.to_path_buf());
    }
    Err("no project here: the current directory has no template.yaml, serverless.yml or serverless.yaml (nor subdirectories with a serverless.yml): give one with -t".into())
}

/// The Serverless files of `dir`'s subdirectories (one per subdirectory, in name order).
fn component_files(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs.iter()
        .filter_map(|d| {
            SERVERLESS_FILES
                .iter()
                .map(|f| d.join(f))
                .find(|f| f.is_file())
        })
        .collect()
}

/// A directory as one project: its own `template.yaml` or Serverless file if it has one,
/// else every Serverless file of its subdirectories together (the `.env` of the
/// directory applies to them all). Two functions of the same name in one namespace are
/// refused, naming both files.
pub fn load_dir(dir: &Path) -> Result<Template, TemplateError> {
    for name in std::iter::once("template.yaml").chain(SERVERLESS_FILES) {
        let file = dir.join(name);
        if file.is_file() {
            return Template::load(&file);
        }
    }
    let files = component_files(dir);
    if files.is_empty() {
        return Err(error(
            dir,
            Location::UNKNOWN,
            "",
            "has no template.yaml, serverless.yml or serverless.yaml, and no subdirectory with a serverless.yml",
        ));
    }
    let mut functions: Vec<(PathBuf, FunctionDef)> = Vec::new();
    let mut warnings = Vec::new();
    for file in files {
        let text = read(&file)?;
        let project = parse_with(&text, &file, &[dir])?;
        warnings.extend(project.warnings);
        for f in project.functions {
            if let Some((other, _)) = functions.iter().find(|(_, g)| {
                g.config.name == f.config.name && g.config.namespace == f.config.namespace
            }) {
                return Err(error(
                    &file,
                    Location::UNKNOWN,
                    "inputs.name",
                    format!(
                        "function {}/{} is also defined in {}: names must differ within a namespace",
                        f.config.namespace,
                        f.config.name,
                        other.display()
                    ),
                ));
            }
            functions.push((file.clone(), f));
        }
    }
    Ok(Template {
        path: dir.to_path_buf(),
        functions: functions.into_iter().map(|(_, f)| f).collect(),
        warnings,
    })
}

fn read(file: &Path) -> Result<String, TemplateError> {
    std::fs::read_to_string(file).map_err(|e| {
        error(
            file,
            Location::UNKNOWN,
            "",
            format!("cannot read the project file: {e}"),
        )
    })
}

fn error(
    file: &Path,
    loc: Location,
    key: impl Into<String>,
    message: impl Into<String>,
) -> TemplateError {
    TemplateError {
        file: file.to_path_buf(),
        line: loc.line(),
        column: loc.column(),
        key: key.into(),
        message: message.into(),
    }
}

/// Parses a Serverless file's text; `path` names it in errors and anchors `src` and
/// the `.env` file.
pub fn parse(text: &str, path: &Path) -> Result<Template, TemplateError> {
    parse_with(text, path, &[])
}

fn parse_with(text: &str, path: &Path, more_env_dirs: &[&Path]) -> Result<Template, TemplateError> {
    let doc: Value = from_yaml(text, path)?;
    let raw: RawServerless = from_yaml(text, path)?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    // The `.env` beside the file, then the one of the folder above (where a project of
    // several components keeps its own, and where the framework's CLI looks too).
    let parent = base
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new(".."));
    let mut dirs = vec![base];
    dirs.extend_from_slice(more_env_dirs);
    if base.canonicalize().ok() != parent.canonicalize().ok() {
        dirs.push(parent);
    }
    let f = File {
        path,
        base,
        vars: Vars::new(&doc, &dirs),
    };
    let component = f.text(&raw.component, "component")?;
    if component != "scf" && !component.starts_with("scf@") {
        return Err(f.err(
            raw.component.referenced,
            "component",
            format!(
                "is {component:?}: scf reads the SCF component's format (`component: scf`) only"
            ),
        ));
    }
    let instance = match &raw.name {
        Some(n) => f.text(n, "name")?,
        None => {
            return Err(f.err(
                raw.component.referenced,
                "name",
                "is missing: a component instance needs a name",
            ))
        }
    };
    let stage = raw.stage.as_ref().map(|s| f.text(s, "stage")).transpose()?;
    let stage = stage
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "dev".into());
    let app = raw.app.as_ref().map(|s| f.text(s, "app")).transpose()?;
    let app = app
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| instance.clone());
    if let Some(org) = &raw.org {
        f.text(org, "org")?;
    }
    let Some(inputs) = raw.inputs else {
        return Err(f.err(
            raw.component.referenced,
            "inputs",
            "is missing: the function is described under `inputs:` (name, src, handler, runtime…)",
        ));
    };
    let (def, warnings) = f.function(inputs, &instance, &stage, &app)?;
    Ok(Template {
        path: path.to_path_buf(),
        functions: vec![def],
        warnings,
    })
}

struct File<'a> {
    path: &'a Path,
    base: &'a Path,
    vars: Vars<'a>,
}

impl File<'_> {
    fn err(&self, loc: Location, key: &str, message: impl Into<String>) -> TemplateError {
        error(self.path, loc, key, message)
    }

    /// A scalar's text, variables resolved.
    fn text(&self, s: &Scalar, key: &str) -> Result<String, TemplateError> {
        if matches!(s.value, Value::Object(_) | Value::Array(_)) {
            return Err(self.err(
                s.referenced,
                key,
                "must be a single value, not a list or mapping",
            ));
        }
        self.vars
            .resolve_value(&s.value)
            .map_err(|m| self.err(s.referenced, key, m))
    }

    fn opt_text(&self, s: &Option<Scalar>, key: &str) -> Result<Option<String>, TemplateError> {
        s.as_ref().map(|s| self.text(s, key)).transpose()
    }

    /// A whole number (written as a number, or as text after variables).
    fn number(&self, s: &Option<Scalar>, key: &str) -> Result<Option<u64>, TemplateError> {
        let Some(s) = s else { return Ok(None) };
        let text = self.text(s, key)?;
        if text.is_empty() {
            return Ok(None);
        }
        text.trim().parse::<u64>().map(Some).map_err(|_| {
            self.err(
                s.referenced,
                key,
                format!("is {text:?}: expected a whole number"),
            )
        })
    }

    fn boolean(&self, s: &Option<Scalar>, key: &str) -> Result<Option<bool>, TemplateError> {
        let Some(s) = s else { return Ok(None) };
        let text = self.text(s, key)?;
        match text.to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(self.err(
                s.referenced,
                key,
                format!("is {text:?}: expected true or false"),
            )),
        }
    }

    fn function(
        &self,
        inputs: RawInputs,
        instance: &str,
        stage: &str,
        app: &str,
    ) -> Result<(FunctionDef, Vec<String>), TemplateError> {
        let name = self
            .opt_text(&inputs.name, "inputs.name")?
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("{instance}-{stage}-{app}"));
        let name_loc = inputs
            .name
            .as_ref()
            .map_or(Location::UNKNOWN, |n| n.referenced);
        let mut config = FunctionConfig::new(&name);
        if let Some(ns) = self.opt_text(&inputs.namespace, "inputs.namespace")? {
            if !ns.is_empty() {
                config.namespace = ns;
            }
        }
        if let Some(image) = &inputs.image {
            return Err(self.err(
                image.referenced,
                "inputs.image",
                format!("function {name}: functions from a container image are not run by scf: give `src`, the directory of the code"),
            ));
        }
        let runtime = self
            .opt_text(&inputs.runtime, "inputs.runtime")?
            .filter(|r| !r.is_empty())
            // The component's default runtime.
            .unwrap_or_else(|| "Nodejs10.15".into());
        if let Some(r) = &inputs.runtime {
            check_runtime(&name, &runtime)
                .map_err(|m| self.err(r.referenced, "inputs.runtime", m))?;
        }
        config.handler = self
            .opt_text(&inputs.handler, "inputs.handler")?
            .filter(|h| !h.trim().is_empty())
            .unwrap_or_else(|| default_handler(&runtime).into());
        config.runtime = Some(runtime);
        if let Some(region) = self.opt_text(&inputs.region, "inputs.region")? {
            if !region.is_empty() {
                config.region = region;
            }
        }
        if let Some(m) = self.number(&inputs.memory_size, "inputs.memorySize")? {
            config.memory_mb = u32::try_from(m).unwrap_or(u32::MAX);
        }
        if let Some(t) = self.number(&inputs.timeout, "inputs.timeout")? {
            config.timeout = Duration::from_secs(t);
        }
        if let Some(t) = self.number(&inputs.init_timeout, "inputs.initTimeout")? {
            config.init_timeout = Duration::from_secs(t);
        }
        if let Some(n) = self.number(&inputs.retry_num, "inputs.retryNum")? {
            config.retry.max_retries = u8::try_from(n).unwrap_or(u8::MAX);
        }
        if let Some(t) = self.number(&inputs.msg_ttl, "inputs.msgTTL")? {
            config.retry.msg_ttl = Duration::from_secs(t);
        }
        // `asyncRunEnable` (long runs of async invocations) is read; locally every run
        // is bounded by `timeout` alone.
        self.boolean(&inputs.async_run_enable, "inputs.asyncRunEnable")?;
        let mut env_locs = Vec::new();
        if let Some(vars) = inputs
            .environment
            .as_ref()
            .and_then(|e| e.variables.as_ref())
        {
            for (k, v) in vars {
                let key = format!("inputs.environment.variables.{k}");
                config.environment.insert(k.clone(), self.text(v, &key)?);
                env_locs.push((k.clone(), v.referenced));
            }
        }
        let layers = self.layers(inputs.layers.as_deref().unwrap_or_default())?;
        let function_type = match self.opt_text(&inputs.type_, "inputs.type")?.as_deref() {
            None | Some("" | "event") => "Event".to_string(),
            Some("web") => "HTTP".to_string(),
            Some(other) => {
                let loc = inputs
                    .type_
                    .as_ref()
                    .map_or(Location::UNKNOWN, |t| t.referenced);
                return Err(self.err(
                    loc,
                    "inputs.type",
                    format!("is {other:?}: expected `event` or `web`"),
                ));
            }
        };
        let mut code_dir = self.code_dir(&inputs, &name)?;
        let mut warnings = Vec::new();
        let declared = fallback::Declared {
            file: self.path,
            name: &name,
            runtime: config.runtime.as_deref().unwrap_or_default(),
            handler: (
                &config.handler,
                span(&inputs.handler).map_or(0, |l| l.line()),
            ),
            code_dir: (
                &code_dir,
                inputs.src.as_ref().map_or(0, |s| s.referenced.line()),
            ),
        };
        match fallback::console_fallback(&declared, self.base) {
            Ok(Some(f)) => {
                warnings.push(f.warning);
                config.handler = f.handler;
                code_dir = f.code_dir;
            }
            Ok(None) => {}
            Err(w) => warnings.push(w),
        }
        let description = self
            .opt_text(&inputs.description, "inputs.description")?
            .unwrap_or_default();
        config.validate().map_err(|e| {
            let (key, loc) = match &e {
                ConfigError::FunctionName { .. } => ("inputs.name".to_string(), Some(name_loc)),
                ConfigError::Namespace { .. } => {
                    ("inputs.namespace".to_string(), span(&inputs.namespace))
                }
                ConfigError::MemorySize { .. } => {
                    ("inputs.memorySize".to_string(), span(&inputs.memory_size))
                }
                ConfigError::Timeout { .. } => {
                    ("inputs.timeout".to_string(), span(&inputs.timeout))
                }
                ConfigError::InitTimeout { .. } => {
                    ("inputs.initTimeout".to_string(), span(&inputs.init_timeout))
                }
                ConfigError::RetryNum { .. } => {
                    ("inputs.retryNum".to_string(), span(&inputs.retry_num))
                }
                ConfigError::MsgTtl { .. } => ("inputs.msgTTL".to_string(), span(&inputs.msg_ttl)),
                ConfigError::EnvKey { key } | ConfigError::EnvReserved { key } => (
                    format!("inputs.environment.variables.{key}"),
                    env_locs.iter().find(|(k, _)| k == key).map(|(_, l)| *l),
                ),
                _ => ("inputs".to_string(), None),
            };
            self.err(loc.unwrap_or(Location::UNKNOWN), &key, e.to_string())
        })?;
        let mut triggers = Vec::new();
        for (i, ev) in inputs.events.unwrap_or_default().into_iter().enumerate() {
            self.trigger(
                &mut triggers,
                ev,
                &format!("inputs.events[{i}]"),
                &name,
                instance,
                stage,
            )?;
        }
        Ok((
            FunctionDef {
                config,
                code_dir,
                function_type,
                description,
                triggers,
                layers,
            },
            warnings,
        ))
    }

    /// `layers: [{name, version}]`: a cloud layer is a name and a version, which scf does
    /// not download; its files are looked for beside this file, in `layers/NAME-VERSION`,
    /// `layers/NAME` (a directory) or `layers/NAME.zip`, the first found.
    fn layers(&self, raw: &[Spanned<raw::RawLayer>]) -> Result<Vec<LayerDef>, TemplateError> {
        if raw.len() > MAX_LAYERS {
            return Err(self.err(
                raw[MAX_LAYERS].referenced,
                "inputs.layers",
                format!(
                    "lists {} layers: SCF binds at most {MAX_LAYERS} to a function",
                    raw.len()
                ),
            ));
        }
        let mut out = Vec::new();
        for (i, l) in raw.iter().enumerate() {
            let key = format!("inputs.layers[{i}]");
            let name = self.text(&l.value.name, &format!("{key}.name"))?;
            let version = self.number(&l.value.version, &format!("{key}.version"))?;
            let dir = self.base.join("layers");
            let mut candidates = Vec::new();
            if let Some(v) = version {
                candidates.push(dir.join(format!("{name}-{v}")));
            }
            candidates.push(dir.join(&name));
            candidates.push(dir.join(format!("{name}.zip")));
            let Some(path) = candidates.iter().find(|c| c.is_dir() || c.is_file()) else {
                let version = version.map(|v| format!(" version {v}")).unwrap_or_default();
                return Err(self.err(l.referenced, &key, format!(
                    "layer {name}{version} lives in the cloud, which scf does not download: put its files (as unpacked under /opt) in one of {}",
                    candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", ")
                )));
            };
            let mut def = LayerDef::at(path.clone());
            def.name = name;
            def.version = version;
            def.line = l.referenced.line();
            def.column = l.referenced.column();
            out.push(def);
        }
        Ok(out)
    }

    /// `src` (a path, or `{src: path}`) relative to the file's directory.
    fn code_dir(&self, inputs: &RawInputs, name: &str) -> Result<PathBuf, TemplateError> {
        let Some(src) = &inputs.src else {
            return Err(self.err(
                Location::UNKNOWN,
                "inputs.src",
                format!("function {name}: is missing: set `src: ./` (the directory of the code, relative to this file)"),
            ));
        };
        let dir = match &src.value {
            RawSrc::Path(p) => p.clone(),
            RawSrc::Object(o) => match &o.src {
                Some(p) => p.clone(),
                None if o.bucket.is_some() || o.object.is_some() || o.key.is_some() => {
                    return Err(self.err(
                        src.referenced,
                        "inputs.src",
                        format!("function {name}: code kept in a COS bucket (src.bucket/src.object) cannot be read locally: set src.src to the code's local directory"),
                    ))
                }
                None => {
                    return Err(self.err(src.referenced, "inputs.src.src", "is missing: the directory of the code, relative to this file"))
                }
            },
        };
        let dir = self
            .vars
            .resolve(&dir)
            .map_err(|m| self.err(src.referenced, "inputs.src", m))?;
        Ok(Path::new(&dir)
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .fold(self.base.to_path_buf(), |d, c| d.join(c)))
    }

    fn trigger(
        &self,
        out: &mut Vec<Trigger>,
        ev: Spanned<RawEvent>,
        key: &str,
        function: &str,
        instance: &str,
        stage: &str,
    ) -> Result<(), TemplateError> {
        let loc = ev.referenced;
        let e = ev.value;
        let set = [
            e.apigw.is_some(),
            e.timer.is_some(),
            e.cos.is_some(),
            e.cmq.is_some(),
            e.ckafka.is_some(),
            e.cls.is_some(),
            e.mps.is_some(),
            e.clb.is_some(),
        ]
        .iter()
        .filter(|s| **s)
        .count();
        if set != 1 {
            return Err(self.err(loc, key, "must name exactly one trigger type: apigw, timer, cos, cmq, ckafka, cls, mps or clb"));
        }
        let default_name = |kind: &str| format!("{kind}-{instance}-{stage}");
        let name_of = |t: &Option<Scalar>, kind: &str| -> Result<String, TemplateError> {
            Ok(self
                .opt_text(t, &format!("{key}.name"))?
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| default_name(kind)))
        };
        if let Some(t) = e.timer {
            let t = t.ok_or_else(|| {
                self.err(
                    loc,
                    &format!("{key}.timer"),
                    "is empty: a timer needs parameters.cronExpression",
                )
            })?;
            let own = t
                .name
                .clone()
                .or_else(|| t.parameters.as_ref().and_then(|p| p.name.clone()));
            return self.timer(out, t, key, &name_of(&own, "timer")?);
        }
        if let Some(a) = e.apigw {
            let a = a.ok_or_else(|| {
                self.err(
                    loc,
                    &format!("{key}.apigw"),
                    "is empty: an apigw trigger needs parameters.endpoints",
                )
            })?;
            let name = name_of(&a.name, "apigw")?;
            return self.apigw(out, a, key, function, &name);
        }
        // The triggers scf does not serve: their names, for `scf validate`.
        let (kind, own_name) = if let Some(t) = e.cos {
            ("COS", t.and_then(|t| t.name))
        } else if let Some(t) = e.cmq {
            ("CMQ", t.and_then(|t| t.name))
        } else if let Some(t) = e.ckafka {
            ("Ckafka", t.and_then(|t| t.name))
        } else if let Some(t) = e.cls {
            ("CLS", t.and_then(|t| t.name))
        } else if let Some(t) = e.mps {
            ("MPS", t.and_then(|t| t.name))
        } else {
            ("CLB", e.clb.flatten().and_then(|t| t.name))
        };
        let name = name_of(&own_name.or(e.name), &kind.to_ascii_lowercase())?;
        out.push(Trigger::Other {
            name,
            kind: kind.into(),
        });
        Ok(())
    }

    fn timer(
        &self,
        out: &mut Vec<Trigger>,
        t: RawTrigger<raw::RawTimerParams>,
        key: &str,
        name: &str,
    ) -> Result<(), TemplateError> {
        let key = format!("{key}.timer.parameters");
        let p = t.parameters.ok_or_else(|| {
            self.err(
                Location::UNKNOWN,
                &key,
                format!("is missing in timer {name}: a timer needs parameters.cronExpression"),
            )
        })?;
        let cron_key = format!("{key}.cronExpression");
        let Some(expr) = &p.cron_expression else {
            return Err(self.err(
                Location::UNKNOWN,
                &cron_key,
                format!("is missing in timer {name}"),
            ));
        };
        let text = self.text(expr, &cron_key)?;
        let cron =
            Cron::parse(&text).map_err(|e| self.err(expr.referenced, &cron_key, e.to_string()))?;
        let message = match &p.argument {
            None => String::new(),
            Some(a) if a.value.is_object() || a.value.is_array() => a.value.to_string(),
            Some(a) => self.text(a, &format!("{key}.argument"))?,
        };
        out.push(Trigger::Timer {
            name: name.into(),
            cron,
            // The component's documented default: a timer is off unless `enable: true`.
            enable: self
                .boolean(&p.enable, &format!("{key}.enable"))?
                .unwrap_or(false),
            message,
        });
        Ok(())
    }

    fn apigw(
        &self,
        out: &mut Vec<Trigger>,
        a: RawTrigger<raw::RawApigwParams>,
        key: &str,
        function: &str,
        name: &str,
    ) -> Result<(), TemplateError> {
        let key = format!("{key}.apigw.parameters");
        let p = a.parameters.ok_or_else(|| {
            self.err(
                Location::UNKNOWN,
                &key,
                format!("is missing in apigw trigger {name}: it needs endpoints (path, method)"),
            )
        })?;
        let stage = self
            .opt_text(&p.environment, &format!("{key}.environment"))?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "release".into());
        for (i, ep) in p.endpoints.unwrap_or_default().iter().enumerate() {
            let ep_key = format!("{key}.endpoints[{i}]");
            let path = self
                .opt_text(&ep.value.path, &format!("{ep_key}.path"))?
                .filter(|p| !p.is_empty())
                .ok_or_else(|| {
                    self.err(
                        ep.referenced,
                        &format!("{ep_key}.path"),
                        format!("is missing (function {function})"),
                    )
                })?;
            let path_loc = ep
                .value
                .path
                .as_ref()
                .map_or(ep.referenced, |p| p.referenced);
            let bare = path
                .strip_prefix('=')
                .or_else(|| path.strip_prefix("^~"))
                .unwrap_or(&path);
            if !bare.starts_with('/') {
                return Err(self.err(
                    path_loc,
                    &format!("{ep_key}.path"),
                    format!("is {path:?}: a path must start with `/`"),
                ));
            }
            let method = self
                .opt_text(&ep.value.method, &format!("{ep_key}.method"))?
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "GET".into())
                .to_ascii_uppercase();
            if !METHODS.contains(&method.as_str()) {
                let loc = ep
                    .value
                    .method
                    .as_ref()
                    .map_or(ep.referenced, |m| m.referenced);
                return Err(self.err(
                    loc,
                    &format!("{ep_key}.method"),
                    format!("is {method:?}: expected one of {}", METHODS.join(", ")),
                ));
            }
            out.push(Trigger::Api {
                name: name.into(),
                method,
                path,
                stage: stage.clone(),
            });
        }
        Ok(())
    }
}

fn span(s: &Option<Scalar>) -> Option<Location> {
    s.as_ref().map(|s| s.referenced)
}

/// The component's default handler for `runtime`.
fn default_handler(runtime: &str) -> &'static str {
    let lower = runtime.to_ascii_lowercase();
    if lower.starts_with("go") {
        "main"
    } else if lower.starts_with("java") {
        "example.Hello::mainHandler"
    } else {
        "index.main_handler"
    }
}
