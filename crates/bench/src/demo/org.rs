//! The demo's sales organisation: departments, and about thirty people with built-in roles.

use guanxi_store::{Db, departments, roles, users};

use crate::rng::Rng;
use crate::words::{GIVEN_FEMALE, GIVEN_MALE, SURNAMES, Territory};

/// The password of every demo user (printed once by `guanxi demo`).
pub const DEMO_PASSWORD: &str = "demo-password-1";

/// A person of the demo organisation.
#[derive(Clone, Debug)]
pub struct DemoUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub department: &'static str,
    pub department_id: i64,
    /// Built-in role code: `sales_manager`, `sales` or `service`.
    pub role: &'static str,
    /// The cities a salesperson covers.
    pub territory: Option<Territory>,
}

/// (department, parent department, [(role, how many, territory)]), parents first.
type Plan = (
    &'static str,
    Option<&'static str>,
    &'static [(&'static str, usize, Option<Territory>)],
);

const PLAN: &[Plan] = &[
    ("总部", None, &[("sales_manager", 1, None)]),
    ("华东销售部", Some("总部"), &[("sales_manager", 1, None)]),
    (
        "上海组",
        Some("华东销售部"),
        &[
            ("sales_manager", 1, None),
            ("sales", 5, Some(Territory::Shanghai)),
        ],
    ),
    (
        "杭州组",
        Some("华东销售部"),
        &[
            ("sales_manager", 1, None),
            ("sales", 5, Some(Territory::Hangzhou)),
        ],
    ),
    (
        "华南销售部",
        Some("总部"),
        &[
            ("sales_manager", 1, None),
            ("sales", 6, Some(Territory::South)),
        ],
    ),
    (
        "华北销售部",
        Some("总部"),
        &[
            ("sales_manager", 1, None),
            ("sales", 5, Some(Territory::North)),
        ],
    ),
    ("客服部", Some("总部"), &[("service", 3, None)]),
];

/// A person's name: a common surname and a one- or two-character given name.
pub fn person_name(r: &mut Rng) -> (String, bool) {
    // The smaller of two draws favours the frequent surnames at the head of the list.
    let s = r.index(SURNAMES.len()).min(r.index(SURNAMES.len()));
    let male = r.chance(55);
    let given = if male {
        r.pick(GIVEN_MALE)
    } else {
        r.pick(GIVEN_FEMALE)
    };
    (format!("{}{given}", SURNAMES[s]), male)
}

/// The full pinyin of a name, without tones or spaces ("王芳" → "wangfang").
pub fn full_pinyin(text: &str) -> String {
    guanxi_web::pinyin::full(text)
}

/// Whether the demo organisation's top department exists (the database holds demo data).
pub async fn exists(db: &Db) -> anyhow::Result<bool> {
    Ok(departments::list(db)
        .await?
        .iter()
        .any(|d| d.parent_id.is_none() && d.name == PLAN[0].0))
}

/// Creates the departments and users that are missing (found by name and user name), and
/// returns all of them in plan order.
pub async fn ensure(db: &Db, seed: u64) -> anyhow::Result<Vec<DemoUser>> {
    // One Argon2 hash shared by every demo user (they share the password), made when needed.
    let mut hash: Option<String> = None;
    let mut dept_ids: Vec<(&str, i64)> = vec![];
    let mut out = vec![];
    let mut taken: Vec<String> = vec![];
    let mut r = Rng::for_item(seed, 100, 0);
    for (name, parent, people) in PLAN {
        let parent_id = parent.and_then(|p| dept_ids.iter().find(|d| d.0 == p).map(|d| d.1));
        let existing = departments::list(db)
            .await?
            .into_iter()
            .find(|d| d.name == *name && d.parent_id == parent_id);
        let dept_id = match existing {
            Some(d) => d.id,
            None => {
                let mut tx = db.begin().await?;
                let d = departments::create(&mut tx, parent_id, name).await?;
                tx.commit().await?;
                d.id
            }
        };
        dept_ids.push((name, dept_id));
        for (role, count, territory) in *people {
            let role_id = roles::id_by_code(db, role)
                .await?
                .ok_or_else(|| anyhow::anyhow!("built-in role {role} is missing"))?;
            for _ in 0..*count {
                // Every draw happens whether or not the user exists, so that a second run
                // finds the same people instead of inventing new ones.
                let (display, _) = person_name(&mut r);
                let mobile = format!("139{:08}", r.below(100_000_000));
                let base = full_pinyin(&display);
                let mut username = base.clone();
                let mut n = 1;
                while taken.contains(&username) {
                    n += 1;
                    username = format!("{base}{n}");
                }
                taken.push(username.clone());
                let id = match users::credentials_by_username(db, &username).await? {
                    Some(c) => c.id,
                    None => {
                        let email = format!("{username}@example.com");
                        let hash = hash
                            .get_or_insert_with(|| {
                                guanxi_core::security::hash_password(DEMO_PASSWORD)
                            })
                            .clone();
                        let mut tx = db.begin().await?;
                        let id = users::insert_unchecked(
                            &mut tx,
                            &users::NewUser {
                                username: &username,
                                display_name: &display,
                                mobile: Some(&mobile),
                                email: Some(&email),
                                department_id: Some(dept_id),
                                password_hash: &hash,
                                locale: "zh-CN",
                                time_zone: "Asia/Shanghai",
                            },
                        )
                        .await?;
                        users::set_roles(&mut tx, id, &[role_id]).await?;
                        tx.commit().await?;
                        id
                    }
                };
                out.push(DemoUser {
                    id,
                    username,
                    display_name: display,
                    department: name,
                    department_id: dept_id,
                    role,
                    territory: *territory,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_plan_has_about_thirty_people_in_a_tree() {
        let people: usize = super::PLAN
            .iter()
            .flat_map(|p| p.2.iter().map(|r| r.1))
            .sum();
        assert_eq!(people, 30);
        for (_, parent, _) in super::PLAN {
            if let Some(p) = parent {
                assert!(super::PLAN.iter().any(|d| d.0 == *p));
            }
        }
        assert_eq!(super::full_pinyin("王芳"), "wangfang");
    }

    #[tokio::test]
    async fn a_second_run_finds_the_same_people() {
        let dir = tempfile::tempdir().unwrap();
        let db = guanxi_store::Db::open_sqlite(&dir.path().join("t.db"))
            .await
            .unwrap();
        guanxi_store::migrate::run(&db).await.unwrap();
        guanxi_store::setup::ensure_builtin_roles(&db)
            .await
            .unwrap();
        let first = super::ensure(&db, 1).await.unwrap();
        let again = super::ensure(&db, 1).await.unwrap();
        let ids = |v: &[super::DemoUser]| v.iter().map(|u| u.id).collect::<Vec<_>>();
        assert_eq!(ids(&first), ids(&again));
        assert_eq!(guanxi_store::users::count(&db).await.unwrap(), 30);
        assert!(super::exists(&db).await.unwrap());
        db.close().await;
    }
}
