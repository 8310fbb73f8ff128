//! The bytes a log record takes in a SQLite store: `N` records made as the invoker makes
//! them (`scf_store::conformance::records::invoker_record`: framed log, `Response` or
//! `ERROR` line, node id) appended into a fresh file, the store closed (its WAL
//! checkpointed into the file), then the file's size divided by `N`, and the share of
//! each table and index (SQLite's `dbstat`).
//!
//! ```text
//! cargo run --release -p scf-store-sqlite --example bytes_per_record -- 200000 [DIR]
//! ```

use scf_store_sqlite::SqliteStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u64 = match args.next() {
        Some(n) => n.parse().map_err(|e| format!("records {n:?}: {e}"))?,
        None => 200_000,
    };
    let dir = match args.next() {
        Some(d) => std::path::PathBuf::from(d),
        None => std::env::temp_dir().join(format!("scf-bytes-per-record-{}", std::process::id())),
    };
    let path = dir.join("logs.sqlite");
    if path.exists() {
        return Err(format!("{} exists: name an empty directory", path.display()).into());
    }
    {
        let store = SqliteStore::open(&path)?;
        let mut i = 0;
        while i < n {
            let end = (i + 10_000).min(n);
            store.put_batch(
                (i..end)
                    .map(scf_store::conformance::records::invoker_record)
                    .collect(),
            )?;
            i = end;
        }
    }
    let size = std::fs::metadata(&path)?.len();
    println!(
        "{n} records: {size} bytes, {:.1} bytes per record",
        size as f64 / n as f64
    );
    let conn = rusqlite::Connection::open(&path)?;
    let mut st = conn.prepare("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC");
    match &mut st {
        Ok(st) => {
            let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                let (name, bytes) = row?;
                println!(
                    "  {name:<16} {:>8.1} bytes per record",
                    bytes as f64 / n as f64
                );
            }
        }
        Err(e) => println!("  (no per-table figures: {e})"),
    }
    drop(st);
    drop(conn);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
