//! A customer's activity: its follow-ups (跟进记录) since it came in, the behaviours they name
//! with their points, a few visits planned for the coming days, and where it stands with its
//! pool (公海) — owned, with the fall-back deadline the store's own rule gives
//! (`guanxi_store::pools::deadline`), or back in the pool after a fall-back or a release, with
//! its ownership timeline. The columns the app keeps in step on every write (score, last
//! follow-up, deadline, warning) are computed here once, not by the per-record functions.
//!
//! Times are counted in days from `today` (midnight UTC of the day the data is made for):
//! follow-ups fall in working hours (09:00–18:00 in China) on days before it.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use guanxi_store::bulk::{self, Val};
use guanxi_store::pools::{self, Pool, Standing};
use guanxi_store::{Db, departments, dictionary, follow_ups};

use super::generate::Batch;
use super::org::DemoUser;
use crate::rng::Rng;
use crate::words::{FOLLOW_UP_NEXT, FOLLOW_UP_NOTES};

pub const FOLLOW_UP_COLUMNS: &[&str] = &[
    "id",
    "owner_id",
    "department_id",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
    "customer_id",
    "contact_id",
    "kind",
    "at",
    "content",
    "next_visit_at",
    "next_visit_done",
    "custom",
];

pub const BEHAVIOUR_COLUMNS: &[&str] =
    &["follow_up_id", "customer_id", "behaviour", "points", "at"];

pub const EVENT_COLUMNS: &[&str] = &guanxi_store::pools::EVENT_COLUMNS;

/// Customers sitting in a pool without an owner, in percent.
const POOLED_PERCENT: u64 = 7;
/// Of those, the ones that fell back (the others were released by their owner), in percent.
const FELL_BACK_PERCENT: u64 = 60;
/// Owned customers whose deadline passed a day or more ago, in per mille: the sweep's work.
const DUE_PER_MILLE: u64 = 10;
/// Owned customers with a visit planned in the coming week, in percent.
const APPOINTMENT_PERCENT: u64 = 5;
/// Earlier follow-ups that planned a visit (since made), in percent.
const PAST_VISIT_PERCENT: u64 = 10;
/// Working hours in UTC: 01:00–10:00 is 09:00–18:00 in China.
const WORK_START_SECS: i64 = 3_600;
const WORK_SECS: u64 = 9 * 3_600;
const DAY_SECS: i64 = 86_400;

/// The `behaviour` list the migrations install, with its points: put back when the list is
/// empty, and the points of any of these codes that has none.
const DEFAULT_BEHAVIOURS: &[(&str, &str, &str, i64)] = &[
    (
        "no_answer",
        "客户不接电话",
        "Does not answer the phone",
        -10,
    ),
    ("budget_ok", "客户预算充足", "Has the budget", 20),
    ("asked_quote", "客户主动询价", "Asked for a quote", 15),
    ("visited", "客户来访", "Visited us", 10),
    ("complained", "客户投诉", "Complained", -15),
];

/// What the activity reads from the database once.
#[derive(Clone, Debug, Default)]
pub struct Activity {
    /// Midnight (UTC) of the day the data is made for.
    pub today: DateTime<Utc>,
    /// When the data is made: the customers due then are counted.
    pub now: DateTime<Utc>,
    /// `follow_up_type` codes.
    pub kinds: Vec<String>,
    /// `behaviour` codes with their points.
    pub behaviours: Vec<(String, i64)>,
    /// `release_reason` codes.
    pub reasons: Vec<String>,
    pub pools: Vec<Pool>,
    /// Each user's department path (`/1/2/`), for finding their pool.
    pub paths: HashMap<i64, String>,
}

/// The customer whose activity is made.
pub struct Customer<'a> {
    pub id: i64,
    /// Its index among all generated customers (its random stream).
    pub index: u64,
    pub owner: &'a DemoUser,
    pub created: DateTime<Utc>,
    pub customer_type: Option<&'a str>,
    /// Its contacts (id, name), the primary one first.
    pub contacts: &'a [(i64, String)],
}

