//! When a `serverless.yml`'s code cannot be found (its `src` is not a directory, or its
//! handler's file is not in it) and a Tencent console descriptor (`config.json`, see
//! [`console_app`](super::console_app)) beside it describes the function with a handler
//! that is there, the descriptor's handler and directory are used, as Tencent's console
//! deploys the template from it; never silently: the warning names both files and lines.

use std::path::{Path, PathBuf};

use super::console_app::{ConsoleApp, FILE};
use crate::project::handler_files;

/// Where the function's code was declared in the Serverless file.
pub(super) struct Declared<'a> {
    /// The Serverless file.
    pub file: &'a Path,
    /// The function's name.
    pub name: &'a str,
    /// Its runtime.
    pub runtime: &'a str,
    /// Its handler and the line it is on (0 when it is the default).
    pub handler: (&'a str, u64),
    /// Its code directory and the line of `src`.
    pub code_dir: (&'a Path, u64),
}

/// What to run instead: the handler, the code directory and the warning to print.
#[derive(Debug)]
pub(super) struct Fallback {
    pub handler: String,
    pub code_dir: PathBuf,
    pub warning: String,
}

/// The descriptor's handler and directory when the declared code does not resolve and
/// `dir`'s `config.json` describes the function (its only one, or the one of the same
/// name; of the same language when it names a runtime) with a handler that resolves.
/// `Err` is a warning with nothing to use instead (a descriptor that cannot be read).
pub(super) fn console_fallback(d: &Declared<'_>, dir: &Path) -> Result<Option<Fallback>, String> {
    let file = shown(d.file);
    let (code_dir, src_line) = d.code_dir;
    let (handler, handler_line) = d.handler;
    let problem = if !code_dir.is_dir() {
        format!(
            "{file}:{src_line}: src {}: no such directory",
            code_dir.display()
        )
    } else {
        match missing(d.runtime, handler, code_dir) {
            None => return Ok(None),
            // A handler not written in the file is the component's default.
            Some(files) if handler_line == 0 => format!(
                "{file}: handler {handler} (the default): no {files} in {}/",
                shown(code_dir)
            ),
            Some(files) => format!(
                "{file}:{handler_line}: handler {handler}: no {files} in {}/",
                shown(code_dir)
            ),
        }
    };
    let app = match ConsoleApp::load(&dir.join(FILE)) {
        Ok(Some(app)) => app,
        Ok(None) => return Ok(None),
        Err(mut e) => {
            e.file = PathBuf::from(shown(&e.file));
            return Err(format!("{problem}; {e}: not used"));
        }
    };
    let f = match app.functions.as_slice() {
        [only] => only,
        all => match all.iter().find(|f| f.name.as_deref() == Some(d.name)) {
            Some(f) => f,
            None => return Ok(None),
        },
    };
    if f.runtime
        .as_deref()
        .is_some_and(|r| language(r) != language(d.runtime))
    {
        return Ok(None);
    }
    let Some(new) = f.handler.as_deref().filter(|h| !h.is_empty()) else {
        return Ok(None);
    };
    if !dir.is_dir() || missing(d.runtime, new, dir).is_some() {
        return Ok(None);
    }
    let moved = if shown(dir) == shown(code_dir) {
        String::new()
    } else {
        format!(" in {}/", shown(dir))
    };
    Ok(Some(Fallback {
        handler: new.to_string(),
        code_dir: dir.to_path_buf(),
        warning: format!(
            "{problem}; using {}:{}'s {new}{moved}, as Tencent's console deploys this template",
            shown(&app.path),
            f.handler_line
        ),
    }))
}

/// The files `handler` may name that are all missing from `dir` (`apigw.php`, `a.py or
/// a/__init__.py`), or `None` when one is there or the runtime's handler is no file.
fn missing(runtime: &str, handler: &str, dir: &Path) -> Option<String> {
    let (files, _) = handler_files(runtime, handler, dir);
    if files.is_empty() || files.iter().any(|f| f.exists()) {
        return None;
    }
    let names: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(dir).unwrap_or(f).display().to_string())
        .collect();
    Some(names.join(" or "))
}

/// A runtime's language: its name without the version (`python` for `Python3.6`).
fn language(runtime: &str) -> String {
    runtime
        .to_ascii_lowercase()
        .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
        .to_string()
}

/// A path as the user wrote it: `.` for the current directory, no leading `./`.
fn shown(p: &Path) -> String {
    let p = p.strip_prefix(".").unwrap_or(p);
    if p.as_os_str().is_empty() {
        ".".into()
    } else {
        p.display().to_string()
    }
}
