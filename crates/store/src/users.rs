//! Users (employees who sign in). Reads and writes on other people's accounts take a [`Grant`]
//! for the Users module and apply its data scope in SQL; the user's own row is reached only
//! through the authentication and self-service functions.

use chrono::{DateTime, Utc};
use guanxi_core::{Grant, Module};
use serde::Serialize;

use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx};

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub department_id: Option<i64>,
    pub department_name: Option<String>,
    pub is_active: bool,
    pub locale: String,
    pub time_zone: String,
    pub totp_enabled: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT u.id, u.username, u.display_name, u.mobile, u.email, u.department_id, \
    d.name AS department_name, u.is_active, u.locale, u.time_zone, u.totp_enabled, u.locked_until, \
    u.last_login_at, u.created_at, u.updated_at \
    FROM users u LEFT JOIN departments d ON d.id = u.department_id";

fn scope(grant: &Grant) -> String {
    assert_eq!(
        grant.module(),
        Module::Users,
        "a grant for another module was passed to users"
    );
    grant.sql_predicate("u.id", "u.department_id")
}

#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    /// Matches user name, display name, mobile or e-mail.
    pub q: Option<String>,
    pub department_id: Option<i64>,
    pub active: Option<bool>,
    /// Keyset pagination: users with an id above this.
    pub after_id: Option<i64>,
    pub limit: i64,
}

/// Users inside the grant's scope, by id.
pub async fn list(db: &Db, grant: &Grant, f: &UserFilter) -> Result<Vec<User>> {
    let mut sql = format!("{SELECT} WHERE {}", scope(grant));
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    let q =
        f.q.as_ref()
            .map(|q| format!("%{}%", q.trim().to_lowercase()));
    if q.is_some() {
        let p = next();
        sql += &format!(
            " AND (u.username LIKE {p} OR LOWER(u.display_name) LIKE {p} OR u.mobile LIKE {p} \
             OR u.email LIKE {p})"
        );
    }
    if f.department_id.is_some() {
        sql += &format!(" AND u.department_id = {}", next());
    }
    if f.active.is_some() {
        sql += &format!(" AND u.is_active = {}", next());
    }
    if f.after_id.is_some() {
        sql += &format!(" AND u.id > {}", next());
    }
    sql += &format!(" ORDER BY u.id LIMIT {}", next());
    Ok(on_db!(db, read, |p| {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
        if let Some(q) = &q {
            query = query.bind(q);
        }
        if let Some(d) = f.department_id {
            query = query.bind(d);
        }
        if let Some(a) = f.active {
            query = query.bind(a);
        }
        if let Some(a) = f.after_id {
            query = query.bind(a);
        }
        query.bind(f.limit).fetch_all(p).await
    })?)
}

/// One user inside the grant's scope; `NotFound` otherwise (even when the row exists, so the
/// scope does not leak which ids exist).
pub async fn get(db: &Db, grant: &Grant, id: i64) -> Result<User> {
    let sql = format!("{SELECT} WHERE u.id = $1 AND {}", scope(grant));
    on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?
    .ok_or(StoreError::NotFound)
}

/// Same as [`get`] inside a transaction (for writes that re-read what they changed).
pub async fn get_tx(tx: &mut Tx, grant: &Grant, id: i64) -> Result<User> {
    let sql = format!("{SELECT} WHERE u.id = $1 AND {}", scope(grant));
    on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?
    .ok_or(StoreError::NotFound)
}

/// A user by id for the signed-in user themselves (profile pages).
pub async fn get_self(db: &Db, principal: &guanxi_core::Principal) -> Result<User> {
    let sql = format!("{SELECT} WHERE u.id = $1");
    on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(principal.user_id)
    .fetch_optional(p)
    .await)?
    .ok_or(StoreError::NotFound)
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub mobile: Option<&'a str>,
    pub email: Option<&'a str>,
    pub department_id: Option<i64>,
    pub password_hash: &'a str,
    pub locale: &'a str,
    pub time_zone: &'a str,
}

