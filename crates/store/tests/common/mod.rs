//! What the store's integration tests share: a fresh database of each kind under test and
//! customers grants.

#![allow(dead_code, reason = "each test file uses part of it")]

use std::collections::BTreeMap;

use guanxi_core::{Action, Grant, Locale, Module, ModulePermission, Principal, Scope};
use guanxi_store::{Db, bulk};

/// A fresh, migrated database of each kind under test: SQLite always, PostgreSQL when
/// `GUANXI_TEST_DATABASE_URL` names a server.
pub async fn databases(tag: &str) -> Vec<(Db, Option<String>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Db::open_sqlite(&dir.path().join("t.db")).await.unwrap();
    guanxi_store::migrate::run(&sqlite).await.unwrap();
    let mut out = vec![(sqlite, None, dir)];
    if let Ok(url) = std::env::var("GUANXI_TEST_DATABASE_URL") {
        let base = url.rsplit_once('/').unwrap().0;
        let name = format!("store_{tag}_{}", std::process::id());
        let url = format!("{base}/{name}");
        bulk::drop_pg_database(&url).await.unwrap();
        bulk::ensure_pg_database(&url).await.unwrap();
        let pg = Db::connect(&url).await.unwrap();
        guanxi_store::migrate::run(&pg).await.unwrap();
        out.push((pg, Some(url), tempfile::tempdir().unwrap()));
    }
    out
}

pub async fn close(db: Db, url: Option<String>) {
    db.close().await;
    if let Some(url) = url {
        bulk::drop_pg_database(&url).await.unwrap();
    }
}

pub fn grant() -> Grant {
    grant_of(1, "admin", Scope::All)
}

/// A customers View grant of user `id` with the given scope.
pub fn grant_of(id: i64, name: &str, scope: Scope) -> Grant {
    let mut perms = BTreeMap::new();
    perms.insert(
        Module::Customers,
        ModulePermission::with(&[Action::View, Action::Create, Action::Edit], scope),
    );
    Principal::new(
        id,
        name.into(),
        name.into(),
        None,
        Locale::ZhCn,
        "Asia/Shanghai".into(),
        perms,
        vec![],
    )
    .authorize(Module::Customers, Action::View)
    .unwrap()
}
