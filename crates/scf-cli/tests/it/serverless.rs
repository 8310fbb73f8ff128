//! `serverless.yml` projects (the Serverless Framework's SCF component format): the
//! same project model and the same invocation results as their `template.yaml` twins,
//! variables, a directory of components, and refusals that name the file, line and key.

use std::path::{Path, PathBuf};

use scf_cli::template::{Template, TemplateError, Trigger};

use crate::common::{run, scf, text};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn twins() -> PathBuf {
    fixtures().join("twins")
}

fn bad(name: &str) -> TemplateError {
    Template::load(&fixtures().join("serverless").join(name)).unwrap_err()
}

#[test]
fn a_directory_of_serverless_files_gives_the_same_model_as_its_template_twin() {
    let tcsam = Template::load(&twins().join("template.yaml")).unwrap();
    let sls = Template::load(&twins().join("sls")).unwrap();
    assert_eq!(sls.path, twins().join("sls"));
    let names = |t: &Template| {
        t.functions
            .iter()
            .map(|f| f.config.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&sls), ["greet", "hello"]);
    assert_eq!(names(&sls), names(&tcsam));
    for (a, b) in tcsam.functions.iter().zip(&sls.functions) {
        let name = &a.config.name;
        assert_eq!(a.config.namespace, b.config.namespace, "{name}");
        assert_eq!(a.config.handler, b.config.handler, "{name}");
        assert_eq!(a.config.runtime, b.config.runtime, "{name}");
        assert_eq!(a.config.memory_mb, b.config.memory_mb, "{name}");
        assert_eq!(a.config.timeout, b.config.timeout, "{name}");
        assert_eq!(a.config.init_timeout, b.config.init_timeout, "{name}");
        // ${env:GREETING} comes from sls/.env; ${stage} and ${self:stage} from `stage: dev`.
        assert_eq!(a.config.environment, b.config.environment, "{name}");
        assert_eq!(a.function_type, b.function_type, "{name}");
        assert_eq!(a.description, b.description, "{name}");
        assert_eq!(a.triggers, b.triggers, "{name}");
        assert_eq!(
            a.code_dir.canonicalize().unwrap(),
            b.code_dir.canonicalize().unwrap(),
            "{name}"
        );
    }
    let hello = sls.function("hello").unwrap();
    assert_eq!(hello.config.environment["GREETING"], "hello from .env");
    assert!(matches!(
        &hello.triggers[1],
        Trigger::Timer { name, enable: true, message, .. } if name == "hello_timer" && message == "tick"
    ));
    assert_eq!(sls.function("greet").unwrap().config.region, "ap-guangzhou");
}

#[test]
fn a_serverless_function_and_its_template_twin_return_the_same_results() {
    for function in ["hello", "greet"] {
        let results: Vec<serde_json::Value> = [twins().join("template.yaml"), twins().join("sls")]
            .iter()
            .map(|project| {
                let data = tempfile::tempdir().unwrap();
                let out = run(scf()
                    .args(["invoke", "-t"])
                    .arg(project)
                    .args([
                        function,
                        "--event",
                        r#"{"n":1}"#,
                        "--output",
                        "json",
                        "--data-dir",
                    ])
                    .arg(data.path()));
                assert!(
                    out.status.success(),
                    "{function} in {}: {}",
                    project.display(),
                    text(&out.stderr)
                );
                let api: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                serde_json::from_str(api["RetMsg"].as_str().unwrap()).unwrap()
            })
            .collect();
        assert_eq!(results[0], results[1], "{function}");
        assert_eq!(
            results[0],
            serde_json::json!({"greeting": "hello from .env", "stage": "dev", "event": {"n": 1}, "function": function})
        );
    }
}

