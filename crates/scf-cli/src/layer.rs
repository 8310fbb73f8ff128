//! A function's `Layers` in `template.yaml`: local directories or zip files, in the
//! order SCF loads them (see `docs/layers.md`).
//!
//! SCF binds a function to at most 5 layer versions, in order; each is unpacked under
//! `/opt`, a later one over an earlier one. The cloud names a layer by `LayerName` and
//! `LayerVersion` (the API's `Layers` parameter); locally it must also say where its
//! files are. An entry is either a path (relative to the template's folder):
//!
//! ```yaml
//! Layers:
//!   - ./layers/common          # a directory: its contents appear under /opt
//!   - ./layers/numpy.zip       # a zip file, as uploaded to SCF
//! ```
//!
//! or a mapping with the cloud's names and the local copy as `CodeUri`:
//!
//! ```yaml
//! Layers:
//!   - LayerName: common
//!     LayerVersion: 3
//!     CodeUri: ./layers/common
//! ```

use std::path::{Path, PathBuf};

use serde_json::Value;
use serde_saphyr::{Location, Spanned};

/// How many layers SCF binds to one function at most.
pub const MAX_LAYERS: usize = 5;

/// One layer of a function, as the template gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LayerDef {
    /// `LayerName`, or the file name of the path when only a path is given.
    pub name: String,
    /// `LayerVersion`, when given.
    pub version: Option<u64>,
    /// The directory or `.zip` file (resolved against the template's folder).
    pub path: PathBuf,
    /// Where the entry is in the template (1-based line, 0 when unknown).
    pub line: u64,
    /// Its column (1-based, 0 when unknown).
    pub column: u64,
}

impl LayerDef {
    /// A layer at `path` named after its file name (for models built from other formats).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        Self {
            name: layer_name_of(&path),
            version: None,
            path,
            line: 0,
            column: 0,
        }
    }

    /// Whether it is a zip file (by its name), not a directory.
    pub fn is_zip(&self) -> bool {
        is_zip_path(&self.path)
    }
}

fn is_zip_path(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

fn layer_name_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// A layer entry that cannot be used: where, which key, what is wrong.
#[derive(Debug)]
pub(crate) struct LayerError {
    pub(crate) at: Location,
    pub(crate) key: String,
    pub(crate) message: String,
}

/// Resolves the raw `Layers` entries of a function whose properties are at `key`
/// (`Resources.default.hello.Properties`), paths against `base`.
pub(crate) fn resolve_layers(
    key: &str,
    base: &Path,
    raw: &[Spanned<Value>],
) -> Result<Vec<LayerDef>, LayerError> {
    let err = |at: Location, key: String, message: String| LayerError { at, key, message };
    if raw.len() > MAX_LAYERS {
        let at = raw
            .get(MAX_LAYERS)
            .map_or(Location::UNKNOWN, |v| v.referenced);
        return Err(err(
            at,
            format!("{key}.Layers"),
            format!(
                "lists {} layers: SCF binds at most {MAX_LAYERS} to a function",
                raw.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(raw.len());
    for (i, entry) in raw.iter().enumerate() {
        let at = entry.referenced;
        let item = format!("{key}.Layers[{i}]");
        let (name, version, uri) = match &entry.value {
            Value::String(s) => (None, None, s.clone()),
            Value::Object(map) => {
                for k in map.keys() {
                    if !["LayerName", "LayerVersion", "CodeUri"].contains(&k.as_str()) {
                        return Err(err(
                            at,
                            format!("{item}.{k}"),
                            "is not a layer property: expected LayerName, LayerVersion, CodeUri"
                                .into(),
                        ));
                    }
                }
                let name = match map.get("LayerName") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
                    Some(other) => {
                        return Err(err(
                            at,
                            format!("{item}.LayerName"),
                            format!("must be a non-empty string, got {other}"),
                        ))
                    }
                };
                let version = match map.get("LayerVersion") {
                    None | Some(Value::Null) => None,
                    Some(v) => match v.as_u64().filter(|n| *n > 0) {
                        Some(n) => Some(n),
                        None => {
                            return Err(err(
                                at,
                                format!("{item}.LayerVersion"),
                                format!("must be a version number (1, 2, …), got {v}"),
                            ))
                        }
                    },
                };
                let uri = match map.get("CodeUri") {
                    Some(Value::String(s)) => s.clone(),
                    None | Some(Value::Null) => {
                        let what = match (&name, version) {
                            (Some(n), Some(v)) => format!("layer {n} version {v}"),
                            (Some(n), None) => format!("layer {n}"),
                            _ => "this layer".to_string(),
                        };
                        return Err(err(
                            at,
                            format!("{item}.CodeUri"),
                            format!("is missing: {what} lives in the cloud, which scf does not download; give its local copy (a directory or .zip file) as CodeUri"),
                        ));
                    }
                    Some(other) => {
                        return Err(err(
                            at,
                            format!("{item}.CodeUri"),
                            format!("must be a path, got {other}"),
                        ))
                    }
                };
                (name, version, uri)
            }
            other => {
                return Err(err(
                    at,
                    item,
                    format!("must be a path (a directory or .zip file) or a mapping with LayerName, LayerVersion and CodeUri, got {other}"),
                ))
            }
        };
        if uri.trim().is_empty() {
            return Err(err(at, item, "is an empty path".into()));
        }
        let path = Path::new(&uri)
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .fold(base.to_path_buf(), |dir, c| dir.join(c));
        let path = if Path::new(&uri).is_absolute() {
            PathBuf::from(&uri)
        } else {
            path
        };
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.is_file() && is_zip_path(&path) => {}
            Ok(_) => {
                return Err(err(
                    at,
                    item,
                    format!(
                        "{} is neither a directory nor a .zip file",
                        path.display()
                    ),
                ))
            }
            Err(e) => {
                return Err(err(
                    at,
                    item,
                    format!(
                        "{} cannot be read ({e}): a layer is a local directory or .zip file, relative to the template's folder",
                        path.display()
                    ),
                ))
            }
        }
        out.push(LayerDef {
            name: name.unwrap_or_else(|| layer_name_of(&path)),
            version,
            line: at.line(),
            column: at.column(),
            path,
        });
    }
    Ok(out)
}
