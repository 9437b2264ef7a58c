//! The harness's output: a Markdown table for people (BENCHMARKS.md) and JSON for machines.

use serde::Serialize;
use serde_json::{Value, json};

use super::drive::Sample;

/// What a figure is held against.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Goal {
    /// No goal: shown for reading the other figures (a limit, a ceiling, a saturated run).
    None,
    P95AtMostMs(f64),
    ThroughputAtLeast(f64),
    AtMostMib(f64),
    /// At least this many of the figure's unit.
    AtLeast(f64),
    /// At most this many of the figure's unit (seconds of a job).
    AtMost(f64),
}

impl Goal {
    fn text(self, unit: &str) -> String {
        match self {
            Goal::None => "—".into(),
            Goal::P95AtMostMs(ms) => format!("p95 ≤ {ms} ms"),
            Goal::ThroughputAtLeast(r) => format!("≥ {} req/s", thousands(r)),
            Goal::AtMostMib(m) => format!("≤ {m} MB"),
            Goal::AtLeast(r) => format!("≥ {} {unit}", thousands(r)),
            Goal::AtMost(r) => format!("≤ {r} {unit}"),
        }
    }
}

/// One line of HTTP measurements.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub group: String,
    pub name: String,
    pub user: String,
    pub clients: usize,
    pub requests: u64,
    pub errors: u64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub req_per_sec: f64,
    /// Throughput as a share of the static route's at the same concurrency.
    pub of_static: Option<f64>,
    pub goal: Goal,
    pub pass: Option<bool>,
}

impl Row {
    pub fn new(group: &str, name: &str, user: &str, clients: usize, s: &Sample, goal: Goal) -> Row {
        let p95 = s.percentile(95.0);
        let pass = match goal {
            _ if s.errors > 0 || s.count() == 0 => Some(false),
            Goal::P95AtMostMs(ms) => p95.map(|p| p <= ms),
            Goal::ThroughputAtLeast(r) => Some(s.throughput() >= r),
            _ => None,
        };
        Row {
            group: group.into(),
            name: name.into(),
            user: user.into(),
            clients,
            requests: s.count(),
            errors: s.errors,
            p50_ms: s.percentile(50.0),
            p95_ms: p95,
            p99_ms: s.percentile(99.0),
            req_per_sec: s.throughput(),
            of_static: None,
            goal,
            pass,
        }
    }
}

/// One figure that is not a request (data generation, the raw insert floor, memory).
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: String,
    pub note: String,
    pub goal: Goal,
    pub pass: Option<bool>,
}

impl Figure {
    pub fn new(name: &str, value: f64, unit: &str, note: impl Into<String>, goal: Goal) -> Figure {
        let pass = match goal {
            Goal::AtMostMib(m) => Some(value <= m),
            Goal::AtLeast(r) => Some(value >= r),
            Goal::AtMost(r) => Some(value <= r),
            _ => None,
        };
        Figure {
            name: name.into(),
            value,
            unit: unit.into(),
            note: note.into(),
            goal,
            pass,
        }
    }
}

/// The machine and the run.
#[derive(Clone, Debug, Serialize)]
pub struct Context {
    pub date: String,
    pub commit: String,
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_gib: f64,
    pub database: String,
    pub customers: u64,
    pub contacts: u64,
    pub organisations: u64,
    pub follow_ups: u64,
    pub mode: String,
    pub build: String,
    pub server: String,
    pub notes: Vec<String>,
}

impl Context {
    pub fn machine() -> (usize, String, f64) {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or("unknown".to_owned(), |(_, m)| m.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let kib: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0.0);
        (cpus, model, kib / 1024.0 / 1024.0)
    }

    /// `git rev-parse --short HEAD`, marked when the work tree has uncommitted changes.
    pub fn commit() -> String {
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        };
        match git(&["rev-parse", "--short", "HEAD"]) {
            Some(c) if git(&["status", "--porcelain"]).is_some_and(|s| !s.is_empty()) => {
                format!("{c} + uncommitted changes")
            }
            Some(c) => c,
            None => "unknown".into(),
        }
    }
}

pub fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn ms(v: Option<f64>) -> String {
    match v {
        Some(v) if v < 10.0 => format!("{v:.2}"),
        Some(v) => format!("{v:.1}"),
        None => "—".into(),
    }
}

fn verdict(pass: Option<bool>) -> &'static str {
    match pass {
        Some(true) => "pass",
        Some(false) => "**miss**",
        None => "—",
    }
}

