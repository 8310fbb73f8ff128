//! Load benchmark: a no-op function through the API Gateway route and through a signed
//! `Invoke`, against a bare hyper server answering `hello`, in the same run.
//!
//! `cargo bench -p scf-http --bench gateway_load` runs each server in its own process
//! (this binary re-executed with `--serve …`) and drives it from this process with a
//! hyper client over N kept-alive HTTP/1.1 connections. It reports requests per second,
//! errors, latency percentiles and the server's peak resident memory (VmHWM).
//!
//! Configurations: bare hyper; the gateway route and a signed `Invoke`, each with the
//! invoker's `Execution::Isolated` (every invocation hops to the invoker's isolation
//! thread: the explicit choice for untrusted async code) and with `Execution::Inline`
//! (the default); and the gateway route with `Execution::Isolated` and the handler wrapped in
//! `scf_handler::cooperative` (it skips the hop, other functions would not); and the bare
//! relay, `--serve relay` (and `relay1`, the same on a tokio current_thread runtime): the
//! least a server can do to answer through a separate process, the floor of `scf serve`'s
//! out-of-process `Invoke`. It reads each request's body, takes an idle child from a pool
//! (starting one when none is idle, up to 64), writes the body as one frame (kind byte,
//! 4-byte big-endian length, payload) on the child's Unix socket, reads the child's answer
//! frame and responds 200 with it; nothing else (no parsing, logs, store or timers). The
//! child is this binary re-executed as `--relay-child 0`, its end of a socket pair as its
//! standard input (`--relay-child PATH` connects to a socket there instead): a blocking
//! loop that answers every frame with `{"hello":"abctest"}`. Rounds alternate the
//! configurations; the median run of each is reported, with the server's CPU time per
//! request (the relay's children not counted: `xtask/bench/invoke-load.sh` counts them).
//!
//! Knobs: `SCF_BENCH_SECS` (default 5 per run), `SCF_BENCH_CONNS` (default 32),
//! `SCF_BENCH_ROUNDS` (default 3), `SCF_BENCH_ENFORCE=1` exits non-zero unless the Inline
//! gateway reaches 50 % of bare hyper's rate with no errors and every server stays under
//! 50 MB resident (the relays are not part of that verdict). Without `--bench` (as `cargo
//! test --benches` runs it) it does a short smoke run. `--invoker-only` measures the invoker alone, in process; `--serve KIND` and
//! `--drive ADDR PATH SECS` run one side alone (for profiling; PATH `invoke` drives the
//! signed `Invoke`).

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

#[path = "gateway_load/relay.rs"]
mod relay;

const SECRET_ID: &str = "AKIDbench";
const SECRET_KEY: &str = "benchsecretkey";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--relay-child") {
        relay::relay_child(args.get(i + 1).map_or("0", String::as_str));
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        let kind = args.get(i + 1).map(String::as_str).unwrap_or("bare");
        serve(kind);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--drive") {
        // Drives an already running server (for profiling it): `--drive ADDR PATH SECS`,
        // where PATH `invoke` sends the signed `Invoke` of the full run.
        let addr: SocketAddr = args[i + 1].parse().expect("an address");
        let path = args[i + 2].clone();
        let secs: u64 = args[i + 3].parse().expect("seconds");
        let rt = tokio::runtime::Runtime::new().expect("a runtime");
        let make: MakeRequest = if path == "invoke" {
            invoke_request(addr)
        } else {
            Arc::new(move || {
                Request::get(path.as_str())
                    .header("host", "bench")
                    .body(Full::new(Bytes::new()))
                    .expect("a request")
            })
        };
        let stats = rt.block_on(drive(addr, make, b"", 32, Duration::from_secs(secs)));
        println!("{:.0} req/s, {} errors", stats.rps(), stats.errors);
        return;
    }
    if args.iter().any(|a| a == "--invoker-only") {
        // The invoker alone, in process: how much of the gateway's cost is the invoker's.
        let rt = tokio::runtime::Runtime::new().expect("a runtime");
        rt.block_on(async {
            for execution in [
                scf_invoker::Execution::Isolated,
                scf_invoker::Execution::Inline,
            ] {
                let mut config = scf_invoker::InvokerConfig::default();
                config.execution = execution;
                let invoker = scf_invoker::Invoker::new(config).expect("an invoker");
                invoker
                    .add_function(scf_context::FunctionConfig::new("noop"), Noop)
                    .expect("a function");
                let deadline = Instant::now() + Duration::from_secs(3);
                let mut tasks = Vec::new();
                for _ in 0..32 {
                    let invoker = invoker.clone();
                    tasks.push(tokio::spawn(async move {
                        let mut n = 0u64;
                        while Instant::now() < deadline {
                            let event =
                                serde_json::json!({"path": "/noop", "headers": {"host": "bench"}});
                            let r = invoker
                                .invoke(scf_invoker::InvokeRequest::new("noop", event))
                                .await;
                            if r.is_ok() {
                                n += 1;
                            }
                        }
                        n
                    }));
                }
                let mut total = 0;
                for t in tasks {
                    total += t.await.unwrap_or(0);
                }
                println!(
                    "invoker only, {execution:?}: {:.0} invocations/s",
                    total as f64 / 3.0
                );
            }
        });
        return;
    }
    let full = args.iter().any(|a| a == "--bench");
    orchestrate(full);
}

