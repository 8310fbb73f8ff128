//! `FunctionConfig::validate` applies the platform's rules and names the field and rule.

use std::time::Duration;

use scf_context::{ConfigError, FunctionConfig, RetryConfig};

fn config() -> FunctionConfig {
    FunctionConfig::new("hello")
}

#[test]
fn defaults_are_the_platform_defaults_and_valid() {
    let c = config();
    assert_eq!(c.namespace, "default");
    assert_eq!(c.version, "$LATEST");
    assert_eq!(c.memory_mb, 128);
    assert_eq!(c.timeout, Duration::from_secs(3));
    assert_eq!(c.init_timeout, Duration::from_secs(65));
    assert_eq!(c.retry, RetryConfig::new(2, Duration::from_secs(60)));
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn memory_accepts_64_and_128_steps_up_to_3072() {
    for ok in [64, 128, 256, 1024, 3072] {
        let mut c = config();
        c.memory_mb = ok;
        assert_eq!(c.validate(), Ok(()), "{ok}");
    }
    for bad in [0, 63, 100, 129, 200, 3200, 3073] {
        let mut c = config();
        c.memory_mb = bad;
        assert_eq!(c.validate(), Err(ConfigError::MemorySize { value: bad }));
    }
    let mut c = config();
    c.memory_mb = 100;
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "MemorySize 100 MB is invalid: must be 64, or 128 to 3072 in steps of 128"
    );
}

#[test]
fn timeout_must_be_1_to_900_seconds() {
    for (ms, ok) in [
        (999, false),
        (1000, true),
        (900_000, true),
        (900_001, false),
    ] {
        let mut c = config();
        c.timeout = Duration::from_millis(ms);
        let r = c.validate();
        if ok {
            assert_eq!(r, Ok(()));
        } else {
            assert_eq!(
                r,
                Err(ConfigError::Timeout {
                    value_ms: ms.into()
                })
            );
        }
    }
    let mut c = config();
    c.timeout = Duration::from_secs(901);
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "Timeout 901000 ms is invalid: must be 1 to 900 seconds"
    );
}

#[test]
fn init_timeout_must_be_1_to_300_seconds() {
    let mut c = config();
    c.init_timeout = Duration::from_secs(301);
    assert_eq!(
        c.validate(),
        Err(ConfigError::InitTimeout { value_ms: 301_000 })
    );
    c.init_timeout = Duration::from_secs(300);
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn retries_are_at_most_two() {
    let mut c = config();
    c.retry.max_retries = 3;
    assert_eq!(c.validate(), Err(ConfigError::RetryNum { value: 3 }));
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "RetryNum 3 is invalid: must be 0 to 2"
    );
}

#[test]
fn msg_ttl_defaults_to_six_hours_and_is_at_most_that() {
    assert_eq!(config().retry.msg_ttl, Duration::from_secs(21_600));
    let mut c = config();
    c.retry = c.retry.with_msg_ttl(Duration::from_millis(50));
    assert_eq!(c.validate(), Ok(()));
    for (bad, ms) in [
        (Duration::ZERO, 0),
        (Duration::from_secs(21_601), 21_601_000),
    ] {
        c.retry.msg_ttl = bad;
        assert_eq!(c.validate(), Err(ConfigError::MsgTtl { value_ms: ms }));
    }
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "MsgTTL 21601000 ms is invalid: must be more than 0 and at most 21600 seconds"
    );
}

#[test]
fn concurrency_limit_of_zero_is_refused() {
    let mut c = config();
    c.max_concurrency = Some(0);
    assert_eq!(c.validate(), Err(ConfigError::Concurrency));
}

#[test]
fn env_keys_must_match_the_pattern() {
    for bad in ["", "1A", "_A", "A-B", "A B", "ä"] {
        let mut c = config();
        c.environment.insert(bad.into(), "v".into());
        assert_eq!(
            c.validate(),
            Err(ConfigError::EnvKey { key: bad.into() }),
            "{bad:?}"
        );
    }
    let mut c = config();
    c.environment.insert("a_1".into(), "v".into());
    assert_eq!(c.validate(), Ok(()));
    let mut c = config();
    c.environment.insert("1A".into(), "v".into());
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        r#"Environment variable key "1A" is invalid: must match [A-Za-z][A-Za-z0-9_]*"#
    );
}

#[test]
fn env_keys_with_reserved_prefixes_are_refused() {
    for key in ["SCF_X", "QCLOUD_X", "TENCENTCLOUD_SECRETID"] {
        let mut c = config();
        c.environment.insert(key.into(), "v".into());
        assert_eq!(
            c.validate(),
            Err(ConfigError::EnvReserved { key: key.into() })
        );
    }
}

#[test]
fn env_total_is_at_most_4096_bytes() {
    let mut c = config();
    // "K=" + 4094 bytes = 4096: allowed.
    c.environment.insert("K".into(), "v".repeat(4094));
    assert_eq!(c.validate(), Ok(()));
    c.environment.insert("K".into(), "v".repeat(4095));
    assert_eq!(c.validate(), Err(ConfigError::EnvTooLarge { size: 4097 }));
}

#[test]
fn function_names_follow_the_naming_rule() {
    let cases = [
        ("a", "must be 2 to 60 characters"),
        ("1abc", "must start with a letter"),
        ("ab.c", "may contain only letters, digits, '-' and '_'"),
        ("abc-", "must end with a letter or a digit"),
    ];
    for (name, rule) in cases {
        let mut c = config();
        c.name = name.into();
        assert_eq!(
            c.validate(),
            Err(ConfigError::FunctionName {
                name: name.into(),
                rule
            }),
            "{name}"
        );
    }
    let mut c = config();
    c.name = "x".repeat(61);
    assert!(matches!(
        c.validate(),
        Err(ConfigError::FunctionName { .. })
    ));
    let mut c = config();
    c.namespace = "-bad".into();
    assert_eq!(
        c.validate(),
        Err(ConfigError::Namespace {
            name: "-bad".into(),
            rule: "must start with a letter"
        })
    );
}

#[test]
fn process_environment_lists_scf_variables_then_the_functions_own() {
    let mut c = config();
    c.runtime = Some("Python3.9".into());
    c.environment.insert("GREETING".into(), "hi".into());
    let env = c.process_environment();
    let get = |k: &str| {
        env.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("SCF_FUNCTIONNAME"), Some("hello"));
    assert_eq!(get("SCF_FUNCTIONVERSION"), Some("$LATEST"));
    assert_eq!(get("SCF_RUNTIME"), Some("Python3.9"));
    assert_eq!(get("TENCENTCLOUD_RUNENV"), Some("SCF"));
    assert_eq!(
        env.last(),
        Some(&("GREETING".to_string(), "hi".to_string()))
    );
}
