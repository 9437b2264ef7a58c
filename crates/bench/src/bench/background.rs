//! Background work at scale. The pool fall-back sweep (回落) over the whole data set with about
//! 1 % of the customers due, run the way an operator runs it: `guanxi jobs run pools.sweep
//! --now …` as a child process, `--now` chosen so that exactly that many are due whatever day
//! the data set was made. And the re-evaluation of every customer by classification and credit
//! rules, run by the server's own job runner after a rule change through the API.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use guanxi_store::{Db, audit, jobs, pools, rules};
use serde_json::{Value, json};

use super::report::{Figure, Goal};
use super::scenarios::User;
use super::server::MemoryWatch;
use super::transfer::run;

/// The goals: the sweep of 1,000,000 customers with 10,000 due, and the
/// re-evaluation of 1,000,000 customers.
const SWEEP_GOAL_SECS: f64 = 2.0;
const REEVALUATION_GOAL_SECS: f64 = 30.0;
/// The rules the harness adds and removes again, found by this prefix of their names.
const RULE_PREFIX: &str = "基准测试：";

/// Customers due at `at`, counting no further than `limit`.
async fn due_count(db: &Db, at: DateTime<Utc>, limit: i64) -> anyhow::Result<i64> {
    Ok(pools::due(db, at, limit).await?.len() as i64)
}

/// The earliest whole second at which `k` owned customers are due (or the last deadline when
/// fewer have one): a bisection over the sweep's own query.
async fn instant_with_due(db: &Db, k: i64) -> anyhow::Result<DateTime<Utc>> {
    let second = |s: i64| Utc.timestamp_opt(s, 0).single().unwrap_or_default();
    let (mut lo, mut hi) = (
        Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
            .unwrap()
            .timestamp(),
        Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0)
            .unwrap()
            .timestamp(),
    );
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if due_count(db, second(mid), k).await? >= k {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(second(hi))
}

/// The summary line of `guanxi jobs run pools.sweep`: (fall-backs, warnings, seconds).
fn sweep_line(out: &str) -> Option<(u64, u64, f64)> {
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with("pools.sweep as of"))?;
    let (_, rest) = line.split_once(": ")?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let fell_back = words.first()?.parse().ok()?;
    let warned = words.get(2)?.parse().ok()?;
    let secs = words.get(5)?.parse().ok()?;
    Some((fell_back, warned, secs))
}

/// The sweep with 1 % of `customers` due, then — unmeasured — the one the clock asks for, so
/// that the server's own sweep (every minute) finds nothing during the request measurements.
/// Returns the figure and a note on the catch-up, if one ran.
pub async fn sweep(
    exe: &Path,
    db: &Db,
    url: &str,
    customers: u64,
) -> anyhow::Result<(Figure, Option<String>)> {
    let k = (customers / 100).max(1) as i64;
    let at = instant_with_due(db, k).await?;
    let due = due_count(db, at, i64::MAX).await?;
    eprintln!("sweeping {due} customers due at {}…", at.to_rfc3339());
    let now = at.to_rfc3339();
    let args = [
        "--database-url",
        url,
        "jobs",
        "run",
        "pools.sweep",
        "--now",
        &now,
    ];
    let (wall, peak, out) = run(exe, &args)?;
    let (moved, warned, secs) =
        sweep_line(&out).ok_or_else(|| anyhow::anyhow!("no summary from the sweep: {out}"))?;
    let figure = Figure::new(
        "pool fall-back sweep, 1 % of the customers due (`guanxi jobs run pools.sweep`)",
        secs,
        "s",
        format!(
            "{moved} customers moved to their pools and {warned} owners warned, over {} customers, \
             as of {now} (`--now`, the moment {k} deadlines have passed): each one taken from its owner, \
             with a change-history line, an ownership event and a notification, up to 20,000 per transaction; \
             {wall:.1} s for the whole command, peak memory {peak:.0} MB",
            super::report::thousands(customers as f64)
        ),
        Goal::AtMost(SWEEP_GOAL_SECS),
    );
    let now = Utc::now();
    let late = due_count(db, now, 1).await? + pools::warnings_due(db, now, 1).await?.len() as i64;
    if late == 0 {
        return Ok((figure, None));
    }
    let (_, _, out) = run(exe, &["--database-url", url, "jobs", "run", "pools.sweep"])?;
    let (moved, warned, secs) = sweep_line(&out).unwrap_or_default();
    let note = format!(
        "Before the server started, a second, unmeasured sweep as of the real time moved {moved} more \
         customers whose deadline had passed since the data set was made, and warned {warned} owners \
         ({secs:.2} s), so that the server's own sweep (every minute) did not run during the request \
         measurements."
    );
    Ok((figure, Some(note)))
}

