//! First start: built-in roles and the first administrator.

use crate::{Db, Result, audit, roles, users};

/// Creates the built-in roles if missing.
pub async fn ensure_builtin_roles(db: &Db) -> Result<()> {
    for (code, perms) in roles::builtin_roles() {
        if roles::id_by_code(db, code).await?.is_none() {
            let mut tx = db.begin().await?;
            let input = roles::RoleInput {
                code: Some(code),
                name: None,
                description: None,
                require_totp: false,
            };
            roles::create(&mut tx, &input, &perms).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// When the database has no user yet, creates `admin` with the given password (or a random
/// one) and the administrator role. Returns the credentials to print once.
pub async fn ensure_first_admin(
    db: &Db,
    password: Option<String>,
) -> Result<Option<(String, String)>> {
    ensure_builtin_roles(db).await?;
    if users::count(db).await? > 0 {
        return Ok(None);
    }
    let password = password.unwrap_or_else(guanxi_core::security::random_password);
    let hash = guanxi_core::security::hash_password(&password);
    let admin_role = roles::id_by_code(db, "admin")
        .await?
        .ok_or(crate::StoreError::NotFound)?;
    let mut tx = db.begin().await?;
    let id = users::insert_unchecked(
        &mut tx,
        &users::NewUser {
            username: "admin",
            display_name: "系统管理员",
            mobile: None,
            email: None,
            department_id: None,
            password_hash: &hash,
            locale: "zh-CN",
            time_zone: "Asia/Shanghai",
        },
    )
    .await?;
    users::set_roles(&mut tx, id, &[admin_role]).await?;
    audit::record(
        &mut tx,
        &audit::Actor::system(),
        audit::Event::new("user.create", "first administrator created")
            .module(guanxi_core::Module::Users)
            .target(id, "admin"),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(("admin".into(), password)))
}
