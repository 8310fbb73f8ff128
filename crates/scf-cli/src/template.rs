//! `template.yaml` in the format of SCF's own CLI (TCSAM): namespaces, functions,
//! their properties and trigger events, with errors that name the line and the key.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use scf_context::{ConfigError, FunctionConfig};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::{Location, Spanned};

use crate::cron::Cron;
pub use crate::layer::LayerDef;

/// The type tag of a namespace resource.
pub const NAMESPACE_TYPE: &str = "TencentCloud::Serverless::Namespace";
/// The type tag of a function resource.
pub const FUNCTION_TYPE: &str = "TencentCloud::Serverless::Function";

/// A function project: every function of a template, resolved and validated.
#[derive(Debug, Clone)]
pub struct Template {
    /// Where the template was read from.
    pub path: PathBuf,
    /// Its functions, in namespace then name order.
    pub functions: Vec<FunctionDef>,
    /// What was read differently from how it is written, one line each, to be shown to
    /// the user (`scf serve`, `invoke` and `validate` print them as `warning: …`).
    pub warnings: Vec<String>,
}

/// One function of a template.
#[derive(Debug, Clone)]
pub struct FunctionDef {
    /// Name, namespace, handler, runtime, memory, timeout, environment.
    pub config: FunctionConfig,
    /// The code directory (`CodeUri`, relative to the template's folder).
    pub code_dir: PathBuf,
    /// `Event` (default) or `HTTP` (web function).
    pub function_type: String,
    /// Its description.
    pub description: String,
    /// Its triggers.
    pub triggers: Vec<Trigger>,
    /// Its layers (`Layers`), in the order SCF loads them: a later one wins a clash.
    pub layers: Vec<LayerDef>,
}

impl FunctionDef {
    /// One line describing the function: `namespace/name  handler …  runtime …  memory …
    /// timeout …  code …`.
    pub fn summary(&self) -> String {
        let c = &self.config;
        let web = if self.function_type == "HTTP" {
            "  (web function: scf_bootstrap on port 9000)"
        } else {
            ""
        };
        format!(
            "{}/{}  handler {}  runtime {}  memory {} MB  timeout {} s  code {}{web}",
            c.namespace,
            c.name,
            if self.function_type == "HTTP" {
                "-"
            } else {
                &c.handler
            },
            c.runtime.as_deref().unwrap_or("-"),
            c.memory_mb,
            c.timeout.as_secs(),
            self.code_dir.display()
        )
    }
}

/// A trigger of a function.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Trigger {
    /// An API Gateway route (`APIGW` or `Api`).
    Api {
        /// The event's name in the template.
        name: String,
        /// HTTP method, or `ANY`.
        method: String,
        /// Path template (`/test/{path}`).
        path: String,
        /// Stage (`release` by default).
        stage: String,
    },
    /// A timer.
    Timer {
        /// The trigger name (`TriggerName` of the event).
        name: String,
        /// When it fires.
        cron: Cron,
        /// Whether it fires at all.
        enable: bool,
        /// The `Message` of the Timer event.
        message: String,
    },
    /// A trigger type this tool does not serve locally (COS, CMQ, Ckafka…), kept so that
    /// `validate` can list it.
    Other {
        /// The event's name in the template.
        name: String,
        /// Its `Type`.
        kind: String,
    },
}

/// A template that could not be read: the file, line and column, the key, and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The template file.
    pub file: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// 1-based column, 0 when unknown.
    pub column: u64,
    /// The key at fault (`Resources.default.hello.Properties.MemorySize`), when known.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for TemplateError {}

// ---- the raw YAML shape ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    #[serde(rename = "Resources")]
    resources: BTreeMap<String, RawNamespace>,
    #[serde(rename = "Globals", default)]
    globals: Option<RawGlobals>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGlobals {
    #[serde(rename = "Function", default)]
    function: RawProps,
}

