//! Resident memory of an instance's process group, read from `/proc`.
//!
//! An instance is the bootstrap's process group (the bootstrap runs in a group of its
//! own, so everything it starts is a member unless it leaves on purpose). Members are
//! found by scanning `/proc/*/stat` for the group id; the scan is cheap but not free, so it
//! runs at start and then at most every [`RESCAN_INTERVAL`] while an invocation is
//! watched, and in between only the known members are read.
//!
//! The peak of an invocation is measured exactly where the kernel allows it: at the start
//! each member's peak counter is reset (`5` to `/proc/<pid>/clear_refs`) and at the end
//! the members' `VmHWM` is summed; the watchdog's samples (every [`SAMPLE_INTERVAL`])
//! cover members that came and went in between. Off Linux, or where `/proc` cannot be read,
//! every figure is 0 and nothing is enforced.
//!
//! The end of an invocation reads each member's `/proc/<pid>/stat` (its page faults and its
//! resident pages, about 3 us here) before `status` (7.5 us: procfs renders some fifty
//! lines for it). A page becomes resident only through a fault of the process itself
//! (counted also when the kernel faults pages in on its behalf: `read` into a fresh
//! buffer, `MAP_POPULATE`, `mlock`), so a member that took no fault since its last
//! `status` read did not grow since: its peak is the resident size that read gave, and
//! `status` is not read again. (Memory it gave back meanwhile without any fault would be
//! over-counted, but `stat`'s resident figure, which must also be unchanged, moves with
//! such a release beyond the kernel's per-CPU counting slack of a few dozen pages.) Any
//! other member (a fault, a new resident figure, a new member) has its `VmHWM` read.
//!
//! Each member's `stat`, `status` and `clear_refs` stay open between invocations and are
//! read and written at offset 0 (procfs regenerates the text on each read): opening and
//! closing them per invocation cost about 5% of a warm invocation's CPU. An open file names
//! one process, not a process id, so a member that exits reads as gone, never as another
//! process that reused its id.

use std::fs;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

/// How often the watchdog samples resident memory during an invocation.
pub(crate) const SAMPLE_INTERVAL: Duration = Duration::from_millis(10);
/// How often the member list is rebuilt by a full `/proc` scan during an invocation.
pub(crate) const RESCAN_INTERVAL: Duration = Duration::from_millis(100);

/// How old the member list may get before an invocation's start rebuilds it.
const STALE_MEMBERS: Duration = Duration::from_secs(5);

/// One member process and its open `/proc` files (opened when first needed).
#[derive(Debug)]
struct Member {
    pid: i32,
    stat: Option<fs::File>,
    status: Option<fs::File>,
    clear_refs: Option<fs::File>,
    /// The member's page faults and resident pages at the last `status` read, and its
    /// exact resident bytes then.
    last: Option<(Faults, u64)>,
    /// How many times `status` was read.
    #[cfg(test)]
    status_reads: u32,
}

/// A member's page faults (minor and major, of all its threads, dead ones included) and
/// resident pages, from `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Faults {
    faults: u64,
    rss_pages: u64,
}

impl Member {
    fn new(pid: i32) -> Self {
        Self {
            pid,
            stat: None,
            status: None,
            clear_refs: None,
            last: None,
            #[cfg(test)]
            status_reads: 0,
        }
    }

    /// The member's faults and resident pages now.
    fn faults(&mut self, buf: &mut Vec<u8>) -> Option<Faults> {
        if self.stat.is_none() {
            self.stat = fs::File::open(format!("/proc/{}/stat", self.pid)).ok();
        }
        read_at_start(self.stat.as_ref()?, buf).ok()?;
        parse_stat_faults(std::str::from_utf8(buf).ok()?)
    }

    /// The member's peak resident bytes since its peak counter was reset: its `VmHWM`,
    /// or, when it took no page fault since the last look and its (approximate) resident
    /// pages are unchanged, the exact resident size of that look.
    fn peak_bytes(&mut self, buf: &mut Vec<u8>) -> Option<u64> {
        let now = self.faults(buf);
        if let (Some(now), Some((then, rss))) = (now, self.last) {
            if now == then {
                return Some(rss);
            }
        }
        let status = self.read_status(buf)?;
        let hwm = parse_status_kb(status, "VmHWM:")? * 1024;
        self.last = now.zip(parse_status_kb(status, "VmRSS:").map(|kb| kb * 1024));
        Some(hwm)
    }

