//! The lean transport of the bundled runtimes (`SCF_RUNTIME_SOCKET`): a bootstrap that
//! speaks it is served on it, one that ignores it speaks plain HTTP as before, and a
//! hostile one that writes garbage or a huge frame there gets a clear error, not a hang.

use std::time::{Duration, Instant};

use crate::common;

use common::{call, config, fixture, function};
use scf_process::RuntimeKind;
use serde_json::json;

fn has_python() -> bool {
    scf_testkit::require(&scf_testkit::PYTHON3)
}

#[tokio::test]
async fn a_bootstrap_that_says_ready_on_the_socket_is_served_there_and_the_file_is_gone() {
    if !has_python() {
        return;
    }
    let mut cfg = config("frames-echo", "index.echo");
    cfg.memory_mb = 256;
    let f = function(&cfg, &fixture("custom-frames"), RuntimeKind::Custom);
    for n in 0..3 {
        let ctx = common::ctx(&cfg);
        let request_id = ctx.request_id.clone();
        let out = scf_handler::Handler::call(&f, json!({"mode": "echo", "n": n}), ctx)
            .await
            .unwrap();
        assert_eq!(out["over"], json!("frames"), "{out}");
        assert_eq!(out["event"], json!({"mode": "echo", "n": n}));
        assert_eq!(out["request_id"], json!(request_id));
        assert_eq!(out["context_request_id"], json!(request_id));
        assert_eq!(out["memory_limit_in_mb"], json!("256"));
        assert_eq!(out["time_limit_in_ms"], json!("5000"));
        assert_eq!(
            out["socket_there"],
            json!(false),
            "the socket's file is removed once the bootstrap connected"
        );
    }
    assert_eq!(f.stats().started, 1, "one warm instance served all three");
}

#[tokio::test]
async fn a_bootstrap_that_ignores_the_socket_speaks_plain_http_and_the_file_is_removed() {
    if !has_python() {
        return;
    }
    let cfg = config("frames-http", "index.http");
    let f = function(&cfg, &fixture("custom-frames"), RuntimeKind::Custom);
    for _ in 0..2 {
        let (out, _) = call(&f, &cfg, json!({})).await;
        let out = out.unwrap();
        assert_eq!(out["over"], json!("http"), "{out}");
        assert_eq!(
            out["socket_there"],
            json!(false),
            "removed at its HTTP ready"
        );
    }
    assert_eq!(f.stats().started, 1);
}

#[tokio::test]
async fn a_frame_of_unknown_kind_fails_the_invocation_by_name_and_the_instance_is_replaced() {
    if !has_python() {
        return;
    }
    let cfg = config("frames-garbage", "index.echo");
    let f = function(&cfg, &fixture("custom-frames"), RuntimeKind::Custom);
    let (out, log) = call(&f, &cfg, json!({"mode": "garbage"})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 443, "{err:?}");
    assert!(
        err.message().contains("a frame of unknown kind 'Z'")
            && err.message().contains("SCF_RUNTIME_SOCKET"),
        "{}",
        err.message()
    );
    assert!(
        log.contains("mode garbage"),
        "the instance's output is in the log: {log}"
    );
    let (ok, _) = call(&f, &cfg, json!({"mode": "echo"})).await;
    assert_eq!(ok.unwrap()["over"], json!("frames"));
    assert_eq!(f.stats().started, 2, "the broken instance was not reused");
}

#[tokio::test]
async fn a_frame_claiming_4_gib_is_refused_as_too_large_at_once() {
    if !has_python() {
        return;
    }
    let cfg = config("frames-huge", "index.echo");
    let f = function(&cfg, &fixture("custom-frames"), RuntimeKind::Custom);
    // Warm the instance so that the time below is the invocation's only.
    call(&f, &cfg, json!({"mode": "echo"})).await.0.unwrap();
    let began = Instant::now();
    let (out, _) = call(&f, &cfg, json!({"mode": "huge"})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 407, "{err:?}");
    assert!(
        began.elapsed() < Duration::from_secs(4),
        "refused from the header, not after the 5 s time limit: {:?}",
        began.elapsed()
    );
    let (ok, _) = call(&f, &cfg, json!({"mode": "echo"})).await;
    assert_eq!(ok.unwrap()["over"], json!("frames"));
    assert_eq!(
        f.stats().started,
        2,
        "the instance out of step was not reused"
    );
}

#[tokio::test]
async fn garbage_before_the_ready_frame_is_an_init_error_naming_it() {
    if !has_python() {
        return;
    }
    let cfg = config("frames-bad-init", "index.garbage_ready");
    let f = function(&cfg, &fixture("custom-frames"), RuntimeKind::Custom);
    let (out, _) = call(&f, &cfg, json!({})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 445, "{err:?}");
    assert!(
        err.message()
            .contains("wrote a frame of unknown kind 'Z' on SCF_RUNTIME_SOCKET"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn a_connection_closed_mid_invocation_is_named_and_an_exit_is_439() {
    if !has_python() {
        return;
    }
    let cfg = config("frames-close", "index.echo");
    let f = function(&cfg, &fixture("custom-frames"), RuntimeKind::Custom);
    let (out, _) = call(&f, &cfg, json!({"mode": "close"})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 443, "{err:?}");
    assert!(
        err.message().contains("closed its connection"),
        "{}",
        err.message()
    );
    let (out, _) = call(&f, &cfg, json!({"mode": "exit"})).await;
    assert_eq!(out.unwrap_err().status().code(), 439);
}
