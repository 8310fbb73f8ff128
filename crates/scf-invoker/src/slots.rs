//! A deployment-wide concurrency limit ([`ConcurrencyScope::Deployment`]): the slots this
//! node holds in the store, and the task that renews their leases.
//!
//! [`ConcurrencyScope::Deployment`]: crate::ConcurrencyScope::Deployment

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use scf_store::{ConcurrencySlots, FunctionRef, SlotId, StoreError};
use tokio::runtime::Handle;

use crate::clock::Clock;
use crate::functions::lock;

/// The slots this node holds, and where they are counted.
pub(crate) struct DeploymentSlots {
    slots: Arc<dyn ConcurrencySlots>,
    node: String,
    lease: Duration,
    clock: Arc<Clock>,
    handle: Handle,
    held: Mutex<HashSet<SlotId>>,
    /// Invocations that ran counted per node only, because the store could not be asked.
    pub(crate) unavailable: AtomicU64,
}

/// What [`DeploymentSlots::acquire`] got.
pub(crate) enum Taken {
    /// A slot, given back when the guard drops.
    Slot(SlotGuard),
    /// Every slot of the function is held.
    Full,
    /// The store could not be asked: the invocation is counted per node only.
    Unavailable,
}

/// One held slot; dropping it gives the slot back (off the async threads).
pub(crate) struct SlotGuard {
    keeper: Arc<DeploymentSlots>,
    id: SlotId,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        lock(&self.keeper.held).remove(&self.id);
        let slots = self.keeper.slots.clone();
        let id = self.id;
        // A slot whose release fails stays counted until its lease (no longer renewed)
        // runs out.
        drop(self.keeper.handle.spawn_blocking(move || {
            if let Err(error) = slots.release_slot(id) {
                tracing::warn!(%error, "scf-invoker: could not give back a concurrency slot; it frees itself when its lease runs out");
            }
        }));
    }
}

impl DeploymentSlots {
    pub(crate) fn new(
        slots: Arc<dyn ConcurrencySlots>,
        node: String,
        lease: Duration,
        clock: Arc<Clock>,
        handle: Handle,
    ) -> Self {
        DeploymentSlots {
            slots,
            node,
            lease,
            clock,
            handle,
            held: Mutex::default(),
            unavailable: AtomicU64::new(0),
        }
    }

    /// Takes one of `function`'s `limit` slots.
    pub(crate) async fn acquire(self: &Arc<Self>, function: FunctionRef, limit: u32) -> Taken {
        let slots = self.slots.clone();
        let node = self.node.clone();
        let lease = self.lease;
        let now = self.clock.now();
        let got = self
            .handle
            .spawn_blocking(move || slots.acquire_slot(&function, &node, limit, lease, now))
            .await
            .unwrap_or_else(|e| {
                Err(StoreError::Read {
                    what: "concurrency slot".into(),
                    detail: format!("the blocking task failed: {e}"),
                })
            });
        match got {
            Ok(Some(id)) => {
                lock(&self.held).insert(id);
                Taken::Slot(SlotGuard {
                    keeper: self.clone(),
                    id,
                })
            }
            Ok(None) => Taken::Full,
            Err(error) => {
                self.unavailable.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%error, "scf-invoker: the deployment-wide concurrency limit could not be checked; counting this invocation on this node only");
                Taken::Unavailable
            }
        }
    }

    /// Renews the leases of every slot held now; forgets those the store says are lost.
    async fn renew(&self) {
        let ids: Vec<SlotId> = lock(&self.held).iter().copied().collect();
        if ids.is_empty() {
            return;
        }
        let slots = self.slots.clone();
        let node = self.node.clone();
        let lease = self.lease;
        let now = self.clock.now();
        let renewed = self
            .handle
            .spawn_blocking(move || slots.renew_slots(&node, &ids, lease, now))
            .await;
        match renewed {
            Ok(Ok(lost)) if !lost.is_empty() => {
                tracing::warn!(
                    lost = lost.len(),
                    "scf-invoker: concurrency slots ran out before they were renewed (the store was slow or unreachable)"
                );
                let mut held = lock(&self.held);
                for id in lost {
                    held.remove(&id);
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, "scf-invoker: could not renew concurrency slots");
            }
            Err(error) => {
                tracing::warn!(%error, "scf-invoker: the task renewing concurrency slots failed");
            }
        }
    }
}

/// Renews `keeper`'s slots every `every` until the keeper is dropped.
pub(crate) async fn renew_loop(keeper: Weak<DeploymentSlots>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(keeper) = keeper.upgrade() else {
            return;
        };
        keeper.renew().await;
    }
}