struct RawNamespace {
    type_: Option<Spanned<String>>,
    functions: BTreeMap<String, RawFunction>,
}

impl<'de> Deserialize<'de> for RawNamespace {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawNamespace;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a namespace: `Type: TencentCloud::Serverless::Namespace` and functions by name")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNamespace, A::Error> {
                let mut ns = RawNamespace {
                    type_: None,
                    functions: BTreeMap::new(),
                };
                while let Some(key) = map.next_key::<String>()? {
                    if key == "Type" {
                        ns.type_ = Some(map.next_value()?);
                    } else {
                        let f = map.next_value::<RawFunction>()?;
                        ns.functions.insert(key, f);
                    }
                }
                Ok(ns)
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunction {
    #[serde(rename = "Type")]
    type_: Spanned<String>,
    #[serde(rename = "Properties", default)]
    properties: RawProps,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawProps {
    #[serde(rename = "CodeUri")]
    code_uri: Option<Spanned<String>>,
    #[serde(rename = "Type")]
    type_: Option<Spanned<String>>,
    #[serde(rename = "Description")]
    description: Option<String>,
    #[serde(rename = "Role")]
    role: Option<String>,
    #[serde(rename = "Environment")]
    environment: Option<RawEnvironment>,
    #[serde(rename = "Handler")]
    handler: Option<Spanned<String>>,
    #[serde(rename = "MemorySize")]
    memory_size: Option<Spanned<u32>>,
    #[serde(rename = "Runtime")]
    runtime: Option<Spanned<String>>,
    #[serde(rename = "Timeout")]
    timeout: Option<Spanned<u32>>,
    #[serde(rename = "InitTimeout")]
    init_timeout: Option<Spanned<u32>>,
    #[serde(rename = "VpcConfig")]
    vpc_config: Option<RawVpc>,
    #[serde(rename = "Events")]
    events: Option<BTreeMap<String, RawEvent>>,
    #[serde(rename = "Layers")]
    layers: Option<Vec<Spanned<Value>>>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    #[serde(rename = "Variables", default)]
    variables: BTreeMap<String, Spanned<Scalar>>,
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawVpc {
    #[serde(rename = "VpcId")]
    _vpc_id: Option<String>,
    #[serde(rename = "SubnetId")]
    _subnet_id: Option<String>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    #[serde(rename = "Type")]
    type_: Spanned<String>,
    #[serde(rename = "Properties", default)]
    properties: BTreeMap<String, Spanned<Value>>,
}

/// `text` read as `T`, a YAML error as a [`TemplateError`] naming `path`, the line,
/// column and key.
pub(crate) fn from_yaml<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
) -> Result<T, TemplateError> {
    serde_saphyr::from_str(text).map_err(|e| {
        let loc = e.location().unwrap_or(Location::UNKNOWN);
        let (line, column, key, message) = locate_parse_error(text, loc, &e.to_string());
        TemplateError {
            file: path.to_path_buf(),
            line,
            column,
            key,
            message,
        }
    })
}

/// Turns a YAML error into (line, column, key, message). For an unknown key the parser
/// may point at the mapping that holds it; the key's own line is found from there.
fn locate_parse_error(text: &str, loc: Location, raw: &str) -> (u64, u64, String, String) {
    // Keep the parser's own words, without its repeated position prefix and suffix.
    let first = raw.lines().next().unwrap_or_default();
    let mut message = first.trim_start_matches("error: ").to_string();
    if let Some(rest) = message.strip_prefix("line ") {
        if let Some((_, after)) = rest.split_once(": ") {
            message = after.to_string();
        }
    }
    if let Some(i) = message.rfind(" at line ") {
        message.truncate(i);
    }
    let (mut line, mut column) = (loc.line(), loc.column());
    let mut key = String::new();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((field, _)) = rest.split_once('`') {
            key = field.to_string();
            let from = usize::try_from(line.saturating_sub(1)).unwrap_or(0);
            let found = text.lines().enumerate().skip(from).find_map(|(i, l)| {
                let trimmed = l.trim_start();
                let after = trimmed.strip_prefix(field)?;
                after
                    .trim_start()
                    .starts_with(':')
                    .then(|| (i, l.len() - trimmed.len()))
            });
            if let Some((i, indent)) = found {
                line = i as u64 + 1;
                column = indent as u64 + 1;
            }
        }
    }
    (line, column, key, message)
}

// ---- resolution ----

struct Ctx<'a> {
    file: &'a Path,
}

