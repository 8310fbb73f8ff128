//! [`LiveRoutes`]: a route table that can be replaced while the gateway serves.

use std::sync::{Arc, PoisonError, RwLock};

use super::Routes;

/// A route table shared by a gateway and whoever replaces it (`scf serve --watch` after a
/// template change): a request matches against the table current when it arrives; one
/// in flight keeps the table it started with. Cheap to clone (all clones share the table).
#[derive(Debug, Clone, Default)]
pub struct LiveRoutes {
    current: Arc<RwLock<Arc<Routes>>>,
}

impl LiveRoutes {
    /// A shared table holding `routes`.
    pub fn new(routes: Routes) -> Self {
        Self {
            current: Arc::new(RwLock::new(Arc::new(routes))),
        }
    }

    /// The table now.
    pub fn get(&self) -> Arc<Routes> {
        // A writer cannot panic half-way through a swap, so a poisoned lock still holds
        // a whole table.
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the table for every request that arrives from now on.
    pub fn set(&self, routes: Routes) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(routes);
    }
}
