//! `scf generate-event SERVICE ACTION`: sample trigger events, as SCF's CLI generated them
//! (scf-spec 2.13, quirks kept), plus CLB and CLS. The samples live in
//! [`scf_event::samples`], where the console's event editor takes them too.

pub use scf_event::samples::{generate, EventParams, UnknownEvent, CATALOG};