// ---- the servers (child processes) ----

fn serve(kind: &str) {
    let rt = if kind == "relay1" {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    }
    .enable_all()
    .build()
    .expect("a runtime");
    rt.block_on(async {
        let port = match kind {
            "bare" => serve_bare().await,
            "relay" | "relay1" => relay::serve_relay().await,
            "scf" => serve_scf(scf_invoker::Execution::Isolated).await,
            "scf-inline" => serve_scf(scf_invoker::Execution::Inline).await,
            "scf-coop" => serve_scf_with(scf_invoker::Execution::Isolated, true).await,
            other => panic!("unknown server kind {other}"),
        };
        println!("PORT {port}");
        std::io::stdout().flush().ok();
        // Serve until the parent closes our stdin.
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin()
                .read_line(&mut line)
                .map(|n| n > 0)
                .unwrap_or(false)
            {}
        })
        .await
        .ok();
    });
}

async fn serve_bare() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let svc = service_fn(|_req: Request<hyper::body::Incoming>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"hello"))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    port
}

async fn serve_scf(execution: scf_invoker::Execution) -> u16 {
    serve_scf_with(execution, false).await
}

/// The scf-http server with `execution`; with `cooperative`, the no-op handler is wrapped
/// in `scf_handler::cooperative` (it skips the isolation hop under `Execution::Isolated`).
async fn serve_scf_with(execution: scf_invoker::Execution, cooperative: bool) -> u16 {
    use scf_context::FunctionConfig;

    let mut config = scf_invoker::InvokerConfig::default();
    config.execution = execution;
    let invoker = scf_invoker::Invoker::new(config).expect("an invoker");
    let added = if cooperative {
        invoker.add_function(FunctionConfig::new("noop"), scf_handler::cooperative(Noop))
    } else {
        invoker.add_function(FunctionConfig::new("noop"), Noop)
    };
    added.expect("a function");
    let config = scf_http::ServerConfig::new("127.0.0.1:0".parse().expect("addr"))
        .with_signals(false)
        .with_credentials(scf_http::Credentials::single(SECRET_ID, SECRET_KEY))
        .with_route(scf_http::apigw::Route::new("GET", "/noop", "noop").expect("a route"));
    let running = scf_http::Server::new(config, invoker)
        .expect("a server")
        .bind()
        .await
        .expect("bound");
    let port = running.local_addr().port();
    std::mem::forget(running);
    port
}

/// The no-op function: a `Handler` that ignores its event and returns a fixed integration
/// response (no decoding of the event into a type).
struct Noop;

#[async_trait::async_trait]
impl scf_handler::Handler for Noop {
    async fn call(
        &self,
        _event: serde_json::Value,
        _context: scf_context::Context,
    ) -> Result<serde_json::Value, scf_handler::FunctionError> {
        Ok(serde_json::json!({"statusCode": 200, "body": "ok"}))
    }
}

struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    fn start(kind: &str) -> Self {
        let exe = std::env::current_exe().expect("own path");
        let mut child = Command::new(exe)
            .args(["--serve", kind])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server process starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("PORT line");
        let port: u16 = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("bad PORT line {line:?}"));
        Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    fn status_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// User + system CPU time the server has used, in clock ticks (1/100 s).
    fn cpu_ticks(&self) -> u64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the parenthesised command name; utime and stime are 14th and 15th.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let num = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        num(11) + num(12)
    }

    fn stop(mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- the load generator ----

#[derive(Debug, Default)]
struct Stats {
    ok: u64,
    errors: u64,
    elapsed: Duration,
    latencies_us: Vec<u32>,
}

impl Stats {
    fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&mut self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.sort_unstable();
        let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }
}

type MakeRequest = Arc<dyn Fn() -> Request<Full<Bytes>> + Send + Sync>;

