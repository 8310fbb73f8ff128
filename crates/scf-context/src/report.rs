//! What a handler tells its host about an invocation that the host cannot measure
//! itself: the memory a function used in another process, and a cold instance's init
//! time. The host sets a [`ReportHook`] on the [`Context`](crate::Context); a handler
//! reports through the context ([`Context::report_mem_usage`](crate::Context::report_mem_usage)
//! and its siblings), so neither needs to know the other's crate.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Where a host takes an invocation's reports (the invoker implements it per
/// invocation). Every method may be called from any thread, any number of times.
pub trait HostReport: Send + Sync {
    /// The invocation used `bytes` of memory (the host keeps the largest figure).
    fn mem_usage(&self, bytes: u64);
    /// The invocation starts waiting for a cold instance to initialise: the host stops
    /// counting its time limit until [`init_duration`](Self::init_duration).
    fn init_started(&self);
    /// The invocation waited `init` for a cold instance: the host moves its deadline later
    /// by `init` and leaves it out of its `Duration`, as SCF times init separately.
    fn init_duration(&self, init: Duration);
}

/// A host's [`HostReport`], carried by a [`Context`](crate::Context).
#[derive(Clone)]
pub struct ReportHook(Arc<dyn HostReport>);

impl ReportHook {
    /// A hook that hands the reports to `report`.
    pub fn new(report: Arc<dyn HostReport>) -> Self {
        Self(report)
    }

    pub(crate) fn report(&self) -> &dyn HostReport {
        &*self.0
    }
}

impl fmt::Debug for ReportHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReportHook")
    }
}