/// Creates a user. The caller holds a Users/Create grant and has checked that the department is
/// inside its scope.
pub async fn insert(tx: &mut Tx, grant: &Grant, u: &NewUser<'_>) -> Result<i64> {
    let _ = scope(grant);
    insert_unchecked(tx, u).await
}

/// Creates a user without a grant: only for first-run bootstrap and the `guanxi user add` CLI,
/// which act as the machine's operator.
pub async fn insert_unchecked(tx: &mut Tx, u: &NewUser<'_>) -> Result<i64> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let t = now();
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO users (username, display_name, mobile, email, department_id, password_hash, \
             locale, time_zone, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(u.username)
        .bind(u.display_name)
        .bind(u.mobile)
        .bind(u.email)
        .bind(u.department_id)
        .bind(u.password_hash)
        .bind(u.locale)
        .bind(u.time_zone)
        .bind(t)
        .fetch_one(&mut *c)
        .await
    })?)
}

pub struct UserUpdate<'a> {
    pub display_name: &'a str,
    pub mobile: Option<&'a str>,
    pub email: Option<&'a str>,
    pub department_id: Option<i64>,
    pub locale: &'a str,
    pub time_zone: &'a str,
}

pub async fn update(tx: &mut Tx, grant: &Grant, id: i64, u: &UserUpdate<'_>) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let sql = format!(
        "UPDATE users SET display_name = $1, mobile = $2, email = $3, department_id = $4, \
         locale = $5, time_zone = $6, updated_at = $7 WHERE id = $8 AND id IN \
         (SELECT u.id FROM users u WHERE {})",
        scope(grant)
    );
    let n = on_tx!(tx, |c| {
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(u.display_name)
            .bind(u.mobile)
            .bind(u.email)
            .bind(u.department_id)
            .bind(u.locale)
            .bind(u.time_zone)
            .bind(now())
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Enables or disables an account; disabling ends all its sessions at once.
pub async fn set_active(tx: &mut Tx, grant: &Grant, id: i64, active: bool) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let sql = format!(
        "UPDATE users SET is_active = $1, updated_at = $2 WHERE id = $3 AND id IN \
         (SELECT u.id FROM users u WHERE {})",
        scope(grant)
    );
    let n = on_tx!(tx, |c| {
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(active)
            .bind(now())
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    if !active {
        crate::sessions::delete_for_user(tx, id).await?;
    }
    Ok(())
}

/// Sets a new password for a user in scope (administrator reset), ending their sessions and
/// lifting any lock.
pub async fn reset_password(tx: &mut Tx, grant: &Grant, id: i64, hash: &str) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let sql = format!(
        "UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL, updated_at = $2 \
         WHERE id = $3 AND id IN (SELECT u.id FROM users u WHERE {})",
        scope(grant)
    );
    let n = on_tx!(tx, |c| {
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(hash)
            .bind(now())
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    crate::sessions::delete_for_user(tx, id).await
}

/// Sets a password by user name without a grant (`guanxi user reset-password`).
pub async fn reset_password_unchecked(tx: &mut Tx, username: &str, hash: &str) -> Result<i64> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let id: Option<i64> = on_tx!(tx, |c| {
        sqlx::query_scalar(
            "UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL, \
             updated_at = $2 WHERE username = $3 RETURNING id",
        )
        .bind(hash)
        .bind(now())
        .bind(username)
        .fetch_optional(&mut *c)
        .await
    })?;
    let id = id.ok_or(StoreError::NotFound)?;
    crate::sessions::delete_for_user(tx, id).await?;
    Ok(id)
}

/// Enables or disables by user name without a grant (`guanxi user disable`).
pub async fn set_active_unchecked(tx: &mut Tx, username: &str, active: bool) -> Result<i64> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let id: Option<i64> = on_tx!(tx, |c| {
        sqlx::query_scalar(
            "UPDATE users SET is_active = $1, updated_at = $2 WHERE username = $3 RETURNING id",
        )
        .bind(active)
        .bind(now())
        .bind(username)
        .fetch_optional(&mut *c)
        .await
    })?;
    let id = id.ok_or(StoreError::NotFound)?;
    if !active {
        crate::sessions::delete_for_user(tx, id).await?;
    }
    Ok(id)
}

/// Every user, for the CLI's `user list` (operator access).
pub async fn list_all(db: &Db) -> Result<Vec<User>> {
    crate::cache::through(db, crate::cache::Topic::People, "users", async || {
        let sql = format!("{SELECT} ORDER BY u.id");
        Ok(on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .fetch_all(p)
        .await)?)
    })
    .await
}

pub async fn count(db: &Db) -> Result<i64> {
    Ok(on_db!(db, read, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM users"
    )
    .fetch_one(p)
    .await)?)
}

