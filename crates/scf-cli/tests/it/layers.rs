//! Layers (issue 16): a function's `Layers` are merged in order, a later one winning a
//! clash, shown at `/opt` in the sandbox and on the runtimes' search paths, directories
//! and zip files alike; a layer that is not there is refused with its file and line.

use crate::common;

use std::path::{Path, PathBuf};

use common::{run, scf, text};
use serde_json::Value;

fn template() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layers/template.yaml")
}

/// `scf invoke --output json` of `function` with `env` added; the function's return value.
fn invoke(function: &str, event: &str, env: &[(&str, &str)]) -> Value {
    let data = tempfile::tempdir().unwrap();
    let out = run(scf()
        .envs(env.iter().copied())
        .args(["invoke", "-t"])
        .arg(template())
        .args([function, "--output", "json", "--event", event, "--data-dir"])
        .arg(data.path()));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let api: Value = serde_json::from_str(&stdout).unwrap();
    let ret = api["RetMsg"].as_str().unwrap();
    serde_json::from_str(ret).unwrap_or_else(|e| panic!("{e}: {api}"))
}

#[test]
fn a_python_function_imports_from_its_layers_at_opt_and_the_later_layer_wins() {
    if !(scf_testkit::require(&scf_testkit::PYTHON3) && scf_testkit::require(&scf_testkit::BWRAP)) {
        return;
    }
    let v = invoke("pylayers", r#"{"name":"layers"}"#, &[]);
    assert_eq!(v["greeting"], "hello, layers (from a layer)", "{v}");
    // clash-b comes after clash-a in the template: its files win.
    assert_eq!(v["clash"], "b", "{v}");
    assert_eq!(v["opt_clash"], "b", "{v}");
    assert_eq!(v["zipped"], "from a zip layer", "{v}");
    // In the sandbox the layers are at /opt, as on SCF.
    assert_eq!(v["greeting_file"], "/opt/python/greeting.py", "{v}");
    assert_eq!(v["env"], "hello", "{v}");
}

#[test]
fn without_a_sandbox_layers_are_still_on_the_search_paths_but_not_at_opt() {
    if !scf_testkit::require(&scf_testkit::PYTHON3) {
        return;
    }
    let v = invoke("pylayers", r#"{"name":"plain"}"#, &[("SCF_SANDBOX", "off")]);
    assert_eq!(v["greeting"], "hello, plain (from a layer)", "{v}");
    assert_eq!(v["clash"], "b", "{v}");
    assert_eq!(v["zipped"], "from a zip layer", "{v}");
    // The merged directory is under the data directory, not the host's /opt.
    let file = v["greeting_file"].as_str().unwrap();
    assert!(
        file.ends_with("/python/greeting.py") && !file.starts_with("/opt/"),
        "{v}"
    );
    assert!(v["opt_clash"].is_null(), "{v}");
}

#[test]
fn a_node_function_requires_a_package_from_its_layer() {
    if !scf_testkit::require(&scf_testkit::NODE) {
        return;
    }
    let sandboxed = scf_testkit::require(&scf_testkit::BWRAP);
    let v = invoke("nodelayers", r#"{"name":"layers"}"#, &[]);
    assert_eq!(v["shouted"], "LAYERS!", "{v}");
    if sandboxed {
        assert_eq!(
            v["resolved"], "/opt/nodejs/node_modules/shout/index.js",
            "{v}"
        );
    }
}

#[test]
fn validate_lists_each_layer_in_order() {
    let out = run(scf().args(["validate", "-t"]).arg(template()));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let layers: Vec<&str> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("layer "))
        .collect();
    assert_eq!(layers.len(), 5, "{stdout}");
    // Functions in name order (nodelayers, pylayers), each's layers in template order.
    assert!(
        layers[0].contains("layer 1: node-pkg (directory "),
        "{stdout}"
    );
    assert!(
        layers[1].contains("layer 1: py-common (directory "),
        "{stdout}"
    );
    assert!(layers[2].contains("layer 2: clash version 1"), "{stdout}");
    assert!(layers[3].contains("layer 3: clash version 2"), "{stdout}");
    assert!(layers[4].contains("layer 4: zipped (zip "), "{stdout}");
}

#[test]
fn a_missing_layer_is_refused_with_its_file_line_and_key() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates/bad_layer.yaml");
    let out = run(scf().args(["validate", "-t"]).arg(&fixture));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("bad_layer.yaml:11:")
            && err.contains("Resources.default.hello.Properties.Layers[0]")
            && err.contains("no-such-layer"),
        "{err}"
    );
}

#[test]
fn a_cloud_layer_without_a_local_copy_is_refused_naming_it() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates/cloud_layer.yaml");
    let out = run(scf().args(["validate", "-t"]).arg(&fixture));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("cloud_layer.yaml:11:")
            && err.contains("Layers[0].CodeUri")
            && err.contains("layer numpy version 2"),
        "{err}"
    );
}
