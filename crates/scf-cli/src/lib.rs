//! The `scf` command's library: reading a function project's `template.yaml` (the format
//! of SCF's own CLI) or `serverless.yml` (the Serverless Framework's SCF component), SCF timer cron expressions, sample trigger events, project
//! scaffolding, and the subcommands that serve, invoke and inspect a project.
//!
//! The binary `scf` is a thin shell over this library, so that every rule is tested
//! without starting a process.
//!
//! Dependencies: `clap` for the command line; `serde-saphyr` for YAML (maintained, unlike
//! serde_yaml and serde_yml, and its errors and `Spanned` values carry line and column, so
//! a template error names its line); `time` for timer schedules; `thiserror` for errors;
//! `scf-store-postgres` (feature `postgres`, on by default) for `--store postgres://…`;
//! `notify` (feature `watch`, on by default) for `scf serve --watch` ([`watch`]).
//!
//! ```
//! use std::path::Path;
//! use scf_cli::template::Template;
//!
//! let yaml = r#"
//! Resources:
//!   default:
//!     Type: TencentCloud::Serverless::Namespace
//!     hello:
//!       Type: TencentCloud::Serverless::Function
//!       Properties:
//!         Handler: index.main_handler
//!         Runtime: Python3.9
//!         MemorySize: 100
//! "#;
//! let err = Template::parse(yaml, Path::new("template.yaml")).unwrap_err();
//! assert_eq!(err.line, 10);
//! assert_eq!(err.key, "Resources.default.hello.Properties.MemorySize");
//! ```

pub mod console;
pub mod cron;
pub mod env_vars;
pub mod generate_event;
pub mod init;
pub mod invoke;
pub mod layer;
pub mod logs;
pub mod out;
pub mod project;
pub mod serve;
pub mod serverless;
pub mod store_url;
pub mod template;
pub mod watch;

// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
