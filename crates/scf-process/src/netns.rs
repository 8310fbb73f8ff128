//! Sockets made inside an instance's network namespace by the host.
//!
//! A socket belongs to the network namespace of the thread that created it, for its whole
//! life, wherever it is used afterwards. So the host makes an instance's sockets with a
//! short-lived thread of its own that enters the namespace (`setns`), creates the socket,
//! and ends: the Runtime API's listening socket ([`bind_in_netns`]: `127.0.0.1:9001`
//! inside the instance, reachable by nothing outside it), and connections to a port the
//! instance listens on ([`connect`]: a web function's `9000`, reachable only from inside
//! the namespace). The rest of the host never changes namespace.

use std::fs::File;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use crate::sandbox::RUNTIME_API_PORT;

/// The network namespace of process `pid` (`/proc/<pid>/ns/net`), open: the file names
/// that namespace for as long as it is held, even after the process is gone.
pub(crate) fn open(pid: i32) -> io::Result<File> {
    File::open(format!("/proc/{pid}/ns/net"))
}

/// Runs `f` on a thread of its own that has entered the network namespace `ns`, and
/// returns what it returned.
fn in_netns<T: Send>(
    ns: BorrowedFd<'_>,
    name: &str,
    f: impl FnOnce() -> io::Result<T> + Send,
) -> io::Result<T> {
    std::thread::scope(|scope| {
        let thread =
            std::thread::Builder::new()
                .name(name.into())
                .spawn_scoped(scope, move || {
                    rustix::thread::move_into_link_name_space(
                        ns,
                        Some(rustix::thread::LinkNameSpaceType::Network),
                    )?;
                    f()
                })?;
        thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the namespace thread panicked")))
    })
}

/// A listening socket on `127.0.0.1:9001` inside the network namespace of process `pid`,
/// made by a thread of ours that enters the namespace, binds, and ends.
pub(crate) fn bind_in_netns(pid: i32) -> io::Result<TcpListener> {
    let ns = open(pid)?;
    in_netns(ns.as_fd(), "scf-netns-bind", || {
        // bwrap brings the namespace's loopback up while the host waits; the address is
        // there a moment later.
        let end = Instant::now() + Duration::from_secs(2);
        loop {
            match TcpListener::bind(("127.0.0.1", RUNTIME_API_PORT)) {
                Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable && Instant::now() < end => {
                    std::thread::sleep(Duration::from_micros(200));
                }
                other => return other,
            }
        }
    })
}

/// A TCP connection to `addr` as seen from inside the network namespace `ns` (from
/// [`open`]), made by a thread of ours that enters the namespace, connects (for at most
/// `timeout`), and ends. The connection stays in that namespace, so `127.0.0.1:9000` is
/// the instance's own port 9000, whatever the host or other instances listen on. The
/// stream is returned non-blocking, ready for tokio.
pub(crate) fn connect(
    ns: BorrowedFd<'_>,
    addr: SocketAddr,
    timeout: Duration,
) -> io::Result<TcpStream> {
    in_netns(ns, "scf-netns-connect", move || {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
        Ok(stream)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_from_our_own_namespace_reaches_a_local_listener() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let ns = open(std::process::id().try_into().unwrap()).unwrap();
        // Entering the namespace we are already in needs CAP_SYS_ADMIN too; without it the
        // refusal is an error, not a panic.
        match connect(ns.as_fd(), addr, Duration::from_secs(2)) {
            Ok(stream) => {
                let (_, peer) = listener.accept().unwrap();
                assert_eq!(stream.local_addr().unwrap(), peer);
            }
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{e}"),
        }
    }
}
