//! Creating and dropping whole PostgreSQL databases by URL, for the benchmark harness's
//! throw-away data sets and the tests (re-exported by `bulk`).

use crate::{Db, Result, StoreError};

/// Creates a PostgreSQL database named by the last path segment of `url` when it does not
/// exist, connecting to the server's `postgres` database to do it. Returns whether it created one.
pub async fn ensure_pg_database(url: &str) -> Result<bool> {
    let (server, name) = split_pg_url(url)?;
    let admin = Db::connect(&format!("{server}/postgres")).await?;
    let Db::Postgres(p) = &admin else {
        return Ok(false);
    };
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(p)
        .await?;
    if exists.is_none() {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(p)
            .await?;
    }
    admin.close().await;
    Ok(exists.is_none())
}

/// Drops the PostgreSQL database named by `url` (for tests and throw-away benchmark runs).
pub async fn drop_pg_database(url: &str) -> Result<()> {
    let (server, name) = split_pg_url(url)?;
    let admin = Db::connect(&format!("{server}/postgres")).await?;
    if let Db::Postgres(p) = &admin {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(p)
        .await?;
    }
    admin.close().await;
    Ok(())
}

/// `postgres://user@host:port/db?x` → (`postgres://user@host:port`, `db`).
fn split_pg_url(url: &str) -> Result<(String, String)> {
    let bad = || StoreError::Config("expected postgres://USER@HOST[:PORT]/DATABASE".into());
    let base = url.split('?').next().unwrap_or(url);
    let after = base.find("://").ok_or_else(bad)? + 3;
    let slash = base[after..].find('/').ok_or_else(bad)? + after;
    let name = &base[slash + 1..];
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(bad());
    }
    Ok((base[..slash].to_owned(), name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_urls() {
        assert_eq!(
            split_pg_url("postgres://postgres@127.0.0.1:5432/bench_1?sslmode=disable").unwrap(),
            (
                "postgres://postgres@127.0.0.1:5432".into(),
                "bench_1".into()
            )
        );
        assert!(split_pg_url("postgres://h/").is_err());
        assert!(split_pg_url("postgres://h/x;drop").is_err());
    }
}