impl Ctx<'_> {
    fn err(
        &self,
        loc: Location,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> TemplateError {
        TemplateError {
            file: self.file.to_path_buf(),
            line: loc.line(),
            column: loc.column(),
            key: key.into(),
            message: message.into(),
        }
    }
}

fn merge(global: &RawProps, own: RawProps) -> RawProps {
    RawProps {
        code_uri: own.code_uri.or_else(|| global.code_uri.clone()),
        type_: own.type_.or_else(|| global.type_.clone()),
        description: own.description.or_else(|| global.description.clone()),
        role: own.role.or_else(|| global.role.clone()),
        environment: match (own.environment, &global.environment) {
            (Some(mut e), Some(g)) => {
                for (k, v) in &g.variables {
                    e.variables.entry(k.clone()).or_insert_with(|| v.clone());
                }
                Some(e)
            }
            (own, g) => own.or_else(|| g.clone()),
        },
        handler: own.handler.or_else(|| global.handler.clone()),
        memory_size: own.memory_size.or_else(|| global.memory_size.clone()),
        runtime: own.runtime.or_else(|| global.runtime.clone()),
        timeout: own.timeout.or_else(|| global.timeout.clone()),
        init_timeout: own.init_timeout.or_else(|| global.init_timeout.clone()),
        vpc_config: own.vpc_config.or_else(|| global.vpc_config.clone()),
        events: own.events,
        layers: own.layers.or_else(|| global.layers.clone()),
    }
}

impl Template {
    /// Reads and validates a project: a `template.yaml`, or a Serverless Framework
    /// `serverless.yml` (told apart by content, see [`crate::serverless`]), or a
    /// directory of them ([`crate::serverless::load_dir`]).
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        if path.is_dir() {
            return crate::serverless::load_dir(path);
        }
        let text = std::fs::read_to_string(path).map_err(|e| TemplateError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("cannot read the template: {e}"),
        })?;
        if crate::serverless::looks_like(&text) {
            return crate::serverless::parse(&text, path);
        }
        Self::parse(&text, path)
    }

    /// Parses and validates template text; `path` names it in errors and anchors `CodeUri`.
    pub fn parse(text: &str, path: &Path) -> Result<Self, TemplateError> {
        let ctx = Ctx { file: path };
        let raw: RawTemplate = from_yaml(text, path)?;
        // `template.yaml` alone has the parent "": its code is in the current directory.
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        let globals = raw.globals.unwrap_or_default().function;
        let mut functions = Vec::new();
        for (ns_name, ns) in raw.resources {
            match &ns.type_ {
                Some(t) if t.value == NAMESPACE_TYPE => {}
                Some(t) => {
                    return Err(ctx.err(
                        t.referenced,
                        format!("Resources.{ns_name}.Type"),
                        format!("is {:?}: a namespace must be `{NAMESPACE_TYPE}`", t.value),
                    ))
                }
                None => {
                    return Err(ctx.err(
                        Location::UNKNOWN,
                        format!("Resources.{ns_name}.Type"),
                        format!("is missing: a namespace must have `Type: {NAMESPACE_TYPE}`"),
                    ))
                }
            }
            for (fn_name, f) in ns.functions {
                let key = format!("Resources.{ns_name}.{fn_name}");
                if f.type_.value != FUNCTION_TYPE {
                    return Err(ctx.err(
                        f.type_.referenced,
                        format!("{key}.Type"),
                        format!(
                            "is {:?}: a function must be `{FUNCTION_TYPE}`",
                            f.type_.value
                        ),
                    ));
                }
                functions.push(resolve_function(
                    &ctx,
                    base,
                    &ns_name,
                    &fn_name,
                    merge(&globals, f.properties),
                )?);
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            functions,
            warnings: Vec::new(),
        })
    }

    /// Prints [`Template::warnings`] to standard error, one `warning: …` line each.
    pub fn print_warnings(&self) {
        for w in &self.warnings {
            crate::out::errln(format_args!("warning: {w}"));
        }
    }

    /// The function named `name` (in any namespace; the first found).
    pub fn function(&self, name: &str) -> Option<&FunctionDef> {
        self.functions.iter().find(|f| f.config.name == name)
    }
}