/// The customer's columns that its activity decides.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// In a pool without an owner since then.
    pub released_at: Option<DateTime<Utc>>,
    pub pool_id: Option<i64>,
    pub score: i64,
    pub last_follow_up_at: Option<DateTime<Utc>>,
    pub fall_back_at: Option<DateTime<Utc>>,
    pub warn_at: Option<DateTime<Utc>>,
    pub appointment: bool,
}

/// Midnight UTC of a date.
pub fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// A day in `lo..=hi` (days from today), when there is one.
fn day_in(r: &mut Rng, lo: i64, hi: i64) -> Option<i64> {
    (lo <= hi).then(|| lo + r.below((hi - lo + 1) as u64) as i64)
}

impl Activity {
    /// A working-hours time on day `d` (days from today).
    fn at_work(&self, r: &mut Rng, d: i64) -> DateTime<Utc> {
        self.today + Duration::seconds(d * DAY_SECS + WORK_START_SECS + r.below(WORK_SECS) as i64)
    }

    fn pool_of(&self, owner: i64) -> Option<&Pool> {
        let path = self.paths.get(&owner).map_or("", String::as_str);
        pools::pool_for(&self.pools, owner, path)
    }

    /// The behaviour a note shows, with its points: the note's own when the list has it,
    /// otherwise one of the list.
    fn behaviour(&self, r: &mut Rng, code: Option<&str>) -> Option<(String, i64)> {
        let code = code?;
        match self.behaviours.iter().find(|(c, _)| c == code) {
            Some(b) => Some(b.clone()),
            None if !self.behaviours.is_empty() => Some(r.pick(&self.behaviours).clone()),
            None => None,
        }
    }

