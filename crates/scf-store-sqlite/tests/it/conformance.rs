//! The conformance suite (`scf_store::conformance`) over `SqliteStore`, in the two
//! configurations whose request-id lookups differ: keys in the small key table
//! (`common::sqlite`) and keys merged into the large one at every commit
//! (`common::sqlite_merging`). Every check: the `LogStore` ones and the `AsyncQueue` ones (and, once,
//! the `ConcurrencySlots` and `ConsoleStore` ones, whose SQL does not depend on the key tables).

mod sqlite {
    scf_store::conformance_tests!(let (_dir, store) = crate::common::sqlite(); store);
    scf_store::conformance_slot_tests!(let (_dir, store) = crate::common::sqlite(); store);
    scf_store::conformance_console_tests!(let (_dir, store) = crate::common::sqlite(); store);
}

mod sqlite_merging {
    scf_store::conformance_tests!(let (_dir, store) = crate::common::sqlite_merging(); store);
}