fn resolve_function(
    ctx: &Ctx<'_>,
    base: &Path,
    namespace: &str,
    name: &str,
    p: RawProps,
) -> Result<FunctionDef, TemplateError> {
    let key = format!("Resources.{namespace}.{name}.Properties");
    let mut config = FunctionConfig::new(name);
    config.namespace = namespace.to_string();
    if let Some(h) = &p.handler {
        scf_handler_spec_check(&h.value)
            .map_err(|m| ctx.err(h.referenced, format!("{key}.Handler"), m))?;
        config.handler = h.value.clone();
    }
    if let Some(r) = &p.runtime {
        check_runtime(name, &r.value)
            .map_err(|m| ctx.err(r.referenced, format!("{key}.Runtime"), m))?;
        config.runtime = Some(r.value.clone());
    }
    let mut spans: BTreeMap<&str, Location> = BTreeMap::new();
    if let Some(m) = &p.memory_size {
        config.memory_mb = m.value;
        spans.insert("MemorySize", m.referenced);
    }
    if let Some(t) = &p.timeout {
        config.timeout = Duration::from_secs(u64::from(t.value));
        spans.insert("Timeout", t.referenced);
    }
    if let Some(t) = &p.init_timeout {
        config.init_timeout = Duration::from_secs(u64::from(t.value));
        spans.insert("InitTimeout", t.referenced);
    }
    let mut env_spans = BTreeMap::new();
    if let Some(env) = &p.environment {
        for (k, v) in &env.variables {
            config.environment.insert(k.clone(), v.value.text());
            env_spans.insert(k.clone(), v.referenced);
        }
    }
    config.validate().map_err(|e| {
        let (field, loc) = match &e {
            ConfigError::MemorySize { .. } => {
                ("MemorySize".to_string(), spans.get("MemorySize").copied())
            }
            ConfigError::Timeout { .. } => ("Timeout".to_string(), spans.get("Timeout").copied()),
            ConfigError::InitTimeout { .. } => {
                ("InitTimeout".to_string(), spans.get("InitTimeout").copied())
            }
            ConfigError::EnvKey { key } | ConfigError::EnvReserved { key } => (
                format!("Environment.Variables.{key}"),
                env_spans.get(key).copied(),
            ),
            ConfigError::EnvTooLarge { .. } => ("Environment.Variables".to_string(), None),
            _ => (String::new(), None),
        };
        let key = if field.is_empty() {
            format!("Resources.{namespace}.{name}")
        } else {
            format!("{key}.{field}")
        };
        ctx.err(loc.unwrap_or(Location::UNKNOWN), key, e.to_string())
    })?;
    let function_type = match &p.type_ {
        Some(t) if t.value == "Event" || t.value == "HTTP" => t.value.clone(),
        Some(t) => {
            return Err(ctx.err(
                t.referenced,
                format!("{key}.Type"),
                format!("is {:?}: must be `Event` or `HTTP`", t.value),
            ))
        }
        None => "Event".to_string(),
    };
    let code_uri = p.code_uri.as_ref().map(|c| c.value.as_str()).unwrap_or(".");
    let code_dir = Path::new(code_uri)
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .fold(base.to_path_buf(), |dir, c| dir.join(c));
    let layers = crate::layer::resolve_layers(&key, base, p.layers.as_deref().unwrap_or_default())
        .map_err(|e| ctx.err(e.at, e.key, e.message))?;
    let mut triggers = Vec::new();
    for (ev_name, ev) in p.events.unwrap_or_default() {
        triggers.push(resolve_trigger(
            ctx,
            &format!("{key}.Events.{ev_name}"),
            name,
            &ev_name,
            ev,
        )?);
    }
    Ok(FunctionDef {
        config,
        code_dir,
        function_type,
        description: p.description.unwrap_or_default(),
        triggers,
        layers,
    })
}

