//! The conformance suite over `MemoryStore`, the reference store: every check of the
//! `LogStore`, `AsyncQueue` and `ConcurrencySlots` and `ConsoleStore` rules, and a check that the macros stamp every check.

scf_store::conformance_tests!(scf_store::MemoryStore::new(100_000));
scf_store::conformance_slot_tests!(scf_store::MemoryStore::new(100_000));
scf_store::conformance_console_tests!(scf_store::MemoryStore::new(100_000));

/// Every public check in `src/conformance/` is named in the macros of its `mod.rs`, so
/// that a store crate's one-line wiring runs it.
#[test]
fn the_macros_stamp_every_check() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/conformance");
    let macros = std::fs::read_to_string(dir.join("mod.rs")).unwrap();
    let stamped: Vec<&str> = macros
        .lines()
        .map(|l| l.trim().trim_end_matches(','))
        .collect();
    let mut checks = 0;
    for (group, file) in [
        ("log", "log.rs"),
        ("events", "events.rs"),
        ("queue", "queue/mod.rs"),
        ("queue", "queue/workers.rs"),
        ("slots", "slots.rs"),
        ("console", "console.rs"),
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("pub fn ") else {
                continue;
            };
            let name = rest.split('(').next().unwrap();
            assert!(
                stamped.contains(&name),
                "conformance::{group}::{name} is not listed in the macros of src/conformance/mod.rs"
            );
            checks += 1;
        }
    }
    let listed = stamped
        .iter()
        .filter(|l| {
            !l.is_empty()
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .count();
    assert_eq!(
        listed, checks,
        "the macros list a check that does not exist, or one twice"
    );
}
