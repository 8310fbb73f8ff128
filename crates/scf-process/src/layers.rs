//! A function's layers (SCF's `Layers`): local directories or zip files merged, in the
//! order given, into one directory that instances see at `/opt`.
//!
//! On SCF the layers bound to a function are unpacked under `/opt` in their binding
//! order, a later one over an earlier one, before the first instance starts; runtimes
//! find them through their search paths (`PYTHONPATH` `…:/opt`, `NODE_PATH`
//! `…:/opt:/opt/node_modules`). Here the merge is made once per [`ProcessFunction`]
//! (when it is created, so a reload of the function re-reads its layers) in a
//! directory under the scratch root, removed with the function:
//!
//! - **In a sandbox** the merged directory's entries are bound read-only under a tmpfs at
//!   `/opt`, which is then made read-only: a function reads `/opt/<file>` as on SCF.
//! - **Without one** (`SCF_SANDBOX=off`) nothing can be mounted at `/opt`; the search
//!   paths name the merged directory itself, so imports and `require`s work unchanged,
//!   but a literal `/opt/…` path does not (the host's own `/opt` is there).
//!
//! [`ProcessFunction`]: crate::ProcessFunction

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::spec::ProcessError;

/// Where a function's merged layers are: the directory itself, removed on drop.
#[derive(Debug)]
pub(crate) struct MergedLayers {
    dir: tempfile::TempDir,
}

impl MergedLayers {
    /// The merged directory on the host.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Merges `layers` (directories or `.zip` files) in order into a new directory under
/// `root`; `None` when there are none.
pub(crate) fn merge(
    layers: &[PathBuf],
    root: &Path,
    function: &str,
) -> Result<Option<MergedLayers>, ProcessError> {
    if layers.is_empty() {
        return Ok(None);
    }
    let io = |path: &Path, what: &str, e: std::io::Error| ProcessError::Layer {
        path: path.to_path_buf(),
        problem: format!("{what}: {e}"),
    };
    let dir = tempfile::Builder::new()
        .prefix(&format!("layers-{function}-"))
        .tempdir_in(root)
        .map_err(|e| io(root, "cannot make the merged layer directory", e))?;
    for layer in layers {
        if is_zip(layer) {
            unzip_into(layer, dir.path())?;
        } else {
            copy_tree(layer, dir.path()).map_err(|e| io(layer, "cannot copy the layer", e))?;
        }
    }
    Ok(Some(MergedLayers { dir }))
}

/// Whether `path` names a zip file (by its extension).
pub(crate) fn is_zip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

/// Checks that `layer` is a directory or a `.zip` file.
pub(crate) fn check(layer: &Path) -> Result<(), ProcessError> {
    let problem = match std::fs::metadata(layer) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(m) if m.is_file() && is_zip(layer) => return Ok(()),
        Ok(_) => "is neither a directory nor a .zip file".to_string(),
        Err(e) => format!("cannot be read: {e}"),
    };
    Err(ProcessError::Layer {
        path: layer.to_path_buf(),
        problem,
    })
}

/// Makes room for a file or link at `dest`: what is there (a file, a link, or a
/// directory a later layer replaces with a file) is removed.
fn clear(dest: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(dest) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(dest),
        Ok(_) => std::fs::remove_file(dest),
        Err(_) => Ok(()),
    }
}

/// Makes `dest` a directory (replacing a file or link a later layer puts a directory at).
fn ensure_dir(dest: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(dest) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => {
            std::fs::remove_file(dest)?;
            std::fs::create_dir(dest)
        }
        Err(_) => std::fs::create_dir_all(dest),
    }
}

/// Copies the contents of `src` into `dest`, over what is there.
fn copy_tree(src: &Path, dest: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let from = entry.path();
        let to = dest.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            ensure_dir(&to)?;
            copy_tree(&from, &to)?;
        } else if kind.is_symlink() {
            clear(&to)?;
            std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
        } else {
            clear(&to)?;
            std::fs::copy(&from, &to)?;
        }
    }
    Ok(())
}

/// Unpacks the zip file `zip` into `dest`, over what is there. Entries whose names would
/// leave `dest` (`../x`, absolute paths) are refused.
fn unzip_into(zip: &Path, dest: &Path) -> Result<(), ProcessError> {
    let fail = |problem: String| ProcessError::Layer {
        path: zip.to_path_buf(),
        problem,
    };
    let file = std::fs::File::open(zip).map_err(|e| fail(format!("cannot be opened: {e}")))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| fail(format!("is not a readable zip file: {e}")))?;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| fail(format!("entry {i} cannot be read: {e}")))?;
        let name = entry.name().to_owned();
        let Some(relative) = entry.enclosed_name() else {
            return Err(fail(format!(
                "entry {name:?} would be unpacked outside the layer (an absolute path or `..`)"
            )));
        };
        let to = dest.join(relative);
        let io = |e: std::io::Error| fail(format!("cannot unpack {name:?}: {e}"));
        if entry.is_dir() {
            ensure_dir(&to).map_err(io)?;
            continue;
        }
        if let Some(parent) = to.parent() {
            ensure_dir(parent).map_err(io)?;
        }
        clear(&to).map_err(io)?;
        if entry.is_symlink() {
            let mut target = String::new();
            entry.read_to_string(&mut target).map_err(io)?;
            std::os::unix::fs::symlink(target, &to).map_err(io)?;
            continue;
        }
        let mut out = std::fs::File::create(&to).map_err(io)?;
        std::io::copy(&mut entry, &mut out).map_err(io)?;
        if let Some(mode) = entry.unix_mode() {
            use std::os::unix::fs::PermissionsExt;
            // Keep the execute bits; make sure the owner can read it.
            let mode = (mode & 0o777) | 0o400;
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(mode)).map_err(io)?;
        }
    }
    Ok(())
}

