//! Opening fails with one clear error naming what failed: the URL, the server, the
//! database, the schema name.

use std::time::Duration;

use scf_store::StoreError;
use scf_store_postgres::{PgStore, PgStoreConfig};

use crate::common::TestDb;

fn open_error(cfg: PgStoreConfig) -> String {
    match PgStore::open_with(cfg) {
        Err(e @ StoreError::Open { .. }) => e.to_string(),
        Err(e) => panic!("not an open error: {e:?}"),
        Ok(_) => panic!("opened"),
    }
}

#[test]
fn a_malformed_url_is_an_open_error_naming_the_url() {
    let text = open_error(PgStoreConfig::new("postgres://scf:secret@db:notaport/x"));
    assert!(text.contains("not a PostgreSQL connection URL"), "{text}");
    assert!(text.contains("postgres://scf:***@db:notaport/x"), "{text}");
    assert!(
        !text.contains("secret"),
        "the password is not shown: {text}"
    );
}

#[test]
fn an_unreachable_server_is_an_open_error_saying_connecting() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = PgStoreConfig::new(format!("postgres://postgres@127.0.0.1:{port}/postgres"));
    cfg.connect_timeout = Duration::from_secs(2);
    let text = open_error(cfg);
    assert!(text.contains("connecting"), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
}

#[test]
fn a_missing_database_is_an_open_error_with_the_servers_message() {
    let Some(db) = TestDb::new() else { return };
    let url = match db.url.rfind('/') {
        Some(i) => format!("{}/no_such_database", &db.url[..i]),
        None => panic!("{}", db.url),
    };
    let text = open_error(PgStoreConfig::new(url));
    assert!(
        text.contains("no_such_database") && text.contains("does not exist"),
        "{text}"
    );
}

#[test]
fn an_invalid_schema_name_is_an_open_error() {
    let text = open_error(PgStoreConfig::new("postgres://x@127.0.0.1/x").with_schema("Bad-Name"));
    assert!(text.contains("schema name `Bad-Name`"), "{text}");
}
