//! `MemUsage` with the opt-in counting allocator: the peak allocation during the invocation.
//!
//! A test binary of its own, beside `tests/it`: a `#[global_allocator]` is the allocator of
//! the whole binary, and the tests in `it` check what is reported without it.

use std::sync::Arc;

use scf_context::{Context, FunctionConfig};
use scf_handler::{handler_fn, FunctionError};
use scf_invoker::{CountingAllocator, InvokeRequest, Invoker, InvokerConfig, MemSource};
use scf_store::MemoryStore;
use serde_json::Value;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

#[tokio::test]
async fn the_peak_allocation_during_the_invocation_is_reported() {
    assert!(CountingAllocator::is_installed());
    let config = InvokerConfig::default().with_store(Arc::new(MemoryStore::default()));
    let invoker = Invoker::new(config).expect("a valid invoker config");
    invoker
        .add_function(
            FunctionConfig::new("hungry"),
            handler_fn(|_: Value, _: Context| async {
                let big = vec![1u8; 20 * 1024 * 1024];
                Ok::<_, FunctionError>(big.iter().map(|b| u64::from(*b)).sum::<u64>())
            }),
        )
        .unwrap();
    invoker
        .add_function(
            FunctionConfig::new("echo"),
            handler_fn(|event: Value, _: Context| async move { Ok::<_, FunctionError>(event) }),
        )
        .unwrap();
    let hungry = invoker
        .invoke(InvokeRequest::new("hungry", "{}"))
        .await
        .unwrap();
    assert_eq!(hungry.mem_source, MemSource::PeakAllocation);
    assert!(hungry.mem_usage_bytes >= 20 * 1024 * 1024);
    let light = invoker
        .invoke(InvokeRequest::new("echo", "{}"))
        .await
        .unwrap();
    assert_eq!(light.mem_source, MemSource::PeakAllocation);
    assert!(
        light.mem_usage_bytes < 20 * 1024 * 1024,
        "the peak is reset between invocations: {}",
        light.mem_usage_bytes
    );
    assert!(light.mem_usage_bytes > 0);
}
