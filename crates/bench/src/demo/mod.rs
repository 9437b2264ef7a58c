//! `guanxi demo`: a realistic, deterministic data set — a sales organisation of thirty people,
//! customers with Chinese company names, about three contacts each, a group organisation per
//! ten customers, about five follow-ups per customer over the last two years, and public pools
//! holding some customers while the others count down to their fall-back — written through the
//! bulk path (see `guanxi_store::bulk`), not the API.

pub mod activity;
pub mod generate;
pub mod org;
pub mod pools;
mod search_index;
#[cfg(test)]
mod tests;

use std::time::Instant;

use chrono::NaiveDate;
use guanxi_store::bulk::{self, Load};
use guanxi_store::{Db, audit, dictionary, regions};

pub use generate::{Batch, City, Dictionaries, Generator, Start};
pub use org::{DEMO_PASSWORD, DemoUser};

use crate::words::CITIES;

/// Customers generated per batch handed from the generator thread to the loader.
const BATCH: u64 = 2_000;

#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub customers: u64,
    pub seed: u64,
    /// Add to a database that already has customers.
    pub force: bool,
    /// Print progress lines for large runs.
    pub progress: bool,
    /// The day the data is made for (times are counted back and forward from it): today
    /// (UTC) when not given.
    pub today: Option<NaiveDate>,
}

#[derive(Clone, Debug)]
pub struct DemoReport {
    pub users: Vec<DemoUser>,
    pub customers: u64,
    pub contacts: u64,
    pub organisations: u64,
    pub follow_ups: u64,
    /// Behaviours named by the follow-ups (`follow_up_behaviours`).
    pub behaviours: u64,
    pub pools: u64,
    /// Customers in a pool without an owner.
    pub pooled: u64,
    /// Owned customers whose fall-back deadline had passed when the data was made.
    pub due: u64,
    /// Visits planned for the coming week.
    pub appointments: u64,
    /// Rows of the quick-search index (`search_grams`) written for them.
    pub grams: u64,
    /// Seconds for the records (not the users): generation, insert, index build and commit.
    pub secs: f64,
    /// The tables were empty, so their indexes were dropped and built again after the load.
    pub rebuilt_indexes: bool,
}

impl DemoReport {
    pub fn rows(&self) -> u64 {
        self.customers + self.contacts + self.organisations + self.follow_ups + self.behaviours
    }

    pub fn rows_per_sec(&self) -> f64 {
        self.rows() as f64 / self.secs.max(1e-9)
    }
}

/// The cities of the word list with their districts from the `regions` table.
async fn cities(db: &Db) -> anyhow::Result<Vec<City>> {
    let mut out = vec![];
    for (prefix, code4, area_code, territory) in CITIES {
        let city_code = format!("{code4}00");
        let mut districts: Vec<(String, String)> = regions::children(db, Some(&city_code))
            .await?
            .into_iter()
            .filter(|r| r.level == 3)
            .map(|r| (r.code, r.name))
            .collect();
        if districts.is_empty() && regions::get(db, &city_code).await.is_ok() {
            // A city without districts (东莞, 中山): the city itself.
            districts.push((city_code, format!("{prefix}市")));
        }
        out.push(City {
            prefix,
            area_code,
            territory: *territory,
            districts,
        });
    }
    Ok(out)
}

async fn dictionaries(db: &Db) -> anyhow::Result<Dictionaries> {
    let codes = |items: Vec<dictionary::Item>| -> Vec<String> {
        items
            .into_iter()
            .filter(|i| i.active)
            .map(|i| i.code)
            .collect()
    };
    Ok(Dictionaries {
        customer_type: codes(dictionary::list(db, "customer_type").await?),
        customer_source: codes(dictionary::list(db, "customer_source").await?),
        industry: codes(dictionary::list(db, "industry").await?),
        customer_level: codes(dictionary::list(db, "customer_level").await?),
        gender: codes(dictionary::list(db, "gender").await?),
    })
}

fn today(opts_today: Option<NaiveDate>) -> NaiveDate {
    opts_today.unwrap_or_else(|| chrono::Utc::now().date_naive())
}

/// A generator over the demo organisation of `db` (created when missing), with ids from 1, as
/// of today: for producing the same rows elsewhere (the benchmark's raw insert floor, files).
pub async fn generator(db: &Db, seed: u64, n: u64) -> anyhow::Result<Generator> {
    guanxi_store::setup::ensure_builtin_roles(db).await?;
    let users = org::ensure(db, seed).await?;
    let start = Start {
        customer_id: 1,
        contact_id: 1,
        organisation_id: 1,
        follow_up_id: 1,
        ..Start::default()
    };
    let activity = activity::load(db, &users, true, today(None)).await?;
    Generator::new(
        seed,
        n,
        start,
        cities(db).await?,
        &users,
        dictionaries(db).await?,
        activity,
    )
}