pub fn markdown(ctx: &Context, rows: &[Row], figures: &[Figure]) -> String {
    let mut s = String::new();
    s += "# Guanxi benchmarks\n\n";
    s += "Written by `guanxi bench` (see docs/ARCHITECTURE.md, \"Demo data and benchmarks\"). \
          Every figure is measured in the same run on the same machine; a goal that is not met \
          is marked **miss**.\n\n";
    s += "| | |\n|---|---|\n";
    for (k, v) in [
        ("date", ctx.date.clone()),
        ("commit", ctx.commit.clone()),
        (
            "machine",
            format!(
                "{} CPUs ({}), {:.1} GiB memory",
                ctx.cpus, ctx.cpu_model, ctx.memory_gib
            ),
        ),
        ("database", ctx.database.clone()),
        (
            "data set",
            format!(
                "{} customers, {} contacts, {} organisations, {} follow-ups",
                thousands(ctx.customers as f64),
                thousands(ctx.contacts as f64),
                thousands(ctx.organisations as f64),
                thousands(ctx.follow_ups as f64)
            ),
        ),
        ("mode", ctx.mode.clone()),
        ("build", ctx.build.clone()),
        ("server", ctx.server.clone()),
    ] {
        s += &format!("| {k} | {v} |\n");
    }
    s += "\n## Data and memory\n\n| figure | value | goal | result | note |\n|---|---:|---|---|---|\n";
    for f in figures {
        let value = if f.value >= 100.0 {
            thousands(f.value)
        } else if f.value >= 10.0 {
            format!("{:.1}", f.value)
        } else {
            format!("{:.2}", f.value)
        };
        s += &format!(
            "| {} | {value} {} | {} | {} | {} |\n",
            f.name,
            f.unit,
            f.goal.text(&f.unit),
            verdict(f.pass),
            f.note
        );
    }
    s += "\n## Requests\n\nLatencies in milliseconds, measured by the client (loopback). \
          `of static` is the throughput as a share of the static route's at the same number of \
          clients.\n\n";
    s += "| measurement | user | clients | requests | errors | p50 | p95 | p99 | req/s | of static | goal | result |\n";
    s += "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n";
    let mut group = "";
    for r in rows {
        if r.group != group {
            group = &r.group;
            s += &format!("| **{group}** | | | | | | | | | | | |\n");
        }
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.name,
            r.user,
            r.clients,
            r.requests,
            r.errors,
            ms(r.p50_ms),
            ms(r.p95_ms),
            ms(r.p99_ms),
            thousands(r.req_per_sec),
            r.of_static
                .map_or("—".into(), |x| format!("{:.0} %", x * 100.0)),
            r.goal.text("req/s"),
            verdict(r.pass)
        );
    }
    let misses: Vec<String> = figures
        .iter()
        .filter(|f| f.pass == Some(false))
        .map(|f| f.name.clone())
        .chain(
            rows.iter()
                .filter(|r| r.pass == Some(false))
                .map(|r| format!("{} ({}, {} clients)", r.name, r.user, r.clients)),
        )
        .collect();
    s += "\n## Misses\n\n";
    if misses.is_empty() {
        s += "None: every figure with a goal met it.\n";
    } else {
        for m in &misses {
            s += &format!("- {m}\n");
        }
    }
    if !ctx.notes.is_empty() {
        s += "\n## Notes\n\n";
        for n in &ctx.notes {
            s += &format!("- {n}\n");
        }
    }
    s
}

pub fn json(ctx: &Context, rows: &[Row], figures: &[Figure]) -> Value {
    json!({ "context": ctx, "figures": figures, "requests": rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_verdicts() {
        assert_eq!(thousands(1_234_567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        let s = Sample {
            latencies_ms: vec![1.0, 2.0, 30.0],
            errors: 0,
            secs: 1.0,
        };
        assert_eq!(
            Row::new("g", "n", "u", 1, &s, Goal::P95AtMostMs(20.0)).pass,
            Some(false)
        );
        assert_eq!(
            Row::new("g", "n", "u", 1, &s, Goal::P95AtMostMs(50.0)).pass,
            Some(true)
        );
        assert_eq!(Row::new("g", "n", "u", 1, &s, Goal::None).pass, None);
        let f = Figure::new("rss", 90.0, "MB", "", Goal::AtMostMib(150.0));
        assert_eq!(f.pass, Some(true));
        let f = Figure::new("sweep", 2.5, "s", "", Goal::AtMost(2.0));
        assert_eq!(f.pass, Some(false));
        assert_eq!(Goal::AtMost(2.0).text("s"), "≤ 2 s");
    }
}
