//! `--store` values parse into `StoreUrl`, and every malformed one is refused naming its
//! fault, with any password masked.

use std::path::PathBuf;

use scf_cli::store_url::{check_node_id, StoreUrl};

fn postgres(s: &str) -> scf_cli::store_url::PostgresUrl {
    match s.parse::<StoreUrl>() {
        Ok(StoreUrl::Postgres(pg)) => pg,
        other => panic!("{s}: {other:?}"),
    }
}

#[test]
fn sqlite_urls_name_a_path() {
    for (s, path) in [
        ("sqlite:.scf/logs.sqlite", ".scf/logs.sqlite"),
        ("sqlite:///srv/scf.sqlite", "/srv/scf.sqlite"),
        ("SQLITE:a.db", "a.db"),
    ] {
        assert_eq!(
            s.parse::<StoreUrl>().unwrap(),
            StoreUrl::Sqlite(PathBuf::from(path)),
            "{s}"
        );
    }
}

#[test]
fn postgres_urls_give_user_host_port_and_database() {
    let pg = postgres("postgres://scf@db.internal:6432/logs?sslmode=require");
    assert_eq!(
        (
            pg.user.as_deref(),
            pg.has_password,
            pg.host.as_str(),
            pg.port,
            pg.database.as_str()
        ),
        (Some("scf"), false, "db.internal", 6432, "logs")
    );
    assert_eq!(
        pg.url,
        "postgres://scf@db.internal:6432/logs?sslmode=require"
    );
    let pg = postgres("postgresql://db/scf");
    assert_eq!(
        (pg.user, pg.port, pg.database.as_str()),
        (None, 5432, "scf")
    );
    let pg = postgres("postgres://u:p@[::1]:5433/scf");
    assert_eq!(
        (pg.host.as_str(), pg.port, pg.has_password),
        ("::1", 5433, true)
    );
    assert_eq!(
        StoreUrl::Postgres(pg).to_string(),
        "postgres://u:***@[::1]:5433/scf",
        "the password is never printed"
    );
}

#[test]
fn malformed_urls_are_refused_naming_the_fault() {
    for (s, fault) in [
        ("", "no scheme"),
        ("logs.sqlite", "no scheme"),
        (":x", "the scheme is empty"),
        ("sqlite:", "needs a file path"),
        ("mysql://db/scf", "unknown scheme \"mysql\""),
        ("postgres:db/scf", "must be followed by //"),
        ("postgres://:pw@db/scf", "the user name before @ is empty"),
        ("postgres:///scf", "names no host"),
        ("postgres://db:0/scf", "port \"0\" is not a number"),
        ("postgres://db:x/scf", "port \"x\" is not a number"),
        ("postgres://db", "names no database"),
        ("postgres://db/a/b", "contains a /"),
        ("postgres://u:pw@[::1/scf", "is not closed with ]"),
    ] {
        let err = s.parse::<StoreUrl>().unwrap_err().to_string();
        assert!(err.starts_with("--store "), "{s}: {err}");
        assert!(err.contains(fault), "{s}: {err}");
        assert!(!err.contains(":pw@"), "{s}: the password is masked: {err}");
    }
}

#[test]
fn node_ids_are_short_plain_names() {
    for ok in ["myhost-12345", "web.1", "a_b"] {
        assert!(check_node_id(ok).is_ok(), "{ok}");
    }
    for bad in ["", "a b", "ü", &"x".repeat(65)] {
        let err = check_node_id(bad).unwrap_err();
        assert!(err.starts_with("--node-id "), "{err}");
    }
}
