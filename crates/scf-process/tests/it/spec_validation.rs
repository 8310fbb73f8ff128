//! A spec that cannot run is refused up front, with an error that names what is wrong.

use crate::common;

use std::path::PathBuf;
use std::time::Duration;

use common::{config, fixture};
use scf_process::{PoolConfig, ProcessError, ProcessFunction, ProcessSpec, RuntimeKind};

fn refuse(spec: ProcessSpec) -> String {
    ProcessFunction::new(spec).unwrap_err().to_string()
}

#[test]
fn runtime_names_are_parsed_like_scf_spells_them() {
    assert_eq!(
        RuntimeKind::from_scf_name("CustomRuntime").unwrap(),
        RuntimeKind::Custom
    );
    let java = RuntimeKind::from_scf_name("Java8").unwrap_err().to_string();
    assert!(
        java.contains("\"Java8\"") && java.contains("CustomRuntime, Python3.x, Nodejs…, Php"),
        "{java}"
    );
    let py2 = RuntimeKind::from_scf_name("Python2.7")
        .unwrap_err()
        .to_string();
    assert!(
        py2.contains("\"Python2.7\"") && py2.contains("Python 3"),
        "{py2}"
    );
}

#[test]
fn a_missing_runtime_in_the_config_is_named() {
    let err = ProcessSpec::from_config(config("f1", "index.main_handler"), fixture("python"))
        .unwrap_err();
    assert!(matches!(err, ProcessError::MissingRuntime));
    assert!(err.to_string().contains("FunctionConfig.runtime"));
}

#[test]
fn an_interpreter_that_does_not_exist_is_named() {
    let python = RuntimeKind::Python {
        interpreter: PathBuf::from("/nonexistent/bin/python3"),
    };
    let err = refuse(ProcessSpec::new(
        config("f1", "index.main_handler"),
        fixture("python"),
        python,
    ));
    assert!(
        err.contains("/nonexistent/bin/python3") && err.contains("not an executable"),
        "{err}"
    );
}

#[test]
fn a_handler_that_is_not_file_dot_function_is_refused_for_python_and_node() {
    let python = RuntimeKind::Python {
        interpreter: PathBuf::from("/bin/sh"),
    };
    let err = refuse(ProcessSpec::new(
        config("f1", "main_handler"),
        fixture("python"),
        python,
    ));
    assert!(
        err.contains("\"main_handler\"") && err.contains("Python") && err.contains("file.method"),
        "{err}"
    );
}

#[test]
fn code_dir_scratch_root_and_pool_problems_are_named() {
    let custom = RuntimeKind::Custom;
    let cfg = config("f1", "index.main_handler");
    let err = refuse(ProcessSpec::new(
        cfg.clone(),
        "/nonexistent/code",
        custom.clone(),
    ));
    assert!(err.contains("/nonexistent/code"), "{err}");

    let err = refuse(
        ProcessSpec::new(cfg.clone(), fixture("custom-curl"), custom.clone())
            .with_scratch_root("/nonexistent/scratch"),
    );
    assert!(err.contains("/nonexistent/scratch"), "{err}");

    let err = refuse(
        ProcessSpec::new(cfg.clone(), fixture("custom-curl"), custom.clone())
            .with_pool(PoolConfig::new(0, Duration::from_secs(1))),
    );
    assert!(err.contains("PoolConfig.max_instances"), "{err}");

    let mut bad = cfg;
    bad.memory_mb = 100;
    let err = refuse(ProcessSpec::new(bad, fixture("custom-curl"), custom));
    assert!(err.contains("MemorySize"), "{err}");
}

#[test]
fn the_pool_follows_the_function_concurrency_by_default() {
    let mut cfg = config("f1", "index.main_handler");
    cfg.max_concurrency = Some(3);
    let spec = ProcessSpec::new(cfg, fixture("custom-curl"), RuntimeKind::Custom);
    assert_eq!(spec.pool.max_instances, 3);
    let spec = ProcessSpec::new(
        config("f2", "index.main_handler"),
        fixture("custom-curl"),
        RuntimeKind::Custom,
    );
    assert_eq!(spec.pool.max_instances, scf_process::DEFAULT_MAX_INSTANCES);
}

#[test]
fn a_web_function_needs_an_executable_scf_bootstrap_and_no_handler() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config("web", "");
    cfg.runtime = None;
    let err = refuse(ProcessSpec::web(cfg.clone(), dir.path()).unwrap());
    assert!(
        err.contains("scf_bootstrap") && err.contains("a web function needs an executable file"),
        "{err}"
    );
    let bootstrap = dir.path().join("scf_bootstrap");
    std::fs::write(&bootstrap, "#!/bin/bash\nexec sleep 1\n").unwrap();
    let err = refuse(ProcessSpec::web(cfg.clone(), dir.path()).unwrap());
    assert!(err.contains("chmod 755 scf_bootstrap"), "{err}");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The handler is not used, so an empty one is fine.
    let spec = ProcessSpec::web(cfg, dir.path()).unwrap();
    assert!(spec.web && spec.runtime == RuntimeKind::Custom);
    ProcessFunction::new(spec).unwrap();
}
