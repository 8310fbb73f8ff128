//! `config.json`, Tencent's console application template: read as JSON with comments
//! (errors with their line), and used in place of a `serverless.yml`'s handler or `src`
//! that does not resolve, with one warning naming both files.

use std::path::{Path, PathBuf};

use scf_cli::serverless::console_app::{ConsoleApp, ConsoleFunction};

use crate::common::{run, scf, text};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/console_app")
}

fn parse(name: &str) -> Result<Option<ConsoleApp>, String> {
    ConsoleApp::load(&fixtures().join("parse").join(name)).map_err(|e| e.to_string())
}

fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect()
}

#[test]
fn comments_are_blanked_outside_strings_only_and_the_handler_line_is_known() {
    let app = ConsoleApp::load(&fixtures().join("handler/config.json"))
        .unwrap()
        .unwrap();
    assert_eq!(
        app.functions,
        [ConsoleFunction {
            name: Some("greeter".into()),
            runtime: Some("Python3.9".into()),
            handler: Some("index.main_handler".into()),
            handler_line: 14,
        }]
    );
    let app = parse("escaped.json").unwrap().unwrap();
    let f = &app.functions[0];
    assert_eq!(
        f.name.as_deref(),
        Some("quote \" then // and /* inside one string")
    );
    assert_eq!(f.handler.as_deref(), Some("index.main_handler"));
    assert_eq!(f.handler_line, 6);
}

#[test]
fn a_list_of_functions_is_read_in_order_with_each_handler_line() {
    let app = parse("functions_list.json").unwrap().unwrap();
    let got: Vec<_> = app
        .functions
        .iter()
        .map(|f| (f.name.as_deref(), f.handler.as_deref(), f.handler_line))
        .collect();
    assert_eq!(
        got,
        [
            (Some("first"), Some("a.main_handler"), 4),
            (Some("second"), Some("b.main_handler"), 7)
        ]
    );
    assert_eq!(app.functions[0].runtime.as_deref(), Some("Php7.2"));
}

#[test]
fn malformed_json_is_refused_at_the_line_and_column_of_the_file_as_written() {
    let err = parse("missing_comma.json").unwrap_err();
    assert!(
        err.contains("missing_comma.json:6:7: is not JSON: expected `,` or `}`"),
        "{err}"
    );
}

#[test]
fn an_unclosed_block_comment_is_refused_where_it_opens() {
    let err = ConsoleApp::load(&fixtures().join("broken/config.json")).unwrap_err();
    assert_eq!(err.line, 6, "{err}");
    assert_eq!(err.column, 5, "{err}");
    assert!(err.message.contains("`/*` comment is not closed"), "{err}");
}

#[test]
fn a_handler_that_is_not_a_string_is_refused_naming_its_key_and_line() {
    let err = parse("handler_number.json").unwrap_err();
    assert!(
        err.contains(
            "handler_number.json:5:1: serverless-cloud-function-application.functions.handler: must be a string"
        ),
        "{err}"
    );
}

#[test]
fn a_json_file_of_another_format_is_not_a_console_template() {
    assert_eq!(
        ConsoleApp::load(&fixtures().join("not_tencent/config.json")).unwrap(),
        None
    );
    assert_eq!(
        ConsoleApp::load(&fixtures().join("no_such_dir/config.json")).unwrap(),
        None
    );
}

#[test]
fn a_missing_handler_file_runs_config_json_handler_with_one_warning_naming_both_files() {
    let dir = fixtures().join("handler");
    let data = tempfile::tempdir().unwrap();
    let out = run(scf()
        .current_dir(&dir)
        .args([
            "invoke",
            "greeter",
            "--event",
            r#"{"who":"scf"}"#,
            "--data-dir",
        ])
        .arg(data.path()));
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(text(&out.stdout).trim(), r#"{"hello":"scf"}"#);
    let expected = "warning: serverless.yml:6: handler api.main_handler: no api.py or api/__init__.py in ./; using config.json:14's index.main_handler, as Tencent's console deploys this template";
    assert_eq!(warnings(&stderr), [expected], "{stderr}");
    // `scf validate` says the same, and accepts the function as it will run.
    let out = run(scf().arg("validate").current_dir(&dir));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(warnings(&text(&out.stderr)), [expected]);
    assert!(
        text(&out.stdout).contains("default/greeter  handler index.main_handler"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_missing_src_directory_runs_the_code_beside_config_json_with_a_warning() {
    let dir = fixtures().join("src");
    let data = tempfile::tempdir().unwrap();
    let out = run(scf()
        .current_dir(&dir)
        .args(["invoke", "greeter", "--data-dir"])
        .arg(data.path()));
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(text(&out.stdout).trim(), r#"{"hello":"world"}"#);
    assert_eq!(
        warnings(&stderr),
        ["warning: serverless.yml:5: src ./code: no such directory; using config.json:5's index.main_handler in ./, as Tencent's console deploys this template"],
        "{stderr}"
    );
}

#[test]
fn a_config_json_of_another_language_or_format_is_not_used_and_the_error_stands() {
    for case in ["other_language", "not_tencent"] {
        let out = run(scf().arg("validate").current_dir(fixtures().join(case)));
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{case}: {stderr}");
        assert!(warnings(&stderr).is_empty(), "{case}: {stderr}");
        assert!(
            stderr.contains("handler \"api.main_handler\" names a Python module that is not in the code directory"),
            "{case}: {stderr}"
        );
    }
}

#[test]
fn a_broken_console_template_is_named_in_a_warning_and_the_error_stands() {
    let out = run(scf().arg("validate").current_dir(fixtures().join("broken")));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        warnings(&stderr),
        ["warning: serverless.yml:6: handler api.main_handler: no api.py or api/__init__.py in ./; config.json:6:5: a `/*` comment is not closed: not used"],
        "{stderr}"
    );
    assert!(
        stderr.contains("names a Python module that is not in the code directory"),
        "{stderr}"
    );
}

#[test]
fn the_components_default_handler_gives_way_too_and_the_warning_says_it_is_the_default() {
    let dir = fixtures().join("default_handler");
    let data = tempfile::tempdir().unwrap();
    let out = run(scf()
        .current_dir(&dir)
        .args(["invoke", "greeter", "--data-dir"])
        .arg(data.path()));
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(text(&out.stdout).trim(), r#""hello from app.php""#);
    assert_eq!(
        warnings(&stderr),
        ["warning: serverless.yml: handler index.main_handler (the default): no index.php in ./; using config.json:6's app.main_handler, as Tencent's console deploys this template"],
        "{stderr}"
    );
}