/// Fills the database. Refuses one that already has customers unless `force`.
pub async fn run(db: &Db, opts: &DemoOptions) -> anyhow::Result<DemoReport> {
    let before = bulk::count(db, "customers").await?;
    if before > 0 && !opts.force {
        anyhow::bail!(
            "the database already has {before} customers; use --force to add the demo data to them"
        );
    }
    guanxi_store::setup::ensure_builtin_roles(db).await?;
    let users = org::ensure(db, opts.seed).await?;
    let cities = cities(db).await?;
    let dict = dictionaries(db).await?;
    let activity = activity::load(db, &users, before > 0, today(opts.today)).await?;
    let pools = activity.pools.len() as u64;
    // Counted before the load starts: on PostgreSQL its transaction locks the tables.
    let contacts_before = bulk::count(db, "contacts").await? as u64;
    let organisations_before = bulk::count(db, "organisations").await? as u64;
    let started = Instant::now();
    // Into an empty database, every secondary index of these tables is built after the load
    // (on PostgreSQL their foreign keys and unreferenced keys too, `search_grams`' included).
    let tables = [
        "organisations",
        "customers",
        "contacts",
        "follow_ups",
        "follow_up_behaviours",
        "ownership_events",
        "fall_back_warnings",
        "search_grams",
    ];
    let mut load = Load::begin(db, &tables).await?;
    let rebuilt_indexes = load.rebuilds_indexes();
    let start = Start {
        customer_id: load.next_id("customers").await?,
        contact_id: load.next_id("contacts").await?,
        organisation_id: load.next_id("organisations").await?,
        follow_up_id: load.next_id("follow_ups").await?,
        customers_before: before as u64,
        contacts_before,
        organisations_before,
    };
    let n = opts.customers;
    let mut generator = Generator::new(opts.seed, n, start, cities, &users, dict, activity)?;
    if db.backend() == guanxi_store::Backend::Sqlite {
        generator = generator.with_documents();
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(3);
    // Generation runs on its own thread, so it overlaps with the database's work.
    let producer = tokio::task::spawn_blocking(move || {
        let mut from = 0;
        while from < n {
            let to = (from + BATCH).min(n);
            if tx.blocking_send(generator.batch(from, to)).is_err() {
                break;
            }
            from = to;
        }
    });
    let (mut customers, mut contacts, mut organisations, mut grams) = (0u64, 0u64, 0u64, 0u64);
    let mut counts = Counts::default();
    let mut next_report = 100_000;
    let mut failed = None;
    while let Some(b) = rx.recv().await {
        customers += b.customers.len() as u64;
        contacts += b.contacts.len() as u64;
        organisations += b.organisations.len() as u64;
        grams += (b.customer_grams.len() + b.contact_grams.len() + b.organisation_grams.len())
            as u64
            + b.doc_grams;
        counts.add(&b);
        let step = async {
            load.insert(
                "organisations",
                generate::ORGANISATION_COLUMNS,
                b.organisations,
            )
            .await?;
            load.insert("customers", generate::CUSTOMER_COLUMNS, b.customers)
                .await?;
            load.insert("contacts", generate::CONTACT_COLUMNS, b.contacts)
                .await?;
            load.insert_grams("organisations", b.organisation_grams)
                .await?;
            load.insert_grams("customers", b.customer_grams).await?;
            load.insert_grams("contacts", b.contact_grams).await?;
            load.insert_docs("organisations", b.organisation_docs)
                .await?;
            load.insert_docs("customers", b.customer_docs).await?;
            load.insert_docs("contacts", b.contact_docs).await?;
            load.insert("follow_ups", activity::FOLLOW_UP_COLUMNS, b.follow_ups)
                .await?;
            load.insert(
                "follow_up_behaviours",
                activity::BEHAVIOUR_COLUMNS,
                b.behaviours,
            )
            .await?;
            load.insert("ownership_events", activity::EVENT_COLUMNS, b.events)
                .await?;
            load.insert(
                "fall_back_warnings",
                &guanxi_store::pools::WARNING_COLUMNS,
                b.warnings,
            )
            .await
        };
        if let Err(e) = step.await {
            failed = Some(e);
            break;
        }
        if opts.progress && customers >= next_report {
            eprintln!(
                "  {customers} customers, {contacts} contacts, {} follow-ups ({:.0} s)",
                counts.follow_ups,
                started.elapsed().as_secs_f64()
            );
            next_report += 100_000;
        }
    }
    drop(rx);
    producer.await?;
    if let Some(e) = failed {
        load.abort().await?;
        return Err(e.into());
    }
    if opts.progress && rebuilt_indexes {
        eprintln!("  building indexes…");
    }
    load.finish().await?;
    let secs = started.elapsed().as_secs_f64();
    let mut tx = db.begin().await?;
    audit::record(
        &mut tx,
        &audit::Actor::system(),
        audit::Event::new(
            "demo.generate",
            format!(
                "demo data: {customers} customers, {contacts} contacts, {organisations} organisations, \
                 {} follow-ups, {} customers in pools (seed {})",
                counts.follow_ups,
                counts.pooled,
                opts.seed
            ),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(DemoReport {
        users,
        customers,
        contacts,
        organisations,
        follow_ups: counts.follow_ups,
        behaviours: counts.behaviours,
        pools,
        pooled: counts.pooled,
        due: counts.due,
        appointments: counts.appointments,
        grams,
        secs,
        rebuilt_indexes,
    })
}

/// The activity's rows and customers counted over the batches.
#[derive(Default)]
struct Counts {
    follow_ups: u64,
    behaviours: u64,
    pooled: u64,
    due: u64,
    appointments: u64,
}

impl Counts {
    fn add(&mut self, b: &Batch) {
        self.follow_ups += b.follow_ups.len() as u64;
        self.behaviours += b.behaviours.len() as u64;
        self.pooled += b.pooled;
        self.due += b.due;
        self.appointments += b.appointments;
    }
}
