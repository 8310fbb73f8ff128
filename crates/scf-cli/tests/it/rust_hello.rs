//! The Rust hello function (scf-runtime's example) served by `scf serve` as a Custom
//! Runtime and invoked through the cloud API.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use common::{http, Served};

/// Builds scf-runtime's `hello` example and returns the binary's path.
fn hello_binary() -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args([
            "build",
            "-q",
            "-p",
            "scf-runtime",
            "--example",
            "hello",
            "--message-format=json",
        ])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"]["name"] == "hello")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .expect("cargo reports the example's executable")
}

#[test]
fn the_rust_hello_example_answers_invoke_through_scf_serve() {
    let bin = hello_binary();
    let project = tempfile::tempdir().unwrap();
    let template = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/rust-hello/template.yaml"),
    )
    .unwrap();
    std::fs::write(project.path().join("template.yaml"), template).unwrap();
    // The binary in the code directory, as deployed (docs/deploy-rust.md): a sandboxed
    // instance sees nothing of the host's file system beyond it.
    let copy = project.path().join("hello");
    std::fs::copy(&bin, &copy).unwrap();
    let bootstrap = project.path().join("bootstrap");
    std::fs::write(
        &bootstrap,
        format!("#!/bin/sh\nexec \"{}\"\n", copy.display()),
    )
    .unwrap();
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();

    let data = tempfile::tempdir().unwrap();
    let s = Served::start(&project.path().join("template.yaml"), data.path(), &[]);
    let body = r#"{"FunctionName":"rust-hello","ClientContext":"{\"key\":\"abctest\"}"}"#;
    let headers = [
        ("Content-Type", "application/json"),
        ("X-TC-Action", "Invoke"),
        ("X-TC-Version", "2018-04-16"),
    ];
    let (status, _, body) = http(&s.addr, "POST", "/", &headers, body);
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ret: serde_json::Value =
        serde_json::from_str(v["Response"]["Result"]["RetMsg"].as_str().unwrap()).unwrap();
    assert_eq!(ret["hello"], "abctest", "{v}");
    assert_eq!(
        ret["request_id"],
        v["Response"]["Result"]["FunctionRequestId"]
    );
    // And through its gateway route.
    let (status, _, body) = http(&s.addr, "GET", "/rust-hello", &[], "");
    assert_eq!((status, body.as_str()), (200, "hello from rust"));
}
