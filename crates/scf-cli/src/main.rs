//! `scf`: serve, invoke and inspect a function project described by a `template.yaml` or
//! a `serverless.yml`.

use std::path::PathBuf;
use std::process::ExitCode;

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use scf_cli::generate_event::{self, EventParams};
use scf_cli::invoke::{EventSource, InvokeOptions};
use scf_cli::logs::{parse_duration, LogsOptions};
use scf_cli::serve::{Ops, ServeOptions};
use scf_cli::serverless::find_project;
use scf_cli::store_url::StoreUrl;
use scf_cli::template::{Template, Trigger};
use scf_http::Credentials;

/// Serve, invoke and inspect Tencent Cloud SCF function projects locally, without Docker.
#[derive(Debug, Parser)]
#[command(name = "scf", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the cloud API and the template's gateway routes, and fire its timers.
    Serve {
        /// The project: a template.yaml, a serverless.yml, or a directory of serverless.yml
        /// projects [default: ./template.yaml, else ./serverless.yml or ./serverless.yaml,
        /// else those of the subdirectories].
        #[arg(short = 't', long = "template")]
        template: Option<PathBuf>,
        /// Address to listen on (API on `POST /`, gateway routes elsewhere).
        #[arg(long, default_value = "127.0.0.1:9000")]
        listen: SocketAddr,
        /// Where logs and the async queue are kept (SQLite).
        #[arg(long, default_value = ".scf")]
        data_dir: PathBuf,
        /// SecretId the cloud API accepts (TC3-HMAC-SHA256).
        #[arg(long, env = "TENCENTCLOUD_SECRET_ID", hide_env_values = true)]
        secret_id: Option<String>,
        /// SecretKey of that SecretId.
        #[arg(long, env = "TENCENTCLOUD_SECRET_KEY", hide_env_values = true)]
        secret_key: Option<String>,
        /// Delete log records older than this (30m, 12h, 7d), or `off` to keep them until
        /// deleted by hand. Async event statuses are kept 3 days after they end, as on SCF.
        #[arg(long, value_name = "DURATION", default_value = "7d")]
        log_retention: String,
        /// Where `/healthz` and `/metrics` are served: an address, `same` (the API's
        /// listener) or `off`. Default: `same` when --listen is loopback, else loopback
        /// at the next port (127.0.0.1:9001 for 0.0.0.0:9000).
        #[arg(long, value_name = "ADDR|same|off")]
        ops_listen: Option<String>,
        /// Refuse a signed request sent a second time within its 5-minute timestamp
        /// window (off by default: SCF accepts such replays).
        #[arg(long)]
        replay_cache: bool,
        /// Where logs, the async queue and concurrency slots are kept, shared by every
        /// node of a deployment: sqlite:PATH or postgres://user@host:port/database
        /// [default: sqlite:DATA_DIR/logs.sqlite, under --data-dir].
        #[arg(long, value_name = "URL", env = "SCF_STORE", hide_env_values = true)]
        store: Option<String>,
        /// This node's id, recorded with every log record, async event and lease
        /// [default: host name and process id, e.g. myhost-12345].
        #[arg(long, env = "SCF_NODE_ID")]
        node_id: Option<String>,
        /// Where a function's concurrency limit is counted: node (each node alone) or
        /// deployment (every node sharing the store; two store writes per invocation).
        #[arg(long, env = "SCF_CONCURRENCY", default_value = "node", value_parser = ["node", "deployment"])]
        concurrency: String,
        /// The concurrency limit of each function, in invocations running at once
        /// [default: 100, SCF's ConcurrentExecutions].
        #[arg(long, value_name = "N")]
        default_concurrency: Option<u32>,
        /// How long a node's claims on async events and concurrency slots last without
        /// renewal: after a node dies, its work resumes elsewhere this much later.
        #[arg(long, value_name = "DURATION", default_value = "10s")]
        lease: String,
        /// Environment variables by function name, over the template's (SCF CLI's format:
        /// {"FunctionName": {"KEY": "value"}})
        #[arg(long, value_name = "FILE")]
        env_vars: Option<PathBuf>,
        /// Reload a function when its code or layers change, and every function and route
        /// when the template does (a broken template keeps the old one serving)
        #[arg(long)]
        watch: bool,
    },
    /// Run one invocation without a server and print its log and result.
    Invoke {
        /// The project: a template.yaml, a serverless.yml, or a directory of serverless.yml
        /// projects [default: ./template.yaml, else ./serverless.yml or ./serverless.yaml,
        /// else those of the subdirectories].
        #[arg(short = 't', long = "template")]
        template: Option<PathBuf>,
        /// The function's name.
        name: String,
        /// The event as JSON text.
        #[arg(long, conflicts_with_all = ["event_file", "stdin"])]
        event: Option<String>,
        /// Read the event from a file.
        #[arg(long, conflicts_with = "stdin")]
        event_file: Option<PathBuf>,
        /// Read the event from standard input (`-`).
        #[arg(value_name = "-", num_args = 0..=1, default_missing_value = "-")]
        stdin: Option<String>,
        /// Invoke asynchronously and wait for the run to end.
        #[arg(long = "async")]
        asynchronous: bool,
        /// Include the log tail (`LogType: Tail`) in `--output json`.
        #[arg(long)]
        log: bool,
        /// `text` (the log, then the return value) or `json` (the Invoke API's Result).
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        output: String,
        /// Where logs are kept.
        #[arg(long, default_value = ".scf")]
        data_dir: PathBuf,
        /// Environment variables by function name, over the template's (SCF CLI's format:
        /// {"FunctionName": {"KEY": "value"}})
        #[arg(long, value_name = "FILE")]
        env_vars: Option<PathBuf>,
    },
    /// Print a function's invocation logs.
    Logs {
        /// The project (gives the function's namespace) [default: as for serve; none found
        /// means the namespace `default`].
        #[arg(short = 't', long = "template")]
        template: Option<PathBuf>,
        /// The function's name.
        name: String,
        /// Only this request.
        #[arg(long)]
        request_id: Option<String>,
        /// Only failed invocations.
        #[arg(long)]
        failed: bool,
        /// At most this many records.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Only invocations started within this long (10m, 2h, 1d).
        #[arg(long)]
        since: Option<String>,
        /// Where logs are kept.
        #[arg(long, default_value = ".scf")]
        data_dir: PathBuf,
    },
    /// Check a project (the checks serve and invoke make) and list its functions and
    /// triggers.
    Validate {
        /// The project: a template.yaml, a serverless.yml, or a directory of serverless.yml
        /// projects [default: ./template.yaml, else ./serverless.yml or ./serverless.yaml,
        /// else those of the subdirectories].
        #[arg(short = 't', long = "template")]
        template: Option<PathBuf>,
    },
    /// Print a sample trigger event as pretty JSON.
    GenerateEvent {
        /// apigateway, ckafka, cmq, cos, timer, clb or cls.
        service: String,
        /// The action (proxy; consume; notification; put, post or delete; timeup; request).
        action: String,
        /// API Gateway request body.
        #[arg(long)]
        body: Option<String>,
        /// CMQ topic owner.
        #[arg(long)]
        owner: Option<u64>,
        /// Timer message.
        #[arg(long)]
        message: Option<String>,
    },
    /// Write a Python hello-world project with its template.yaml.
    Init {
        /// Where to write it.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The function's name.
        #[arg(long, default_value = "hello")]
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            scf_cli::errln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Serve {
            template,
            listen,
            data_dir,
            secret_id,
            secret_key,
            log_retention,
            ops_listen,
            replay_cache,
            store,
            node_id,
            concurrency,
            default_concurrency,
            lease,
            env_vars,
            watch,
        } => {
            let mut opts = ServeOptions::new(find_project(template.as_deref())?);
            opts.env_vars = env_vars;
            opts.watch = watch;
            opts.store = store
                .as_deref()
                .map(str::parse::<StoreUrl>)
                .transpose()
                .map_err(|e| e.to_string())?;
            opts.node_id = node_id;
            opts.concurrency = concurrency.parse()?;
            opts.default_concurrency = default_concurrency;
            opts.lease = parse_duration("--lease", &lease)?;
            opts.listen = listen;
            opts.data_dir = data_dir;
            opts.replay_cache = replay_cache;
            opts.ops = match ops_listen.as_deref() {
                None => None,
                Some("same") => Some(Ops::Same),
                Some("off") => Some(Ops::Off),
                Some(a) => Some(Ops::Listen(a.parse().map_err(|e| {
                    format!("--ops-listen {a:?}: expected an address (127.0.0.1:9001), `same` or `off`: {e}")
                })?)),
            };
            opts.log_retention = match log_retention.as_str() {
                "off" => None,
                s => Some(parse_duration("--log-retention", s)?),
            };
            opts.credentials = match (secret_id, secret_key) {
                (Some(id), Some(key)) => {
                    if id.trim().is_empty() {
                        return Err("--secret-id (or TENCENTCLOUD_SECRET_ID) is empty: give a SecretId, or leave both it and the SecretKey unset to serve unauthenticated on loopback".into());
                    }
                    if key.trim().is_empty() {
                        return Err("--secret-key (or TENCENTCLOUD_SECRET_KEY) is empty: give the SecretKey of the SecretId, or leave both unset to serve unauthenticated on loopback".into());
                    }
                    Credentials::try_single(id, key).map_err(|e| e.to_string())?
                }
                (Some(id), None) if id.trim().is_empty() => return Err("--secret-id (or TENCENTCLOUD_SECRET_ID) is empty: give a SecretId and a SecretKey, or neither".into()),
                (None, Some(key)) if key.trim().is_empty() => return Err("--secret-key (or TENCENTCLOUD_SECRET_KEY) is empty: give a SecretId and a SecretKey, or neither".into()),
                (None, None) => Credentials::new(),
                _ => return Err("give both --secret-id and --secret-key (or TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY), or neither".into()),
            };
            runtime()?.block_on(scf_cli::serve::serve(opts))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Invoke {
            template,
            name,
            event,
            event_file,
            stdin,
            asynchronous,
            log,
            output,
            data_dir,
            env_vars,
        } => {
            let mut opts = InvokeOptions::new(find_project(template.as_deref())?, name);
            opts.env_vars = env_vars;
            opts.event = match (event, event_file, stdin) {
                (Some(e), _, _) => EventSource::Inline(e),
                (_, Some(f), _) => EventSource::File(f),
                (_, _, Some(dash)) if dash == "-" => EventSource::Stdin,
                (_, _, Some(other)) => return Err(format!("unexpected argument {other:?}: use --event JSON, --event-file FILE or - for stdin")),
                _ => EventSource::Empty,
            };
            opts.asynchronous = asynchronous;
            opts.log = log;
            opts.json = output == "json";
            opts.data_dir = data_dir;
            let ok = runtime()?.block_on(scf_cli::invoke::invoke(opts))?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Logs {
            template,
            name,
            request_id,
            failed,
            limit,
            since,
            data_dir,
        } => {
            let project = match template {
                Some(t) => Some(t),
                None => find_project(None).ok(),
            };
            let namespace = match project {
                Some(path) => {
                    let t = Template::load(&path).map_err(|e| e.to_string())?;
                    let def = t
                        .function(&name)
                        .ok_or_else(|| format!("{}: no function named {name:?}", path.display()))?;
                    def.config.namespace.clone()
                }
                None => "default".to_string(),
            };
            let mut opts = LogsOptions::new(name);
            opts.namespace = namespace;
            opts.request_id = request_id;
            opts.failed = failed;
            opts.limit = limit;
            opts.since = since
                .as_deref()
                .map(|s| parse_duration("--since", s))
                .transpose()?;
            opts.data_dir = data_dir;
            scf_cli::logs::logs(&opts)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { template } => {
            let template = find_project(template.as_deref())?;
            let t = Template::load(&template).map_err(|e| e.to_string())?;
            t.print_warnings();
            scf_cli::outln!("{}: {} function(s)", template.display(), t.functions.len());
            let mut failed = Vec::new();
            for f in &t.functions {
                scf_cli::outln!("  {}", f.summary());
                for (i, l) in f.layers.iter().enumerate() {
                    let version = l
                        .version
                        .map(|v| format!(" version {v}"))
                        .unwrap_or_default();
                    let kind = if l.is_zip() { "zip" } else { "directory" };
                    scf_cli::outln!(
                        "    layer {}: {}{version} ({kind} {})",
                        i + 1,
                        l.name,
                        l.path.display()
                    );
                }
                // The checks `scf serve` and `scf invoke` make before they start it.
                if let Err(e) = scf_cli::project::check_function(f) {
                    failed.push(e);
                }
                for tr in &f.triggers {
                    match tr {
                        Trigger::Api {
                            name,
                            method,
                            path,
                            stage,
                        } => {
                            scf_cli::outln!("    {name}: API {method} {path} (stage {stage})")
                        }
                        Trigger::Timer {
                            name, cron, enable, ..
                        } => {
                            scf_cli::outln!(
                                "    {name}: Timer {cron}{}",
                                if *enable { "" } else { " (disabled)" }
                            )
                        }
                        Trigger::Other { name, kind } => {
                            scf_cli::outln!("    {name}: {kind} (not served locally)")
                        }
                        _ => {}
                    }
                }
            }
            match failed.len() {
                0 => Ok(ExitCode::SUCCESS),
                1 => Err(failed.remove(0)),
                n => Err(format!("{n} functions cannot start: {}", failed.join("; "))),
            }
        }
        Command::GenerateEvent {
            service,
            action,
            body,
            owner,
            message,
        } => {
            let mut p = EventParams::default();
            p.body = body;
            p.owner = owner;
            p.message = message;
            let event =
                generate_event::generate(&service, &action, &p).map_err(|e| e.to_string())?;
            scf_cli::outln!(
                "{}",
                serde_json::to_string_pretty(&event).map_err(|e| e.to_string())?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Init { dir, name } => {
            let written = scf_cli::init::init(&dir, &name).map_err(|e| e.to_string())?;
            for path in written {
                scf_cli::outln!("wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
