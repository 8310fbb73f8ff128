//! `scf serve --store URL`: where a deployment keeps its log records, async queue and
//! concurrency slots, as a value parsed with errors that name what is wrong.
//!
//! - `sqlite:PATH` (or `sqlite://PATH`): an SQLite file, shared by the processes of one
//!   machine that open it (the default is `sqlite:<data-dir>/logs.sqlite`);
//! - `postgres://[user[:password]@]host[:port]/database[?params]` (or `postgresql://`):
//!   a PostgreSQL database, shared by nodes on any machine that reaches it.
//!
//! ```
//! use scf_cli::store_url::StoreUrl;
//!
//! let url: StoreUrl = "postgres://scf:secret@db.internal:6432/scf".parse().unwrap();
//! assert_eq!(url.to_string(), "postgres://scf:***@db.internal:6432/scf");
//! let err = "mysql://db/scf".parse::<StoreUrl>().unwrap_err();
//! assert!(err.to_string().contains("sqlite:PATH or postgres://"));
//! ```

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// The default PostgreSQL port.
pub const POSTGRES_PORT: u16 = 5432;

/// A PostgreSQL server and database, parsed from a `postgres://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostgresUrl {
    /// The user name, if the URL names one.
    pub user: Option<String>,
    /// Whether the URL carries a password (never printed).
    pub has_password: bool,
    /// The host name or address (an IPv6 address without its brackets).
    pub host: String,
    /// The port (5432 when the URL gives none).
    pub port: u16,
    /// The database name.
    pub database: String,
    /// The URL as given, for the driver (it keeps the password and any `?params`).
    pub url: String,
}

/// Where `scf serve` keeps its store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreUrl {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(PostgresUrl),
}

/// A `--store` value that is not a store URL; its message names the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--store {given:?}: {problem}")]
pub struct StoreUrlError {
    /// The value as given (its password masked).
    pub given: String,
    /// What is wrong with it.
    pub problem: String,
}

const FORMS: &str = "use sqlite:PATH or postgres://user@host:port/database";

impl FromStr for StoreUrl {
    type Err = StoreUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |problem: String| StoreUrlError {
            given: mask_password(s),
            problem,
        };
        let Some((scheme, rest)) = s.split_once(':') else {
            return Err(fail(format!("not a store URL (no scheme); {FORMS}")));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    return Err(fail(
                        "sqlite: needs a file path, e.g. sqlite:.scf/logs.sqlite".into(),
                    ));
                }
                Ok(StoreUrl::Sqlite(PathBuf::from(path)))
            }
            "postgres" | "postgresql" => {
                let Some(rest) = rest.strip_prefix("//") else {
                    return Err(fail(format!("{scheme}: must be followed by //; {FORMS}")));
                };
                parse_postgres(s, rest)
                    .map(StoreUrl::Postgres)
                    .map_err(fail)
            }
            "" => Err(fail(format!("the scheme is empty; {FORMS}"))),
            other => Err(fail(format!("unknown scheme {other:?}; {FORMS}"))),
        }
    }
}

fn parse_postgres(url: &str, rest: &str) -> Result<PostgresUrl, String> {
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (user, has_password) = match userinfo {
        None => (None, false),
        Some(u) => {
            let (name, password) = match u.split_once(':') {
                Some((n, p)) => (n, Some(p)),
                None => (u, None),
            };
            if name.is_empty() {
                return Err("the user name before @ is empty".into());
            }
            (Some(name.to_owned()), password.is_some())
        }
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let Some((host, after)) = v6.split_once(']') else {
            return Err("an IPv6 host opened with [ is not closed with ]".into());
        };
        (host, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err("names no host (postgres://user@HOST:port/database)".into());
    }
    let port = match port {
        None => POSTGRES_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(format!("port {p:?} is not a number from 1 to 65535")),
        },
    };
    let database = path
        .strip_prefix('/')
        .unwrap_or(path)
        .split('?')
        .next()
        .unwrap_or_default();
    if database.is_empty() {
        return Err("names no database (postgres://user@host:port/DATABASE)".into());
    }
    if database.contains('/') {
        return Err(format!("database {database:?} contains a /"));
    }
    Ok(PostgresUrl {
        user,
        has_password,
        host: host.to_owned(),
        port,
        database: database.to_owned(),
        url: url.to_owned(),
    })
}

/// `s` with the password of a `scheme://user:password@` URL replaced by `***`.
fn mask_password(s: &str) -> String {
    let Some((scheme, rest)) = s.split_once("://") else {
        return s.to_owned();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{}", &rest[end..]),
            None => s.to_owned(),
        },
        None => s.to_owned(),
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            StoreUrl::Postgres(pg) => f.write_str(&mask_password(&pg.url)),
        }
    }
}

/// Checks a `--node-id`: 1 to 64 characters of letters, digits, `.`, `_` and `-` (it is
/// written into every record and lease, and printed).
pub fn check_node_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--node-id {id:?}: must be 1 to 64 characters of letters, digits, '.', '_' and '-'"
        ))
    }
}
