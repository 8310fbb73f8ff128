//! The context serializes with exactly the seed's field names and types.

use proptest::prelude::*;
use scf_context::{Context, FunctionConfig};

const SEED: &str = include_str!("../fixtures/seed_context.json");

#[test]
fn seed_context_parses_and_serializes_back_to_the_same_json() {
    let ctx: Context = serde_json::from_str(SEED).unwrap();
    assert_eq!(ctx.memory_limit_in_mb, 128);
    assert_eq!(ctx.time_limit_in_ms, 3000);
    assert_eq!(ctx.environment, r#"{"SCF_NAMESPACE":"default"}"#);
    assert_eq!(ctx.function_version, "$LATEST");
    let original: serde_json::Value = serde_json::from_str(SEED).unwrap();
    assert_eq!(serde_json::to_value(&ctx).unwrap(), original);
    // Field order matches the seed's too, so the text is the same modulo whitespace.
    let compact = SEED.trim().replace(", \"", ",\"").replace("\": ", "\":");
    assert_eq!(serde_json::to_string(&ctx).unwrap(), compact);
}

#[test]
fn context_from_config_carries_namespace_and_environ() {
    let mut config = FunctionConfig::new("hello");
    config.namespace = "prod".into();
    config.environment.insert("A".into(), "1".into());
    config.environment.insert("B".into(), "x=y".into());
    let ctx = Context::new(&config, "rid");
    assert_eq!(ctx.environment, r#"{"SCF_NAMESPACE":"prod"}"#);
    assert_eq!(ctx.environ, "SCF_NAMESPACE=prod;A=1;B=x=y");
    let pairs: Vec<_> = ctx.environ_pairs().collect();
    assert_eq!(
        pairs,
        vec![("SCF_NAMESPACE", "prod"), ("A", "1"), ("B", "x=y")]
    );
    assert_eq!(ctx.namespace, "prod");
    assert_eq!(ctx.function_name, "hello");
    assert_eq!(ctx.request_id, "rid");
}

#[test]
fn default_context_is_usable_in_tests() {
    let ctx = Context::default();
    assert_eq!(ctx.function_version, "$LATEST");
    assert_eq!(ctx.namespace, "default");
    assert_eq!(ctx.memory_limit_in_mb, 128);
    assert!(!ctx.is_cancelled());
}

prop_compose! {
    fn any_context()(
        mem in any::<u64>(), time in any::<u64>(), rid in ".*", env in ".*", environ in ".*",
        ver in ".*", name in ".*", ns in ".*", region in ".*", appid in ".*", uin in ".*",
    ) -> serde_json::Value {
        serde_json::json!({
            "memory_limit_in_mb": mem, "time_limit_in_ms": time, "request_id": rid,
            "environment": env, "environ": environ, "function_version": ver,
            "function_name": name, "namespace": ns, "tencentcloud_region": region,
            "tencentcloud_appid": appid, "tencentcloud_uin": uin,
        })
    }
}

proptest! {
    #[test]
    fn any_context_round_trips(json in any_context()) {
        let ctx: Context = serde_json::from_value(json.clone()).unwrap();
        let text = serde_json::to_string(&ctx).unwrap();
        let back: Context = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(serde_json::to_value(&back).unwrap(), json);
    }
}
