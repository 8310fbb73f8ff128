//! The bytes a log record takes in PostgreSQL, packed (schema 4) and as it was (the text
//! as it is, as schema 3 stored every row): `N` records made as the invoker makes them
//! (`scf_store::conformance::records::invoker_record`) put into a fresh schema; then the
//! same records in a second schema with their log text unpacked in place (`log_form` 0);
//! both tables compacted (`VACUUM FULL`), then the size of `logs` with its partitions,
//! TOAST and indexes (`pg_total_relation_size`) and of its heap alone, per record.
//!
//! `cargo run --release -p scf-store-postgres --example pg_bytes_per_record -- URL [RECORDS]`

#![allow(clippy::unwrap_used)]

use scf_store::LogStore;
use scf_store_postgres::{PgStore, PgStoreConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args.first().expect("URL");
    let n: u64 = args.get(1).map_or(100_000, |s| s.parse().unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (client, conn) = rt
        .block_on(tokio_postgres::connect(url, tokio_postgres::NoTls))
        .unwrap();
    rt.spawn(conn);
    let unpack = scf_store::packing::unpack_sql(
        "convert_from(log, 'UTF8')",
        "request_id",
        "convert_from(ret_msg, 'UTF8')",
        "chr",
    );
    for packed in [true, false] {
        let schema = format!("bpr_{}_{}", std::process::id(), u8::from(packed));
        let mut cfg = PgStoreConfig::new(url).with_schema(&schema);
        cfg.op_timeout = std::time::Duration::from_secs(600);
        let store = PgStore::open_with(cfg).unwrap();
        for i in 0..n {
            store
                .put(scf_store::conformance::records::invoker_record(i))
                .unwrap();
            // Within the writer's buffer.
            if i % 10_000 == 9_999 {
                store.flush().unwrap();
            }
        }
        store.flush().unwrap();
        drop(store);
        rt.block_on(async {
            client
                .batch_execute(&format!("SET search_path TO {schema}"))
                .await
                .unwrap();
            if !packed {
                client
                    .batch_execute(&format!(
                        "UPDATE logs SET log = convert_to({unpack}, 'UTF8'), log_form = 0 \
                         WHERE log_form = 1"
                    ))
                    .await
                    .unwrap();
            }
            let parts = client
                .query(
                    "SELECT relid::regclass::text FROM pg_partition_tree('logs') WHERE isleaf",
                    &[],
                )
                .await
                .unwrap();
            let (mut total, mut heap) = (0_i64, 0_i64);
            for p in &parts {
                let name: String = p.get(0);
                client
                    .batch_execute(&format!("VACUUM FULL {name}"))
                    .await
                    .unwrap();
                let row = client
                    .query_one(
                        "SELECT pg_total_relation_size($1::text::regclass), pg_relation_size($1::text::regclass)",
                        &[&name],
                    )
                    .await
                    .unwrap();
                total += row.get::<_, i64>(0);
                heap += row.get::<_, i64>(1);
            }
            println!(
                "{}: {n} records, {:.1} bytes per record with indexes, heap {:.1}",
                if packed { "packed (schema 4)" } else { "as it is (schema 3's rows)" },
                total as f64 / n as f64,
                heap as f64 / n as f64
            );
            client
                .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .unwrap();
        });
    }
}
