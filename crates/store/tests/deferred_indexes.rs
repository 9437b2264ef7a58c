//! A large import's indexes set aside and built again, on every database: the definitions
//! outlive the process that dropped them, the next start builds them, and duplicate checks
//! bounded by id find the records from before without them.

use guanxi_core::engine::{CUSTOMERS, Fields};
use guanxi_store::audit::Actor;
use guanxi_store::records::{self, NewRecord, Values};
use guanxi_store::{Db, bulk};
use serde_json::json;

mod common;
use common::{close, databases};

/// The secondary indexes of `customers` (constraints' own excluded), by name.
async fn indexes(db: &Db) -> Vec<String> {
    match db {
        Db::Sqlite { read, .. } => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customers' \
             AND sql IS NOT NULL ORDER BY name",
        )
        .fetch_all(read)
        .await
        .unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(
            "SELECT i.indexname::text FROM pg_indexes i WHERE i.schemaname = current_schema() \
             AND i.tablename = 'customers' \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) \
             ORDER BY 1",
        )
        .fetch_all(p)
        .await
        .unwrap(),
    }
}

#[tokio::test]
async fn indexes_set_aside_are_built_again_at_the_next_start() {
    for (db, url, dir) in databases("deferred").await {
        let fs = Fields::builtin(&CUSTOMERS);
        let actor = Actor::system();
        let mut tx = db.begin().await.unwrap();
        let new = |name: &str| {
            let mut v = Values::new();
            v.insert("name".into(), json!(name));
            v.insert("phone".into(), json!("13800000000"));
            NewRecord {
                owner_id: None,
                values: v,
            }
        };
        let ids = records::insert_many(&mut tx, &fs, &[new("甲公司"), new("乙公司")], &actor)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let before = indexes(&db).await;
        assert!(before.contains(&"customers_name".to_owned()), "{before:?}");

        assert_eq!(
            bulk::defer_indexes(&db, "customers").await.unwrap(),
            before.len()
        );
        assert!(indexes(&db).await.is_empty());
        assert_eq!(bulk::deferred(&db, "customers").await.unwrap(), before);
        // Records written meanwhile; the duplicate checks read those up to an id.
        let mut tx = db.begin().await.unwrap();
        records::insert_many(&mut tx, &fs, &[new("丙公司")], &actor)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let name = fs.field("name").unwrap();
        let values = [json!("甲公司"), json!("丙公司")];
        let up_to = records::find_many(&db, &fs, name, &values, Some(ids[1]))
            .await
            .unwrap();
        assert_eq!(up_to.len(), 1, "{up_to:?}");
        assert_eq!(up_to["甲公司"].id, ids[0]);
        let all = records::read_find_many(&db, &fs, name, &values, None)
            .await
            .unwrap();
        assert_eq!(all.len(), 2);

        // The process ends here without building them; the next start does.
        let db = match &url {
            Some(u) => {
                db.close().await;
                Db::connect(u).await.unwrap()
            }
            None => {
                db.close().await;
                Db::open_sqlite(&dir.path().join("t.db")).await.unwrap()
            }
        };
        guanxi_store::migrate::run(&db).await.unwrap();
        assert_eq!(indexes(&db).await, before);
        assert!(bulk::deferred(&db, "customers").await.unwrap().is_empty());
        assert_eq!(bulk::restore_indexes(&db, None).await.unwrap(), 0);
        close(db, url).await;
    }
}
