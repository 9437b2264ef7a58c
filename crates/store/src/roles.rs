//! Roles and their permission matrix: per module, a set of actions and a data scope.
//! Built-in roles carry a `code` and are named through i18n until an administrator renames them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use guanxi_core::{Action, Module, ModulePermission, Scope};
use serde::Serialize;

use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx};

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Role {
    pub id: i64,
    /// Set on built-in roles: `admin`, `sales_manager`, `sales`, `service`, `finance`.
    pub code: Option<String>,
    /// An administrator's name for the role; built-in roles without one use their i18n name.
    pub name: Option<String>,
    pub description: Option<String>,
    pub require_totp: bool,
    /// How many pool customers' details a user of this role may open a day; `None`: no limit.
    pub pool_daily_views: Option<i64>,
    /// Whether the role sees pool customers' phone numbers unmasked.
    pub pool_contacts_visible: bool,
    pub user_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub type Permissions = BTreeMap<Module, ModulePermission>;

const SELECT: &str = "SELECT r.id, r.code, r.name, r.description, r.require_totp, \
    r.pool_daily_views, r.pool_contacts_visible, \
    (SELECT COUNT(*) FROM user_roles ur WHERE ur.role_id = r.id) AS user_count, \
    r.created_at, r.updated_at FROM roles r";

pub async fn list(db: &Db) -> Result<Vec<Role>> {
    let sql = format!("{SELECT} ORDER BY r.id");
    Ok(on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .fetch_all(p)
    .await)?)
}

pub async fn get(db: &Db, id: i64) -> Result<Role> {
    let sql = format!("{SELECT} WHERE r.id = $1");
    on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?
    .ok_or(StoreError::NotFound)
}

pub async fn id_by_code(db: &Db, code: &str) -> Result<Option<i64>> {
    Ok(on_db!(db, read, |p| {
        sqlx::query_scalar("SELECT id FROM roles WHERE code = $1")
            .bind(code)
            .fetch_optional(p)
            .await
    })?)
}

fn to_permissions(rows: Vec<(String, i64, i32)>) -> Permissions {
    rows.into_iter()
        .filter_map(|(m, actions, scope)| {
            Module::from_code(&m).map(|m| {
                (
                    m,
                    ModulePermission {
                        actions,
                        scope: Scope::from_i16(scope as i16),
                    },
                )
            })
        })
        .collect()
}

pub async fn permissions(db: &Db, role_id: i64) -> Result<Permissions> {
    let rows: Vec<(String, i64, i32)> = on_db!(db, read, |p| {
        sqlx::query_as("SELECT module, actions, scope FROM role_permissions WHERE role_id = $1")
            .bind(role_id)
            .fetch_all(p)
            .await
    })?;
    Ok(to_permissions(rows))
}

/// The union of the permissions of all of a user's roles.
pub async fn user_permissions(db: &Db, user_id: i64) -> Result<Permissions> {
    let rows: Vec<(String, i64, i32)> = on_db!(db, read, |p| {
        sqlx::query_as(
            "SELECT rp.module, rp.actions, rp.scope FROM user_roles ur \
             JOIN role_permissions rp ON rp.role_id = ur.role_id WHERE ur.user_id = $1",
        )
        .bind(user_id)
        .fetch_all(p)
        .await
    })?;
    let mut out = Permissions::new();
    for (m, p) in to_permissions(rows) {
        out.entry(m).or_default().merge(p);
    }
    Ok(out)
}

/// Whether any of the user's roles demands two-factor login.
pub async fn user_requires_totp(db: &Db, user_id: i64) -> Result<bool> {
    let n: i64 = on_db!(db, read, |p| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
             WHERE ur.user_id = $1 AND r.require_totp = TRUE",
        )
        .bind(user_id)
        .fetch_one(p)
        .await
    })?;
    Ok(n > 0)
}

pub struct RoleInput<'a> {
    pub code: Option<&'a str>,
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub require_totp: bool,
}

pub async fn create(tx: &mut Tx, r: &RoleInput<'_>, perms: &Permissions) -> Result<i64> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let t = now();
    let id: i64 = on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO roles (code, name, description, require_totp, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(r.code)
        .bind(r.name)
        .bind(r.description)
        .bind(r.require_totp)
        .bind(t)
        .fetch_one(&mut *c)
        .await
    })?;
    set_permissions(tx, id, perms).await?;
    Ok(id)
}

pub async fn update(tx: &mut Tx, id: i64, r: &RoleInput<'_>, perms: &Permissions) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE roles SET name = $1, description = $2, require_totp = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(r.name)
        .bind(r.description)
        .bind(r.require_totp)
        .bind(now())
        .bind(id)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    set_permissions(tx, id, perms).await
}

/// Sets a role's pool research limits (see [`Role::pool_daily_views`] and
/// [`Role::pool_contacts_visible`]).
pub async fn set_pool_limits(
    tx: &mut Tx,
    id: i64,
    daily_views: Option<i64>,
    contacts_visible: bool,
) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE roles SET pool_daily_views = $1, pool_contacts_visible = $2 WHERE id = $3",
        )
        .bind(daily_views)
        .bind(contacts_visible)
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

async fn set_permissions(tx: &mut Tx, role_id: i64, perms: &Permissions) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query("DELETE FROM role_permissions WHERE role_id = $1")
            .bind(role_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    for (module, p) in perms.iter().filter(|(_, p)| p.actions != 0) {
        on_tx!(tx, |c| {
            sqlx::query(
                "INSERT INTO role_permissions (role_id, module, actions, scope) VALUES ($1, $2, $3, $4)",
            )
            .bind(role_id)
            .bind(module.code())
            .bind(p.actions)
            .bind(i32::from(p.scope.as_i16()))
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: i64) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let n = on_tx!(tx, |c| sqlx::query("DELETE FROM roles WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// The built-in roles and their default rights, created on first start.
pub fn builtin_roles() -> Vec<(&'static str, Permissions)> {
    use Action::*;
    let all_actions = |m: Module| ModulePermission::with(m.actions(), Scope::All);
    let admin: Permissions = Module::ALL
        .into_iter()
        .map(|m| (m, all_actions(m)))
        .collect();
    let records = [
        Module::Customers,
        Module::Contacts,
        Module::Organisations,
        Module::FollowUps,
    ];
    let role = |users: Scope, records_actions: &[Action], records_scope: Scope| {
        let mut p = Permissions::from([
            (
                Module::Departments,
                ModulePermission::with(&[View], Scope::All),
            ),
            (Module::Users, ModulePermission::with(&[View], users)),
        ]);
        for m in records {
            p.insert(m, ModulePermission::with(records_actions, records_scope));
        }
        p.insert(Module::Pools, ModulePermission::with(&[View], Scope::All));
        p
    };
    vec![
        ("admin", admin),
        (
            "sales_manager",
            role(
                Scope::DepartmentTree,
                &[View, Create, Edit, Delete, Import, Export, Assign],
                Scope::DepartmentTree,
            ),
        ),
        (
            "sales",
            role(
                Scope::Own,
                &[View, Create, Edit, Delete, Export],
                Scope::Own,
            ),
        ),
        ("service", role(Scope::Own, &[View], Scope::All)),
        (
            "finance",
            role(Scope::Department, &[View, Export], Scope::All),
        ),
    ]
}
