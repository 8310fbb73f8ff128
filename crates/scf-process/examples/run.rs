//! Runs one invocation of an out-of-process function and prints its log and result.
//!
//! ```sh
//! cargo run -p scf-process --example run -- examples/python-seed Python3.9 index.main_handler '{"key":"abctest"}'
//! cargo run -p scf-process --example run -- examples/node-seed Nodejs16.13 index.always_failed_handler '{}'
//! ```

use scf_context::{Context, FunctionConfig};
use scf_handler::Handler;
use scf_logs::LogBuffer;
use scf_process::{ProcessFunction, ProcessSpec};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [code_dir, runtime, handler, event] = args.as_slice() else {
        eprintln!("usage: run <code dir> <runtime, e.g. Python3.9> <handler, e.g. index.main_handler> <event JSON>");
        std::process::exit(2);
    };
    let mut config = FunctionConfig::new("example");
    config.runtime = Some(runtime.clone());
    config.handler = handler.clone();
    let function = ProcessFunction::new(ProcessSpec::from_config(config.clone(), code_dir)?)?;
    let event: serde_json::Value = serde_json::from_str(event)?;
    let ctx = Context::new(&config, "00000000-0000-0000-0000-000000000001");
    let log = LogBuffer::new(ctx.request_id.clone());
    let result = log.scope(function.call(event, ctx)).await;
    println!("--- log\n{}", log.text());
    match result {
        Ok(value) => println!("--- result\n{value}"),
        Err(error) => println!(
            "--- error\n{}",
            serde_json::to_string(&error.to_scf_json("00000000-0000-0000-0000-000000000001"))?
        ),
    }
    Ok(())
}
