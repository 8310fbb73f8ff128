//! The conformance suite: the behaviour every store must have, as checks any store crate
//! runs over its own store in its tests (behind the `conformance` feature).
//!
//! Each check is a public function that takes a fresh, empty store, drives it through
//! one rule of [`LogStore`](crate::LogStore) or [`AsyncQueue`](crate::AsyncQueue) and
//! panics with a message naming what broke the rule. Times are passed in explicitly
//! (see [`t`]), so no check sleeps or reads the clock.
//!
//! - [`log`]: log records (`put`'s upsert rule, `get`, every `GetFunctionLogs`
//!   parameter), over `&dyn LogStore`.
//! - [`events`]: the reads of [`AsyncQueue`](crate::AsyncQueue) (`get_async`,
//!   `unfinished`, every `ListAsyncEvents` parameter), over `&dyn AsyncQueue`, on events
//!   ended at chosen times through the queue's own operations.
//! - [`slots`]: deployment-wide concurrency slots ([`ConcurrencySlots`](crate::ConcurrencySlots)),
//!   over `&dyn ConcurrencySlots`.
//! - [`console`]: per-minute aggregates and saved test events
//!   ([`ConsoleStore`](crate::ConsoleStore)), over a store that is both a `LogStore` and a
//!   `ConsoleStore`.
//! - [`queue`]: the rules of [`AsyncQueue`](crate::AsyncQueue) (claims, leases,
//!   renewals, attempt ends, terminate, `next_due`, `pending`, timer ticks, concurrent
//!   claims), over `&dyn AsyncQueue`.
//!
//! A store crate stamps one `#[test]` per check with a macro and an expression that makes
//! a fresh store (evaluated once per test):
//!
//! - [`conformance_log_tests!`](crate::conformance_log_tests): the [`log`] checks, for a
//!   [`LogStore`](crate::LogStore);
//! - [`conformance_queue_tests!`](crate::conformance_queue_tests): the [`events`] and
//!   [`queue`] checks, for an [`AsyncQueue`](crate::AsyncQueue);
//! - [`conformance_tests!`](crate::conformance_tests): both, for a store that is both.
//! - [`conformance_console_tests!`](crate::conformance_console_tests): the [`console`]
//!   checks, for a [`ConsoleStore`](crate::ConsoleStore) that is a `LogStore` too.
//! - [`conformance_slot_tests!`](crate::conformance_slot_tests): the [`slots`] checks, for
//!   a [`ConcurrencySlots`](crate::ConcurrencySlots) (a macro of its own, so that a store
//!   without slots still runs the rest).
//!
//! Each macro makes modules (`log`, `events`, `queue`) in the module it is called in; call
//! it once per module (one module per store configuration). The store expression is
//! either a store value, or `let PATTERN = EXPR; STORE` when the store comes with
//! something that must outlive it (a temporary directory):
//!
//! ```
//! mod memory {
//!     scf_store::conformance_tests!(scf_store::MemoryStore::new(100_000));
//! }
//! # fn temp_store() -> ((), scf_store::MemoryStore) { ((), scf_store::MemoryStore::default()) }
//! mod with_a_guard {
//!     scf_store::conformance_log_tests!(let (_dir, store) = crate::temp_store(); store);
//! }
//! # fn main() {}
//! ```
//!
//! The expression is written inside the stamped modules, which import everything the
//! calling module sees (`use super::*`): a name in scope where the macro is called, or a
//! `crate::` path, reaches the same item there (a `super::` path does not).

pub mod console;
pub mod events;
pub mod log;
pub mod queue;
pub mod records;
pub mod slots;
mod support;

pub use support::rec;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// 2026-11-25 12:00:00 UTC plus `secs`: the clock of every check.
pub fn t(secs: i64) -> OffsetDateTime {
    datetime!(2026-11-25 12:00:00 UTC) + Duration::seconds(secs)
}

/// Stamps one `#[test]` per [`log`] check, each over a fresh store made by the
/// expression (see the [module docs](crate::conformance)).
#[macro_export]
macro_rules! conformance_log_tests {
    (let $pat:pat = $make:expr; $store:expr) => {
        $crate::__conformance_stamp!(log, $pat, $make, $store, [
            filters_by_function_name_newest_first_by_default,
            filters_by_namespace,
            filters_by_qualifier,
            filters_by_request_id,
            time_range_includes_both_ends,
            retcode_not0_keeps_every_nonzero_retcode,
            retcode_is0_keeps_successes,
            retcode_time_limit_exceeded_is_status_433,
            retcode_resource_limit_exceeded_is_status_432_or_434,
            retcode_user_code_exception_is_status_430_or_443,
            order_asc_and_desc_by_start_time,
            order_by_duration,
            order_by_mem_usage,
            order_by_function_name,
            offset_and_limit_page_while_total_count_counts_all,
            default_limit_is_20,
            offset_plus_limit_over_10000_is_rejected,
            running_record_is_replaced_by_the_finished_one,
            get_returns_every_attempt_by_retry_num,
            every_field_round_trips,
            node_id_round_trips_and_follows_the_replacing_record,
            keyword_keeps_records_whose_log_holds_it,
            a_keyword_search_stops_early_and_says_its_total_is_a_lower_bound,
            keyword_empty_or_over_128_bytes_is_rejected,
        ]);
    };
    ($make:expr) => {
        $crate::conformance_log_tests!(let store = $make; store);
    };
}

