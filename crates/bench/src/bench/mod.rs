//! `guanxi bench`: generates (or reuses) a data set with the demo generator, starts the real
//! server, drives it with concurrent HTTP clients as three kinds of user, measures the machine's
//! limits in the same run, and writes BENCHMARKS.md and a JSON file.

pub mod background;
pub mod drive;
pub mod floor;
pub mod report;
pub mod scenarios;
pub mod server;
pub mod transfer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use guanxi_store::{Db, bulk};

use crate::demo::{self, DemoOptions, DemoReport};
use drive::Budget;
use report::{Context, Figure, Goal, Row};
use scenarios::{Scenarios, login, relate_to_static};

/// The administrator's password in databases the harness creates.
pub const BENCH_ADMIN_PASSWORD: &str = "bench-admin-password-1";
/// The goal: one million customers (with their contacts) in under two minutes.
const DEMO_GOAL_CUSTOMERS_PER_SEC: f64 = 1_000_000.0 / 120.0;

#[derive(Clone, Debug)]
pub struct BenchOptions {
    pub customers: u64,
    pub smoke: bool,
    pub database_url: Option<String>,
    /// Where the cached SQLite data sets live (`bench-<N>.db`).
    pub data_dir: PathBuf,
    /// Generate the data set again: a cached SQLite file is removed, a PostgreSQL database
    /// dropped and created empty.
    pub fresh: bool,
    pub out: PathBuf,
    pub json: Option<PathBuf>,
    pub seed: u64,
    /// The `guanxi` binary to run as the server.
    pub exe: PathBuf,
    /// Hides passwords in database URLs before they are printed.
    pub redact: fn(&str) -> String,
}

/// The demo figures of a cached data set, kept beside it.
fn sidecar(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".demo.json");
    PathBuf::from(p)
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm", ".demo.json"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// Where the data set lives, and a temporary directory to keep alive while it is used.
fn database(
    opts: &BenchOptions,
) -> anyhow::Result<(String, Option<PathBuf>, Option<tempfile::TempDir>)> {
    if let Some(url) = &opts.database_url {
        return Ok((url.clone(), None, None));
    }
    if opts.smoke {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("bench.db");
        return Ok((format!("sqlite://{}", path.display()), None, Some(dir)));
    }
    let path = opts.data_dir.join(format!("bench-{}.db", opts.customers));
    if opts.fresh {
        remove_sqlite(&path);
    }
    Ok((format!("sqlite://{}", path.display()), Some(path), None))
}

/// Drops a PostgreSQL benchmark data set for `--fresh` — only one, or a Guanxi database without
/// customers: any other database (another application's, or real customers without the demo
/// organisation) is refused, never dropped.
async fn drop_data_set(url: &str, redact: fn(&str) -> String) -> anyhow::Result<()> {
    let Ok(db) = Db::connect(url).await else {
        return Ok(()); // nothing there to drop
    };
    let ours = matches!(demo::org::exists(&db).await, Ok(true))
        || matches!(bulk::count(&db, "customers").await, Ok(0));
    db.close().await;
    if !ours {
        anyhow::bail!(
            "--fresh drops the database, and {} is not a benchmark data set: give another database",
            redact(url)
        );
    }
    bulk::drop_pg_database(url).await?;
    eprintln!("dropped database {}", redact(url));
    Ok(())
}

