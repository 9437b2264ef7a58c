//! `guanxi bench`: the benchmark harness (see `guanxi_bench::bench`).

use std::path::PathBuf;

use clap::Args;
use guanxi_bench::bench::{BenchOptions, run as run_bench};

use super::{DbArgs, FileConfig, redact};

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Customers in the data set [default: 1000000, or 5000 with --smoke].
    #[arg(long)]
    pub customers: Option<u64>,
    /// A few seconds in all (5,000 customers, short measurements): keeps the harness working in CI.
    #[arg(long)]
    pub smoke: bool,
    /// Generate the data set again: the cached SQLite file is replaced, a PostgreSQL database
    /// dropped and created anew.
    #[arg(long)]
    pub fresh: bool,
    /// The Markdown report.
    #[arg(long, default_value = "BENCHMARKS.md")]
    pub out: PathBuf,
    /// The same figures as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Seed of the generated data set.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub async fn run(db_args: &DbArgs, file: &FileConfig, args: BenchArgs) -> anyhow::Result<()> {
    let opts = BenchOptions {
        customers: args
            .customers
            .unwrap_or(if args.smoke { 5_000 } else { 1_000_000 }),
        smoke: args.smoke,
        database_url: db_args
            .database_url
            .clone()
            .or_else(|| file.database_url.clone()),
        data_dir: db_args
            .data_dir
            .clone()
            .or_else(|| file.data_dir.clone())
            .unwrap_or_else(|| "guanxi-data".into()),
        fresh: args.fresh,
        out: args.out,
        json: args.json,
        seed: args.seed,
        exe: std::env::current_exe()?,
        redact,
    };
    let (rows, figures) = run_bench(&opts).await?;
    let misses = rows.iter().filter(|r| r.pass == Some(false)).count()
        + figures.iter().filter(|f| f.pass == Some(false)).count();
    println!(
        "wrote {} ({} request measurements, {} other figures, {misses} missed their goal)",
        opts.out.display(),
        rows.len(),
        figures.len()
    );
    if let Some(j) = &opts.json {
        println!("wrote {}", j.display());
    }
    Ok(())
}
