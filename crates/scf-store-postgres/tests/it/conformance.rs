//! The conformance suite (`scf_store::conformance`) over `PgStore`: every check (slots and console included), each test
//! in a schema of its own (so that they run in parallel on one server).

mod postgres {
    scf_store::conformance_tests!(let (_db, store) = crate::common::pg(); store);
    scf_store::conformance_slot_tests!(let (_db, store) = crate::common::pg(); store);
    scf_store::conformance_console_tests!(let (_db, store) = crate::common::pg(); store);
}
