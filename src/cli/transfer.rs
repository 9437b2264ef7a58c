//! `guanxi import`, `guanxi export` and `guanxi jobs list`: the web import's checks and writes
//! and the list export, run in this process for scripts and for files too big to upload.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use guanxi_web::AppState;
use guanxi_web::auth::Auth;
use guanxi_web::services::{export, imports};

use super::{DbArgs, FileConfig};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// customers, contacts or organisations.
    pub module: String,
    /// A CSV (UTF-8, GBK/GB18030 or UTF-16; any delimiter) or XLSX file.
    pub file: PathBuf,
    /// Column to field, e.g. "客户名称=name,电话=phone" (other columns are matched by their labels).
    #[arg(long)]
    pub mapping: Option<String>,
    #[arg(long, default_value = "skip", value_parser = ["skip", "update", "create"])]
    pub on_duplicate: String,
    /// Check every row and report, without writing.
    #[arg(long)]
    pub dry_run: bool,
    /// The XLSX sheet to read (default: the first).
    #[arg(long)]
    pub sheet: Option<String>,
    /// The user the import acts for (default: the first administrator).
    #[arg(long = "as")]
    pub user: Option<String>,
    /// Customers only: put new customers into this public pool (its name or id), with no owner.
    /// The user must manage the pool; not together with an owner column.
    #[arg(long)]
    pub pool: Option<String>,
    /// Where to write the rows that fail (default: FILE.errors.xlsx next to the file).
    #[arg(long)]
    pub errors: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    pub module: String,
    /// A list filter as in the API, e.g. --filter f.industry.eq=manufacturing (repeatable).
    #[arg(long)]
    pub filter: Vec<String>,
    /// Field codes to export, comma-separated, `owner` and `updated_at` among them (default: every visible field and the owner)
    #[arg(long)]
    pub columns: Option<String>,
    #[arg(long, value_parser = ["csv", "xlsx"])]
    pub format: String,
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// The user the export acts for, whose data scope applies (default: the first administrator).
    #[arg(long = "as")]
    pub user: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// The most recent jobs: kind, state, attempts, times, last error.
    List,
    /// Run a job once in this process and print what it did (pools.sweep, pools.refresh, rules.reevaluate).
    Run {
        job: String,
        /// Run as if the clock said this RFC 3339 time (pools.sweep).
        #[arg(long)]
        now: Option<String>,
        /// Report what the job would do without doing it (pools.sweep).
        #[arg(long)]
        dry_run: bool,
    },
}