    /// The follow-ups, behaviours and ownership events of one customer, appended to `b`
    /// (follow-up ids from `next_id` on), and the customer's columns they decide.
    pub fn customer(&self, seed: u64, c: &Customer, next_id: &mut i64, b: &mut Batch) -> Outcome {
        let mut r = Rng::for_item(seed, 13, c.index);
        // The first whole day after the customer came in, and its pool's rule.
        let first = (c.created - self.today).num_seconds().div_euclid(DAY_SECS) + 1;
        let pool = self.pool_of(c.owner.id);
        let days = pool.and_then(|p| p.fall_back_days);
        let mut out = Outcome::default();
        // (day of the last follow-up, when it left its owner, fell back rather than released)
        let mut plan = None;
        if let Some(p) = pool.filter(|_| r.chance(POOLED_PERCENT)) {
            if let (Some(d), true) = (days, r.chance(FELL_BACK_PERCENT)) {
                // No follow-up for the pool's days: the sweep took it then.
                plan = day_in(&mut r, first.max(-365 - d), -(d + 1)).map(|l| (Some(l), None, true));
            } else if let Some(gone) = day_in(&mut r, (first + 1).max(-365), -1) {
                let last = day_in(&mut r, first.max(gone - 20), gone - 1);
                plan = Some((last, Some(self.at_work(&mut r, gone)), false));
            }
            if plan.is_some() {
                out.pool_id = Some(p.id);
            }
        }
        let plan = plan.unwrap_or_else(|| {
            let last = match days {
                Some(d) if r.below(1000) < DUE_PER_MILLE && -(d + 3) >= first => {
                    Some(-(d + 1 + r.below(3) as i64))
                }
                // A deadline in the coming `d` days, or any day for a customer newer than that.
                Some(d) => day_in(&mut r, (-d).max(first), -1),
                None => day_in(&mut r, first.max(-60), -1),
            };
            (last, None, false)
        });
        let (last_day, gone, fell_back) = plan;
        let mut times = vec![];
        if let Some(last) = last_day {
            let n = 2 + r.weighted(&[10, 15, 20, 20, 15, 10, 5, 5]);
            times.push(self.at_work(&mut r, last));
            for _ in 1..n {
                let d = day_in(&mut r, first, last).unwrap_or(last);
                times.push(self.at_work(&mut r, d));
            }
            times.sort_unstable();
        }
        let last = times.last().copied();
        let owned = out.pool_id.is_none();
        for (k, at) in times.iter().enumerate() {
            let id = *next_id;
            *next_id += 1;
            let (kind, note, shows) = *r.pick(FOLLOW_UP_NOTES);
            let who = match c.contacts {
                [] => None,
                [first, ..] if r.chance(60) => Some(first),
                all => r.chance(50).then(|| r.pick(all)),
            };
            let content = format!(
                "{}，{}。",
                note.replace("{c}", who.map_or("客户负责人", |w| w.1.as_str())),
                r.pick(FOLLOW_UP_NEXT)
            );
            let kind = if self.kinds.iter().any(|k| k == kind) {
                Val::Text(kind.to_owned())
            } else if self.kinds.is_empty() {
                Val::Null
            } else {
                Val::Text(r.pick(&self.kinds).clone())
            };
            let (visit, done) = if k + 1 == times.len() && owned && r.chance(APPOINTMENT_PERCENT) {
                out.appointment = true;
                let d = r.below(7) as i64;
                (Some(self.at_work(&mut r, d)), false)
            } else if r.chance(PAST_VISIT_PERCENT) {
                let t = *at + Duration::days(1 + r.below(14) as i64);
                ((t < self.today).then_some(t), true)
            } else {
                (None, false)
            };
            let behaviour = self.behaviour(&mut r, shows);
            let custom = behaviour.as_ref().map_or(Val::Null, |(code, points)| {
                out.score += points;
                b.behaviours.push(vec![
                    Val::Int(id),
                    Val::Int(c.id),
                    Val::Text(code.clone()),
                    Val::Int(*points),
                    Val::Time(*at),
                ]);
                Val::Text(serde_json::json!({ "behaviours": [code] }).to_string())
            });
            let entered = *at + Duration::seconds(r.below(1_800) as i64);
            b.follow_ups.push(vec![
                Val::Int(id),
                Val::Int(c.owner.id),
                Val::Int(c.owner.department_id),
                Val::Int(c.owner.id),
                Val::Time(entered),
                Val::Int(c.owner.id),
                Val::Time(entered),
                Val::Int(c.id),
                who.map_or(Val::Null, |w| Val::Int(w.0)),
                kind,
                Val::Time(*at),
                Val::Text(content),
                visit.map_or(Val::Null, Val::Time),
                if visit.is_some() {
                    Val::Bool(done)
                } else {
                    Val::Null
                },
                custom,
            ]);
        }
        out.last_follow_up_at = last;
        if let Some(pool_id) = out.pool_id {
            let at = match (gone, last) {
                (Some(t), _) => t,
                // The sweep runs every minute: the deadline, give or take a minute.
                (None, Some(l)) => {
                    l + Duration::days(days.unwrap_or(0)) + Duration::seconds(r.below(60) as i64)
                }
                (None, None) => self.today,
            };
            out.released_at = Some(at);
            self.events(&mut r, c, pool_id, at, fell_back, b);
            return out;
        }
        let standing = Standing {
            id: c.id,
            name: String::new(),
            owner_id: Some(c.owner.id),
            department_path: self.paths.get(&c.owner.id).cloned(),
            locked: false,
            deleted: false,
            customer_type: c.customer_type.map(str::to_owned),
            credit_level: None,
            created_at: c.created,
            owned_at: None,
            last_follow_up_at: last,
            last_deal_at: None,
            pool_id: None,
        };
        let (at, warn) = pools::deadline(&self.pools, &standing);
        out.fall_back_at = at;
        // A warning whose time has passed was given by an earlier sweep, which cleared it.
        out.warn_at = warn.filter(|w| *w > self.today);
        out
    }

