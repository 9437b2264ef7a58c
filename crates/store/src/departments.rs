//! Departments: a tree stored with a materialised path (`/1/4/9/`), so "this department and
//! everything below it" is one indexed prefix match rather than a recursive walk.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx};

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Department {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub path: String,
    pub sort_order: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Department {
    /// Depth in the tree, 0 for a top-level department.
    pub fn depth(&self) -> usize {
        self.path.matches('/').count().saturating_sub(2)
    }
}

const COLUMNS: &str = "id, parent_id, name, path, sort_order, created_at, updated_at";

/// Every department, in tree order (parents before children, siblings by sort order and name).
pub async fn list(db: &Db) -> Result<Vec<Department>> {
    crate::cache::through(db, crate::cache::Topic::People, "departments", async || {
        let sql = format!("SELECT {COLUMNS} FROM departments");
        let mut all: Vec<Department> = on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .fetch_all(p)
        .await)?;
        all.sort_by(|a, b| (a.sort_order, &a.name).cmp(&(b.sort_order, &b.name)));
        let mut out = Vec::with_capacity(all.len());
        fn walk(all: &[Department], parent: Option<i64>, out: &mut Vec<Department>) {
            for d in all.iter().filter(|d| d.parent_id == parent) {
                out.push(d.clone());
                walk(all, Some(d.id), out);
            }
        }
        walk(&all, None, &mut out);
        Ok(out)
    })
    .await
}

pub async fn get(db: &Db, id: i64) -> Result<Department> {
    let sql = format!("SELECT {COLUMNS} FROM departments WHERE id = $1");
    on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?
    .ok_or(StoreError::NotFound)
}

async fn get_tx(tx: &mut Tx, id: i64) -> Result<Department> {
    let sql = format!("SELECT {COLUMNS} FROM departments WHERE id = $1");
    on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?
    .ok_or(StoreError::NotFound)
}

/// The ids of a department and all departments below it.
pub async fn subtree_ids(db: &Db, id: i64) -> Result<Vec<i64>> {
    crate::cache::through(
        db,
        crate::cache::Topic::People,
        &format!("subtree:{id}"),
        async || {
            Ok(on_db!(db, read, |p| {
                sqlx::query_scalar(
                    "SELECT d.id FROM departments d, departments r \
                 WHERE r.id = $1 AND d.path LIKE r.path || '%'",
                )
                .bind(id)
                .fetch_all(p)
                .await
            })?)
        },
    )
    .await
}

pub async fn create(tx: &mut Tx, parent_id: Option<i64>, name: &str) -> Result<Department> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let parent_path = match parent_id {
        Some(pid) => get_tx(tx, pid).await?.path,
        None => "/".to_owned(),
    };
    let t = now();
    let id: i64 = on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO departments (parent_id, name, path, sort_order, created_at, updated_at) \
             VALUES ($1, $2, '', 0, $3, $3) RETURNING id",
        )
        .bind(parent_id)
        .bind(name)
        .bind(t)
        .fetch_one(&mut *c)
        .await
    })?;
    let path = format!("{parent_path}{id}/");
    on_tx!(tx, |c| {
        sqlx::query("UPDATE departments SET path = $1 WHERE id = $2")
            .bind(&path)
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    get_tx(tx, id).await
}

pub async fn rename(tx: &mut Tx, id: i64, name: &str) -> Result<Department> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let n = on_tx!(tx, |c| {
        sqlx::query("UPDATE departments SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(name)
            .bind(now())
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    get_tx(tx, id).await
}

#[derive(Debug, PartialEq, Eq)]
pub enum MoveError {
    /// The new parent is the department itself or below it.
    IntoOwnSubtree,
}

/// Moves a department (with everything below it) under a new parent, or to the top.
pub async fn move_to(
    tx: &mut Tx,
    id: i64,
    new_parent: Option<i64>,
) -> Result<std::result::Result<Department, MoveError>> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let dept = get_tx(tx, id).await?;
    let parent_path = match new_parent {
        Some(pid) => {
            let parent = get_tx(tx, pid).await?;
            if parent.path.starts_with(&dept.path) {
                return Ok(Err(MoveError::IntoOwnSubtree));
            }
            parent.path
        }
        None => "/".to_owned(),
    };
    let new_path = format!("{parent_path}{id}/");
    let old_len = dept.path.chars().count() as i32;
    on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE departments SET path = $1 || substr(path, $2) WHERE path LIKE $3 || '%'",
        )
        .bind(&new_path)
        .bind(old_len + 1)
        .bind(&dept.path)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    on_tx!(tx, |c| {
        sqlx::query("UPDATE departments SET parent_id = $1, updated_at = $2 WHERE id = $3")
            .bind(new_parent)
            .bind(now())
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(Ok(get_tx(tx, id).await?))
}

/// What keeps a department from being deleted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Occupancy {
    pub children: i64,
    pub users: i64,
}

pub async fn occupancy(tx: &mut Tx, id: i64) -> Result<Occupancy> {
    let (children, users): (i64, i64) = on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM departments WHERE parent_id = $1), \
                    (SELECT COUNT(*) FROM users WHERE department_id = $1)",
        )
        .bind(id)
        .fetch_one(&mut *c)
        .await
    })?;
    Ok(Occupancy { children, users })
}

/// Deletes an empty department; returns what is in it otherwise.
pub async fn delete(tx: &mut Tx, id: i64) -> Result<std::result::Result<Department, Occupancy>> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let dept = get_tx(tx, id).await?;
    let occ = occupancy(tx, id).await?;
    if occ != Occupancy::default() {
        return Ok(Err(occ));
    }
    on_tx!(tx, |c| sqlx::query("DELETE FROM departments WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(Ok(dept))
}

/// User counts per department, for the tree page.
pub async fn user_counts(db: &Db) -> Result<Vec<(i64, i64)>> {
    Ok(on_db!(db, read, |p| {
        sqlx::query_as(
            "SELECT department_id, COUNT(*) FROM users WHERE department_id IS NOT NULL \
             GROUP BY department_id",
        )
        .fetch_all(p)
        .await
    })?)
}
