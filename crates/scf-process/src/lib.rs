//! Out-of-process functions for scf-rs: a function runs in its own process, started from a
//! `bootstrap` that speaks Tencent Cloud SCF's Custom Runtime API, exactly as on SCF.
//!
//! [`ProcessFunction`] is a [`Handler`](scf_handler::Handler): give it to the invoker like
//! any in-process handler and its timeouts, concurrency limits, logs and async queue apply
//! unchanged. The runtimes ([`RuntimeKind`]; what each gives the function is in
//! `docs/runtimes.md`):
//!
//! - **`CustomRuntime`**: the function's own executable `<code_dir>/bootstrap`, written
//!   against SCF's documentation (a shell script using `curl` works unchanged).
//! - **`Python3.x`**: a bootstrap shipped in this crate (`runtimes/python/bootstrap.py`,
//!   standard library only) run by the `python3` found on the machine; it imports
//!   `index.py` and calls `main_handler(event, context)` with two `dict`s.
//! - **`Nodejs…`**: a bootstrap shipped in this crate (`runtimes/node/bootstrap.js`) run by
//!   `node`; it requires `index.js` and calls the exported function, `async` or callback
//!   style.
//! - **`Php5.6`/`Php7.2`/`Php7.4`/`Php8.0`**: a bootstrap shipped in this crate
//!   (`runtimes/php/bootstrap.php`, standard library only) run by `php` (PHP 7 or later);
//!   it requires `index.php` and calls `main_handler($event, $context)` with two objects.
//! - **`Go1`**: the function's executable `<code_dir>/<handler>`, built with Tencent's
//!   scf-go-lib, which serves Go's net/rpc on `_LAMBDA_SERVER_PORT` instead of calling the
//!   Runtime API: a driver task of the host connects to it inside the instance's network
//!   namespace and calls `Function.Invoke` for each invocation (through the API's
//!   in-process client, so timeouts, memory and logs are the same as for every runtime).
//!
//! The bundled runtimes hand the function exactly the `context` the host built (its JSON
//! travels in an `x-scf-context` header of `/runtime/invocation/next`, next to SCF's
//! `request_id`, `memory_limit_in_mb` and `time_limit_in_ms`). They report an exception as
//! SCF's error JSON with the real traceback and the exception's class name; a handler
//! function that does not exist is 437 `'module' object has no attribute 'xxx'`, a handler
//! file that does not exist is 437 (`No module named 'index'` / `Cannot find module
//! 'index'`), and a module that fails to import reports its import error (430) on every
//! invocation. A return value that is not JSON fails with a message that says so.
//!
//! # Instances
//!
//! An instance is a bootstrap process (in a process group and a sandbox of its own) plus
//! its own Runtime API server on `127.0.0.1:9001` in its network namespace (or
//! `127.0.0.1:<ephemeral>` on the host's loopback without one), passed as `SCF_RUNTIME_API` /
//! `SCF_RUNTIME_API_PORT` with `_HANDLER`. One instance serves one invocation at a time.
//! Warm instances are reused (the most recently used first); the pool grows on demand up to
//! [`PoolConfig::max_instances`] and instances idle for [`PoolConfig::idle_timeout`] are
//! stopped. Init (start → `POST /runtime/init/ready`) is timed by the function's
//! `init_timeout` (SCF's `InitTimeout`, 65 s by default), not by the invocation: an
//! invocation that gives up first leaves the instance initializing for the next one. The
//! first invocation of an instance gets the init log and an `Init Report` line.
//!
//! The bundled runtimes (and scf-runtime's Custom Runtimes) are also offered a leaner
//! transport: `SCF_RUNTIME_SOCKET` names a Unix socket of the instance's own (in its
//! scratch `/tmp`, removed once connected) on which the same exchange goes as
//! length-prefixed frames, written and read by the invoking task itself, with no Runtime
//! API task in between and no HTTP (the wire is in the `frames` module's docs). A
//! bootstrap that ignores the variable speaks the standard API; the one that says ready
//! first is the one used. A frame that does not belong there (an unknown kind, one over
//! 32 MiB) ends the invocation with a message naming it, and the instance is replaced.
//!
//! # Web functions
//!
//! [`ProcessSpec::web`] makes a web function (`Type: HTTP`): its instance is the
//! function's own `<code_dir>/scf_bootstrap`, an HTTP server on port 9000 (its own port
//! 9000 in its network namespace; without one, the free host port passed in `PORT`), ready
//! when that port accepts a connection (else 446 `PortBindingFailed` at `InitTimeout`; 405
//! if it exits first). Each invocation's event (an API Gateway event) is sent to it as one
//! HTTP request, and its response is the return value, as an integration response
//! (repeated headers as arrays, a binary body Base64). When the invocation's context has
//! a [`response_stream`](scf_context::Context::response_stream) (the gateway gives one),
//! the response goes there instead as it comes (the head, then each chunk), and the
//! return value is the integration response without its body (`bodyBytes`); a client
//! that goes away is 499 and stops the instance. A crash mid-request is 405, a body over
//! 6 MB is 410; timeouts (the whole response, body included), memory and logs are as for
//! every instance. See `docs/web-functions.md`.
//!
//! # Sandbox
//!
//! Each instance runs in a sandbox of its own ([`Sandbox`], built with bubblewrap at
//! instance start; see `docs/security.md`): PID, mount, IPC, UTS and (where the host
//! allows) user and network namespaces. It sees its own processes only, its code directory
//! read-only, its own `/tmp` and `HOME`, the system's `/usr` and a few `/etc` files; not
//! the server's processes, environment or files, not other instances' code or scratch.
//! Everything it starts (`setsid`, double forks, `SIGTERM` ignored) ends with it: its PID
//! namespace dies with its init. Its Runtime API is bound inside its own network
//! namespace at `127.0.0.1:9001`, out of reach of every other process; outbound traffic
//! goes through `slirp4netns`, and the host's loopback is `10.0.2.2`. Where the host
//! refuses a mechanism, [`Sandbox::guarantees`] says which guarantee no longer holds
//! (without a network namespace the API is on a host port and serves only connections
//! from the instance's own processes); [`Sandbox::off`] runs instances as plain process
//! groups, as on a host without bubblewrap.
//!
//! An instance runs with a clean environment: SCF's variables that apply locally
//! (`SCF_FUNCTIONNAME`, `SCF_NAMESPACE`, `TENCENTCLOUD_REGION`, `USER_CODE_ROOT`, `PATH`,
//! `LANG`, `PYTHONPATH`/`NODE_PATH`…), the function's own variables, and nothing of the
//! host's (no credentials). Its working directory is the code directory; `TMPDIR` and
//! `HOME` are in a scratch directory of its own that is removed when it stops.
//!
//! # Faults and their status codes
//!
//! | what happened | status | message |
//! |---|---|---|
//! | past the time limit: the process group is killed, the instance replaced | 433 | `time out` |
//! | the process exited during the invocation (its output is in the log) | 439 | `User process exit when running` |
//! | resident memory over `memory_limit_in_mb` (watchdog, or the cgroup's OOM killer) | 434 | `memory limit reached: …` |
//! | no `POST /runtime/init/ready` within `InitTimeout`: killed | 450 | `init timeout: …` |
//! | the bootstrap exited before it was ready | 445 | `the instance's bootstrap exited …` |
//! | a frame on `SCF_RUNTIME_SOCKET` that does not belong there, or its connection closed mid-invocation (the process still up) | 443 (445 before ready; 407 over 32 MiB) | `the runtime broke the protocol of SCF_RUNTIME_SOCKET: …` |
//! | `POST /runtime/invocation/error` | 430, or the `statusCode` of an SCF error JSON body (437 for a missing handler) | from the body |
//!
//! A faulty instance is never reused. A warm instance found dead when an invocation starts
//! (it exited while idle) is replaced before the event is handed over.
//!
//! Memory: the instance's process group is sampled from `/proc` every 10 ms during an
//! invocation, and its exact peak is read from the kernel's `VmHWM` counters (reset when
//! the invocation starts); that peak is the invocation's `MemUsage`. Where a cgroup v2 with
//! the memory controller can be created ([`CgroupPolicy`]), the instance also gets
//! `memory.max`.
//!
//! # Logs
//!
//! The instance's stdout and stderr share one pipe, so their lines keep their order; each
//! line the instance writes while an invocation runs is a line of that invocation's log
//! (the host's [`LogBuffer::current`](scf_logs::LogBuffer::current)). Everything written
//! before the runtime pushed its result is in that invocation's log: the host reads the
//! pipe to its end before closing the log. Lines written between invocations open the
//! next invocation's log.
//!
//! # Who depends on it, and why it is a crate of its own
//!
//! Hosts that serve functions written in other languages (`scf-http`'s server, the
//! `scf` command line) depend on it. It does not depend on `scf-invoker`: to the invoker it is
//! just another [`Handler`](scf_handler::Handler), and it reports its instances' memory and
//! init time through the context
//! ([`Context::report_mem_usage`](scf_context::Context::report_mem_usage) and its siblings),
//! which any host may listen to. Keeping processes, an HTTP server per instance and the
//! bundled bootstraps out of the invoker keeps the invoker free of hyper and of Unix
//! process management.
//!
//! Why each dependency is here: `scf-context`, `scf-handler`: what a function is and the
//! [`Handler`](scf_handler::Handler) trait; `scf-logs`: the invocation's log buffer and the
//! `Init Report` line; `tokio`: child processes,
//! pipes, timers; `hyper`, `hyper-util`, `http`, `http-body-util`, `bytes`: the Runtime API
//! server and the client of a web function's server; `serde`, `serde_json`: events, results, error bodies; `tempfile`: scratch
//! directories that are removed even on a panic; `rustix`: killing a whole process group
//! and entering an instance's network namespace (`setns`, its `thread` feature) without
//! `unsafe`; `scf-gob`: Go's gob and net/rpc, to call `Go1` functions; `thiserror`: [`ProcessError`]; `base64`: a web function's binary bodies in its
//! events and integration responses; `async-trait`: implementing
//! [`Handler`](scf_handler::Handler); `tracing`: the host's own warnings; `zip` (reading
//! only, deflate through `flate2`'s pure-Rust backend): layers given as zip files.
//!
//! # Layers
//!
//! [`ProcessSpec::layers`] (SCF's `Layers`: directories or `.zip` files, in binding order)
//! are merged, a later layer over an earlier one, into one directory per function when the
//! [`ProcessFunction`] is created; a sandboxed instance sees it read-only at `/opt`, as on
//! SCF, and `PYTHONPATH` / `NODE_PATH` name `/opt`, `/opt/python`, `/opt/node_modules` and
//! `/opt/nodejs/node_modules`. Without a sandbox the search paths name the merged
//! directory itself (`docs/layers.md`).
//!
//! # Example
//!
//! ```no_run
//! use scf_context::{Context, FunctionConfig};
//! use scf_handler::Handler;
//! use scf_process::{ProcessFunction, ProcessSpec};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = FunctionConfig::new("hello");
//! config.runtime = Some("Python3.9".into());
//! config.handler = "index.main_handler".into();
//! let function = ProcessFunction::new(ProcessSpec::from_config(config.clone(), "examples/python-seed")?)?;
//!
//! let ctx = Context::new(&config, "f03dc946-3df4-45a0-8e54-000000000000");
//! let out = function.call(serde_json::json!({"key": "abctest"}), ctx).await;
//! assert_eq!(out.map_err(|e| e.to_string())?, "abctest");
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cgroup;
mod context_json;
mod frames;
mod function;
mod go;
mod instance;
mod layers;
mod memory;
mod netns;
mod outcome;
mod output;
mod peer;
mod pending;
mod php;
mod runtime_api;
mod sandbox;
mod spec;
mod web;

pub use function::{PoolStats, ProcessFunction};
pub use sandbox::{Guarantee, Sandbox, SandboxConfig};
pub use spec::{
    CgroupPolicy, PoolConfig, ProcessError, ProcessSpec, RuntimeKind, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_INSTANCES,
};

// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
