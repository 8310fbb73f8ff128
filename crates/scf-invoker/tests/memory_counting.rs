//! `MemUsage` with the opt-in counting allocator: the peak allocation during the invocation.

mod common;

use common::{function, invoker};
use scf_context::Context;
use scf_handler::{handler_fn, FunctionError};
use scf_invoker::{CountingAllocator, InvokeRequest, MemSource};
use serde_json::Value;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

#[tokio::test]
async fn the_peak_allocation_during_the_invocation_is_reported() {
    assert!(CountingAllocator::is_installed());
    let invoker = invoker(Default::default());
    invoker
        .add_function(
            function("hungry"),
            handler_fn(|_: Value, _: Context| async {
                let big = vec![1u8; 20 * 1024 * 1024];
                Ok::<_, FunctionError>(big.iter().map(|b| u64::from(*b)).sum::<u64>())
            }),
        )
        .unwrap();
    invoker
        .add_function(function("echo"), handler_fn(common::echo))
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