/// The role ids of a user.
pub async fn role_ids(db: &Db, user_id: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, read, |p| {
        sqlx::query_scalar("SELECT role_id FROM user_roles WHERE user_id = $1 ORDER BY role_id")
            .bind(user_id)
            .fetch_all(p)
            .await
    })?)
}

/// Replaces a user's roles. Callers hold an `Assign` grant on Users for the user.
pub async fn set_roles(tx: &mut Tx, user_id: i64, role_ids: &[i64]) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::People);
    on_tx!(tx, |c| {
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    for rid in role_ids {
        on_tx!(tx, |c| {
            sqlx::query("INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)")
                .bind(user_id)
                .bind(rid)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// What login needs to know about an account.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Credentials {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub is_active: bool,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
}

const CREDENTIALS: &str = "SELECT id, username, password_hash, is_active, failed_logins, \
    locked_until, totp_secret, totp_enabled FROM users";

pub async fn credentials_by_username(db: &Db, username: &str) -> Result<Option<Credentials>> {
    let sql = format!("{CREDENTIALS} WHERE username = $1");
    Ok(on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(username)
    .fetch_optional(p)
    .await)?)
}

pub async fn credentials_by_id(db: &Db, id: i64) -> Result<Credentials> {
    let sql = format!("{CREDENTIALS} WHERE id = $1");
    on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?
    .ok_or(StoreError::NotFound)
}

/// Counts a failed password; locks the account until `lock_until` when given.
pub async fn record_failed_login(
    tx: &mut Tx,
    id: i64,
    lock_until: Option<DateTime<Utc>>,
) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::People);
    on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE users SET failed_logins = CASE WHEN $1 IS NULL THEN failed_logins + 1 ELSE 0 END, \
             locked_until = COALESCE($1, locked_until) WHERE id = $2",
        )
        .bind(lock_until)
        .bind(id)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected())
    })?;
    if lock_until.is_some() {
        crate::sessions::delete_for_user(tx, id).await?;
    }
    Ok(())
}

pub async fn record_login(tx: &mut Tx, id: i64) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::People);
    on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $1 WHERE id = $2",
        )
        .bind(now())
        .bind(id)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Self-service: the signed-in user's own password.
pub async fn set_own_password(tx: &mut Tx, user_id: i64, hash: &str) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::People);
    on_tx!(tx, |c| {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now())
            .bind(user_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Self-service: language, time zone and display name.
pub async fn set_own_preferences(
    tx: &mut Tx,
    user_id: i64,
    display_name: &str,
    locale: &str,
    time_zone: &str,
) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::People);
    on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE users SET display_name = $1, locale = $2, time_zone = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(display_name)
        .bind(locale)
        .bind(time_zone)
        .bind(now())
        .bind(user_id)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Self-service: store (or clear) the TOTP secret and whether it is active.
pub async fn set_own_totp(
    tx: &mut Tx,
    user_id: i64,
    secret: Option<&str>,
    enabled: bool,
) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::People);
    on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE users SET totp_secret = $1, totp_enabled = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(secret)
        .bind(enabled)
        .bind(now())
        .bind(user_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The pending (not yet confirmed) TOTP secret of a user.
pub async fn totp_secret(db: &Db, user_id: i64) -> Result<Option<String>> {
    Ok(on_db!(db, read, |p| {
        sqlx::query_scalar("SELECT totp_secret FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(p)
            .await
    })?)
}
