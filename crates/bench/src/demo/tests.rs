//! The generator's rows in memory (deterministic, unique, well formed, activity consistent with
//! the pool rules), and a small demo in a database checked against the app's own per-record
//! functions: the bulk values must be what a follow-up's save and the pool refresh would write.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use guanxi_core::engine::CUSTOMERS;
use guanxi_store::bulk::Val;
use guanxi_store::pools::{Member, Pool, Standing};

use super::activity::{self, Activity, BEHAVIOUR_COLUMNS, FOLLOW_UP_COLUMNS};
use super::generate::*;
use super::org::DemoUser;
use crate::words::*;

const DAY: &str = "2026-11-20";

fn today() -> NaiveDate {
    NaiveDate::parse_from_str(DAY, "%Y-%m-%d").unwrap()
}

fn user(id: i64, t: Territory) -> DemoUser {
    DemoUser {
        id,
        username: format!("u{id}"),
        display_name: format!("用户{id}"),
        department: "上海组",
        department_id: 3,
        role: "sales",
        territory: Some(t),
    }
}

fn pool(id: i64, department: i64, days: i64) -> Pool {
    let t = activity::midnight(today());
    Pool {
        id,
        name: format!("公海{id}"),
        fall_back_days: Some(days),
        no_deal_days: None,
        only_types: vec![],
        only_levels: vec![],
        warn_days: Some(7),
        max_owned: None,
        max_claims_per_day: None,
        reclaim_cooldown_days: None,
        active: true,
        members: vec![Member {
            kind: "department".into(),
            ref_id: department,
        }],
        created_at: t,
        updated_at: t,
    }
}

fn test_activity() -> Activity {
    Activity {
        today: activity::midnight(today()),
        now: activity::midnight(today()),
        kinds: ["call", "visit", "wechat", "email", "meeting"]
            .map(String::from)
            .to_vec(),
        behaviours: vec![
            ("no_answer".into(), -10),
            ("budget_ok".into(), 20),
            ("asked_quote".into(), 15),
            ("visited".into(), 10),
            ("complained".into(), -15),
        ],
        reasons: vec!["no_need".into(), "other".into()],
        pools: vec![pool(1, 2, 30), pool(2, 1, 90)],
        paths: (1..=4).map(|id| (id, "/1/2/3/".to_owned())).collect(),
    }
}

fn generator(seed: u64, n: u64) -> Generator {
    let cities = CITIES
        .iter()
        .map(|c| City {
            prefix: c.0,
            area_code: c.2,
            territory: c.3,
            districts: vec![(format!("{}02", c.1), "某区".into())],
        })
        .collect();
    let dict = Dictionaries {
        industry: vec!["manufacturing".into(), "it".into()],
        gender: vec!["male".into(), "female".into()],
        customer_type: ["a", "b", "c", "prospect"].map(String::from).to_vec(),
        ..Dictionaries::default()
    };
    let users = [
        user(1, Territory::Shanghai),
        user(2, Territory::Hangzhou),
        user(3, Territory::South),
        user(4, Territory::North),
    ];
    let start = Start {
        follow_up_id: 1,
        ..Start::default()
    };
    Generator::new(seed, n, start, cities, &users, dict, test_activity()).unwrap()
}

fn column<'a>(rows: &'a [Vec<Val>], cols: &[&str], c: &str) -> Vec<&'a Val> {
    let i = cols.iter().position(|x| *x == c).unwrap();
    rows.iter().map(|r| &r[i]).collect()
}