async fn drive(
    addr: SocketAddr,
    make: MakeRequest,
    expect: &'static [u8],
    conns: usize,
    duration: Duration,
) -> Stats {
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            let Ok(stream) = TcpStream::connect(addr).await else {
                stats.errors += 1;
                return stats;
            };
            let _ = stream.set_nodelay(true);
            let Ok((mut sender, conn)) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
            else {
                stats.errors += 1;
                return stats;
            };
            tokio::spawn(conn);
            while Instant::now() < deadline {
                let t = Instant::now();
                if sender.ready().await.is_err() {
                    stats.errors += 1;
                    break;
                }
                let good = match sender.send_request(make()).await {
                    Ok(response) => {
                        let status = response.status();
                        match response.into_body().collect().await {
                            Ok(body) => {
                                let body = body.to_bytes();
                                status == 200
                                    && (expect.is_empty()
                                        || body.windows(expect.len()).any(|w| w == expect))
                            }
                            Err(_) => false,
                        }
                    }
                    Err(_) => false,
                };
                if good {
                    stats.ok += 1;
                    stats
                        .latencies_us
                        .push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                } else {
                    stats.errors += 1;
                }
            }
            stats
        }));
    }
    let mut total = Stats::default();
    for t in tasks {
        if let Ok(s) = t.await {
            total.ok += s.ok;
            total.errors += s.errors;
            total.latencies_us.extend(s.latencies_us);
        }
    }
    total.elapsed = start.elapsed();
    total
}

fn gateway_request() -> MakeRequest {
    Arc::new(|| {
        Request::get("/noop")
            .header("host", "bench")
            .body(Full::new(Bytes::new()))
            .expect("a request")
    })
}

fn invoke_request(addr: SocketAddr) -> MakeRequest {
    // One signature for the whole run: valid for 5 minutes, and it keeps signing cost out
    // of the client.
    let body: &'static [u8] = br#"{"FunctionName":"noop","InvocationType":"RequestResponse"}"#;
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let host = addr.to_string();
    let auth = scf_http::auth::SigningRequest::new(SECRET_ID, SECRET_KEY, &host, ts, body)
        .authorization()
        .expect("a signature");
    Arc::new(move || {
        Request::post("/")
            .header("host", host.as_str())
            .header("content-type", "application/json")
            .header("x-tc-action", "Invoke")
            .header("x-tc-version", "2018-04-16")
            .header("x-tc-timestamp", ts.to_string())
            .header("authorization", auth.as_str())
            .body(Full::new(Bytes::from_static(body)))
            .expect("a request")
    })
}

/// One configuration measured: its runs, fastest to slowest after sorting.
struct Row {
    name: &'static str,
    runs: Vec<Stats>,
    rss_kb: u64,
    cpu_us_per_request: Vec<f64>,
}

impl Row {
    /// The run with the median rate.
    fn median(&mut self) -> &mut Stats {
        self.runs.sort_by(|a, b| {
            a.rps()
                .partial_cmp(&b.rps())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let mid = self.runs.len() / 2;
        &mut self.runs[mid]
    }

    fn errors(&self) -> u64 {
        self.runs.iter().map(|r| r.errors).sum()
    }
}

/// (name, server kind, request kind)
const CONFIGS: [(&str, &str, &str); 8] = [
    ("bare hyper (hello)", "bare", "bare"),
    ("gateway, Isolated", "scf", "gateway"),
    ("gateway, Inline (default)", "scf-inline", "gateway"),
    ("Invoke, Isolated", "scf", "invoke"),
    ("Invoke, Inline (default)", "scf-inline", "invoke"),
    ("gateway, cooperative", "scf-coop", "gateway"),
    ("relay (a process hop)", "relay", "relay"),
    ("relay, current_thread", "relay1", "relay"),
];

/// The rows of scf-http's own servers, which the verdict is about (not the relays).
const SCF_ROWS: std::ops::Range<usize> = 1..6;

fn orchestrate(full: bool) {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let secs = if full { env("SCF_BENCH_SECS", 5) } else { 1 };
    let conns = if full { env("SCF_BENCH_CONNS", 32) } else { 4 } as usize;
    let duration = Duration::from_secs(secs);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown".into());
    let nproc = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("scf-http load benchmark: {conns} keep-alive connections, {secs} s per run, nproc {nproc}, CPU {cpu}");

    let rounds = if full { env("SCF_BENCH_ROUNDS", 3) } else { 1 };
    let mut rows: Vec<Row> = CONFIGS
        .iter()
        .map(|(name, _, _)| Row {
            name,
            runs: Vec::new(),
            rss_kb: 0,
            cpu_us_per_request: Vec::new(),
        })
        .collect();
    let warm = Duration::from_millis(if full { 500 } else { 100 });
    // Rounds alternate the configurations so that a noisy neighbour slows all of them alike.
    for _ in 0..rounds {
        for (row, (_, kind, request)) in rows.iter_mut().zip(CONFIGS) {
            let server = ServerProcess::start(kind);
            let (make, expect): (MakeRequest, &'static [u8]) = match request {
                "bare" => (
                    Arc::new(|| {
                        Request::get("/")
                            .header("host", "bench")
                            .body(Full::new(Bytes::new()))
                            .expect("a request")
                    }),
                    b"hello",
                ),
                "invoke" => (invoke_request(server.addr), b"\"InvokeResult\":0"),
                "relay" => (
                    Arc::new(|| {
                        Request::post("/")
                            .header("host", "bench")
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from_static(relay::RELAY_REQUEST)))
                            .expect("a request")
                    }),
                    b"\"hello\":\"abctest\"",
                ),
                _ => (gateway_request(), b"ok"),
            };
            rt.block_on(drive(server.addr, make.clone(), expect, conns, warm));
            let cpu_before = server.cpu_ticks();
            let stats = rt.block_on(drive(server.addr, make, expect, conns, duration));
            let cpu_ticks = server.cpu_ticks().saturating_sub(cpu_before);
            row.rss_kb = row.rss_kb.max(server.status_kb("VmHWM:"));
            server.stop();
            row.cpu_us_per_request
                .push(cpu_ticks as f64 * 10_000.0 / (stats.ok.max(1) as f64));
            row.runs.push(stats);
        }
    }

