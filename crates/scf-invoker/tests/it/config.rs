//! Invoker configuration: invalid values and a missing runtime are typed errors, never panics.

use scf_invoker::{Invoker, InvokerConfig, InvokerConfigError};

#[test]
fn outside_a_runtime_new_fails_with_a_hint() {
    let err = Invoker::new(InvokerConfig::default()).unwrap_err();
    assert_eq!(err, InvokerConfigError::NoRuntime);
    assert!(err.to_string().contains("use Invoker::with_handle"));
}

#[test]
fn with_handle_works_from_a_thread_outside_the_runtime() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    assert!(Invoker::with_handle(InvokerConfig::default(), rt.handle().clone()).is_ok());
}

#[test]
fn a_runtime_without_timers_is_refused() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let err = Invoker::with_handle(InvokerConfig::default(), rt.handle().clone()).unwrap_err();
    assert_eq!(err, InvokerConfigError::TimersDisabled);
    assert!(err.to_string().contains("enable_time()"));
}

#[test]
fn zero_capacities_are_refused_with_the_field_name() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    type Setter = fn(&mut InvokerConfig);
    let cases: [(Setter, &str); 4] = [
        (|c| c.async_queue_capacity = 0, "async_queue_capacity"),
        (|c| c.async_workers = 0, "async_workers"),
        (|c| c.default_concurrency = 0, "default_concurrency"),
        (|c| c.thread_pool.max_threads = 0, "thread_pool.max_threads"),
    ];
    for (set, field) in cases {
        let mut config = InvokerConfig::default();
        set(&mut config);
        let err = Invoker::with_handle(config, rt.handle().clone()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("InvokerConfig.{field} is invalid: must be at least 1")
        );
    }
}
