//! Prometheus metrics: invocations by function and status, their duration, and what is in
//! flight, rendered in the text exposition format at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds (seconds) of the duration histogram's buckets.
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

#[derive(Debug, Default, Clone)]
struct FunctionStats {
    /// Function status code → invocations.
    statuses: BTreeMap<u16, u64>,
    /// Run durations of the invocations that ran.
    durations: Option<Histogram>,
}

/// namespace → function → stats; nested so that the hot path looks up by `&str`.
type Tables = BTreeMap<String, BTreeMap<String, FunctionStats>>;

/// The server's metrics. Cheap to update from many tasks; rendered on demand.
#[derive(Debug, Default)]
pub struct Metrics {
    tables: Mutex<Tables>,
    in_flight: AtomicI64,
    requests_api: AtomicU64,
    requests_gateway: AtomicU64,
}

/// Decrements the in-flight gauge when dropped.
#[derive(Debug)]
pub(crate) struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Which endpoint a request was served by, for `scf_http_requests_total`.
// With one of the two features, the other endpoint's variant is never built.
#[cfg_attr(not(all(feature = "api", feature = "gateway")), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Api,
    Gateway,
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn start_request(&self, endpoint: Endpoint) -> InFlight<'_> {
        let counter = match endpoint {
            Endpoint::Api => &self.requests_api,
            Endpoint::Gateway => &self.requests_gateway,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// Counts one invocation of `function` that ended with function status `status`;
    /// `duration_ms` is its run time when it ran (a refusal has none).
    pub fn record_invocation(
        &self,
        namespace: &str,
        function: &str,
        status: u16,
        duration_ms: Option<f64>,
    ) {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        if !tables.contains_key(namespace) {
            tables.insert(namespace.to_string(), BTreeMap::new());
        }
        let Some(functions) = tables.get_mut(namespace) else {
            return;
        };
        if !functions.contains_key(function) {
            functions.insert(function.to_string(), FunctionStats::default());
        }
        let Some(stats) = functions.get_mut(function) else {
            return;
        };
        *stats.statuses.entry(status).or_insert(0) += 1;
        if let Some(ms) = duration_ms.filter(|ms| ms.is_finite() && *ms >= 0.0) {
            let secs = ms / 1000.0;
            let h = stats.durations.get_or_insert_with(|| Histogram {
                buckets: vec![0; DURATION_BUCKETS.len()],
                ..Histogram::default()
            });
            for (bound, slot) in DURATION_BUCKETS.iter().zip(h.buckets.iter_mut()) {
                if secs <= *bound {
                    *slot += 1;
                }
            }
            h.sum += secs;
            h.count += 1;
        }
    }

    /// HTTP requests being served now.
    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition of every metric; `invoker_in_flight` is the
    /// invoker's running invocations.
    pub fn render(&self, invoker_in_flight: usize) -> String {
        let tables: Tables = self
            .tables
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(out, "# HELP scf_invocations_total Invocations by function and function status code (refusals included).");
        let _ = writeln!(out, "# TYPE scf_invocations_total counter");
        for (ns, functions) in &tables {
            for (f, stats) in functions {
                for (status, n) in &stats.statuses {
                    let _ = writeln!(
                        out,
                        "scf_invocations_total{{namespace=\"{}\",function=\"{}\",status=\"{status}\"}} {n}",
                        escape(ns),
                        escape(f)
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP scf_invocation_duration_seconds Run time of the invocations that ran."
        );
        let _ = writeln!(out, "# TYPE scf_invocation_duration_seconds histogram");
        let histograms = tables.iter().flat_map(|(ns, functions)| {
            functions
                .iter()
                .filter_map(move |(f, stats)| Some((ns, f, stats.durations.as_ref()?)))
        });
        for (ns, f, h) in histograms {
            let labels = format!("namespace=\"{}\",function=\"{}\"", escape(ns), escape(f));
            for (bound, n) in DURATION_BUCKETS.iter().zip(&h.buckets) {
                let _ = writeln!(
                    out,
                    "scf_invocation_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "scf_invocation_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "scf_invocation_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "scf_invocation_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP scf_http_requests_in_flight HTTP requests being served."
        );
        let _ = writeln!(out, "# TYPE scf_http_requests_in_flight gauge");
        let _ = writeln!(out, "scf_http_requests_in_flight {}", self.in_flight());
        let _ = writeln!(
            out,
            "# HELP scf_invocations_in_flight Invocations running in the invoker."
        );
        let _ = writeln!(out, "# TYPE scf_invocations_in_flight gauge");
        let _ = writeln!(out, "scf_invocations_in_flight {invoker_in_flight}");
        let _ = writeln!(
            out,
            "# HELP scf_http_requests_total HTTP requests by endpoint."
        );
        let _ = writeln!(out, "# TYPE scf_http_requests_total counter");
        let _ = writeln!(
            out,
            "scf_http_requests_total{{endpoint=\"api\"}} {}",
            self.requests_api.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "scf_http_requests_total{{endpoint=\"gateway\"}} {}",
            self.requests_gateway.load(Ordering::Relaxed)
        );
        out
    }
}
