//! The web console `scf serve` mounts at `/console` (crate `scf-console`): what the
//! template says of each function (its type and triggers), beside what the invoker knows.

use std::sync::Arc;

use scf_console::{Console, ConsoleConfig, FunctionExtras};
use scf_http::Credentials;
use scf_invoker::Invoker;
use scf_store::ConsoleStore;

use crate::template::{Template, Trigger};

/// The console over `invoker` and the store's console queries (`store`: `None` when the
/// store has none) for the functions of `template`, signed in with `credentials` (empty:
/// loopback only, as the API).
pub fn console_for(
    template: &Template,
    invoker: &Invoker,
    store: Option<Arc<dyn ConsoleStore>>,
    credentials: &Credentials,
) -> Result<Console, String> {
    let mut config = ConsoleConfig::new(credentials.clone());
    config.store = store;
    for f in &template.functions {
        let mut extras = FunctionExtras::new(f.config.namespace.clone(), f.config.name.clone());
        extras.function_type.clone_from(&f.function_type);
        for t in &f.triggers {
            extras = extras.with_trigger(match t {
                Trigger::Api {
                    method,
                    path,
                    stage,
                    ..
                } => format!("API Gateway {method} {path} ({stage})"),
                Trigger::Timer {
                    name, cron, enable, ..
                } => format!(
                    "Timer {name} {cron}{}",
                    if *enable { "" } else { " (disabled)" }
                ),
                Trigger::Other { name, kind } => format!("{kind} {name} (not served locally)"),
            });
        }
        config.functions.push(extras);
    }
    Console::new(invoker.clone(), config)
}
