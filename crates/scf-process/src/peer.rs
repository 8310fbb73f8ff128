//! Who is on the other end of a Runtime API connection, for instances that share the
//! host's network (no private network namespace): the connection's socket must belong to
//! a process of the instance's PID namespace.
//!
//! The peer's port is looked up in `/proc/net/tcp` (the kernel's table of the host's
//! network namespace, which the instance shares here) to find its socket's inode, and
//! the inode among the open files (`/proc/<pid>/fd/*` → `socket:[inode]`) of the
//! processes whose `/proc/<pid>/ns/pid` is the instance's. The bundled runtimes keep one
//! connection per instance, so this runs once per instance; a bootstrap that connects per
//! request (SCF's `curl` example) pays about a millisecond per request.

use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The instance a Runtime API serves, once its sandbox is known.
#[derive(Debug, Clone)]
pub(crate) struct Owner {
    /// `/proc/<init>/ns/pid` of the instance's sandbox.
    pub(crate) pid_ns: PathBuf,
}

impl Owner {
    /// The owner of the sandbox whose init is host pid `init`.
    pub(crate) fn of_namespace(init: i32) -> Option<Self> {
        fs::read_link(format!("/proc/{init}/ns/pid"))
            .ok()
            .map(|pid_ns| Self { pid_ns })
    }

    /// Whether the TCP connection from `peer` to `local` (both on loopback) was opened by
    /// a process of this instance.
    pub(crate) fn owns(&self, peer: SocketAddr, local: SocketAddr) -> bool {
        let Some(inode) = socket_inode(peer, local) else {
            return false;
        };
        let target = format!("socket:[{inode}]");
        let Ok(dir) = fs::read_dir("/proc") else {
            return false;
        };
        dir.flatten()
            .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
            .filter(|pid| {
                fs::read_link(format!("/proc/{pid}/ns/pid")).is_ok_and(|ns| ns == self.pid_ns)
            })
            .any(|pid| {
                fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
                    fds.flatten().any(|fd| {
                        fs::read_link(fd.path())
                            .is_ok_and(|link| link.as_os_str() == target.as_str())
                    })
                })
            })
    }
}

/// The inode of the socket whose local address is `peer` and remote address `local`, from
/// `/proc/net/tcp`.
fn socket_inode(peer: SocketAddr, local: SocketAddr) -> Option<u64> {
    let table = fs::read_to_string("/proc/net/tcp").ok()?;
    let (SocketAddr::V4(peer), SocketAddr::V4(local)) = (peer, local) else {
        return None;
    };
    let hex = |a: std::net::SocketAddrV4| {
        format!(
            "{:08X}:{:04X}",
            u32::from_le_bytes(a.ip().octets()),
            a.port()
        )
    };
    let (want_local, want_remote) = (hex(peer), hex(local));
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_ascii_whitespace().collect();
        (f.get(1) == Some(&want_local.as_str()) && f.get(2) == Some(&want_remote.as_str()))
            .then(|| f.get(9)?.parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_of_this_process_is_found_and_one_of_another_namespace_is_not() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let local = listener.local_addr().unwrap();
        let client = std::net::TcpStream::connect(local).unwrap();
        let peer = client.local_addr().unwrap();
        let me = Owner::of_namespace(i32::try_from(std::process::id()).unwrap()).unwrap();
        assert!(me.owns(peer, local), "this process's own connection");
        let other = Owner {
            pid_ns: PathBuf::from("pid:[1]"),
        };
        assert!(!other.owns(peer, local));
    }
}