    /// The text of the member's `/proc/<pid>/status`, read into `buf`.
    fn read_status<'b>(&mut self, buf: &'b mut Vec<u8>) -> Option<&'b str> {
        if self.status.is_none() {
            self.status = fs::File::open(format!("/proc/{}/status", self.pid)).ok();
        }
        read_at_start(self.status.as_ref()?, buf).ok()?;
        #[cfg(test)]
        {
            self.status_reads += 1;
        }
        std::str::from_utf8(buf).ok()
    }

    /// A `kB` figure from the member's `/proc/<pid>/status`.
    fn status_kb(&mut self, key: &str, buf: &mut Vec<u8>) -> Option<u64> {
        parse_status_kb(self.read_status(buf)?, key)
    }

    /// Resets the member's peak resident size (`VmHWM`).
    fn clear_peak(&mut self) {
        if self.clear_refs.is_none() {
            self.clear_refs = fs::OpenOptions::new()
                .write(true)
                .open(format!("/proc/{}/clear_refs", self.pid))
                .ok();
        }
        if let Some(f) = &self.clear_refs {
            // Fails for a member that is gone or not ours; the samples still cover it.
            let _ = f.write_at(b"5", 0);
        }
    }
}

/// Reads the whole of a procfs file from its start into `buf`.
///
/// A read shorter than asked is the end: procfs makes the whole text on each read and
/// gives as much of it as fits, so a short read had nothing more to give. (Reading on
/// until a read returns 0 made the kernel build `status` twice per sample.)
fn read_at_start(file: &fs::File, buf: &mut Vec<u8>) -> std::io::Result<()> {
    buf.clear();
    let mut chunk = [0_u8; 4096];
    loop {
        let offset = u64::try_from(buf.len()).unwrap_or(u64::MAX);
        let n = file.read_at(&mut chunk, offset)?;
        buf.extend_from_slice(&chunk[..n]);
        if n < chunk.len() {
            return Ok(());
        }
    }
}

/// Which processes make up an instance.
#[derive(Debug)]
enum Scope {
    /// The members of a process group.
    Group(i32),
    /// Every process of a PID namespace (`/proc/<pid>/ns/pid` links to `ns`) but its
    /// init (bwrap's, not the function's).
    Namespace {
        ns: Option<std::path::PathBuf>,
        init: i32,
    },
}

/// The members of one instance and their memory.
#[derive(Debug)]
pub(crate) struct MemoryProbe {
    scope: Scope,
    members: Vec<Member>,
    /// Reused for each `/proc/<pid>/status` read.
    buf: Vec<u8>,
    last_scan: Option<Instant>,
    /// Highest sampled group total since [`MemoryProbe::reset`].
    sampled_peak: u64,
}

impl MemoryProbe {
    /// A probe for the group led by `pgid`.
    pub(crate) fn new(pgid: i32) -> Self {
        Self {
            scope: Scope::Group(pgid),
            members: vec![Member::new(pgid)],
            buf: Vec::with_capacity(4096),
            last_scan: None,
            sampled_peak: 0,
        }
    }

    /// A probe for the processes of the PID namespace whose init is host pid `init`.
    pub(crate) fn in_namespace(init: i32) -> Self {
        let ns = fs::read_link(format!("/proc/{init}/ns/pid")).ok();
        Self {
            scope: Scope::Namespace { ns, init },
            members: Vec::new(),
            buf: Vec::with_capacity(4096),
            last_scan: None,
            sampled_peak: 0,
        }
    }

