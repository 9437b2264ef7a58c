//! The quick-search index on every database: records written one by one and in bulk are found
//! by Chinese characters, pinyin initials and phone fragments; an edit moves a record's entries;
//! dense queries fall back to the scan; a rebuild gives the same answers; and on SQLite the
//! migration to FTS5 carries an existing gram table over.

use guanxi_core::Scope;
use guanxi_core::engine::{CUSTOMERS, Fields};
use guanxi_store::audit::Actor;
use guanxi_store::records::{self, ListQuery, NewRecord, Values};
use guanxi_store::search::{self, Candidates};
use guanxi_store::{Backend, Db, bulk};
use serde_json::json;

mod common;
use common::{close, databases, grant, grant_of};

fn values(name: &str, pinyin: &str, phone: &str) -> Values {
    json!({"name": name, "pinyin": pinyin, "phone": phone})
        .as_object()
        .unwrap()
        .clone()
}

/// Names of the customers a quick search lists, newest first.
async fn found(db: &Db, fs: &Fields, q: &str) -> Vec<String> {
    let query = ListQuery {
        q: Some(q.to_owned()),
        limit: 50,
        ..ListQuery::default()
    };
    records::list(db, fs, &grant(), &query)
        .await
        .unwrap()
        .iter()
        .map(|r| r.title(&CUSTOMERS))
        .collect()
}

#[tokio::test]
async fn quick_search_answers_from_the_index_on_both_databases() {
    for (db, url, _dir) in databases("answers").await {
        let fs = Fields::builtin(&CUSTOMERS);
        let actor = Actor::system();
        let mut tx = db.begin().await.unwrap();
        let one = records::insert(
            &mut tx,
            &fs,
            &grant(),
            None,
            &values("张三贸易", "zsmy", "13812345678"),
            &actor,
        )
        .await
        .unwrap();
        let rows = [
            values("李四科技", "lskj", "02188880000"),
            values("张三丰五金", "zsfwj", "13900001111"),
        ]
        .into_iter()
        .map(|v| NewRecord {
            owner_id: None,
            values: v,
        })
        .collect::<Vec<_>>();
        records::insert_many(&mut tx, &fs, &rows, &actor)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        assert_eq!(found(&db, &fs, "张三").await, ["张三丰五金", "张三贸易"]);
        assert_eq!(found(&db, &fs, "张").await, ["张三丰五金", "张三贸易"]);
        assert_eq!(found(&db, &fs, "zs").await, ["张三丰五金", "张三贸易"]);
        assert_eq!(found(&db, &fs, "1381234").await, ["张三贸易"]);
        assert_eq!(found(&db, &fs, "8000").await, ["李四科技"]);
        assert_eq!(found(&db, &fs, "科技").await, ["李四科技"]);
        assert!(found(&db, &fs, "王五").await.is_empty());
        let picked = search::candidates(&db, "customers", "张三").await.unwrap();
        match db.backend() {
            Backend::Sqlite => assert!(matches!(picked, Candidates::Match { .. }), "{picked:?}"),
            Backend::Postgres => assert!(
                matches!(picked, Candidates::Ids(_) | Candidates::Grams { .. }),
                "{picked:?}"
            ),
        }
        assert_eq!(
            search::candidates(&db, "customers", "z").await.unwrap(),
            Candidates::Scan,
            "one letter: the scan answers"
        );

        // An edit moves the record's entries: the old name no longer matches, the new one does.
        let mut tx = db.begin().await.unwrap();
        records::update(
            &mut tx,
            &fs,
            &grant(),
            one.id,
            one.version,
            &values("王五物流", "wwwl", "13812345678"),
            &actor,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(found(&db, &fs, "王五").await, ["王五物流"]);
        assert_eq!(found(&db, &fs, "ww").await, ["王五物流"]);
        assert_eq!(found(&db, &fs, "张三").await, ["张三丰五金"]);
        assert_eq!(found(&db, &fs, "1381234").await, ["王五物流"]);

        // A rebuild from the records gives the same answers.
        assert_eq!(search::reindex(&db, &fs).await.unwrap(), 3);
        assert_eq!(found(&db, &fs, "王五").await, ["王五物流"]);
        assert_eq!(found(&db, &fs, "zs").await, ["张三丰五金"]);
        assert_eq!(found(&db, &fs, "0000").await, ["张三丰五金", "李四科技"]);
        close(db, url).await;
    }
}

#[tokio::test]
async fn dense_queries_fall_back_to_the_scan() {
    for (db, url, _dir) in databases("dense").await {
        let dense = search::dense_at(db.backend());
        let mut tx = db.begin().await.unwrap();
        let docs = (1..=dense)
            .map(|id| (id, search::document(&format!("张记{id}"))))
            .chain(
                (dense + 1..=dense + 3_000).map(|id| (id, search::document(&format!("王记{id}")))),
            )
            .collect();
        bulk::insert_docs(&mut tx, "customers", docs).await.unwrap();
        tx.commit().await.unwrap();
        // Dense: the list's ordered scan answers (PostgreSQL says which gram is rarest).
        let picked = search::candidates(&db, "customers", "张记").await.unwrap();
        assert!(
            matches!(
                picked,
                Candidates::Scan | Candidates::Grams { dense: true, .. }
            ),
            "{:?}: {dense} candidates are dense: {picked:?}",
            db.backend()
        );
        assert_eq!(picked == Candidates::Scan, db.backend() == Backend::Sqlite);
        assert_ne!(
            search::candidates(&db, "customers", "张记1234")
                .await
                .unwrap(),
            Candidates::Scan,
            "a few candidates come from the index"
        );
        // 3,000 candidates: PostgreSQL reads them through a subquery, not a list of ids.
        let middle = search::candidates(&db, "customers", "王记").await.unwrap();
        match db.backend() {
            Backend::Sqlite => assert!(matches!(middle, Candidates::Match { .. }), "{middle:?}"),
            Backend::Postgres => {
                assert!(matches!(middle, Candidates::Grams { .. }), "{middle:?}")
            }
        }
        close(db, url).await;
    }
}

/// A database from before the FTS5 index: its records are indexed again into the new tables
/// when the migrations run, and the old gram table is emptied.
#[tokio::test]
async fn the_upgrade_rebuilds_an_old_index() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_sqlite(&dir.path().join("t.db")).await.unwrap();
    guanxi_store::migrate::run(&db).await.unwrap();
    let fs = Fields::builtin(&CUSTOMERS);
    let rows = [
        values("张三贸易", "zsmy", "13812345678"),
        values("李四科技", "lskj", "02188880000"),
    ]
    .into_iter()
    .map(|v| NewRecord {
        owner_id: None,
        values: v,
    })
    .collect::<Vec<_>>();
    let mut tx = db.begin().await.unwrap();
    let ids = records::insert_many(&mut tx, &fs, &rows, &Actor::system())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let Db::Sqlite { write, .. } = &db else {
        unreachable!()
    };
    // Back to the state before migration 12: no FTS5 tables, the grams in search_grams.
    sqlx::raw_sql(
        "DROP TABLE search_customers; DROP TABLE search_contacts; DROP TABLE search_organisations;
         DELETE FROM _migrations WHERE version = 12;",
    )
    .execute(write)
    .await
    .unwrap();
    for (id, text) in ids
        .iter()
        .zip(["张三贸易 zsmy 13812345678", "李四科技 lskj 02188880000"])
    {
        for g in search::grams(text) {
            sqlx::query("INSERT INTO search_grams (module, gram, record_id) VALUES ($1, $2, $3)")
                .bind("customers")
                .bind(g)
                .bind(id)
                .execute(write)
                .await
                .unwrap();
        }
    }
    assert_eq!(guanxi_store::migrate::run(&db).await.unwrap(), 1);
    assert_eq!(found(&db, &fs, "张三").await, ["张三贸易"]);
    assert_eq!(found(&db, &fs, "lskj").await, ["李四科技"]);
    assert_eq!(found(&db, &fs, "88880").await, ["李四科技"]);
    assert!(matches!(
        search::candidates(&db, "customers", "张三").await.unwrap(),
        Candidates::Match { .. }
    ));
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM search_grams")
        .fetch_one(write)
        .await
        .unwrap();
    assert_eq!(left, 0, "the old table is emptied");
    assert_eq!(search::upgrade(&db).await.unwrap(), 0, "done once");
    db.close().await;
}

