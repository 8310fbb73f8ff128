//! [`PgStoreConfig`]: where the database is, and the store's tuning and retention.

use std::time::Duration;

use scf_store::StoreError;

/// How to reach the database, and the store's tuning. Build it with
/// [`PgStoreConfig::new`] and change the fields that matter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PgStoreConfig {
    /// The connection URL (`postgres://user:password@host:port/database`, or any form
    /// `tokio-postgres` accepts, `host=/run/postgresql user=scf` included).
    pub url: String,
    /// The schema the tables live in (default `None`: `public`). It is created when
    /// missing. Deployments sharing one database keep apart by schema; the tests give each
    /// test its own. Lowercase letters, digits and `_`, not starting with a digit, at most 63 bytes.
    pub schema: Option<String>,
    /// Connections in the pool, the writers' included (default 10).
    pub pool_size: usize,
    /// How long opening a connection may take (default 5 s).
    pub connect_timeout: Duration,
    /// How long a call waits for its answer before it fails with an error naming what
    /// timed out (default 10 s). A caller's thread never waits longer, whatever the
    /// database does.
    pub op_timeout: Duration,
    /// Most records in one `INSERT` (default 4096, at most 65536).
    pub batch_size: usize,
    /// How long the writer gathers records that arrive one at a time into one `INSERT`
    /// (default 5 ms, as `scf-store-sqlite`'s): a record is visible at most this much
    /// later, and the database does one statement's work for all of them instead of one
    /// each. A full batch, and a [`flush`](scf_store::LogStore::flush), end the wait at
    /// once. `Duration::ZERO` writes whatever has arrived as soon as a connection is free.
    pub batch_interval: Duration,
    /// Connections that write batches of log records at once (default 4): the database
    /// indexes several batches at once (one connection's backend uses at most one CPU;
    /// see `docs/performance.md`). Ties in a query's order (records with
    /// the same sort key) still come in put order.
    pub writers: usize,
    /// Records that may wait for the writer (default 262144): while the database is away
    /// appends wait here, and are written when it is back; a record that finds it full
    /// is counted as lost ([`PgStore::lost_records`](crate::PgStore::lost_records)).
    pub buffer_capacity: usize,
    /// How long dropping the store waits for the writer to write what is buffered
    /// (default 5 s); what is left then is counted as lost.
    pub close_timeout: Duration,
    /// Log records are dropped a whole day-partition at a time once the newest record a
    /// partition may hold started longer ago than this (default `None`: kept for ever).
    /// A record is so kept at least this long and at most a day longer.
    pub log_retention: Option<Duration>,
    /// Async events that ended longer ago than this are deleted, and timer ticks older
    /// than this (default `None`: kept for ever); a `RUNNING` event never is.
    pub async_retention: Option<Duration>,
    /// How often the store applies its retention (default 60 s), and once at open.
    pub purge_interval: Duration,
}

impl PgStoreConfig {
    /// The defaults, for the database at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        PgStoreConfig {
            url: url.into(),
            schema: None,
            pool_size: 10,
            connect_timeout: Duration::from_secs(5),
            op_timeout: Duration::from_secs(10),
            batch_size: 4096,
            batch_interval: Duration::from_millis(5),
            writers: 4,
            buffer_capacity: 262_144,
            close_timeout: Duration::from_secs(5),
            log_retention: None,
            async_retention: None,
            purge_interval: Duration::from_secs(60),
        }
    }

    /// The same, with the tables in `schema`.
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The schema's name, checked (`public` when none is set).
    pub(crate) fn schema_name(&self) -> Result<String, StoreError> {
        let Some(s) = &self.schema else {
            return Ok("public".to_owned());
        };
        let ok = !s.is_empty()
            && s.len() <= 63
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !s.as_bytes()[0].is_ascii_digit();
        if ok {
            Ok(s.clone())
        } else {
            Err(StoreError::Open {
                path: redact(&self.url).into(),
                detail: format!(
                    "schema name `{s}`: must be 1-63 lowercase letters, digits or `_`, not starting with a digit"
                ),
            })
        }
    }
}

/// `url` with any password replaced by `***`, for error messages.
pub(crate) fn redact(url: &str) -> String {
    if let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    {
        let scheme = &url[..url.len() - rest.len()];
        let auth_end = rest.find('@');
        let path_start = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = auth_end.filter(|at| *at < path_start) {
            let auth = &rest[..at];
            if let Some(colon) = auth.find(':') {
                return format!("{scheme}{}:***{}", &auth[..colon], &rest[at..]);
            }
        }
        return url.to_owned();
    }
    // key=value form: hide `password=...`.
    url.split_whitespace()
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***"
            } else {
                kv
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact("postgres://scf:secret@db:5432/scf"),
            "postgres://scf:***@db:5432/scf"
        );
        assert_eq!(redact("postgres://scf@db/scf"), "postgres://scf@db/scf");
        assert_eq!(
            redact("host=db user=scf password=secret"),
            "host=db user=scf password=***"
        );
    }
}
