//! `--store postgres://…` opens a `PgStore` (feature `postgres`): the log, the queue and
//! the slots of the store it returns are the database's, and an unreachable server is
//! one line naming the store.

use scf_cli::project::open_store_url;
use scf_cli::store_url::StoreUrl;
use scf_logs::LogRecord;
use scf_store::AsyncEvent;
use time::OffsetDateTime;

#[test]
fn a_postgres_url_opens_the_postgresql_store() {
    if !scf_testkit::require(&scf_testkit::POSTGRES) {
        return;
    }
    let private;
    let url = match scf_testkit::test_postgres_url() {
        Some(url) => url,
        None => {
            private = scf_testkit::PgCluster::start().unwrap();
            private.url()
        }
    };
    let parsed: StoreUrl = url.parse().unwrap();
    let store = open_store_url(&parsed, None).unwrap();
    let t = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let id = format!("cli-{}", std::process::id());
    store
        .log
        .put(LogRecord::new("f", "default", "$LATEST", &id, t))
        .unwrap();
    store.log.flush().unwrap();
    assert_eq!(store.log.get(&id).unwrap().len(), 1);
    let ev = AsyncEvent::new(&id, "f", "default", "$LATEST", "OTHERS", t, "{}");
    store.queue.enqueue(&ev).unwrap();
    assert!(store.queue.get_async(&id).unwrap().is_some());
}

#[test]
fn an_unreachable_postgres_server_is_one_line_naming_the_store() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let parsed: StoreUrl = format!("postgres://scf:secret@127.0.0.1:{port}/scf")
        .parse()
        .unwrap();
    let err = open_store_url(&parsed, None).unwrap_err();
    assert!(
        err.starts_with("cannot open the store postgres://scf:***@127.0.0.1:"),
        "{err}"
    );
    assert!(err.contains("connecting"), "{err}");
    assert!(!err.contains("secret") && !err.contains('\n'), "{err}");
}