    println!(
        "{:<20} {:>9} {:>7} {:>8} {:>8} {:>8} {:>10} {:>13}   (median of {rounds} runs; all runs: req/s)",
        "run", "req/s", "errors", "p50 ms", "p99 ms", "max ms", "peak RSS", "server CPU"
    );
    let mut medians = Vec::new();
    for row in &mut rows {
        let errors = row.errors();
        let mut cpu = row.cpu_us_per_request.clone();
        cpu.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        let cpu = cpu.get(cpu.len() / 2).copied().unwrap_or(0.0);
        let rss = row.rss_kb as f64 / 1024.0;
        let name = row.name;
        let all: Vec<String> = row.runs.iter().map(|r| format!("{:.0}", r.rps())).collect();
        let m = row.median();
        let (rps, p50, p99, max) = (
            m.rps(),
            m.percentile(0.5),
            m.percentile(0.99),
            m.percentile(1.0),
        );
        medians.push(rps);
        println!(
            "{name:<20} {rps:>9.0} {errors:>7} {p50:>8.3} {p99:>8.3} {max:>8.3} {rss:>7.1} MB {cpu:>7.1} us/req   [{}]",
            all.join(", ")
        );
    }
    let bare = medians[0];
    let errors: u64 = rows[..SCF_ROWS.end].iter().map(Row::errors).sum();
    let max_rss_mb = rows[SCF_ROWS].iter().map(|r| r.rss_kb).max().unwrap_or(0) as f64 / 1024.0;
    let ratio = |i: usize| if bare > 0.0 { medians[i] / bare } else { 0.0 };
    println!(
        "gateway / bare hyper: Isolated {:.1} %, Inline {:.1} %, cooperative handler under Isolated {:.1} % (target >= 50 %); errors {errors}; scf-http peak RSS {max_rss_mb:.1} MB (target < 50 MB)",
        ratio(1) * 100.0,
        ratio(2) * 100.0,
        ratio(5) * 100.0
    );
    println!(
        "relay / bare hyper (the floor of a hop through a process): multi-thread {:.1} %, current_thread {:.1} %; errors {}",
        ratio(6) * 100.0,
        ratio(7) * 100.0,
        rows[SCF_ROWS.end..].iter().map(Row::errors).sum::<u64>()
    );
    let pass = ratio(2) >= 0.5 && errors == 0 && max_rss_mb < 50.0;
    if full {
        println!(
            "verdict (gateway with Execution::Inline, the default): {}",
            if pass { "PASS" } else { "FAIL" }
        );
    } else {
        println!("smoke run only (no --bench): figures are not meaningful; run `cargo bench -p scf-http --bench gateway_load`");
    }
    if full && !pass && std::env::var("SCF_BENCH_ENFORCE").as_deref() == Ok("1") {
        std::process::exit(1);
    }
}
