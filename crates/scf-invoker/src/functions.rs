//! The functions an invoker holds, keyed by namespace, name and qualifier, and the
//! per-function concurrency gate.

use scf_store::FunctionRef;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use scf_context::{Context, FunctionConfig};
use scf_handler::SharedHandler;
use tokio::sync::Notify;

use crate::error::InvokeError;

/// One registered function version.
pub(crate) struct FunctionEntry {
    pub(crate) config: FunctionConfig,
    pub(crate) handler: SharedHandler,
    /// Built once; each invocation clones it and sets its own request id and deadline.
    pub(crate) context: Context,
    pub(crate) gate: Arc<Gate>,
    pub(crate) limit: u32,
}

/// Counts a function's running invocations, shared by all its versions (SCF reserves
/// concurrency per function) and kept across replacements of the function.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    running: AtomicU32,
    released: Notify,
}

impl Gate {
    pub(crate) fn try_acquire(self: &Arc<Self>, limit: u32) -> Option<GatePermit> {
        let previous = self.running.fetch_add(1, Ordering::AcqRel);
        if previous >= limit {
            self.running.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(GatePermit { gate: self.clone() })
    }

    pub(crate) fn running(&self) -> u32 {
        self.running.load(Ordering::Acquire)
    }

    /// Completes when a running invocation ends (or already has since the last wait).
    pub(crate) async fn released(&self) {
        self.released.notified().await;
    }
}

/// One running invocation's place in its function's concurrency.
#[derive(Debug)]
pub(crate) struct GatePermit {
    gate: Arc<Gate>,
}

impl Drop for GatePermit {
    fn drop(&mut self) {
        self.gate.running.fetch_sub(1, Ordering::AcqRel);
        self.gate.released.notify_one();
    }
}

/// Locks `m`, taking the data of a poisoned lock: the critical sections here are map
/// inserts and removals, which a panic cannot leave half done.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A registered function as listed by [`Invoker::functions`](crate::Invoker::functions).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FunctionInfo {
    /// The function's configuration (its `version` is the qualifier it answers to).
    pub config: FunctionConfig,
    /// Invocations of the function (all versions) running now.
    pub running: u32,
    /// The concurrency limit in force for this version.
    pub concurrency_limit: u32,
    /// The handler's warm and busy instances (an out-of-process function's pool), or
    /// `None` for a handler that runs in the invoker's process
    /// ([`Handler::instances`](scf_handler::Handler::instances)).
    pub instances: Option<scf_handler::Instances>,
}

#[derive(Default)]
struct Slot {
    gate: Arc<Gate>,
    versions: HashMap<String, Arc<FunctionEntry>>,
}

/// namespace → name → (gate, qualifier → entry). Nested maps let a lookup borrow the
/// request's strings instead of building a key, and tell 435 from 442.
#[derive(Default)]
pub(crate) struct Functions {
    namespaces: HashMap<String, HashMap<String, Slot>>,
    /// Functions removed while this invoker ran: the async worker still claims their
    /// queued events, to fail them (435) when their turn comes.
    removed: HashSet<FunctionRef>,
}

impl Functions {
    pub(crate) fn insert(
        &mut self,
        config: FunctionConfig,
        handler: SharedHandler,
        default_concurrency: u32,
    ) {
        self.removed.remove(&FunctionRef::new(
            config.namespace.as_str(),
            config.name.as_str(),
        ));
        let slot = self
            .namespaces
            .entry(config.namespace.clone())
            .or_default()
            .entry(config.name.clone())
            .or_default();
        let limit = config.max_concurrency.unwrap_or(default_concurrency);
        let entry = FunctionEntry {
            context: Context::new(&config, ""),
            gate: slot.gate.clone(),
            handler,
            limit,
            config,
        };
        slot.versions
            .insert(entry.config.version.clone(), Arc::new(entry));
    }

    pub(crate) fn remove(&mut self, namespace: &str, name: &str, qualifier: &str) -> bool {
        let Some(names) = self.namespaces.get_mut(namespace) else {
            return false;
        };
        let Some(slot) = names.get_mut(name) else {
            return false;
        };
        let removed = slot.versions.remove(qualifier).is_some();
        if slot.versions.is_empty() {
            names.remove(name);
            self.removed.insert(FunctionRef::new(namespace, name));
            if names.is_empty() {
                self.namespaces.remove(namespace);
            }
        }
        removed
    }

    pub(crate) fn lookup(
        &self,
        namespace: &str,
        name: &str,
        qualifier: &str,
    ) -> Result<Arc<FunctionEntry>, InvokeError> {
        let slot = self
            .namespaces
            .get(namespace)
            .and_then(|names| names.get(name))
            .ok_or_else(|| InvokeError::FunctionNotFound {
                namespace: namespace.to_string(),
                name: name.to_string(),
            })?;
        let found = slot.versions.get(qualifier).or_else(|| {
            // `$DEFAULT` is `InvokeFunction`'s default qualifier: the default alias, which
            // points at `$LATEST` unless configured otherwise.
            (qualifier == "$DEFAULT")
                .then(|| slot.versions.get("$LATEST"))
                .flatten()
        });
        found
            .cloned()
            .ok_or_else(|| InvokeError::QualifierNotFound {
                namespace: namespace.to_string(),
                name: name.to_string(),
                qualifier: qualifier.to_string(),
            })
    }

    /// Every registered function, and every one removed since, by namespace and name
    /// (what the async worker claims).
    pub(crate) fn refs(&self) -> Vec<FunctionRef> {
        self.namespaces
            .iter()
            .flat_map(|(namespace, names)| {
                names
                    .keys()
                    .map(move |name| FunctionRef::new(namespace.as_str(), name.as_str()))
            })
            .chain(self.removed.iter().cloned())
            .collect()
    }

    pub(crate) fn list(&self) -> Vec<FunctionInfo> {
        let mut out: Vec<FunctionInfo> = self
            .namespaces
            .values()
            .flat_map(|names| names.values())
            .flat_map(|slot| slot.versions.values())
            .map(|entry| entry.info())
            .collect();
        out.sort_by(|a, b| {
            (&a.config.namespace, &a.config.name, &a.config.version).cmp(&(
                &b.config.namespace,
                &b.config.name,
                &b.config.version,
            ))
        });
        out
    }
}

impl FunctionEntry {
    pub(crate) fn info(&self) -> FunctionInfo {
        FunctionInfo {
            config: self.config.clone(),
            running: self.gate.running(),
            concurrency_limit: self.limit,
            instances: self.handler.instances(),
        }
    }

    pub(crate) fn concurrency_error(&self) -> InvokeError {
        InvokeError::ConcurrencyLimit {
            name: self.config.name.clone(),
            limit: self.limit,
            quota_mb: u64::from(self.limit) * u64::from(self.config.memory_mb),
        }
    }
}