/// The data set: generated now, or reused when it already holds enough customers.
async fn data_set(
    db: &Db,
    opts: &BenchOptions,
    cache: Option<&Path>,
    notes: &mut Vec<String>,
) -> anyhow::Result<Option<DemoReport>> {
    guanxi_store::setup::ensure_first_admin(db, Some(BENCH_ADMIN_PASSWORD.into())).await?;
    let existing = bulk::count(db, "customers").await? as u64;
    if existing == 0 {
        eprintln!("generating {} customers…", opts.customers);
        let r = demo::run(
            db,
            &DemoOptions {
                customers: opts.customers,
                seed: opts.seed,
                force: false,
                progress: true,
                today: None,
            },
        )
        .await?;
        if let Some(path) = cache {
            let figures = serde_json::json!({
                "customers": r.customers, "contacts": r.contacts,
                "organisations": r.organisations, "secs": r.secs,
                "date": chrono::Utc::now().to_rfc3339(),
            });
            std::fs::write(sidecar(path), figures.to_string())?;
        }
        return Ok(Some(r));
    }
    if existing < opts.customers || !demo::org::exists(db).await? {
        anyhow::bail!(
            "the database has {existing} customers and is not a benchmark data set of {}: \
             give a fresh database (or --fresh to generate it again)",
            opts.customers
        );
    }
    if bulk::count(db, "follow_ups").await? == 0 {
        anyhow::bail!(
            "the data set has no follow-ups (it was made before the demo generated them): \
             give a fresh database (or --fresh to generate it again)"
        );
    }
    let note = cache
        .and_then(|p| std::fs::read_to_string(sidecar(p)).ok())
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .map_or(String::new(), |v| {
            format!(
                " (generated {} in {:.1} s)",
                v["date"].as_str().unwrap_or("earlier"),
                v["secs"].as_f64().unwrap_or(0.0)
            )
        });
    notes.push(format!(
        "The data set was reused from an earlier run{note}; its generation is not measured in this run \
         (`--fresh` generates it again)."
    ));
    Ok(None)
}

