//! `scf`: serve, invoke and inspect a function project described by a `template.yaml`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use scf_cli::generate_event::{self, EventParams};
use scf_cli::template::{Template, Trigger};

/// Serve, invoke and inspect Tencent Cloud SCF function projects locally, without Docker.
#[derive(Debug, Parser)]
#[command(name = "scf", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a template and list its functions and triggers.
    Validate {
        /// The project's template.
        #[arg(short = 't', long = "template", default_value = "template.yaml")]
        template: PathBuf,
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
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Validate { template } => {
            let t = Template::load(&template).map_err(|e| e.to_string())?;
            println!("{}: {} function(s)", template.display(), t.functions.len());
            for f in &t.functions {
                let c = &f.config;
                println!(
                    "  {}/{}  handler {}  runtime {}  memory {} MB  timeout {} s  code {}",
                    c.namespace,
                    c.name,
                    c.handler,
                    c.runtime.as_deref().unwrap_or("-"),
                    c.memory_mb,
                    c.timeout.as_secs(),
                    f.code_dir.display()
                );
                for tr in &f.triggers {
                    match tr {
                        Trigger::Api {
                            name,
                            method,
                            path,
                            stage,
                        } => {
                            println!("    {name}: API {method} {path} (stage {stage})")
                        }
                        Trigger::Timer {
                            name, cron, enable, ..
                        } => {
                            println!(
                                "    {name}: Timer {cron}{}",
                                if *enable { "" } else { " (disabled)" }
                            )
                        }
                        Trigger::Other { name, kind } => {
                            println!("    {name}: {kind} (not served locally)")
                        }
                        _ => {}
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
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
            println!(
                "{}",
                serde_json::to_string_pretty(&event).map_err(|e| e.to_string())?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Init { dir, name } => {
            let written = scf_cli::init::init(&dir, &name).map_err(|e| e.to_string())?;
            for path in written {
                println!("wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
