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

use std::fs;
use std::time::{Duration, Instant};

/// How often the watchdog samples resident memory during an invocation.
pub(crate) const SAMPLE_INTERVAL: Duration = Duration::from_millis(10);
/// How often the member list is rebuilt by a full `/proc` scan during an invocation.
pub(crate) const RESCAN_INTERVAL: Duration = Duration::from_millis(100);

/// How old the member list may get before an invocation's start rebuilds it.
const STALE_MEMBERS: Duration = Duration::from_secs(5);

/// The members of one process group and their memory.
#[derive(Debug)]
pub(crate) struct MemoryProbe {
    pgid: i32,
    members: Vec<i32>,
    last_scan: Option<Instant>,
    /// Highest sampled group total since [`MemoryProbe::reset`].
    sampled_peak: u64,
}

impl MemoryProbe {
    /// A probe for the group led by `pgid`.
    pub(crate) fn new(pgid: i32) -> Self {
        Self {
            pgid,
            members: vec![pgid],
            last_scan: None,
            sampled_peak: 0,
        }
    }

    fn rescan(&mut self) {
        let Ok(dir) = fs::read_dir("/proc") else {
            return;
        };
        let mut members = Vec::new();
        for entry in dir.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            if let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) {
                if parse_stat_pgrp(&stat) == Some(self.pgid) {
                    members.push(pid);
                }
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
        for pid in &self.members {
            // Fails for a member that is gone or not ours; the samples still cover it.
            let _ = fs::write(format!("/proc/{pid}/clear_refs"), b"5");
        }
    }

    /// The group's resident memory now, in bytes (and the sampled peak follows it).
    pub(crate) fn sample(&mut self) -> u64 {
        self.rescan_if_due();
        let total = self
            .members
            .iter()
            .filter_map(|pid| status_kb(*pid, "VmRSS:"))
            .sum::<u64>()
            * 1024;
        self.sampled_peak = self.sampled_peak.max(total);
        total
    }

    /// The group's peak resident memory since [`MemoryProbe::reset`], in bytes.
    pub(crate) fn peak(&mut self) -> u64 {
        let hwm = self
            .members
            .iter()
            .filter_map(|pid| status_kb(*pid, "VmHWM:"))
            .sum::<u64>()
            * 1024;
        hwm.max(self.sampled_peak)
    }
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

/// A `kB` figure from `/proc/<pid>/status`.
fn status_kb(pid: i32, key: &str) -> Option<u64> {
    use std::io::Read;
    // Read into a buffer of the usual size: `fs::read_to_string` would first `statx` the
    // file for a size that procfs does not report anyway.
    let mut text = String::with_capacity(2048);
    fs::File::open(format!("/proc/{pid}/status"))
        .ok()?
        .read_to_string(&mut text)
        .ok()?;
    parse_status_kb(&text, key)
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

    #[test]
    fn own_process_is_measured() {
        let me = i32::try_from(std::process::id()).unwrap();
        let mut probe = MemoryProbe::new(me);
        probe.members = vec![me];
        probe.last_scan = Some(Instant::now());
        assert!(probe.sample() > 0);
        assert!(probe.peak() > 0);
    }
}