pub async fn run(opts: &BenchOptions) -> anyhow::Result<(Vec<Row>, Vec<Figure>)> {
    let (url, cache, _tmp) = database(opts)?;
    let is_pg = url.starts_with("postgres");
    if is_pg && opts.fresh && !opts.smoke {
        drop_data_set(&url, opts.redact).await?;
    }
    if is_pg && bulk::ensure_pg_database(&url).await? {
        eprintln!("created database {}", (opts.redact)(&url));
    }
    let db = Db::connect(&url).await?;
    guanxi_store::migrate::run(&db).await?;
    let mut notes = vec![];
    let demo_report = data_set(&db, opts, cache.as_deref(), &mut notes).await?;
    let mut figures = vec![];
    if let Some(r) = &demo_report {
        figures.push(Figure::new(
            "demo data generation (`guanxi demo`; goal: 1M customers in < 2 min)",
            r.customers as f64 / r.secs.max(1e-9),
            "customers/s",
            format!(
                "{} customers + {} contacts + {} organisations + {} follow-ups naming {} behaviours + {} customers in {} pools, \
                 in {:.1} s = {} rows/s{}, plus {} quick-search index rows (search_grams); no change history",
                r.customers,
                r.contacts,
                r.organisations,
                r.follow_ups,
                r.behaviours,
                r.pooled,
                r.pools,
                r.secs,
                report::thousands(r.rows_per_sec()),
                if r.rebuilt_indexes { ", indexes built after the load" } else { "" },
                report::thousands(r.grams as f64)
            ),
            Goal::AtLeast(DEMO_GOAL_CUSTOMERS_PER_SEC),
        ));
    }
    let import_rows = if opts.smoke { 5_000 } else { opts.customers };
    let scratch = tempfile::tempdir()?;
    eprintln!("measuring the raw insert floor…");
    figures.extend(floor::measure(&url, scratch.path(), opts.seed, import_rows).await?);
    // The import is compared with the quickest way to the same table.
    let raw_rate = figures.last().map(|f| f.value);
    // One empty database per imported format: SQLite files, or PostgreSQL databases created
    // and dropped around the measurement.
    let scratch_urls: Vec<String> = ["csv", "xlsx"]
        .iter()
        .map(|tag| {
            if is_pg {
                format!("{}_import_{tag}", url.split('?').next().unwrap_or(&url))
            } else {
                format!(
                    "sqlite://{}",
                    scratch.path().join(format!("import-{tag}.db")).display()
                )
            }
        })
        .collect();
    if is_pg {
        for u in &scratch_urls {
            bulk::drop_pg_database(u).await?;
            bulk::ensure_pg_database(u).await?;
        }
    }
    figures.extend(
        transfer::measure(
            &opts.exe,
            &db,
            opts.seed,
            import_rows,
            &scratch_urls,
            raw_rate,
            is_pg,
        )
        .await?,
    );
    if is_pg {
        for u in &scratch_urls {
            bulk::drop_pg_database(u).await?;
        }
    }
    let users = demo::org::ensure(&db, opts.seed).await?;
    let counts = (
        bulk::count(&db, "customers").await? as u64,
        bulk::count(&db, "contacts").await? as u64,
        bulk::count(&db, "organisations").await? as u64,
        bulk::count(&db, "follow_ups").await? as u64,
    );
    // Planner statistics now, as a database in use has them: the sweep's plan depends on them,
    // and the server does not gather them at start-up while the clients sign in.
    db.analyze().await?;
    settle(&db).await;
    eprintln!("pool fall-back sweep…");
    let (sweep, caught_up) = background::sweep(&opts.exe, &db, &url, counts.0).await?;
    figures.push(sweep);
    notes.extend(caught_up);
    db.close().await;

    eprintln!("starting the server…");
    let server = server::Server::start(&opts.exe, &url)?;
    let base = server.base.clone();
    let pick = |role: &str, dept: &str| {
        users
            .iter()
            .find(|u| u.role == role && (dept.is_empty() || u.department == dept))
            .map(|u| u.username.clone())
            .ok_or_else(|| anyhow::anyhow!("no demo user with role {role}"))
    };
    let sales = login(
        &base,
        "salesperson, own",
        &pick("sales", "")?,
        demo::DEMO_PASSWORD,
    )
    .await?;
    let manager = login(
        &base,
        "manager, dept. and below",
        &pick("sales_manager", "华东销售部")?,
        demo::DEMO_PASSWORD,
    )
    .await?;
    let admin = login(&base, "administrator, all", "admin", BENCH_ADMIN_PASSWORD).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let at_rest = server.memory_mib();
    let watch = server::MemoryWatch::start(server.pid());
    let budget = if opts.smoke {
        Budget {
            time: Duration::from_millis(150),
            max_requests: 2_000,
            warmup: 4,
        }
    } else {
        Budget {
            time: Duration::from_secs(3),
            max_requests: 200_000,
            warmup: 64,
        }
    };
    let s = Scenarios {
        base,
        sales,
        manager,
        admin,
        budget,
        levels: vec![1, 16, 64],
        seed: opts.seed,
    };
    let mut rows = vec![];
    eprintln!("static route…");
    s.static_route(&mut rows).await;
    eprintln!("lists…");
    s.lists(&mut rows).await;
    eprintln!("quick search…");
    s.search(&mut rows).await;
    eprintln!("detail…");
    s.detail(&mut rows).await;
    eprintln!("create and update…");
    let run_id = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    s.writes(&mut rows, &run_id, 16).await;
    let peak = watch.finish().await;
    let hwm = server.memory_mib().map(|m| m.1).unwrap_or(0.0);
    let db = Db::connect(&url).await?;
    let rules = background::rules(&db, &s.base, &s.admin, server.pid(), counts.0).await;
    db.close().await;
    figures.push(rules?);
    server.stop();
    relate_to_static(&mut rows);
    let rss_note = "VmRSS of the `guanxi serve` child process (/proc/PID/status); the load generator is another process";
    if let Some((rss, _)) = at_rest {
        figures.push(Figure::new(
            "server memory at rest (after sign-in)",
            rss,
            "MB",
            rss_note,
            Goal::AtMostMib(150.0),
        ));
    }
    figures.push(Figure::new(
        "server memory under load (peak)",
        peak.max(hwm),
        "MB",
        format!("{rss_note}; the highest of 100 ms samples and VmHWM"),
        Goal::AtMostMib(150.0),
    ));
    notes.extend(context_notes(opts));
    let (cpus, cpu_model, memory_gib) = Context::machine();
    let ctx = Context {
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        commit: Context::commit(),
        cpus,
        cpu_model,
        memory_gib,
        database: if is_pg { format!("PostgreSQL ({})", (opts.redact)(&url)) } else { "SQLite (WAL, synchronous=FULL)".into() },
        customers: counts.0,
        contacts: counts.1,
        organisations: counts.2,
        follow_ups: counts.3,
        mode: if opts.smoke { "smoke (short runs: figures are indicative only)".into() } else { format!("full ({} s per measurement)", budget.time.as_secs()) },
        build: if cfg!(debug_assertions) { "debug (figures are not representative; use --release)".into() } else { "release".into() },
        server: "`guanxi serve` as a child process on 127.0.0.1, clients: reqwest (HTTP/1.1 keep-alive, no gzip) in the harness process".into(),
        notes,
    };
    std::fs::write(&opts.out, report::markdown(&ctx, &rows, &figures))?;
    if let Some(j) = &opts.json {
        std::fs::write(
            j,
            serde_json::to_string_pretty(&report::json(&ctx, &rows, &figures))?,
        )?;
    }
    Ok((rows, figures))
}

