//! Serverless Framework variables in a `serverless.yml`: `${env:X}` (the environment,
//! then a `.env` file beside the project or in the folder above, as the framework loads it), `${self:a.b}` (another
//! value of the same file), `${name}`, `${app}`, `${stage}` and `${org}` (the instance's
//! own fields). `${output:…}` (another deployed instance's outputs) exists only after a
//! deployment and is refused, as is any other variable, with what to write instead.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// How deep variables may refer to variables before the chain is called a cycle.
const MAX_DEPTH: usize = 10;

/// What variables resolve against.
#[derive(Debug)]
pub(crate) struct Vars<'a> {
    doc: &'a Value,
    dotenv: BTreeMap<String, String>,
    dotenv_files: Vec<String>,
}

impl<'a> Vars<'a> {
    /// Variables of `doc` (the whole file, for `${self:…}`), with the `.env` files of
    /// `dirs` (the first that sets a key wins; the environment wins over them all).
    pub(crate) fn new(doc: &'a Value, dirs: &[&Path]) -> Self {
        let mut dotenv = BTreeMap::new();
        let mut dotenv_files = Vec::new();
        for dir in dirs {
            let path = dir.join(".env");
            if let Ok(text) = std::fs::read_to_string(&path) {
                dotenv_files.push(path.display().to_string());
                for (k, v) in parse_dotenv(&text) {
                    dotenv.entry(k).or_insert(v);
                }
            }
        }
        Self {
            doc,
            dotenv,
            dotenv_files,
        }
    }

    /// `text` with every `${…}` replaced; the error says which variable and why.
    pub(crate) fn resolve(&self, text: &str) -> Result<String, String> {
        self.resolve_at(text, 0)
    }

    /// A scalar's text with its variables replaced (`null` is empty text; numbers and
    /// booleans as written).
    pub(crate) fn resolve_value(&self, value: &Value) -> Result<String, String> {
        match value {
            Value::String(s) => self.resolve(s),
            Value::Null => Ok(String::new()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Number(n) => Ok(n.to_string()),
            other => Ok(other.to_string()),
        }
    }

    fn resolve_at(&self, text: &str, depth: usize) -> Result<String, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "variables refer to each other more than {MAX_DEPTH} deep (a cycle?) in {text:?}"
            ));
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("`${{` without its closing `}}` in {text:?}"))?;
            let value = self.variable(after[..end].trim(), depth)?;
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn variable(&self, var: &str, depth: usize) -> Result<String, String> {
        let (source, arg) = match var.split_once(':') {
            Some((s, a)) => (s.trim(), Some(a.trim())),
            None => (var, None),
        };
        match (source, arg) {
            ("env", Some(arg)) => {
                // `${env:X, fallback}`: the framework's default value.
                let (name, fallback) = match arg.split_once(',') {
                    Some((n, f)) => (n.trim(), Some(unquote(f.trim()))),
                    None => (arg, None),
                };
                if let Ok(v) = std::env::var(name) {
                    return Ok(v);
                }
                if let Some(v) = self.dotenv.get(name) {
                    return Ok(v.clone());
                }
                fallback.map(str::to_string).ok_or_else(|| {
                    let files = if self.dotenv_files.is_empty() {
                        "no .env file beside the project".to_string()
                    } else {
                        format!("nor in {}", self.dotenv_files.join(", "))
                    };
                    format!("${{env:{name}}}: {name} is not set in the environment ({files}): set it, or write the value")
                })
            }
            ("self", Some(path)) => {
                let found = path
                    .split('.')
                    .try_fold(self.doc, |v, key| v.get(key))
                    .ok_or_else(|| {
                        format!("${{self:{path}}}: this file has no value at {path}")
                    })?;
                match found {
                    Value::Object(_) | Value::Array(_) => Err(format!(
                        "${{self:{path}}}: {path} is a {} here, not a single value",
                        if found.is_array() { "list" } else { "mapping" }
                    )),
                    Value::String(s) => self.resolve_at(s, depth + 1),
                    other => self.resolve_value(other),
                }
            }
            ("output", _) => Err(format!(
                "${{{var}}}: an output of another deployed component instance exists only after `sls deploy`, so it cannot be resolved locally: write the value it stands for (or ${{env:NAME}} and set NAME)"
            )),
            ("name" | "app" | "stage" | "org", None) => self.instance_field(source, depth),
            _ => Err(format!(
                "${{{var}}}: not a variable scf resolves: use ${{env:NAME}}, ${{self:path.to.value}}, ${{name}}, ${{app}}, ${{stage}} or ${{org}}"
            )),
        }
    }

    /// `${name}`, `${app}`, `${stage}`, `${org}`: the file's own top-level fields, with
    /// the framework's defaults (`stage` is `dev`; `app` is the instance name).
    fn instance_field(&self, field: &str, depth: usize) -> Result<String, String> {
        match self.doc.get(field) {
            Some(Value::String(s)) => self.resolve_at(s, depth + 1),
            Some(v) if !v.is_null() => self.resolve_value(v),
            _ => match field {
                "stage" => Ok("dev".into()),
                "app" => self.instance_field("name", depth + 1),
                _ => Err(format!(
                    "${{{field}}}: this file has no top-level `{field}:` to take it from"
                )),
            },
        }
    }
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// `KEY=VALUE` lines as dotenv reads them: `#` comments, an optional `export `, values
/// optionally in quotes (`\n` in double quotes is a newline).
pub(crate) fn parse_dotenv(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            inner.replace("\\n", "\n")
        } else if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            inner.to_string()
        } else {
            // An unquoted value ends at ` #`, a comment.
            value
                .split(" #")
                .next()
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        out.push((key.trim().to_string(), value));
    }
    out
}