    /// A pool customer's timeline: created for its owner, then fallen back or released.
    fn events(
        &self,
        r: &mut Rng,
        c: &Customer,
        pool_id: i64,
        at: DateTime<Utc>,
        fell_back: bool,
        b: &mut Batch,
    ) {
        let owner = Val::Int(c.owner.id);
        b.events.push(vec![
            Val::Int(c.id),
            Val::Time(c.created),
            Val::Text("create".into()),
            Val::Null,
            owner.clone(),
            Val::Null,
            Val::Null,
            owner.clone(),
        ]);
        let (event, reason, by) = if fell_back {
            ("fall_back", Val::Null, Val::Null)
        } else {
            let reason = if self.reasons.is_empty() {
                Val::Null
            } else {
                Val::Text(r.pick(&self.reasons).clone())
            };
            ("release", reason, owner.clone())
        };
        b.events.push(vec![
            Val::Int(c.id),
            Val::Time(at),
            Val::Text(event.into()),
            owner,
            Val::Null,
            Val::Int(pool_id),
            reason,
            by,
        ]);
    }
}

/// Reads what the activity needs (and makes the pools) for data as of `today`.
pub async fn load(
    db: &Db,
    users: &[DemoUser],
    had_customers: bool,
    today: NaiveDate,
) -> anyhow::Result<Activity> {
    let pools = super::pools::ensure(db, users, had_customers).await?;
    let depts: HashMap<i64, String> = departments::list(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.path))
        .collect();
    let paths = users
        .iter()
        .map(|u| {
            let path = depts.get(&u.department_id).cloned().unwrap_or_default();
            (u.id, path)
        })
        .collect();
    let codes = |items: Vec<dictionary::Item>| -> Vec<String> {
        items
            .into_iter()
            .filter(|i| i.active)
            .map(|i| i.code)
            .collect()
    };
    Ok(Activity {
        today: midnight(today),
        now: Utc::now(),
        kinds: codes(dictionary::list(db, "follow_up_type").await?),
        behaviours: behaviours(db).await?,
        reasons: codes(dictionary::list(db, "release_reason").await?),
        pools,
        paths,
    })
}

/// The active behaviours with their points (none: 0, as a follow-up's save counts them). An
/// empty list gets the installed one back, and those of its codes without points get theirs.
async fn behaviours(db: &Db) -> anyhow::Result<Vec<(String, i64)>> {
    let items = dictionary::list(db, "behaviour").await?;
    let mut tx = db.begin().await?;
    let codes: Vec<String> = if items.is_empty() {
        for (i, (code, zh, en, _)) in DEFAULT_BEHAVIOURS.iter().enumerate() {
            let item = dictionary::ItemInput {
                code,
                label_zh: zh,
                label_en: en,
                sort_order: i as i32 + 1,
                active: true,
            };
            dictionary::insert(&mut tx, "behaviour", &item).await?;
        }
        DEFAULT_BEHAVIOURS.iter().map(|b| b.0.to_owned()).collect()
    } else {
        items
            .into_iter()
            .filter(|i| i.active)
            .map(|i| i.code)
            .collect()
    };
    let mut points = follow_ups::points(&mut tx).await?;
    let missing: Vec<(String, i64)> = DEFAULT_BEHAVIOURS
        .iter()
        .filter(|d| codes.iter().any(|c| c == d.0) && !points.iter().any(|p| p.0 == d.0))
        .map(|d| (d.0.to_owned(), d.3))
        .collect();
    let rows = missing
        .iter()
        .map(|(c, p)| vec![Val::Text(c.clone()), Val::Int(*p)])
        .collect();
    bulk::insert(&mut tx, "behaviour_points", &["code", "points"], rows).await?;
    tx.commit().await?;
    points.extend(missing);
    Ok(codes
        .into_iter()
        .map(|c| {
            let p = points.iter().find(|p| p.0 == c).map_or(0, |p| p.1);
            (c, p)
        })
        .collect())
}