fn texts(rows: &[Vec<Val>], cols: &[&str], c: &str) -> Vec<String> {
    column(rows, cols, c)
        .into_iter()
        .filter_map(|v| match v {
            Val::Text(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

fn time(v: &Val) -> Option<DateTime<Utc>> {
    match v {
        Val::Time(t) => Some(*t),
        _ => None,
    }
}

fn int(v: &Val) -> Option<i64> {
    match v {
        Val::Int(i) => Some(*i),
        _ => None,
    }
}

#[test]
fn deterministic_unique_and_well_formed() {
    let a = generator(7, 2000).batch(0, 2000);
    let b = generator(7, 2000).batch(0, 2000);
    assert_eq!(a.customers, b.customers);
    assert_eq!(a.contacts, b.contacts);
    assert_eq!(a.follow_ups, b.follow_ups);
    assert_eq!(a.events, b.events);
    assert_ne!(generator(8, 2000).batch(0, 10).customers, a.customers[..10]);
    assert_eq!(a.organisations.len(), 200);
    let avg = a.contacts.len() as f64 / 2000.0;
    assert!((2.5..3.5).contains(&avg), "contacts per customer: {avg}");
    let unique = |mut v: Vec<String>| {
        let n = v.len();
        v.sort();
        v.dedup();
        v.len() == n
    };
    let names = texts(&a.customers, CUSTOMER_COLUMNS, "name");
    assert!(
        names.iter().all(|n| n.ends_with("公司")),
        "{:?}",
        &names[..3]
    );
    assert!(unique(names));
    assert!(unique(texts(&a.customers, CUSTOMER_COLUMNS, "phone")));
    let mobiles = texts(&a.contacts, CONTACT_COLUMNS, "mobile");
    assert!(mobiles.iter().all(|m| m.len() == 11
        && m.starts_with('1')
        && (b'3'..=b'9').contains(&m.as_bytes()[1])
        && m.bytes().all(|b| b.is_ascii_digit())));
    assert!(unique(mobiles));
    for c in texts(&a.organisations, ORGANISATION_COLUMNS, "credit_code") {
        assert!(guanxi_core::engine::valid_credit_code(&c), "{c}");
    }
    let pinyin = texts(&a.customers, CUSTOMER_COLUMNS, "pinyin");
    assert!(pinyin.iter().all(|p| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    }));
}

#[test]
fn follow_ups_and_pools_add_up() {
    let n = 4000;
    let act = test_activity();
    let b = generator(3, n).batch(0, n);
    let per = b.follow_ups.len() as f64 / n as f64;
    assert!((4.0..6.0).contains(&per), "follow-ups per customer: {per}");
    let fcol = |c: &str| column(&b.follow_ups, FOLLOW_UP_COLUMNS, c);
    let (f_customer, f_at) = (fcol("customer_id"), fcol("at"));
    let ids: Vec<i64> = fcol("id").into_iter().filter_map(int).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "ids follow on");
    let mut last: HashMap<i64, DateTime<Utc>> = HashMap::new();
    for (c, at) in f_customer.iter().zip(&f_at) {
        let (c, at) = (int(c).unwrap(), time(at).unwrap());
        assert!(at < act.today, "follow-ups are in the past");
        let l = last.entry(c).or_insert(at);
        *l = (*l).max(at);
    }
    let mut score: HashMap<i64, i64> = HashMap::new();
    for row in &b.behaviours {
        assert_eq!(row.len(), BEHAVIOUR_COLUMNS.len());
        *score.entry(int(&row[1]).unwrap()).or_default() += int(&row[3]).unwrap();
    }
    assert!(
        b.behaviours.len() as u64 > n,
        "{} behaviours",
        b.behaviours.len()
    );
    let contents = texts(&b.follow_ups, FOLLOW_UP_COLUMNS, "content");
    assert!(
        contents
            .iter()
            .all(|c| c.ends_with('。') && !c.contains('{'))
    );
    let upcoming = column(&b.follow_ups, FOLLOW_UP_COLUMNS, "next_visit_at")
        .into_iter()
        .filter_map(time)
        .filter(|t| *t >= act.today)
        .count() as u64;
    assert_eq!(upcoming, b.appointments);
    assert!(upcoming > n / 50, "{upcoming} visits planned");

    let col = |c: &str| column(&b.customers, CUSTOMER_COLUMNS, c);
    let (owner, pool, fall_back) = (col("owner_id"), col("pool_id"), col("fall_back_at"));
    let warn: HashMap<i64, DateTime<Utc>> = b
        .warnings
        .iter()
        .map(|r| match (&r[0], &r[1]) {
            (Val::Int(id), Val::Time(t)) => (*id, *t),
            other => panic!("warning row {other:?}"),
        })
        .collect();
    let (created, kind, released) = (col("created_at"), col("customer_type"), col("released_at"));
    let (last_col, score_col, id_col) = (col("last_follow_up_at"), col("score"), col("id"));
    let mut due = 0;
    for i in 0..n as usize {
        let id = int(id_col[i]).unwrap();
        assert_eq!(
            int(score_col[i]),
            Some(score.get(&id).copied().unwrap_or(0))
        );
        assert_eq!(time(last_col[i]), last.get(&id).copied());
        let Some(o) = int(owner[i]) else {
            assert!(int(pool[i]).is_some() && time(released[i]).is_some());
            assert!(time(fall_back[i]).is_none());
            continue;
        };
        let s = Standing {
            id,
            name: String::new(),
            owner_id: Some(o),
            department_path: Some("/1/2/3/".into()),
            locked: false,
            deleted: false,
            customer_type: match kind[i] {
                Val::Text(t) => Some(t.clone()),
                _ => None,
            },
            credit_level: None,
            created_at: time(created[i]).unwrap(),
            owned_at: None,
            last_follow_up_at: time(last_col[i]),
            last_deal_at: None,
            pool_id: None,
        };
        let (at, w) = guanxi_store::pools::deadline(&act.pools, &s);
        assert_eq!(time(fall_back[i]), at, "customer {id}");
        assert_eq!(warn.get(&id).copied(), w.filter(|w| *w > act.today));
        due += u64::from(at.is_some_and(|t| t <= act.today));
    }
    assert_eq!(due, b.due);
    let pooled = b.pooled as f64 / n as f64;
    assert!((0.05..0.10).contains(&pooled), "in pools: {pooled}");
    assert_eq!(b.events.len() as u64, 2 * b.pooled);
    let due = due as f64 / n as f64;
    assert!((0.003..0.02).contains(&due), "due: {due}");
}

/// The demo in a database: what a follow-up's save (`refresh_customer`) and a pool refresh
/// compute from the loaded rows equals what the bulk load wrote.
#[tokio::test]
async fn loaded_values_match_the_per_record_rules() {
    let dir = tempfile::tempdir().unwrap();
    let db = guanxi_store::Db::open_sqlite(&dir.path().join("t.db"))
        .await
        .unwrap();
    guanxi_store::migrate::run(&db).await.unwrap();
    let opts = super::DemoOptions {
        customers: 400,
        seed: 5,
        force: false,
        progress: false,
        today: Some(today()),
    };
    let r = super::run(&db, &opts).await.unwrap();
    assert_eq!(r.pools, 4);
    assert!(r.follow_ups > 1_000 && r.pooled > 0 && r.behaviours > 0);
    let pools = guanxi_store::pools::list(&db).await.unwrap();
    let fields = ["score", "fall_back_at"].map(|c| CUSTOMERS.field(c).unwrap());
    let mut tx = db.begin().await.unwrap();
    let ids: Vec<i64> = (1..=400).collect();
    let stored = guanxi_store::rules::standings(&mut tx, &fields, &ids)
        .await
        .unwrap();
    for s in stored {
        let before = guanxi_store::pools::standing(&mut tx, s.id).await.unwrap();
        let (score, last) = guanxi_store::follow_ups::refresh_customer(&mut tx, s.id)
            .await
            .unwrap();
        assert_eq!(s.values["score"], serde_json::json!(score), "{}", s.id);
        assert_eq!(before.last_follow_up_at, last, "customer {}", s.id);
        let (at, _) = guanxi_store::pools::deadline(&pools, &before);
        let stored_at = s.values["fall_back_at"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        assert_eq!(stored_at, at, "customer {}: {:?}", s.id, s.values);
        assert_eq!(before.owner_id.is_none(), before.pool_id.is_some());
    }
    drop(tx);
    db.close().await;
}

/// SQLite's documents hold exactly the grams PostgreSQL gets as rows, record by record.
#[test]
fn documents_hold_the_same_grams_as_gram_rows() {
    let rows = generator(5, 300).batch(0, 300);
    let docs = generator(5, 300).with_documents().batch(0, 300);
    assert_eq!(rows.customers, docs.customers);
    assert!(docs.customer_grams.is_empty() && rows.customer_docs.is_empty());
    for (grams, docs) in [
        (&rows.customer_grams, &docs.customer_docs),
        (&rows.contact_grams, &docs.contact_docs),
        (&rows.organisation_grams, &docs.organisation_docs),
    ] {
        assert!(!grams.is_empty());
        let mut from_docs: Vec<(String, i64)> = docs
            .iter()
            .flat_map(|(id, d)| d.split(' ').map(move |g| (g.to_owned(), *id)))
            .collect();
        from_docs.sort_unstable();
        assert_eq!(&from_docs, grams);
    }
    let total =
        rows.customer_grams.len() + rows.contact_grams.len() + rows.organisation_grams.len();
    assert_eq!(docs.doc_grams as usize, total);
}
