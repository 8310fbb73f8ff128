//! `init` writes a project whose template validates, and never overwrites anything.

use scf_cli::init::{init, InitError};
use scf_cli::template::Template;

#[test]
fn init_writes_a_valid_python_project() {
    let dir = tempfile::tempdir().unwrap();
    let written = init(dir.path(), "hello").unwrap();
    assert_eq!(written.len(), 2);
    let t = Template::load(&dir.path().join("template.yaml")).unwrap();
    let f = t.function("hello").unwrap();
    assert_eq!(f.config.handler, "index.main_handler");
    assert_eq!(f.config.runtime.as_deref(), Some("Python3.9"));
    assert!(f.code_dir.join("index.py").is_file());
    let index = std::fs::read_to_string(f.code_dir.join("index.py")).unwrap();
    assert!(index.contains("def main_handler(event, context):"));
}

#[test]
fn init_refuses_to_overwrite_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("template.yaml"), "mine").unwrap();
    let err = init(dir.path(), "hello").unwrap_err();
    assert!(matches!(err, InitError::Exists(_)));
    assert!(!dir.path().join("hello").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("template.yaml")).unwrap(),
        "mine"
    );
}

#[test]
fn init_refuses_an_invalid_function_name() {
    let dir = tempfile::tempdir().unwrap();
    let err = init(dir.path(), "1bad").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"FunctionName "1bad" is invalid: must start with a letter"#
    );
}