    /// Whether process `pid` belongs to the instance.
    fn is_member(&self, pid: i32) -> bool {
        match &self.scope {
            Scope::Group(pgid) => fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|stat| parse_stat_pgrp(&stat) == Some(*pgid)),
            Scope::Namespace { ns: Some(ns), init } => {
                pid != *init
                    && fs::read_link(format!("/proc/{pid}/ns/pid")).is_ok_and(|link| link == *ns)
            }
            Scope::Namespace { ns: None, .. } => false,
        }
    }

    fn rescan(&mut self) {
        if let Scope::Namespace { ns: Some(_), init } = self.scope {
            // A PID namespace's processes are its init's descendants (orphans are
            // re-parented to it): a walk of a few `children` files instead of a look at
            // every process of the host.
            if let Some(pids) = descendants(init) {
                self.members = pids.into_iter().map(Member::new).collect();
                self.last_scan = Some(Instant::now());
                return;
            }
        }
        let Ok(dir) = fs::read_dir("/proc") else {
            return;
        };
        let mut members = Vec::new();
        for entry in dir.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            if self.is_member(pid) {
                members.push(Member::new(pid));
            }
        }
        self.members = members;
        self.last_scan = Some(Instant::now());
    }

    fn rescan_if_due(&mut self) {
        if self
            .last_scan
            .is_none_or(|at| at.elapsed() >= RESCAN_INTERVAL)
        {
            self.rescan();
        }
    }

    /// Starts a measurement: resets the members' peak counters.
    pub(crate) fn reset(&mut self) {
        // Rebuilt now and then even when invocations are short, so that the list never
        // names a process id that has since been reused.
        if self
            .last_scan
            .is_none_or(|at| at.elapsed() >= STALE_MEMBERS)
        {
            self.rescan();
        }
        self.sampled_peak = 0;
        for member in &mut self.members {
            member.clear_peak();
        }
    }

    /// The group's resident memory now, in bytes (and the sampled peak follows it).
    pub(crate) fn sample(&mut self) -> u64 {
        self.rescan_if_due();
        let total = self.sum_bytes("VmRSS:");
        self.sampled_peak = self.sampled_peak.max(total);
        total
    }

    /// The group's peak resident memory since [`MemoryProbe::reset`], in bytes.
    pub(crate) fn peak(&mut self) -> u64 {
        let buf = &mut self.buf;
        let peak: u64 = self
            .members
            .iter_mut()
            .filter_map(|m| m.peak_bytes(buf))
            .sum();
        peak.max(self.sampled_peak)
    }

    /// The members' `key` figures (`VmRSS:`, `VmHWM:`) summed, in bytes.
    fn sum_bytes(&mut self, key: &str) -> u64 {
        let buf = &mut self.buf;
        self.members
            .iter_mut()
            .filter_map(|m| m.status_kb(key, buf))
            .sum::<u64>()
            * 1024
    }
}

/// Most processes a walk of the process tree collects (a fork bomb stops it here).
const MAX_MEMBERS: usize = 4096;

/// The descendants of `root` (children, theirs, …) from each thread's
/// `/proc/<pid>/task/<tid>/children`; `None` where the kernel has no such file
/// (`CONFIG_PROC_CHILDREN`).
fn descendants(root: i32) -> Option<Vec<i32>> {
    use std::io::Read;
    static CHILDREN_FILES: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if !*CHILDREN_FILES.get_or_init(|| std::path::Path::new("/proc/thread-self/children").exists())
    {
        return None;
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    let mut text = String::new();
    while let Some(pid) = queue.pop() {
        // A process that is gone meanwhile has no descendants to count.
        let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            text.clear();
            let read = fs::File::open(task.path().join("children"))
                .and_then(|mut f| f.read_to_string(&mut text));
            if read.is_err() {
                continue;
            }
            for child in text.split_ascii_whitespace().filter_map(|s| s.parse().ok()) {
                if found.len() >= MAX_MEMBERS {
                    return Some(found);
                }
                found.push(child);
                queue.push(child);
            }
        }
    }
    Some(found)
}

/// The process group id in the text of `/proc/<pid>/stat`.
pub(crate) fn parse_stat_pgrp(stat: &str) -> Option<i32> {
    // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses, so split
    // after the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    fields.next()?; // state
    fields.next()?; // ppid
    fields.next()?.parse().ok()
}

/// The page faults (`minflt` + `majflt`) and resident pages (`rss`) in the text of
/// `/proc/<pid>/stat`.
fn parse_stat_faults(stat: &str) -> Option<Faults> {
    // After `pid (comm)`: state is field 3, minflt 10, majflt 12, rss 24 (proc(5)).
    let mut fields = stat[stat.rfind(')')? + 1..].split_ascii_whitespace();
    let mut field = |n: usize| -> Option<u64> { fields.nth(n)?.parse().ok() };
    let minflt = field(7)?;
    let majflt = field(1)?;
    let rss_pages = field(11)?;
    Some(Faults {
        faults: minflt.checked_add(majflt)?,
        rss_pages,
    })
}