/// Refuses, when the project is read, a runtime that can never run here: Python 2
/// (`Python2.7`), whose interpreter is in none of the package registries this project's
/// machines reach. The message names the function and what to change.
pub(crate) fn check_runtime(function: &str, runtime: &str) -> Result<(), String> {
    let lower = runtime.to_ascii_lowercase();
    if lower
        .strip_prefix("python")
        .is_some_and(|v| v.starts_with('2'))
    {
        return Err(format!(
            "function {function}: {runtime} cannot run here: no Python 2 interpreter can be installed on this machine (Python 2 is past its end of life and in none of the package registries scf uses); port the code to Python 3 and set the runtime to Python3.9 (or Python3.6, Python3.7, Python3.10)"
        ));
    }
    Ok(())
}

fn scf_handler_spec_check(h: &str) -> Result<(), String> {
    // A Custom Runtime's handler is free-form; for the others `file.method` is checked
    // where the runtime resolves it. Here only emptiness is refused.
    if h.trim().is_empty() {
        Err("is empty: expected `file.method`, e.g. `index.main_handler`".into())
    } else {
        Ok(())
    }
}

fn resolve_trigger(
    ctx: &Ctx<'_>,
    key: &str,
    function: &str,
    name: &str,
    ev: RawEvent,
) -> Result<Trigger, TemplateError> {
    let kind = ev.type_.value.as_str();
    let allowed: &[&str] = match kind {
        "APIGW" => &[
            "StageName",
            "ServiceId",
            "HttpMethod",
            "Path",
            "IntegratedResponse",
            "Enable",
            "ServiceTimeout",
        ],
        "Api" => &["Path", "Method"],
        "Timer" => &["CronExpression", "Enable", "Message"],
        "COS" | "CMQ" | "Ckafka" | "CLS" | "MPS" | "CLB" => {
            return Ok(Trigger::Other {
                name: name.into(),
                kind: kind.into(),
            })
        }
        other => {
            return Err(ctx.err(
                ev.type_.referenced,
                format!("{key}.Type"),
                format!(
                "is {other:?}: expected one of APIGW, Api, Timer, COS, CMQ, Ckafka, CLS, MPS, CLB"
            ),
            ))
        }
    };
    for (k, v) in &ev.properties {
        if !allowed.contains(&k.as_str()) {
            return Err(ctx.err(
                v.referenced,
                format!("{key}.Properties.{k}"),
                format!(
                    "is not a property of a {kind} event: expected one of {}",
                    allowed.join(", ")
                ),
            ));
        }
    }
    let string = |k: &str| -> Result<Option<String>, TemplateError> {
        match ev.properties.get(k) {
            None => Ok(None),
            Some(v) => match &v.value {
                Value::String(s) => Ok(Some(s.clone())),
                Value::Null => Ok(None),
                other => Err(ctx.err(
                    v.referenced,
                    format!("{key}.Properties.{k}"),
                    format!("must be a string, got {other}"),
                )),
            },
        }
    };
    let boolean = |k: &str| -> Result<Option<bool>, TemplateError> {
        match ev.properties.get(k) {
            None => Ok(None),
            Some(v) => match &v.value {
                Value::Bool(b) => Ok(Some(*b)),
                Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
                Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
                other => Err(ctx.err(
                    v.referenced,
                    format!("{key}.Properties.{k}"),
                    format!("must be true or false, got {other}"),
                )),
            },
        }
    };
    match kind {
        "Timer" => {
            let loc = ev
                .properties
                .get("CronExpression")
                .map(|v| v.referenced)
                .unwrap_or(ev.type_.referenced);
            let expr = string("CronExpression")?.ok_or_else(|| {
                ctx.err(
                    ev.type_.referenced,
                    format!("{key}.Properties.CronExpression"),
                    "is missing: a Timer needs a CronExpression",
                )
            })?;
            let cron = Cron::parse(&expr).map_err(|e| {
                ctx.err(
                    loc,
                    format!("{key}.Properties.CronExpression"),
                    e.to_string(),
                )
            })?;
            let message = string("Message")?.unwrap_or_default();
            if message.len() > 4096 {
                return Err(ctx.err(
                    loc,
                    format!("{key}.Properties.Message"),
                    "is over 4 KB, the Timer message limit",
                ));
            }
            Ok(Trigger::Timer {
                name: name.into(),
                cron,
                enable: boolean("Enable")?.unwrap_or(true),
                message,
            })
        }
        "APIGW" => {
            let method = string("HttpMethod")?
                .unwrap_or_else(|| "ANY".into())
                .to_ascii_uppercase();
            check_method(ctx, key, "HttpMethod", &method, &ev)?;
            let path = string("Path")?.unwrap_or_else(|| format!("/{function}"));
            check_path(ctx, key, &path, &ev)?;
            Ok(Trigger::Api {
                name: name.into(),
                method,
                path,
                stage: string("StageName")?.unwrap_or_else(|| "release".into()),
            })
        }
        _ => {
            let path = string("Path")?.ok_or_else(|| {
                ctx.err(
                    ev.type_.referenced,
                    format!("{key}.Properties.Path"),
                    "is missing: an Api event needs a Path",
                )
            })?;
            check_path(ctx, key, &path, &ev)?;
            let method = string("Method")?
                .unwrap_or_else(|| "ANY".into())
                .to_ascii_uppercase();
            check_method(ctx, key, "Method", &method, &ev)?;
            Ok(Trigger::Api {
                name: name.into(),
                method,
                path,
                stage: "release".into(),
            })
        }
    }
}

