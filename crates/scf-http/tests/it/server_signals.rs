//! SIGTERM shuts the server down gracefully. Alone in its test binary: the signal goes to
//! the whole test process.

use std::time::Duration;

use scf_http::{Server, ServerConfig};
use scf_invoker::{Invoker, InvokerConfig};

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_server() {
    let invoker = Invoker::new(InvokerConfig::default()).unwrap();
    let config = ServerConfig::new("127.0.0.1:0".parse().unwrap()).with_signals(true);
    let server = Server::new(config, invoker.clone())
        .unwrap()
        .bind()
        .await
        .unwrap();
    let addr = server.local_addr();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    tokio::time::timeout(Duration::from_secs(10), server.wait())
        .await
        .expect("the server stops on SIGTERM");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    assert!(!invoker.is_accepting(), "the invoker was shut down too");
}
