//! The benchmark harness end to end in its smoke mode: data set, real server, every
//! measurement, the Markdown table and the JSON — on SQLite, and on PostgreSQL when
//! `GUANXI_TEST_DATABASE_URL` names a server.

use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{DropDatabase, pg_database};

/// One smoke run at a time: two at once on two CPUs would measure each other.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn smoke(dir: &std::path::Path, database_url: Option<&str>) {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let out = dir.join("BENCHMARKS.md");
    let json = dir.join("bench.json");
    let started = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guanxi"));
    cmd.arg("--data-dir")
        .arg(dir)
        .args(["bench", "--smoke", "--out"])
        .arg(&out)
        .arg("--json")
        .arg(&json)
        .env("GUANXI_LOG", "warn")
        .env_remove("GUANXI_DATABASE_URL")
        .env_remove("GUANXI_CONFIG");
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    let result = cmd.output().unwrap();
    let took = started.elapsed();
    assert!(
        result.status.success(),
        "bench --smoke failed:\n{}\n{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    // A debug build on 2 shared cores: generous, but it must still end.
    assert!(took < Duration::from_secs(240), "smoke mode took {took:?}");
    let md = std::fs::read_to_string(&out).unwrap();
    for want in [
        "# Guanxi benchmarks",
        "| measurement | user | clients |",
        "list API",
        "list page (HTML)",
        "quick search",
        "pinyin initials",
        "detail page (HTML)",
        "create (POST)",
        "update (PATCH with version)",
        "GET /assets/app.css",
        "raw insert of the same customers, indexes in place (machine floor)",
        "raw insert of the same customers, indexes built after (machine floor)",
        "% of the raw insert rate above",
        "server memory under load",
        "demo data generation",
        "follow-ups",
        "pool fall-back sweep",
        "rule re-evaluation",
    ] {
        assert!(md.contains(want), "{want} missing from the report:\n{md}");
    }
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let requests = v["requests"].as_array().unwrap();
    assert!(
        requests.len() >= 40,
        "{} request measurements",
        requests.len()
    );
    for r in requests {
        assert_eq!(r["errors"], 0, "errors in {r}");
        assert!(r["requests"].as_u64().unwrap() > 0, "no request in {r}");
    }
    assert!(v["context"]["customers"].as_u64().unwrap() >= 5_000);
    assert!(v["context"]["follow_ups"].as_u64().unwrap() >= 20_000);
    // The background jobs' figures: measured, held against their goals.
    for name in ["pool fall-back sweep", "rule re-evaluation"] {
        let f = v["figures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"].as_str().unwrap().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} figure"));
        assert!(f["value"].as_f64().unwrap() > 0.0, "{f}");
        assert!(f["pass"].is_boolean(), "{f}");
    }
    // The import's floor: both raw writes of the same 5,000 customers, measured, without a goal
    // of their own, on the database measured.
    let floors: Vec<&serde_json::Value> = v["figures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["name"].as_str().unwrap().ends_with("(machine floor)"))
        .collect();
    assert_eq!(floors.len(), 2, "{floors:?}");
    let engine = if database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    for f in floors {
        assert!(f["value"].as_f64().unwrap() > 0.0, "{f}");
        assert!(f["pass"].is_null(), "{f}");
        let note = f["note"].as_str().unwrap();
        assert!(note.starts_with("5000 generated customer rows"), "{f}");
        assert!(note.contains(&format!("a new {engine} database")), "{f}");
    }
}

#[test]
fn smoke_mode_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    smoke(dir.path(), None);
}

#[test]
fn smoke_mode_on_postgres() {
    let Some(url) = pg_database("bench_smoke") else {
        return;
    };
    let _drop = DropDatabase(url.clone());
    let dir = tempfile::tempdir().unwrap();
    smoke(dir.path(), Some(&url));
}
