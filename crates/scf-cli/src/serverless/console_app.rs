//! `config.json`, the descriptor of an application template in Tencent's SCF console
//! (`{"serverless-cloud-function-application": {"application": {…}, "functions": {…}}}`):
//! JSON with `//` and `/* */` comments, from which the console deploys a template's
//! function (its `handler`, `runtime`, `name`; the code is the file's directory).
//!
//! Comments are blanked byte for byte (newlines kept) before the JSON is parsed, so that
//! every error names the line and column of the file as written; text inside strings is
//! never taken for a comment. Only what the console deploys locally matters here: each
//! function's `name`, `runtime` and `handler`, with the line of its `handler` key.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::template::TemplateError;

/// The file name of the descriptor, beside the code.
pub const FILE: &str = "config.json";

/// The top-level key that makes a JSON file Tencent's application-template descriptor.
pub const KEY: &str = "serverless-cloud-function-application";

/// One function of the descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleFunction {
    /// `name`, if given.
    pub name: Option<String>,
    /// `runtime`, if given.
    pub runtime: Option<String>,
    /// `handler`, if given.
    pub handler: Option<String>,
    /// The 1-based line of the `handler` key (0 when there is none).
    pub handler_line: usize,
}

/// A descriptor read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleApp {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its `functions` (one object, or a list of them), in order.
    pub functions: Vec<ConsoleFunction>,
}

impl ConsoleApp {
    /// Reads `path` (errors as [`TemplateError`]s: the file, line, column, key and rule):
    /// `Ok(None)` when it is not there or is JSON without [`KEY`] (a
    /// project's own `config.json`), an error when it cannot be read or, naming
    /// [`KEY`], is malformed.
    pub fn load(path: &Path) -> Result<Option<Self>, TemplateError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(error(path, 0, 0, format!("cannot be read: {e}"))),
        };
        match Self::parse(&text, path) {
            // A file that does not name the key is someone else's format.
            Err(_) if !text.contains(KEY) => Ok(None),
            other => other,
        }
    }

    /// Parses a descriptor's text; `path` names it in errors. `Ok(None)` when the text
    /// is JSON without [`KEY`].
    pub fn parse(text: &str, path: &Path) -> Result<Option<Self>, TemplateError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let scan =
            strip_comments(text).map_err(|(line, column, m)| error(path, line, column, m))?;
        let doc: Value = serde_json::from_str(&scan.json)
            .map_err(|e| error(path, e.line(), e.column(), format!("is not JSON: {e}")))?;
        let Some(app) = doc.get(KEY) else {
            return Ok(None);
        };
        let line_of = |key: &str| scan.key_lines.get(key).copied().unwrap_or(0);
        let wrong = |key: &str, what: &str| TemplateError {
            key: key.into(),
            ..error(path, line_of(key), 1, what)
        };
        if !app.is_object() {
            return Err(wrong(KEY, "must be an object"));
        }
        let fkey = format!("{KEY}.functions");
        let list: Vec<(String, &Value)> = match app.get("functions") {
            None | Some(Value::Null) => Vec::new(),
            Some(f @ Value::Object(_)) => vec![(fkey, f)],
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, f)| (format!("{fkey}[{i}]"), f))
                .collect(),
            Some(_) => return Err(wrong(&fkey, "must be an object or a list of objects")),
        };
        let mut functions = Vec::new();
        for (key, f) in list {
            if !f.is_object() {
                return Err(wrong(&key, "must be an object"));
            }
            let field = |name: &str| -> Result<Option<String>, TemplateError> {
                match f.get(name) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(_) => Err(wrong(&format!("{key}.{name}"), "must be a string")),
                }
            };
            functions.push(ConsoleFunction {
                name: field("name")?,
                runtime: field("runtime")?,
                handler: field("handler")?,
                handler_line: line_of(&format!("{key}.handler")),
            });
        }
        Ok(Some(Self {
            path: path.to_path_buf(),
            functions,
        }))
    }
}