/// The rules of the measurement: two classification and two credit rules on the follow-ups'
/// score, the industry and the days since the last follow-up.
fn rule_set() -> [(&'static str, &'static str, Value, &'static str); 4] {
    let leaf = |field: &str, op: &str, value: Value| json!({ "all": [{ "field": field, "op": op, "value": value }] });
    [
        (
            "classification",
            "重点客户",
            leaf("score", "gte", json!(30)),
            "a",
        ),
        (
            "classification",
            "制造业客户",
            leaf("industry", "eq", json!("manufacturing")),
            "b",
        ),
        (
            "credit",
            "久未跟进",
            leaf("follow_up_age_days", "gte", json!(60)),
            "2",
        ),
        ("credit", "积极互动", leaf("score", "gte", json!(20)), "4"),
    ]
}

/// Removes the harness's rules (left by an interrupted run too) and adds `add` of them.
async fn set_rules(db: &Db, add: bool) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    for r in rules::list(db, None).await? {
        if r.name.starts_with(RULE_PREFIX) {
            rules::delete(&mut tx, r.id).await?;
        }
    }
    if add {
        for (kind, name, conditions, result) in rule_set() {
            let name = format!("{RULE_PREFIX}{name}");
            let input = rules::RuleInput {
                kind,
                name: &name,
                conditions: &conditions,
                result,
                active: true,
            };
            rules::create(&mut tx, &input).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// One change through the API (the classification rules put in the order they have), which
/// queues `rules.reevaluate`; waits until every re-evaluation queued since is done. Returns
/// (seconds from the request to the end, seconds the last job ran).
async fn reevaluate(db: &Db, base: &str, admin: &User) -> anyhow::Result<(f64, f64)> {
    let before = jobs::recent(db, 1).await?.first().map_or(0, |j| j.id);
    let ids: Vec<i64> = rules::list(db, Some("classification"))
        .await?
        .iter()
        .map(|r| r.id)
        .collect();
    let started = Instant::now();
    let r = admin
        .client
        .post(format!("{base}/api/v1/rules/reorder"))
        .json(&json!({ "kind": "classification", "ids": ids }))
        .send()
        .await?;
    if !r.status().is_success() {
        anyhow::bail!("reordering the rules failed: {}", r.status());
    }
    let deadline = started + Duration::from_secs(3_600);
    loop {
        let ours: Vec<jobs::Job> = jobs::recent(db, 20)
            .await?
            .into_iter()
            .filter(|j| j.id > before && j.kind == "rules.reevaluate")
            .collect();
        if let Some(j) = ours.iter().find(|j| matches!(j.state.as_str(), "failed")) {
            anyhow::bail!("the re-evaluation failed: {:?}", j.last_error);
        }
        if !ours.is_empty() && ours.iter().all(|j| j.state == "done") {
            let secs = started.elapsed().as_secs_f64();
            let ran = ours
                .iter()
                .filter_map(|j| {
                    Some((j.finished_at? - j.started_at?).num_milliseconds() as f64 / 1000.0)
                })
                .sum();
            return Ok((secs, ran));
        }
        if Instant::now() > deadline {
            anyhow::bail!("the re-evaluation did not end within an hour");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How many customers the last re-evaluation changed, from its audit entry.
async fn changed(db: &Db) -> anyhow::Result<Option<i64>> {
    let filter = audit::Filter {
        action: Some("rule.reevaluate".into()),
        limit: 1,
        ..audit::Filter::default()
    };
    Ok(audit::search(db, &filter)
        .await?
        .first()
        .and_then(|e| e.details.as_ref()?.0.get("changed")?.as_i64()))
}

/// Adds the rules, measures the re-evaluation of every customer the server's job runner does,
/// then removes them again (another re-evaluation, timed for the note) so that a reused data
/// set starts the next run without rules. `pid` is the server's, for its memory.
pub async fn rules(
    db: &Db,
    base: &str,
    admin: &User,
    pid: u32,
    customers: u64,
) -> anyhow::Result<Figure> {
    eprintln!("rule re-evaluation…");
    set_rules(db, true).await?;
    let watch = MemoryWatch::start(pid);
    let (secs, ran) = reevaluate(db, base, admin).await?;
    let peak = watch.finish().await;
    let first = changed(db).await?;
    set_rules(db, false).await?;
    let (undo, _) = reevaluate(db, base, admin).await?;
    let count = |c: Option<i64>| c.map_or("?".into(), |c| super::report::thousands(c as f64));
    Ok(Figure::new(
        "rule re-evaluation of all customers (`rules.reevaluate`)",
        secs,
        "s",
        format!(
            "{} customers under 4 rules (2 classification, 2 credit: score, industry, days since the last \
             follow-up), {} of them changed and written with a change-history line; from one rule change \
             through the API (`POST /api/v1/rules/reorder`) until the server's job is done ({ran:.1} s in the \
             job), 2,000 customers per transaction; server peak memory meanwhile {peak:.0} MB. Removing the \
             rules again took {undo:.1} s more ({} changed).",
            super::report::thousands(customers as f64),
            count(first),
            count(changed(db).await?)
        ),
        Goal::AtMost(REEVALUATION_GOAL_SECS),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_sweep_summary() {
        let out = "fell back: customer 1 某公司 (owner 4) → pool 2\n\
                   pools.sweep as of 2026-11-20T08:00:00+00:00: 52 fall-backs, 3 warnings in 0.41 s\n";
        assert_eq!(super::sweep_line(out), Some((52, 3, 0.41)));
        assert_eq!(super::sweep_line("nothing"), None);
    }
}
