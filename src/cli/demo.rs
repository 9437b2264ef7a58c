//! `guanxi demo`: fills the database with a realistic, deterministic demo data set.

use clap::Args;
use guanxi_bench::demo::{self, DEMO_PASSWORD, DemoOptions};

use super::{AdminPassword, DbArgs, FileConfig, redact};

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Customers to generate (each with about 3 contacts; one organisation per 10 customers).
    #[arg(long, default_value_t = 2_000)]
    pub customers: u64,
    /// The same seed gives the same data, on SQLite and on PostgreSQL.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Add the demo data to a database that already has customers.
    #[arg(long)]
    pub force: bool,
    /// The day the data is made for, YYYY-MM-DD (follow-ups before it, deadlines and visits
    /// after it) [default: today, UTC]: the same seed and day give the same data.
    #[arg(long)]
    pub today: Option<chrono::NaiveDate>,
    #[command(flatten)]
    pub admin: AdminPassword,
}

pub async fn run(db_args: &DbArgs, file: &FileConfig, args: DemoArgs) -> anyhow::Result<()> {
    let db = db_args.open(file).await?;
    // Created first, so the demo users do not stop the first start from making an administrator,
    // and with the password `serve` would take, so filling the database first changes nothing.
    let admin = args.admin.ensure(&db).await?;
    let opts = DemoOptions {
        customers: args.customers,
        seed: args.seed,
        force: args.force,
        progress: args.customers >= 200_000,
        today: args.today,
    };
    let result = demo::run(&db, &opts).await;
    db.close().await;
    let r = result?;
    println!("Demo data written to {}", redact(&db_args.url(file)));
    let departments = {
        let mut d: Vec<&str> = r.users.iter().map(|u| u.department).collect();
        d.dedup();
        d.len()
    };
    println!(
        "{} users in {departments} departments, all with the password {DEMO_PASSWORD} (shown only now):",
        r.users.len()
    );
    // Chinese characters take two columns in a terminal.
    let pad = |s: &str, width: usize| {
        let w: usize = s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
        format!("{s}{}", " ".repeat(width.saturating_sub(w)))
    };
    for u in &r.users {
        println!(
            "  {}{}{}{}",
            pad(&u.username, 16),
            pad(&u.display_name, 8),
            pad(u.department, 12),
            u.role
        );
    }
    println!(
        "{} customers, {} contacts, {} organisations, {} follow-ups naming {} behaviours (+ {} quick-search index rows) in {:.1} s ({:.0} rows/s{})",
        r.customers,
        r.contacts,
        r.organisations,
        r.follow_ups,
        r.behaviours,
        r.grams,
        r.secs,
        r.rows_per_sec(),
        if r.rebuilt_indexes {
            ", indexes built after the load"
        } else {
            ""
        }
    );
    println!(
        "{} public pools: {} customers in them without an owner, {} due to fall back now, {} visits planned for the coming week",
        r.pools, r.pooled, r.due, r.appointments
    );
    println!("Demo data is generated, not entered: no change history.");
    for line in admin {
        println!("{line}");
    }
    Ok(())
}
