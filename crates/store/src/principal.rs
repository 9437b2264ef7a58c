//! Building the policy's [`Principal`] for a request: from a session cookie's digest or an API
//! token's digest, refusing disabled and locked accounts so their access ends at once.

use chrono::{DateTime, Utc};
use guanxi_core::{Locale, Principal};

use crate::{Db, Result, now, on_db};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    username: String,
    display_name: String,
    department_id: Option<i64>,
    locale: String,
    time_zone: String,
    last_seen_at: Option<DateTime<Utc>>,
    totp_enabled: bool,
    totp_required: bool,
}

const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.department_id, u.locale, u.time_zone, \
    u.totp_enabled, EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
    WHERE ur.user_id = u.id AND r.require_totp = TRUE) AS totp_required";

fn live_user(now_param: &str) -> String {
    format!("u.is_active = TRUE AND (u.locked_until IS NULL OR u.locked_until < {now_param})")
}

/// The principal of a live, fully signed-in session (kept for a few seconds: see
/// [`crate::cache`]; signing out, disabling a user or changing roles forgets it at once).
pub async fn for_session(db: &Db, digest: &str) -> Result<Option<Principal>> {
    cached(db, "s", digest, session_principal(db, digest)).await
}

/// A principal from the cache, or `load`'s when it found one (refusals are not kept).
async fn cached(
    db: &Db,
    kind: &str,
    digest: &str,
    load: impl Future<Output = Result<Option<Principal>>>,
) -> Result<Option<Principal>> {
    let key = crate::cache::key(db, &format!("{kind}:{digest}"));
    if let Some(p) = crate::cache::get::<Principal>(crate::cache::Topic::People, &key) {
        return Ok(Some(p));
    }
    let generation = crate::cache::generation(crate::cache::Topic::People);
    let p = load.await?;
    if let Some(p) = &p {
        crate::cache::put(crate::cache::Topic::People, key, p.clone(), generation);
    }
    Ok(p)
}

async fn session_principal(db: &Db, digest: &str) -> Result<Option<Principal>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id = $1 AND s.expires_at > $2 AND s.mfa_pending = FALSE AND {}",
        live_user("$2")
    );
    let row: Option<Row> = on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(digest)
    .bind(now())
    .fetch_optional(p)
    .await)?;
    let Some(row) = row else { return Ok(None) };
    if let Some(seen) = row.last_seen_at {
        crate::sessions::touch(db, digest, seen).await?;
    }
    build(db, row).await.map(Some)
}

/// The principal behind a personal API token.
pub async fn for_token(db: &Db, digest: &str) -> Result<Option<Principal>> {
    cached(db, "t", digest, token_principal(db, digest)).await
}

async fn token_principal(db: &Db, digest: &str) -> Result<Option<Principal>> {
    let Some(user_id) = crate::tokens::user_for(db, digest).await? else {
        return Ok(None);
    };
    for_user(db, user_id).await
}

/// The principal of a user by id, if the account is usable (CLI and background jobs acting for
/// a user go through here too).
pub async fn for_user(db: &Db, user_id: i64) -> Result<Option<Principal>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, NULL AS last_seen_at FROM users u WHERE u.id = $1 AND {}",
        live_user("$2")
    );
    let row: Option<Row> = on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(user_id)
    .bind(now())
    .fetch_optional(p)
    .await)?;
    match row {
        Some(row) => build(db, row).await.map(Some),
        None => Ok(None),
    }
}

async fn build(db: &Db, row: Row) -> Result<Principal> {
    let permissions = crate::roles::user_permissions(db, row.id).await?;
    let tree = match row.department_id {
        Some(d) => crate::departments::subtree_ids(db, d).await?,
        None => vec![],
    };
    let needs_totp_setup = row.totp_required && !row.totp_enabled;
    let mut p = Principal::new(
        row.id,
        row.username,
        row.display_name,
        row.department_id,
        Locale::parse(&row.locale).unwrap_or_default(),
        row.time_zone,
        permissions,
        tree,
    );
    p.needs_totp_setup = needs_totp_setup;
    p.collaborates = crate::records::collaborators::any_for(db, p.user_id).await?;
    Ok(p)
}