/// Stamps one `#[test]` per [`events`] and [`queue`] check, each over a fresh store made
/// by the expression (see the [module docs](crate::conformance)).
#[macro_export]
macro_rules! conformance_queue_tests {
    (let $pat:pat = $make:expr; $store:expr) => {
        $crate::__conformance_stamp!(events, $pat, $make, $store, [
            enqueued_event_round_trips,
            accepting_node_round_trips_through_every_read,
            unfinished_returns_only_running_events_oldest_first,
            list_defaults_to_newest_first,
            list_filters_by_function_namespace_and_qualifier,
            list_filters_by_invoke_type_and_status_lists,
            start_time_interval_is_left_closed_right_open,
            end_time_interval_skips_running_events,
            order_by_end_time,
            offset_and_limit_page_with_total_count,
            limit_over_100_is_rejected,
        ]);
        $crate::__conformance_stamp!(queue, $pat, $make, $store, [
            enqueue_is_visible_to_get_and_list,
            enqueue_of_a_known_id_is_refused,
            claim_takes_a_due_event_under_a_lease_and_counts_an_attempt,
            claim_takes_oldest_due_first_and_at_most_limit,
            claim_takes_only_due_events,
            a_live_lease_is_not_claimed_again,
            an_expired_lease_is_claimed_by_another_worker_as_interrupted,
            renew_by_the_holder_extends_the_lease,
            renew_after_the_lease_ran_out_unclaimed_still_holds,
            renew_by_another_worker_is_lost,
            renew_after_terminate_is_terminated,
            end_finished_ends_the_event,
            end_failed_ends_the_event,
            end_retry_keeps_running_until_due_at_at,
            end_released_is_due_at_once_with_the_same_retry_num,
            end_by_a_worker_not_holding_is_ignored,
            end_after_terminate_is_ignored,
            end_of_an_unknown_id_is_not_found,
            terminate_of_a_held_event_aborts_it_and_names_the_holder,
            terminate_of_an_unheld_running_event_aborts_it,
            terminate_of_an_ended_event_is_already_ended,
            terminate_of_an_unknown_id_is_not_found,
            an_ended_event_never_changes_again,
            next_due_is_the_earliest_attempt_or_lease_end,
            pending_counts_events_waiting_for_a_worker,
            claim_takes_only_events_of_the_functions_the_worker_runs,
            end_abandoned_fails_the_event_without_counting_the_attempt,
            unfinished_lists_running_events_oldest_first,
            claim_tick_is_true_once_per_trigger_and_tick,
            concurrent_claims_never_hand_an_event_to_two_workers,
        ]);
    };
    ($make:expr) => {
        $crate::conformance_queue_tests!(let store = $make; store);
    };
}

/// Stamps one `#[test]` per [`slots`] check, each over a fresh store made by the
/// expression (see the [module docs](crate::conformance)).
#[macro_export]
macro_rules! conformance_slot_tests {
    (let $pat:pat = $make:expr; $store:expr) => {
        $crate::__conformance_stamp!(slots, $pat, $make, $store, [
            acquire_gives_slots_up_to_the_limit_then_none,
            release_frees_a_slot_and_twice_is_harmless,
            a_slot_whose_lease_ran_out_comes_back,
            renew_keeps_live_slots_and_reports_the_rest_lost,
            functions_are_counted_apart,
            concurrent_acquires_never_exceed_the_limit,
        ]);
    };
    ($make:expr) => {
        $crate::conformance_slot_tests!(let store = $make; store);
    };
}

/// Stamps one `#[test]` per [`console`] check, each over a fresh store made by the
/// expression (see the [module docs](crate::conformance)); the store must be both a
/// [`LogStore`](crate::LogStore) and a [`ConsoleStore`](crate::ConsoleStore).
#[macro_export]
macro_rules! conformance_console_tests {
    (let $pat:pat = $make:expr; $store:expr) => {
        $crate::__conformance_stamp!(console, $pat, $make, $store, [
            counts_invocations_errors_and_status_codes_per_minute,
            duration_percentiles_are_nearest_rank_within_the_bucket_precision,
            peak_memory_and_running_time_per_minute,
            a_finished_record_replacing_its_running_one_counts_once,
            throttles_count_per_function_and_minute,
            filters_by_function_namespace_and_range,
            a_range_over_7_days_or_reversed_is_rejected,
            aggregates_equal_the_reference_on_varied_records,
            test_events_are_saved_listed_by_name_and_deleted,
            saving_under_a_saved_name_replaces_it,
            a_sixth_test_event_is_refused,
            an_invalid_test_event_is_refused,
        ]);
    };
    ($make:expr) => {
        $crate::conformance_console_tests!(let store = $make; store);
    };
}

/// Stamps one `#[test]` per check of the whole suite ([`log`], [`events`] and
/// [`queue`]), for a store that is both a `LogStore` and an `AsyncQueue`.
#[macro_export]
macro_rules! conformance_tests {
    (let $pat:pat = $make:expr; $store:expr) => {
        $crate::conformance_log_tests!(let $pat = $make; $store);
        $crate::conformance_queue_tests!(let $pat = $make; $store);
    };
    ($make:expr) => {
        $crate::conformance_tests!(let store = $make; store);
    };
}

/// Makes module `$group` with one `#[test]` per named check of
/// `scf_store::conformance::$group` (the macros above list the checks).
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_stamp {
    ($group:ident, $pat:pat, $make:expr, $store:expr, [$($check:ident),* $(,)?]) => {
        mod $group {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $check() {
                    let $pat = $make;
                    $crate::conformance::$group::$check(&$store);
                }
            )*
        }
    };
}