/// The HTTP methods an API Gateway route may name.
pub(crate) const METHODS: [&str; 8] = [
    "ANY", "GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS",
];

fn check_method(
    ctx: &Ctx<'_>,
    key: &str,
    field: &str,
    method: &str,
    ev: &RawEvent,
) -> Result<(), TemplateError> {
    if METHODS.contains(&method) {
        return Ok(());
    }
    let loc = ev
        .properties
        .get(field)
        .map(|v| v.referenced)
        .unwrap_or(Location::UNKNOWN);
    Err(ctx.err(
        loc,
        format!("{key}.Properties.{field}"),
        format!("is {method:?}: expected one of {}", METHODS.join(", ")),
    ))
}

fn check_path(ctx: &Ctx<'_>, key: &str, path: &str, ev: &RawEvent) -> Result<(), TemplateError> {
    // API Gateway's `=` (exact) and `^~` (preferred prefix) markers come before the `/`.
    let bare = path
        .strip_prefix('=')
        .or_else(|| path.strip_prefix("^~"))
        .unwrap_or(path);
    if bare.starts_with('/') {
        return Ok(());
    }
    let loc = ev
        .properties
        .get("Path")
        .map(|v| v.referenced)
        .unwrap_or(Location::UNKNOWN);
    Err(ctx.err(
        loc,
        format!("{key}.Properties.Path"),
        format!("is {path:?}: a path must start with `/` (after `=` or `^~`, if any)"),
    ))
}