/// A salesperson's quick search whose candidates are many but rarely his: the list intersects
/// them with his own customers first (SQLite), and finds the same records as the walk.
#[tokio::test]
async fn a_narrow_scope_finds_its_few_among_many_candidates() {
    for (db, url, _dir) in databases("narrow").await {
        let fs = Fields::builtin(&CUSTOMERS);
        let mut tx = db.begin().await.unwrap();
        let user = guanxi_store::users::insert_unchecked(
            &mut tx,
            &guanxi_store::users::NewUser {
                username: "meng",
                display_name: "孟",
                mobile: None,
                email: None,
                department_id: None,
                password_hash: "x",
                locale: "zh-CN",
                time_zone: "Asia/Shanghai",
            },
        )
        .await
        .unwrap();
        // 3,000 customers of nobody's named 宁波…, and three of his among them, the oldest.
        let rows: Vec<NewRecord> = (0..3_003)
            .map(|i| NewRecord {
                owner_id: (i < 3).then_some(user),
                values: values(&format!("宁波{i}号"), "nb", &format!("1380000{i:04}")),
            })
            .collect();
        records::insert_many(&mut tx, &fs, &rows, &Actor::system())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let own = grant_of(user, "meng", Scope::Own);
        for q in ["nb", "宁波"] {
            let query = ListQuery {
                q: Some(q.to_owned()),
                limit: 50,
                ..ListQuery::default()
            };
            let (items, count) = records::list_counted(&db, &fs, &own, &query, 1_000)
                .await
                .unwrap();
            let names: Vec<String> = items.iter().map(|r| r.title(&CUSTOMERS)).collect();
            assert_eq!(names, ["宁波2号", "宁波1号", "宁波0号"], "{q}");
            assert_eq!(count, Some(3), "{q}");
            assert_eq!(
                found(&db, &fs, q).await.len(),
                50,
                "the administrator sees a page"
            );
        }
        // A list page reads only the fields it shows (and the title and the sort key).
        let query = ListQuery {
            q: Some("nb".into()),
            limit: 50,
            fields: Some(vec!["phone"]),
            sort: CUSTOMERS.fields.iter().find(|f| f.code == "pinyin"),
            ..ListQuery::default()
        };
        let items = records::list(&db, &fs, &own, &query).await.unwrap();
        assert_eq!(items.len(), 3);
        let mut keys: Vec<&str> = items[0].values.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["name", "phone", "pinyin"]);
        assert_eq!(items[0].values["phone"], "13800000000");
        close(db, url).await;
    }
}
