//! `scf`'s output into a reader that has gone (`scf invoke … | head`): no panic, nothing
//! more written, and the command's usual exit status.

use std::process::{Command, Output, Stdio};

use crate::common::{project, scf, text};

/// The writing end of a pipe whose reader, a real process, has exited without reading.
fn closed_pipe() -> std::process::ChildStdin {
    let mut reader = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
    let pipe = reader.stdin.take().unwrap();
    assert!(reader.wait().unwrap().success());
    pipe
}

/// Runs `scf args --data-dir data` with its standard output into [`closed_pipe`].
fn into_closed_pipe(args: &[&str], data: &std::path::Path) -> Output {
    scf()
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::from(closed_pipe()))
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn output_into_a_closed_pipe_ends_quietly_with_the_usual_exit_status() {
    let template = project();
    let template = template.to_str().unwrap();
    for (args, status) in [
        (vec!["invoke", "-t", template, "hello"], 0),
        // A failed invocation keeps its status too.
        (vec!["invoke", "-t", template, "failing"], 1),
    ] {
        let data = tempfile::tempdir().unwrap();
        let out = into_closed_pipe(&args, data.path());
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        // The invocation's log still goes to standard error, which is open.
        assert!(stderr.contains("START RequestId:"), "{args:?}: {stderr}");
    }
    // A command whose whole output is on standard output.
    let out = scf()
        .args(["validate", "-t", template])
        .stdout(Stdio::from(closed_pipe()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
}
