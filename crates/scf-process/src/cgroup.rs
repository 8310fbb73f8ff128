//! A cgroup v2 per instance with `memory.max`, where the host may create one.
//!
//! The kernel then enforces the memory limit itself (the OOM killer ends the instance and
//! `memory.events` counts an `oom_kill`). Creating one needs a cgroup v2 directory whose
//! `cgroup.subtree_control` lists `memory` and that this process may write to: the
//! host's own cgroup when it was delegated (systemd `Delegate=yes`, a container with a
//! private cgroup namespace and the host moved to a leaf), or a directory named in
//! [`CgroupPolicy::Under`](crate::CgroupPolicy::Under). Anywhere else (cgroup v1,
//! unprivileged without delegation) the `/proc` watchdog alone enforces the limit.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One instance's cgroup. Dropping it kills what is left in it and removes it.
#[derive(Debug)]
pub(crate) struct Cgroup {
    dir: PathBuf,
}

impl Cgroup {
    /// Creates `<parent>/<name>` with `memory.max` = `limit_bytes` (and no swap).
    pub(crate) fn create(parent: &Path, name: &str, limit_bytes: u64) -> io::Result<Self> {
        let dir = parent.join(name);
        fs::create_dir(&dir)?;
        let cgroup = Self { dir };
        fs::write(cgroup.dir.join("memory.max"), limit_bytes.to_string())?;
        // Not every kernel has swap accounting; the limit holds without it.
        let _ = fs::write(cgroup.dir.join("memory.swap.max"), "0");
        Ok(cgroup)
    }

    /// Moves process `pid` into the cgroup.
    pub(crate) fn add(&self, pid: u32) -> io::Result<()> {
        fs::write(self.dir.join("cgroup.procs"), pid.to_string())
    }

    /// How many times the kernel's OOM killer has killed a process in the cgroup.
    pub(crate) fn oom_kills(&self) -> u64 {
        fs::read_to_string(self.dir.join("memory.events"))
            .ok()
            .and_then(|text| parse_events(&text, "oom_kill"))
            .unwrap_or(0)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // `cgroup.kill` exists from Linux 5.14; the process group kill covers older ones.
        let _ = fs::write(self.dir.join("cgroup.kill"), "1");
        if fs::remove_dir(&self.dir).is_err() {
            // Killed processes leave the cgroup a moment later; retry off the async runtime.
            let dir = self.dir.clone();
            let _ = std::thread::Builder::new()
                .name("scf-cgroup-cleanup".into())
                .spawn(move || {
                    for _ in 0..100 {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        if fs::remove_dir(&dir).is_ok() {
                            return;
                        }
                    }
                    tracing::warn!(dir = %dir.display(), "could not remove an instance's cgroup");
                });
        }
    }
}

/// The value of `key` in a flat-keyed cgroup file (`memory.events`).
pub(crate) fn parse_events(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// This process's own cgroup v2 directory, if it delegates the memory controller to
/// child cgroups.
pub(crate) fn detect_parent() -> Option<PathBuf> {
    let cgroup = fs::read_to_string("/proc/self/cgroup").ok()?;
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let dir = own_v2_dir(&cgroup, &mountinfo)?;
    delegates_memory(&dir).then_some(dir)
}

/// Whether `dir` is a cgroup v2 directory whose children get the memory controller.
pub(crate) fn delegates_memory(dir: &Path) -> bool {
    fs::read_to_string(dir.join("cgroup.subtree_control"))
        .is_ok_and(|text| text.split_ascii_whitespace().any(|c| c == "memory"))
}

/// The cgroup v2 directory of this process from `/proc/self/cgroup` and
/// `/proc/self/mountinfo`.
pub(crate) fn own_v2_dir(cgroup: &str, mountinfo: &str) -> Option<PathBuf> {
    let rel = cgroup.lines().find_map(|l| l.strip_prefix("0::"))?;
    let mount = mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        if right.split_ascii_whitespace().next()? != "cgroup2" {
            return None;
        }
        left.split_ascii_whitespace().nth(4).map(PathBuf::from)
    })?;
    Some(mount.join(rel.trim_start_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_events_are_parsed() {
        let text = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(parse_events(text, "oom_kill"), Some(1));
        assert_eq!(parse_events(text, "oom"), Some(2));
        assert_eq!(parse_events(text, "nope"), None);
    }

    #[test]
    fn own_directory_comes_from_the_unified_mount() {
        let cgroup = "4:memory:/x\n0::/user.slice/app.service\n";
        let mountinfo = "30 25 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw\n";
        assert_eq!(
            own_v2_dir(cgroup, mountinfo),
            Some(PathBuf::from("/sys/fs/cgroup/user.slice/app.service"))
        );
        let v1_only = "31 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
        assert_eq!(own_v2_dir(cgroup, v1_only), None);
    }
}