/// Where instances find the layers: `/opt` in a sandbox, the merged directory without.
pub(crate) fn opt_dir(merged: &MergedLayers, sandboxed: bool) -> String {
    if sandboxed {
        "/opt".to_owned()
    } else {
        merged.path().to_string_lossy().into_owned()
    }
}

/// `PYTHONPATH`: the code directory, then `/opt` and `/opt/python`.
pub(crate) fn python_path(code: &str, opt: &str) -> String {
    format!("{code}:{opt}:{opt}/python")
}

/// `NODE_PATH`: the code directory and its `node_modules`, then SCF's `/opt` and
/// `/opt/node_modules`, and `/opt/nodejs/node_modules` (the layout layer guides use).
pub(crate) fn node_path(code: &str, opt: &str) -> String {
    format!("{code}:{code}/node_modules:{opt}:{opt}/node_modules:{opt}/nodejs/node_modules")
}

/// bwrap's arguments that show the merged directory at `/opt`: a tmpfs there (so that
/// directories bound later, an interpreter under `/opt` say, can still be mounted inside
/// it) with each top-level entry bound read-only. [`OPT_SEAL`] makes it read-only last.
pub(crate) fn opt_mounts(merged: Option<&Path>) -> Vec<OsString> {
    let Some(dir) = merged else {
        return Vec::new();
    };
    let mut args: Vec<OsString> = vec!["--tmpfs".into(), "/opt".into()];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            args.push("--ro-bind".into());
            args.push(entry.path().into_os_string());
            args.push(Path::new("/opt").join(entry.file_name()).into_os_string());
        }
    }
    args
}

/// The last of the `/opt` arguments: the tmpfs becomes read-only, as `/opt` is on SCF.
pub(crate) const OPT_SEAL: [&str; 2] = ["--remount-ro", "/opt"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_layer_wins_a_clash_and_an_earlier_layer_keeps_the_rest() {
        let work = tempfile::tempdir().unwrap();
        let a = work.path().join("a");
        let b = work.path().join("b");
        std::fs::create_dir_all(a.join("python")).unwrap();
        std::fs::create_dir_all(b.join("python")).unwrap();
        std::fs::write(a.join("python/clash.py"), "A").unwrap();
        std::fs::write(a.join("python/only_a.py"), "A").unwrap();
        std::fs::write(b.join("python/clash.py"), "B").unwrap();
        // A directory in the earlier layer replaced by a file in the later one.
        std::fs::create_dir_all(a.join("thing")).unwrap();
        std::fs::write(b.join("thing"), "file").unwrap();
        let merged = merge(&[a, b], work.path(), "f").unwrap().unwrap();
        let read = |p: &str| std::fs::read_to_string(merged.path().join(p)).unwrap();
        assert_eq!(read("python/clash.py"), "B");
        assert_eq!(read("python/only_a.py"), "A");
        assert_eq!(read("thing"), "file");
    }

    #[test]
    fn a_layer_that_is_neither_a_directory_nor_a_zip_is_refused_by_name() {
        let work = tempfile::tempdir().unwrap();
        let file = work.path().join("layer.tar");
        std::fs::write(&file, "x").unwrap();
        let e = check(&file).unwrap_err().to_string();
        assert!(e.contains("layer.tar") && e.contains("neither"), "{e}");
        let e = check(&work.path().join("missing")).unwrap_err().to_string();
        assert!(e.contains("missing") && e.contains("cannot be read"), "{e}");
    }

    #[test]
    fn the_sandbox_shows_each_entry_under_a_tmpfs_at_opt() {
        let work = tempfile::tempdir().unwrap();
        std::fs::create_dir(work.path().join("python")).unwrap();
        let args: Vec<String> = opt_mounts(Some(work.path()))
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let python = work.path().join("python").to_string_lossy().into_owned();
        assert_eq!(
            args,
            [
                "--tmpfs",
                "/opt",
                "--ro-bind",
                python.as_str(),
                "/opt/python"
            ]
        );
        assert!(opt_mounts(None).is_empty());
    }
}
