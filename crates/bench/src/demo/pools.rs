//! The demo's public pools (公海): one per regional sales department and a company pool above
//! them, with their fall-back rules, warnings and claim limits. Created through the store like
//! the departments, found again by name on a second run.

use guanxi_store::pools::{self, Member, Pool, PoolInput};
use guanxi_store::{Db, jobs};

use super::org::DemoUser;

/// (pool, member department, days without a follow-up before the fall-back, warning days
/// before it, claims per day). A customer belongs to the first pool, by id, naming a department
/// above its owner: the regional pools come first, so the company pool catches the rest.
const PLAN: &[(&str, &str, i64, i64, i64)] = &[
    ("华东公海", "华东销售部", 30, 7, 20),
    ("华南公海", "华南销售部", 60, 10, 20),
    ("华北公海", "华北销售部", 90, 14, 20),
    ("公司公海", "总部", 90, 14, 10),
];

/// Days before a user may claim again a customer they gave up.
const RECLAIM_COOLDOWN_DAYS: i64 = 30;

/// Creates the pools that are missing (members: the department, managed by its manager) and
/// returns every pool of the database, as the sweep reads them. When pools were created for a
/// database that already had customers, their deadlines are recomputed by the server's
/// `pools.refresh` job.
pub async fn ensure(db: &Db, users: &[DemoUser], had_customers: bool) -> anyhow::Result<Vec<Pool>> {
    let existing = pools::list(db).await?;
    let mut created = false;
    let mut tx = db.begin().await?;
    for (name, department, days, warn, claims) in PLAN {
        if existing.iter().any(|p| p.name == *name) {
            continue;
        }
        let Some(dept) = users.iter().find(|u| u.department == *department) else {
            continue;
        };
        let mut members = vec![Member {
            kind: "department".into(),
            ref_id: dept.department_id,
        }];
        if let Some(m) = users
            .iter()
            .find(|u| u.department == *department && u.role == "sales_manager")
        {
            members.push(Member {
                kind: "manager".into(),
                ref_id: m.id,
            });
        }
        let input = PoolInput {
            name: (*name).into(),
            fall_back_days: Some(*days),
            warn_days: Some(*warn),
            max_claims_per_day: Some(*claims),
            reclaim_cooldown_days: Some(RECLAIM_COOLDOWN_DAYS),
            active: true,
            members,
            ..PoolInput::default()
        };
        pools::create(&mut tx, &input).await?;
        created = true;
    }
    if created && had_customers {
        jobs::enqueue(&mut tx, "pools.refresh", &serde_json::json!({}), None).await?;
    }
    tx.commit().await?;
    Ok(pools::list(db).await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_regional_pools_come_before_the_company_pool() {
        let last = super::PLAN.last().map(|p| p.1);
        assert_eq!(last, Some("总部"));
        for (_, _, days, warn, _) in super::PLAN {
            assert!((30..=90).contains(days) && warn < days);
        }
    }
}