/// Lets the writes of the steps before a timed one reach the disk first, so that the kernel's
/// and PostgreSQL's write-back of gigabytes of earlier imports does not run inside the
/// measurement: `sync`, and on PostgreSQL a `CHECKPOINT`. Best effort: a failure only costs
/// the measurement its quiet start.
async fn settle(db: &Db) {
    if let Err(e) = db.checkpoint().await {
        eprintln!("checkpoint before the measurement failed: {e}");
    }
    let synced = tokio::task::spawn_blocking(|| std::process::Command::new("sync").status()).await;
    if !matches!(synced, Ok(Ok(s)) if s.success()) {
        eprintln!("`sync` before the measurement failed");
    }
}

fn context_notes(opts: &BenchOptions) -> Vec<String> {
    let mut n = vec![
        "Both the server and the load generator run on the same CPUs, so throughput includes the \
         clients' own cost; 64 clients on 2 CPUs is saturation, where latency is mostly queueing."
            .to_owned(),
        "The list latency goal (p95 ≤ 20 ms) is held at 1 and 16 clients; the detail page goal \
         (≥ 10,000 req/s) at the highest concurrency."
            .to_owned(),
        "The fall-back sweep runs before the server starts, as `guanxi jobs run pools.sweep --now T` \
         in a child process: T is the moment 1 % of the customers' deadlines have passed (found by \
         bisection over the sweep's own query), so the data set's age does not matter; the figure is \
         the sweep's own time as the command prints it. Before it, the writes of the imports are \
         flushed to disk (`sync`, and a `CHECKPOINT` on PostgreSQL), so that their write-back is not \
         timed as the sweep's. The rule re-evaluation runs last, on the \
         idle server: the harness adds four rules to the database, one change through the API queues \
         the job, and the time runs until the job is done."
            .to_owned(),
        "Imports and exports run as `guanxi import` / `guanxi export` child processes into empty \
         databases of their own, on files of the same generated customers; their time includes \
         reading the file, every check, the change history, the search index and the audit log. \
         Before them, the same customer rows are written raw into a new database of the same kind \
         (the machine floor): what writing them into the customers table costs at least, with its \
         indexes kept up and with them built after the rows."
            .to_owned(),
        "Demo data is generated, not entered: it has no change history.".to_owned(),
    ];
    if opts.smoke {
        n.push("Smoke mode: 5,000 customers and 150 ms per measurement, to keep the harness working in CI.".into());
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--fresh` on PostgreSQL drops an empty Guanxi database, and refuses one without
    /// Guanxi's tables (another application's).
    #[tokio::test]
    async fn fresh_drops_only_a_data_set() {
        let Ok(base) = std::env::var("GUANXI_TEST_DATABASE_URL") else {
            return;
        };
        let server = base.split('?').next().unwrap().rsplit_once('/').unwrap().0;
        let url = |name: &str| format!("{server}/{name}");
        let keep = |s: &str| s.to_owned();

        let other = url("guanxi_fresh_other");
        bulk::drop_pg_database(&other).await.unwrap();
        bulk::ensure_pg_database(&other).await.unwrap();
        let refused = drop_data_set(&other, keep).await.unwrap_err();
        assert!(
            refused.to_string().contains("not a benchmark data set"),
            "{refused}"
        );
        let db = Db::connect(&other).await.expect("still there");
        db.close().await;
        bulk::drop_pg_database(&other).await.unwrap();

        let empty = url("guanxi_fresh_empty");
        bulk::drop_pg_database(&empty).await.unwrap();
        bulk::ensure_pg_database(&empty).await.unwrap();
        let db = Db::connect(&empty).await.unwrap();
        guanxi_store::migrate::run(&db).await.unwrap();
        db.close().await;
        drop_data_set(&empty, keep).await.unwrap();
        assert!(Db::connect(&empty).await.is_err(), "dropped");
    }
}