async fn state_and_auth(
    db_args: &DbArgs,
    file: &FileConfig,
    user: Option<&str>,
) -> anyhow::Result<(AppState, Auth)> {
    let db = db_args.open(file).await?;
    let users = guanxi_store::users::list_all(&db).await?;
    let id = match user {
        Some(name) => users
            .iter()
            .find(|u| u.username == name && u.is_active)
            .map(|u| u.id)
            .with_context(|| format!("no active user {name}"))?,
        None => users
            .iter()
            .find(|u| u.is_active && u.username == "admin")
            .or_else(|| users.iter().find(|u| u.is_active))
            .map(|u| u.id)
            .context("no active user: start `guanxi serve` once to create the administrator")?,
    };
    let config = guanxi_web::WebConfig {
        data_dir: db_args.data_dir(file),
        ..guanxi_web::WebConfig::default()
    };
    let state = AppState::new(db, config);
    let auth = guanxi_web::jobs::acting_for(&state, id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((state, auth))
}

fn app_error(auth: &Auth, e: guanxi_web::AppError) -> anyhow::Error {
    let fields = e.fields(auth.locale);
    let detail: Vec<String> = fields
        .into_iter()
        .map(|(f, m)| format!("{f}: {m}"))
        .collect();
    // The operator at the shell sees what went wrong inside, which a web page never shows.
    let cause = match &e {
        guanxi_web::AppError::Internal(inner) => format!(" ({inner:#})"),
        _ => String::new(),
    };
    anyhow::anyhow!("{} {}{cause}", e.message(auth.locale), detail.join("; "))
}

/// Applies "header=field" pairs over the guessed mapping.
fn apply_mapping(
    imp: &guanxi_store::imports::Import,
    spec: Option<&str>,
) -> anyhow::Result<Vec<Option<String>>> {
    let mut mapping = imp
        .mapping
        .clone()
        .unwrap_or_else(|| vec![None; imp.headers.len()]);
    for pair in spec
        .unwrap_or_default()
        .split([',', ';'])
        .filter(|p| !p.trim().is_empty())
    {
        let (h, f) = pair
            .split_once('=')
            .with_context(|| format!("--mapping: expected HEADER=field, got {pair}"))?;
        let i = imp
            .headers
            .iter()
            .position(|x| x.trim() == h.trim())
            .with_context(|| format!("--mapping: the file has no column {h}"))?;
        let f = f.trim();
        mapping[i] = (!f.is_empty() && f != "-").then(|| f.to_owned());
    }
    Ok(mapping)
}

/// The id of the pool named by `--pool`: its exact name first, then its id.
async fn pool_named(state: &AppState, name_or_id: &str) -> anyhow::Result<i64> {
    let pools = guanxi_store::pools::list(&state.db).await?;
    let wanted = name_or_id.trim();
    pools
        .iter()
        .find(|p| p.name == wanted)
        .or_else(|| {
            let id: i64 = wanted.parse().ok()?;
            pools.iter().find(|p| p.id == id)
        })
        .map(|p| p.id)
        .with_context(|| format!("--pool: no pool named {wanted}"))
}

/// A bar following the import's counters in the database while `work` runs.
async fn with_progress<F, T>(state: &AppState, id: i64, label: &str, work: F) -> T
where
    F: std::future::Future<Output = T>,
{
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} rows {per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(label.to_owned());
    let db = state.db.clone();
    let b = bar.clone();
    let ticker = tokio::spawn(async move {
        loop {
            if let Ok(i) = guanxi_store::imports::get(&db, id).await {
                b.set_length(i.total_rows.max(i.position) as u64);
                b.set_position(if label_is_check(&i.state) {
                    i.total_rows
                } else {
                    i.position
                } as u64);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let out = work.await;
    ticker.abort();
    bar.finish_and_clear();
    out
}

fn label_is_check(state: &str) -> bool {
    matches!(state, "validating" | "validated")
}

pub async fn import(db_args: &DbArgs, file: &FileConfig, args: ImportArgs) -> anyhow::Result<()> {
    let (state, auth) = state_and_auth(db_args, file, args.user.as_deref()).await?;
    let started = Instant::now();
    let copy = imports::new_upload_path(&state, &auth)
        .await
        .map_err(|e| app_error(&auth, e))?;
    std::fs::copy(&args.file, &copy)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let imp = imports::upload(&state, &auth, &args.module, &name, copy, args.sheet.clone())
        .await
        .map_err(|e| app_error(&auth, e))?;
    let mapping = apply_mapping(&imp, args.mapping.as_deref())?;
    for (h, m) in imp.headers.iter().zip(&mapping) {
        println!("  {h} → {}", m.as_deref().unwrap_or("(ignored)"));
    }
    let pool = match args.pool.as_deref() {
        Some(p) => Some(pool_named(&state, p).await?),
        None => None,
    };
    imports::set_mapping(&state, &auth, imp.id, &mapping, &args.on_duplicate, pool)
        .await
        .map_err(|e| app_error(&auth, e))?;
    let done = if args.dry_run {
        with_progress(
            &state,
            imp.id,
            "checking",
            imports::run::check(&state, &auth, imp.id, None),
        )
        .await
    } else {
        with_progress(
            &state,
            imp.id,
            "importing",
            imports::run::write(&state, &auth, imp.id, None),
        )
        .await
    }
    .map_err(|e| app_error(&auth, e))?;
    let secs = started.elapsed().as_secs_f64();
    if let Some(why) = imports::message(&done, auth.locale) {
        bail!("{why}");
    }
    if args.dry_run {
        println!(
            "import {}: {} rows checked in {secs:.1} s ({:.0} rows/s): {} would be new or changed, {} match existing records, {} fail",
            done.id,
            done.total_rows,
            done.total_rows as f64 / secs,
            done.total_rows - done.duplicate_rows - done.error_rows,
            done.duplicate_rows,
            done.error_rows
        );
    } else {
        println!(
            "import {}: {} rows in {secs:.1} s ({:.0} rows/s): {} created, {} updated, {} skipped, {} failed",
            done.id,
            done.position,
            done.position as f64 / secs,
            done.created_rows,
            done.updated_rows,
            done.skipped_rows,
            done.error_rows
        );
    }
    if done.error_rows > 0 {
        let path = args.errors.unwrap_or_else(|| {
            let mut p = args.file.clone().into_os_string();
            p.push(".errors.xlsx");
            p.into()
        });
        let (_, bytes) = imports::error_file(&state, &auth, done.id)
            .await
            .map_err(|e| app_error(&auth, e))?;
        std::fs::write(&path, bytes)?;
        state.db.close().await;
        bail!(
            "{} rows failed; they are in {} with the reasons",
            done.error_rows,
            path.display()
        );
    }
    state.db.close().await;
    Ok(())
}

/// The `--filter` arguments as the list's query pairs. Unlike a query string, where other
/// parameters may ride along, every one must be a list parameter: one the list does not know
/// would otherwise be dropped, and the whole module exported.
fn filter_pairs(filters: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    filters
        .iter()
        .map(|f| {
            let (k, v) = f.split_once('=').unwrap_or((f.as_str(), ""));
            let known = matches!(k, "q" | "sort" | "order" | "match")
                || k.strip_prefix("f.").is_some_and(|c| !c.is_empty());
            if !known {
                bail!(
                    "--filter {f}: not a list filter; give f.FIELD.OP=VALUE (e.g. f.industry.eq=manufacturing), \
                     q=TEXT, sort=FIELD, order=asc|desc or match=any"
                );
            }
            Ok((k.to_owned(), v.to_owned()))
        })
        .collect()
}

pub async fn export(db_args: &DbArgs, file: &FileConfig, args: ExportArgs) -> anyhow::Result<()> {
    let (state, auth) = state_and_auth(db_args, file, args.user.as_deref()).await?;
    let def =
        guanxi_web::services::records::module(&args.module).map_err(|e| app_error(&auth, e))?;
    let fs = guanxi_web::services::records::fields(&state, def)
        .await
        .map_err(|e| app_error(&auth, e))?;
    let pairs = filter_pairs(&args.filter)?;
    let q = guanxi_web::api::records::list_query(&fs, &pairs, &auth.principal.time_zone)
        .map_err(|e| app_error(&auth, e))?;
    let format = export::Format::parse(&args.format).context("--format csv or xlsx")?;
    let columns: Option<Vec<String>> = args
        .columns
        .map(|c| c.split(',').map(|s| s.trim().to_owned()).collect());
    let started = Instant::now();
    let ex = export::start(&state, &auth, def, q, columns.as_deref(), format)
        .await
        .map_err(|e| app_error(&auth, e))?;
    let n = export::to_file(ex, format, &args.output)
        .await
        .map_err(|e| app_error(&auth, e))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{n} rows written to {} in {secs:.1} s ({:.0} rows/s)",
        args.output.display(),
        n as f64 / secs.max(1e-9)
    );
    state.db.close().await;
    Ok(())
}

pub async fn jobs(db_args: &DbArgs, file: &FileConfig, cmd: JobsCommand) -> anyhow::Result<()> {
    if let JobsCommand::Run { job, now, dry_run } = cmd {
        return run_job(db_args, file, &job, now.as_deref(), dry_run).await;
    }
    let db = db_args.open(file).await?;
    match cmd {
        JobsCommand::Run { .. } => {}
        JobsCommand::List => {
            println!(
                "{:>6}  {:<14} {:<10} {:>8}  {:<25} {:<25} last error",
                "id", "kind", "state", "attempts", "run at", "finished"
            );
            for j in guanxi_store::jobs::recent(&db, 50).await? {
                println!(
                    "{:>6}  {:<14} {:<10} {:>8}  {:<25} {:<25} {}",
                    j.id,
                    j.kind,
                    j.state,
                    j.attempts,
                    j.run_at.to_rfc3339(),
                    j.finished_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    j.last_error.unwrap_or_default()
                );
            }
        }
    }
    db.close().await;
    Ok(())
}

async fn run_job(
    db_args: &DbArgs,
    file: &FileConfig,
    job: &str,
    now: Option<&str>,
    dry_run: bool,
) -> anyhow::Result<()> {
    let db = db_args.open(file).await?;
    let config = guanxi_web::WebConfig {
        data_dir: db_args.data_dir(file),
        ..guanxi_web::WebConfig::default()
    };
    let state = AppState::new(db, config);
    let now = match now {
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .with_context(|| {
                format!("--now {t}: expected an RFC 3339 time like 2026-12-01T09:00:00+08:00")
            })?
            .with_timezone(&chrono::Utc),
        None => chrono::Utc::now(),
    };
    let started = Instant::now();
    match job {
        "pools.sweep" => {
            let r = guanxi_web::services::sweep::sweep(&state, now, dry_run)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let verb = if dry_run {
                "would fall back"
            } else {
                "fell back"
            };
            for (id, name, owner, pool) in &r.fell_back {
                println!("{verb}: customer {id} {name} (owner {owner}) → pool {pool}");
            }
            let verb = if dry_run { "would warn" } else { "warned" };
            for (id, name, owner, at) in &r.warned {
                println!(
                    "{verb}: owner {owner} of customer {id} {name}, falls back {}",
                    at.to_rfc3339()
                );
            }
            println!(
                "pools.sweep as of {}: {} fall-backs, {} warnings in {:.2} s{}",
                now.to_rfc3339(),
                r.fell_back.len(),
                r.warned.len(),
                started.elapsed().as_secs_f64(),
                if dry_run {
                    " (dry run: nothing changed)"
                } else {
                    ""
                }
            );
        }
        "pools.refresh" => {
            let n = guanxi_web::services::sweep::refresh_all(&state)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "pools.refresh: {n} deadlines recomputed in {:.2} s",
                started.elapsed().as_secs_f64()
            );
        }
        "rules.reevaluate" => {
            let n = guanxi_web::services::rules::reevaluate_all(&state, None, None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "rules.reevaluate: {n} customers changed in {:.2} s",
                started.elapsed().as_secs_f64()
            );
        }
        other => bail!("unknown job {other}: pools.sweep, pools.refresh or rules.reevaluate"),
    }
    state.db.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::filter_pairs;

    #[test]
    fn filters_the_list_does_not_know_are_refused() {
        let ok = filter_pairs(&[
            "f.industry.eq=manufacturing".into(),
            "q=张".into(),
            "sort=name".into(),
            "order=desc".into(),
            "match=any".into(),
            "f.industry=manufacturing".into(),
        ])
        .unwrap();
        assert_eq!(ok[0], ("f.industry.eq".into(), "manufacturing".into()));
        assert_eq!(ok.len(), 6);
        for bad in ["industry.eq=finance", "garbage", "foo=bar", "f.=x"] {
            let e = filter_pairs(&[bad.into()]).unwrap_err().to_string();
            assert!(e.contains(bad) && e.contains("f.FIELD.OP=VALUE"), "{e}");
        }
    }
}