#[test]
fn scf_finds_serverless_yml_in_the_current_directory_without_t() {
    let out = run(scf().arg("validate").current_dir(twins().join("sls/hello")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("serverless.yml: 1 function(s)"),
        "{stdout}"
    );
    assert!(stdout.contains("hello_timer: Timer"), "{stdout}");
    assert!(
        stdout.contains("hello_api: API GET /hello (stage release)"),
        "{stdout}"
    );
    // A directory with no project file of its own: its subdirectories' serverless.yml.
    let out = run(scf().arg("validate").current_dir(twins().join("sls")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with(".: 2 function(s)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn an_unknown_inputs_field_is_refused_by_name_with_its_line() {
    let e = bad("unknown_input.yml");
    assert_eq!((e.line, e.column), (7, 3), "{e}");
    assert_eq!(e.key, "memorysize");
    assert!(e.message.contains("unknown field `memorysize`"), "{e}");
    assert!(e.message.contains("memorySize"), "{e}");
}

#[test]
fn an_unknown_trigger_parameter_is_refused_by_name() {
    let e = bad("bad_trigger_key.yml");
    assert_eq!(e.line, 10, "{e}");
    assert!(e.message.contains("unknown field `cronExpresion`"), "{e}");
}

#[test]
fn an_output_variable_is_refused_with_what_to_write_instead() {
    let e = bad("output_variable.yml");
    assert_eq!(e.line, 9, "{e}");
    assert_eq!(e.key, "inputs.environment.variables.DB");
    assert!(
        e.message.contains("${output:dev:ap-guangzhou:db.host}"),
        "{e}"
    );
    assert!(e.message.contains("only after `sls deploy`"), "{e}");
}

#[test]
fn an_unset_env_variable_is_refused_naming_it() {
    let e = bad("missing_env.yml");
    assert_eq!((e.line, e.key.as_str()), (7, "inputs.timeout"), "{e}");
    assert!(
        e.message
            .contains("SCF_TEST_SURELY_UNSET_TIMEOUT is not set"),
        "{e}"
    );
}

#[test]
fn an_env_variable_set_in_the_environment_is_used() {
    let file = fixtures().join("serverless/missing_env.yml");
    let out = run(scf()
        .env("SCF_TEST_SURELY_UNSET_TIMEOUT", "7")
        .args(["validate", "-t"])
        .arg(&file));
    // The variable resolves; the project then passes the checks serve makes.
    assert!(
        text(&out.stdout).contains("timeout 7 s"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn python_2_is_refused_when_the_project_is_read_naming_the_function_and_the_fix() {
    let e = bad("python27.yml");
    assert_eq!(
        (e.line, e.column, e.key.as_str()),
        (7, 12, "inputs.runtime"),
        "{e}"
    );
    assert!(
        e.message
            .contains("function legacy: Python2.7 cannot run here"),
        "{e}"
    );
    assert!(e.message.contains("set the runtime to Python3.9"), "{e}");
    let out = run(scf()
        .args(["validate", "-t"])
        .arg(fixtures().join("serverless/python27.yml")));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("python27.yml:7:12: inputs.runtime: function legacy: Python2.7"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn another_component_and_a_bad_memory_size_are_refused_with_their_keys() {
    let e = bad("other_component.yml");
    assert_eq!((e.line, e.key.as_str()), (1, "component"), "{e}");
    assert!(e.message.contains("\"express\""), "{e}");
    let e = bad("bad_memory.yml");
    assert_eq!((e.line, e.key.as_str()), (7, "inputs.memorySize"), "{e}");
    assert!(e.message.contains("MemorySize 100 MB is invalid"), "{e}");
}

#[test]
fn a_cloud_layer_without_a_local_copy_is_refused_naming_where_it_was_looked_for() {
    let e = bad("missing_layer.yml");
    assert_eq!((e.line, e.key.as_str()), (8, "inputs.layers[0]"), "{e}");
    assert!(
        e.message
            .contains("layer missinglayer version 2 lives in the cloud"),
        "{e}"
    );
    assert!(e.message.contains("layers/missinglayer-2"), "{e}");
}

#[test]
fn type_web_maps_to_the_web_function_type() {
    let t = Template::load(&fixtures().join("serverless/web.yml")).unwrap();
    let f = t.function("webfn").unwrap();
    assert_eq!(f.function_type, "HTTP");
    assert!(
        matches!(&f.triggers[0], Trigger::Api { method, path, .. } if method == "ANY" && path == "/")
    );
}

#[test]
fn validate_refuses_a_handler_whose_file_is_missing_and_says_which_file_defines_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.py"),
        "def main_handler(event, context):\n    return 1\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("serverless.yml"),
        "component: scf\nname: x\ninputs:\n  name: wrongfile\n  src: ./\n  handler: demo.main_handler\n  runtime: Python3.9\n",
    )
    .unwrap();
    let out = run(scf().arg("validate").current_dir(dir.path()));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("function wrongfile: handler \"demo.main_handler\" names a Python module that is not in the code directory"), "{err}");
    assert!(
        err.contains("index defines main_handler: set the handler to index.main_handler"),
        "{err}"
    );
}

#[test]
fn two_components_defining_one_function_are_refused_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["a", "b"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        std::fs::write(
            dir.path().join(sub).join("serverless.yml"),
            "component: scf\nname: same\ninputs:\n  name: same\n  src: ./\n  runtime: Python3.9\n",
        )
        .unwrap();
    }
    let e = Template::load(dir.path()).unwrap_err();
    assert!(e.file.ends_with("b/serverless.yml"), "{e}");
    assert!(e.message.contains("default/same is also defined in"), "{e}");
    assert!(e.message.contains("a/serverless.yml"), "{e}");
}

#[test]
fn serve_serves_every_component_of_a_directory_together() {
    let data = tempfile::tempdir().unwrap();
    let mut s = crate::common::Served::start(&twins().join("sls"), data.path(), &[]);
    let limit = std::time::Duration::from_secs(5);
    s.wait_for_line(
        |l| l.contains("route: POST") && l.ends_with("/greet -> greet"),
        limit,
    );
    s.wait_for_line(
        |l| l.contains("route: GET") && l.ends_with("/hello -> hello"),
        limit,
    );
    for function in ["greet", "hello"] {
        let body = format!(r#"{{"FunctionName":"{function}","ClientContext":"{{\"n\":2}}"}}"#);
        let headers = [
            ("Content-Type", "application/json"),
            ("X-TC-Action", "Invoke"),
            ("X-TC-Version", "2018-04-16"),
            ("X-TC-Region", "ap-guangzhou"),
        ];
        let (status, _, body) = crate::common::http(&s.addr, "POST", "/", &headers, &body);
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let ret: serde_json::Value =
            serde_json::from_str(v["Response"]["Result"]["RetMsg"].as_str().unwrap()).unwrap();
        assert_eq!(ret["function"], function, "{v}");
        assert_eq!(ret["greeting"], "hello from .env", "{v}");
        assert_eq!(ret["event"], serde_json::json!({"n": 2}), "{v}");
    }
}
