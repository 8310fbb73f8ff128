//! `template.yaml` in SCF CLI's format parses, and each error names the line and the key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use scf_cli::template::{Template, TemplateError, Trigger};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/templates")
        .join(name)
}

fn load_err(name: &str) -> TemplateError {
    Template::load(&fixture(name)).unwrap_err()
}

#[test]
fn a_full_template_resolves_functions_globals_and_triggers() {
    let t = Template::load(&fixture("full.yaml")).unwrap();
    assert_eq!(t.functions.len(), 2);
    let hello = t.function("hello").unwrap();
    assert_eq!(hello.config.namespace, "default");
    assert_eq!(hello.config.handler, "index.main_handler");
    assert_eq!(hello.config.runtime.as_deref(), Some("Python3.9"));
    assert_eq!(hello.config.memory_mb, 256);
    assert_eq!(hello.config.timeout, Duration::from_secs(10));
    assert_eq!(
        hello
            .config
            .environment
            .get("ENV_FIRST")
            .map(String::as_str),
        Some("env1")
    );
    assert_eq!(
        hello.config.environment.get("COUNT").map(String::as_str),
        Some("3")
    );
    assert_eq!(hello.code_dir, fixture("hello"));
    assert_eq!(hello.function_type, "Event");
    assert_eq!(hello.triggers.len(), 3);
    assert!(hello.triggers.contains(&Trigger::Api {
        name: "gw".into(),
        method: "ANY".into(),
        path: "/hello".into(),
        stage: "release".into(),
    }));
    assert!(hello.triggers.contains(&Trigger::Other {
        name: "upload".into(),
        kind: "COS".into()
    }));
    let timer = hello
        .triggers
        .iter()
        .find(|t| matches!(t, Trigger::Timer { .. }))
        .unwrap();
    match timer {
        Trigger::Timer {
            name,
            cron,
            enable,
            message,
        } => {
            assert_eq!(
                (name.as_str(), *enable, message.as_str()),
                ("every5s", true, "tick")
            );
            assert_eq!(cron.as_str(), "*/5 * * * * * *");
        }
        _ => unreachable!(),
    }
    let users = t.function("users").unwrap();
    // Globals fill what the function leaves out.
    assert_eq!(users.config.timeout, Duration::from_secs(5));
    assert_eq!(users.config.memory_mb, 128);
    assert_eq!(
        users.triggers,
        vec![Trigger::Api {
            name: "api".into(),
            method: "GET".into(),
            path: "/users/{id}".into(),
            stage: "release".into()
        }]
    );
}

#[test]
fn an_unknown_key_is_an_error_naming_its_line_and_the_key() {
    let e = load_err("unknown_key.yaml");
    assert_eq!(e.line, 8, "{e}");
    assert!(e.message.contains("MemorySise"), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("{}:8:", fixture("unknown_key.yaml").display())),
        "{e}"
    );
}

#[test]
fn a_bad_memory_size_names_its_line_key_and_rule() {
    let e = load_err("bad_memory.yaml");
    assert_eq!(
        (e.line, e.key.as_str()),
        (8, "Resources.default.hello.Properties.MemorySize")
    );
    assert_eq!(
        e.message,
        "MemorySize 100 MB is invalid: must be 64, or 128 to 3072 in steps of 128"
    );
}

#[test]
fn a_bad_cron_expression_names_its_line_and_field() {
    let e = load_err("bad_cron.yaml");
    assert_eq!(e.line, 12, "{e}");
    assert_eq!(
        e.key,
        "Resources.default.hello.Properties.Events.tick.Properties.CronExpression"
    );
    assert_eq!(
        e.message,
        r#"cron expression "61 * * * * * *": second field: 61 is out of range 0-59"#
    );
}

#[test]
fn an_unknown_event_property_names_its_line_and_the_allowed_keys() {
    let e = load_err("bad_event_property.yaml");
    assert_eq!(e.line, 13, "{e}");
    assert_eq!(
        e.key,
        "Resources.default.hello.Properties.Events.gw.Properties.HttpMetod"
    );
    assert!(
        e.message
            .starts_with("is not a property of a APIGW event: expected one of StageName"),
        "{e}"
    );
}

#[test]
fn a_reserved_environment_variable_names_its_line() {
    let e = load_err("bad_env.yaml");
    assert_eq!(e.line, 11, "{e}");
    assert_eq!(
        e.key,
        "Resources.default.hello.Properties.Environment.Variables.SCF_SECRET"
    );
}

#[test]
fn a_namespace_with_the_wrong_type_is_refused() {
    let e = load_err("bad_namespace_type.yaml");
    assert_eq!(e.line, 3, "{e}");
    assert_eq!(e.key, "Resources.default.Type");
}

#[test]
fn a_missing_file_says_so() {
    let e = Template::load(Path::new("/nonexistent/template.yaml")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/template.yaml: cannot read the template:"),
        "{e}"
    );
}

#[test]
fn a_template_named_without_a_directory_has_its_code_in_the_current_directory() {
    let text = "Resources:\n  default:\n    Type: TencentCloud::Serverless::Namespace\n    fn-a:\n      Type: TencentCloud::Serverless::Function\n      Properties:\n        CodeUri: ./\n        Handler: index.main_handler\n        Runtime: Python3.9\n";
    let t = Template::parse(text, Path::new("template.yaml")).unwrap();
    assert_eq!(t.function("fn-a").unwrap().code_dir, Path::new("."));
    let t = Template::parse(&text.replace("./", "./src"), Path::new("template.yaml")).unwrap();
    assert_eq!(t.function("fn-a").unwrap().code_dir, Path::new("./src"));
}

#[test]
fn api_paths_take_api_gateways_exact_and_preferred_prefix_markers() {
    use scf_http::apigw::PathKind;
    let t = Template::load(&fixture("api_route_kinds.yaml")).unwrap();
    let routes = scf_cli::serve::routes(&t).unwrap();
    let hit = |path: &str| {
        let m = routes.find(&scf_http::http::Method::GET, path).unwrap();
        (m.route.path.kind(), m.route.path.path().to_string())
    };
    assert_eq!(hit("/robots.txt"), (PathKind::Exact, "/robots.txt".into()));
    assert_eq!(
        hit("/static/a.css"),
        (PathKind::PreferredPrefix, "/static/".into())
    );
    // `/` is a plain path: the prefix of every path, a catch-all.
    assert_eq!(hit("/blog/2026/12"), (PathKind::Prefix, "/".into()));
}