/// The `kB` figure of `key` (`VmRSS:`) in the text of `/proc/<pid>/status`.
pub(crate) fn parse_status_kb(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..]
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_pgrp_survives_odd_command_names() {
        let stat = "1234 (my (odd) name) S 1 1200 1200 0 -1 4194560";
        assert_eq!(parse_stat_pgrp(stat), Some(1200));
        assert_eq!(parse_stat_pgrp("garbage"), None);
    }

    #[test]
    fn status_figures_are_read_in_kb() {
        let status = "Name:\tpython3\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(parse_status_kb(status, "VmRSS:"), Some(10240));
        assert_eq!(parse_status_kb(status, "VmHWM:"), Some(20480));
        assert_eq!(parse_status_kb(status, "VmSwap:"), None);
    }

    /// Held by the tests that allocate large blocks in this process, so that one's block
    /// does not come or go between another's two looks (`cargo test` runs them as threads).
    static LARGE_BLOCKS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// A probe of this test process alone (no `/proc` scan).
    fn own_probe() -> MemoryProbe {
        let me = i32::try_from(std::process::id()).unwrap();
        let mut probe = MemoryProbe::new(me);
        probe.members = vec![Member::new(me)];
        probe.last_scan = Some(Instant::now());
        probe
    }

    #[test]
    fn own_process_is_measured() {
        let mut probe = own_probe();
        assert!(probe.sample() > 0);
        assert!(probe.peak() > 0);
    }

    #[test]
    fn the_kept_status_file_reads_fresh_figures() {
        let _large = LARGE_BLOCKS.lock().unwrap_or_else(|e| e.into_inner());
        let mut probe = own_probe();
        let before = probe.sample();
        // 64 MiB, every page touched, so it is resident.
        let block = vec![1_u8; 64 << 20];
        let after = probe.sample();
        assert!(
            after >= before + (32 << 20),
            "RSS {before} then {after} bytes, read through the same open file"
        );
        drop(block);
    }

    #[test]
    fn stat_faults_and_resident_pages_are_read_past_odd_command_names() {
        let stat = "1234 (a) b (c) S 1 1200 1200 0 -1 4194560 75 9 3 1 10 20 0 0 20 0 1 0 500 9000000 2048 18446744073709551615";
        assert_eq!(
            parse_stat_faults(stat),
            Some(Faults {
                faults: 78,
                rss_pages: 2048
            })
        );
        assert_eq!(parse_stat_faults("1 (x) S 1 1"), None);
    }

    #[test]
    fn a_peak_between_two_looks_is_found_though_memory_fell_back() {
        let _large = LARGE_BLOCKS.lock().unwrap_or_else(|e| e.into_inner());
        let mut probe = own_probe();
        probe.reset();
        let quiet = probe.peak();
        assert!(quiet > 0);
        probe.reset();
        // 64 MiB touched and given back (a block this large is its own mapping, unmapped
        // when freed), so the resident size at the end is what it was before.
        let block = vec![1_u8; 64 << 20];
        drop(std::hint::black_box(block));
        let peak = probe.peak();
        assert!(
            peak >= quiet + (32 << 20),
            "peak {peak} bytes after a 64 MiB block came and went, {quiet} before"
        );
    }

    #[test]
    fn a_member_that_did_not_grow_reports_its_vmhwm_from_its_stat() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        // Until the exec is done the child is still a copy of this process.
        for _ in 0..200 {
            let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim() == "sleep" {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(50));
        let mut probe = MemoryProbe::new(pid);
        probe.last_scan = Some(Instant::now());
        // The first look reads `status` (nothing to compare with yet); the sleeping
        // process takes no fault, so the second look is its `stat` alone.
        for _ in 0..50 {
            probe.reset();
            let first = probe.peak();
            let reads = probe.members[0].status_reads;
            probe.reset();
            let second = probe.peak();
            let hwm = fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|s| parse_status_kb(&s, "VmHWM:"))
                .unwrap_or(0)
                * 1024;
            if probe.members[0].status_reads == reads {
                assert_eq!(first, second);
                assert_eq!(second, hwm, "the peak without a status read is its VmHWM");
                child.kill().unwrap();
                let _ = child.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().unwrap();
        let _ = child.wait();
        panic!("every look at the sleeping child read its status");
    }

    #[test]
    fn the_process_tree_walk_finds_children_and_grandchildren() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & wait"])
            .spawn()
            .unwrap();
        let me = i32::try_from(std::process::id()).unwrap();
        let child_pid = i32::try_from(child.id()).unwrap();
        let parent_of = |pid: i32| {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let rest = stat.rsplit(')').next().unwrap_or("").to_owned();
            rest.split_ascii_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<i32>().ok())
        };
        let mut found = Vec::new();
        for _ in 0..200 {
            found = descendants(me).expect("this kernel has the children files");
            if found.iter().any(|p| parent_of(*p) == Some(child_pid)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let grandchild = found.iter().any(|p| parent_of(*p) == Some(child_pid));
        child.kill().unwrap();
        let _ = child.wait();
        assert!(
            found.contains(&child_pid),
            "{found:?} holds the child {child_pid}"
        );
        assert!(grandchild, "{found:?} holds the grandchild (the sleep) too");
    }
}
