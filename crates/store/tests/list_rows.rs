//! The export's reading path, `records::list_rows`, on every database: page after page it gives
//! the records, the order and the values that `records::list` gives, for every sort a list
//! offers (ties and empty values included), a quick search and a data scope.

use guanxi_core::Scope;
use guanxi_core::engine::{CUSTOMERS, FieldDef, Fields};
use guanxi_store::audit::Actor;
use guanxi_store::records::{self, ListQuery, NewRecord, Values};
use serde_json::{Value, json};

mod common;
use common::{close, databases, grant, grant_of};

/// Every record of `q` through `list`, then through `list_rows`, in pages of `limit`.
async fn both(
    db: &guanxi_store::Db,
    fs: &Fields,
    g: &guanxi_core::Grant,
    q: &ListQuery,
    cols: &[&FieldDef],
) -> (Vec<records::Record>, Vec<records::Row>) {
    let (mut listed, mut q1) = (vec![], q.clone());
    loop {
        let page = records::list(db, fs, g, &q1).await.unwrap();
        let Some(last) = page.last() else { break };
        q1.after = Some(records::cursor_of(last, q1.sort));
        let full = page.len() as i64 == q1.limit;
        listed.extend(page);
        if !full {
            break;
        }
    }
    let (mut rows, mut q2) = (vec![], q.clone());
    loop {
        let (page, next) = records::list_rows(db, fs, g, &q2, cols).await.unwrap();
        rows.extend(page);
        match next {
            Some(c) => q2.after = Some(c),
            None => break,
        }
    }
    (listed, rows)
}

#[tokio::test]
async fn export_pages_match_the_list_on_both_databases() {
    for (db, url, _dir) in databases("list_rows").await {
        let fs = Fields::builtin(&CUSTOMERS);
        let actor = Actor::system();
        let levels = [Some("key"), None, Some("normal")];
        let rows: Vec<NewRecord> = (0..23)
            .map(|i| {
                let mut v = Values::new();
                // Names repeat, so that ties are broken by id across page ends.
                v.insert("name".into(), json!(format!("客户{}", i % 7)));
                v.insert("phone".into(), json!(format!("1380000{i:04}")));
                if let Some(l) = levels[i % 3] {
                    v.insert("level".into(), json!(l));
                }
                NewRecord {
                    owner_id: None,
                    values: v,
                }
            })
            .collect();
        let mut tx = db.begin().await.unwrap();
        records::insert_many(&mut tx, &fs, &rows, &actor)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let cols: Vec<&FieldDef> = fs.iter().collect();
        let sorts = [
            None,
            fs.field("name"),
            fs.field("level"),
            fs.field("score"),
            fs.filter_field("updated_at"),
            fs.filter_field("id"),
        ];
        for sort in sorts {
            for descending in [false, true] {
                for search in [None, Some("客户3")] {
                    let q = ListQuery {
                        q: search.map(str::to_owned),
                        sort,
                        descending,
                        limit: 4,
                        ..ListQuery::default()
                    };
                    let (listed, rows) = both(&db, &fs, &grant(), &q, &cols).await;
                    let what = format!(
                        "{:?} by {:?} desc {descending} q {search:?}",
                        db.backend(),
                        sort.map(|f| f.code)
                    );
                    let want = if search.is_some() { 3 } else { 23 };
                    assert_eq!(listed.len(), want, "{what}");
                    let ids = |r: &[records::Row]| r.iter().map(|r| r.id).collect::<Vec<_>>();
                    let listed_ids: Vec<i64> = listed.iter().map(|r| r.id).collect();
                    assert_eq!(ids(&rows), listed_ids, "{what}");
                    for (r, row) in listed.iter().zip(&rows) {
                        for (f, v) in cols.iter().zip(&row.values) {
                            let held = r.values.get(f.code).cloned().unwrap_or(Value::Null);
                            assert_eq!(&held, v, "{what}: {} of {}", f.code, r.id);
                        }
                        assert_eq!(row.owner_name, r.owner_name, "{what}");
                        let updated = row
                            .updated_at
                            .as_deref()
                            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                        assert_eq!(updated, Some(r.updated_at.into()), "{what}");
                    }
                }
            }
        }

        // A salesperson who owns nothing reads nothing, page or rows.
        let own = grant_of(2, "sales", Scope::Own);
        let q = ListQuery {
            limit: 4,
            ..ListQuery::default()
        };
        let (listed, rows) = both(&db, &fs, &own, &q, &cols).await;
        assert!(listed.is_empty() && rows.is_empty());
        close(db, url).await;
    }
}