fn error(file: &Path, line: usize, column: usize, message: impl Into<String>) -> TemplateError {
    TemplateError {
        file: file.to_path_buf(),
        line: line as u64,
        column: column as u64,
        key: String::new(),
        message: message.into(),
    }
}

/// JSON text with its comments blanked, and the line of every object key by its path
/// (`a.b[2].c`).
#[derive(Debug)]
struct Scan {
    json: String,
    key_lines: HashMap<String, usize>,
}

/// Where the scanner is in the document's structure.
enum Frame {
    /// An object: its path, and the key whose value comes next.
    Object(String, Option<String>),
    /// A list: its path and the index of the current item.
    Array(String, usize),
}

impl Frame {
    /// The path of the value now being read inside this container.
    fn child(&self) -> String {
        match self {
            Frame::Object(p, Some(k)) if p.is_empty() => k.clone(),
            Frame::Object(p, Some(k)) => format!("{p}.{k}"),
            Frame::Object(p, None) => p.clone(),
            Frame::Array(p, i) => format!("{p}[{i}]"),
        }
    }
}

/// Blanks `//` and `/* */` comments outside strings (each byte a space, newlines kept,
/// so that offsets, lines and columns stay those of the file) and notes each key's line.
/// An unterminated `/*` is an error at its line and column. Malformed JSON is left for
/// the JSON parser to report.
fn strip_comments(text: &str) -> Result<Scan, (usize, usize, String)> {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut key_lines = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    // The last string of an object not yet followed by `:` (a key), with its line.
    let mut pending: Option<(String, usize)> = None;
    let mut expect_key = false;
    let (mut i, mut line, mut line_start) = (0, 1, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                i += 1;
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' && bytes.get(i + 1) != Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                }
                // Past the closing quote; an unclosed string ends before its newline
                // (the JSON parser reports it).
                if bytes.get(i) == Some(&b'"') {
                    i += 1;
                }
                i = i.min(bytes.len());
                if expect_key {
                    let raw = text.get(start..i).unwrap_or_default();
                    let key = serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.into());
                    pending = Some((key, line));
                    expect_key = false;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    out[i] = b' ';
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let (open_line, open_column) = (line, i - line_start + 1);
                let Some(len) = text.get(i + 2..).and_then(|t| t.find("*/")) else {
                    return Err((
                        open_line,
                        open_column,
                        "a `/*` comment is not closed".into(),
                    ));
                };
                for j in i..i + len + 4 {
                    if bytes[j] == b'\n' {
                        line += 1;
                        line_start = j + 1;
                    } else {
                        out[j] = b' ';
                    }
                }
                i += len + 4;
            }
            c => {
                match c {
                    b'{' => {
                        let path = stack.last().map(Frame::child).unwrap_or_default();
                        stack.push(Frame::Object(path, None));
                        expect_key = true;
                    }
                    b'[' => {
                        let path = stack.last().map(Frame::child).unwrap_or_default();
                        stack.push(Frame::Array(path, 0));
                    }
                    b'}' | b']' => {
                        stack.pop();
                        expect_key = false;
                    }
                    b':' => {
                        if let (Some((key, key_line)), Some(Frame::Object(_, current))) =
                            (pending.take(), stack.last_mut())
                        {
                            *current = Some(key);
                            if let Some(frame) = stack.last() {
                                key_lines.insert(frame.child(), key_line);
                            }
                        }
                    }
                    b',' => match stack.last_mut() {
                        Some(Frame::Array(_, n)) => *n += 1,
                        Some(Frame::Object(..)) => expect_key = true,
                        None => {}
                    },
                    _ => {}
                }
                i += 1;
            }
        }
    }
    // Every byte of a comment but its newlines became a space, whole comments at once
    // (a `//` one up to its newline, a `/* */` one up to `*/`): the text stays UTF-8.
    let json = String::from_utf8(out).map_err(|e| (0, 0, format!("is not UTF-8: {e}")))?;
    Ok(Scan { json, key_lines })
}
