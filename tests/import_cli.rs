//! Imports and exports from the command line, and an import surviving `kill -9` of the server:
//! after a restart it resumes where its last committed chunk left it, with no row lost and none
//! written twice.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod common;
use common::{DropDatabase, pg_database};

fn guanxi(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_guanxi"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("GUANXI_LOG", "warn")
        .env_remove("GUANXI_DATABASE_URL")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A CSV of `n` customers with Chinese headers; rows listed in `bad` get an invalid phone.
fn customers_csv(n: usize, bad: &[usize]) -> String {
    let mut s = String::from("客户名称,电话,详细地址\n");
    for i in 0..n {
        let phone = if bad.contains(&i) {
            "12ab".to_owned()
        } else {
            format!("139{i:08}")
        };
        s += &format!("测试客户{i:06},{phone},北京市朝阳区{i}号\n");
    }
    s
}

#[test]
fn import_and_export_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = guanxi(
        dir.path(),
        &[
            "user",
            "add",
            "admin",
            "--role",
            "admin",
            "--password",
            "password-123",
        ],
    );
    assert!(ok, "{out}");
    let file = dir.path().join("c.csv");
    std::fs::write(&file, customers_csv(1000, &[10, 20])).unwrap();
    let f = file.to_str().unwrap();
    let (ok, out) = guanxi(dir.path(), &["import", "customers", f, "--dry-run"]);
    assert!(!ok, "failed rows make a non-zero exit: {out}");
    assert!(
        out.contains("1000 rows checked") && out.contains("2 fail"),
        "{out}"
    );
    assert!(dir.path().join("c.csv.errors.xlsx").exists());
    let (ok, out) = guanxi(
        dir.path(),
        &["import", "customers", f, "--mapping", "详细地址=address"],
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("998 created") && out.contains("2 failed"),
        "{out}"
    );
    let errors = guanxi_io::open(
        &dir.path().join("c.csv.errors.xlsx"),
        None,
        &guanxi_io::Limits::default(),
    )
    .unwrap();
    assert_eq!(errors.map(Result::unwrap).count(), 2);
    // Importing again skips every duplicate.
    let clean = dir.path().join("clean.csv");
    std::fs::write(&clean, customers_csv(5, &[])).unwrap();
    let (ok, out) = guanxi(
        dir.path(),
        &["import", "customers", clean.to_str().unwrap()],
    );
    assert!(
        ok && out.contains("0 created") && out.contains("5 skipped"),
        "{out}"
    );
    let csv = dir.path().join("out.csv");
    let (ok, out) = guanxi(
        dir.path(),
        &[
            "export",
            "customers",
            "--format",
            "csv",
            "-o",
            csv.to_str().unwrap(),
            "--columns",
            "name,phone",
            "--filter",
            "f.name.contains=00099",
        ],
    );
    assert!(ok, "{out}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("\u{feff}客户名称,电话\r\n"), "{text}");
    assert_eq!(
        text.lines().count(),
        1 + 11,
        "000099 and 000990–000999: {text}"
    );
    let xlsx = dir.path().join("out.xlsx");
    let (ok, out) = guanxi(
        dir.path(),
        &[
            "export",
            "customers",
            "--format",
            "xlsx",
            "-o",
            xlsx.to_str().unwrap(),
        ],
    );
    assert!(ok && out.contains("998 rows"), "{out}");
    let (ok, out) = guanxi(dir.path(), &["jobs", "list"]);
    assert!(ok, "{out}");

    // A rule added behind the server's back is applied by running the job by hand.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = guanxi_store::Db::open_sqlite(&dir.path().join("guanxi.db"))
            .await
            .unwrap();
        let mut tx = db.begin().await.unwrap();
        let conditions = serde_json::json!({ "all": [
            { "field": "name", "op": "contains", "value": "00099" }
        ] });
        let rule = guanxi_store::rules::RuleInput {
            kind: "classification",
            name: "九九",
            conditions: &conditions,
            result: "a",
            active: true,
        };
        guanxi_store::rules::create(&mut tx, &rule).await.unwrap();
        tx.commit().await.unwrap();
        db.close().await;
    });
    let (ok, out) = guanxi(dir.path(), &["jobs", "run", "rules.reevaluate"]);
    assert!(
        ok && out.contains("rules.reevaluate: 11 customers changed"),
        "{out}"
    );
    let (ok, out) = guanxi(dir.path(), &["jobs", "run", "rules.reevaluate"]);
    assert!(
        ok && out.contains("rules.reevaluate: 0 customers changed"),
        "{out}"
    );
    let (ok, out) = guanxi(dir.path(), &["jobs", "run", "nothing"]);
    assert!(!ok && out.contains("rules.reevaluate"), "{out}");
}

#[test]
fn import_into_a_pool_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    for (name, role) in [("admin", "admin"), ("lin", "sales_manager")] {
        let (ok, out) = guanxi(
            dir.path(),
            &[
                "user",
                "add",
                name,
                "--role",
                role,
                "--password",
                "password-123",
            ],
        );
        assert!(ok, "{out}");
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db_path = dir.path().join("guanxi.db");
    let pool = rt.block_on(async {
        let db = guanxi_store::Db::open_sqlite(&db_path).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        let input = guanxi_store::pools::PoolInput {
            name: "华东公海".into(),
            fall_back_days: Some(30),
            active: true,
            ..Default::default()
        };
        let id = guanxi_store::pools::create(&mut tx, &input).await.unwrap();
        tx.commit().await.unwrap();
        db.close().await;
        id
    });
    let file = dir.path().join("pool.csv");
    std::fs::write(&file, customers_csv(3, &[])).unwrap();
    let f = file.to_str().unwrap();
    let (ok, out) = guanxi(dir.path(), &["import", "customers", f, "--pool", "不存在"]);
    assert!(!ok && out.contains("no pool named 不存在"), "{out}");
    // A sales manager who does not manage the pool is refused; nothing is written.
    let (ok, out) = guanxi(
        dir.path(),
        &[
            "import",
            "customers",
            f,
            "--pool",
            "华东公海",
            "--as",
            "lin",
        ],
    );
    assert!(!ok && out.contains("pool_id"), "{out}");
    let (ok, out) = guanxi(
        dir.path(),
        &["import", "customers", f, "--pool", "华东公海"],
    );
    assert!(ok && out.contains("3 created"), "{out}");
    rt.block_on(async {
        let db = guanxi_store::Db::open_sqlite(&db_path).await.unwrap();
        let guanxi_store::Db::Sqlite { read, .. } = &db else {
            unreachable!()
        };
        let (all, pooled): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(CASE WHEN owner_id IS NULL AND pool_id = $1 \
             AND fall_back_at IS NULL AND released_at IS NOT NULL THEN 1 END) FROM customers",
        )
        .bind(pool)
        .fetch_one(read)
        .await
        .unwrap();
        assert_eq!((all, pooled), (3, 3));
        let events: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM ownership_events WHERE event = 'import' AND pool_id = $1",
        )
        .bind(pool)
        .fetch_one(read)
        .await
        .unwrap();
        assert_eq!(events, 3);
        let remembered: Vec<Option<i64>> =
            sqlx::query_scalar("SELECT pool_id FROM imports ORDER BY id")
                .fetch_all(read)
                .await
                .unwrap();
        assert_eq!(remembered.last(), Some(&Some(pool)), "{remembered:?}");
        db.close().await;
    });
    // By id, too.
    let again = dir.path().join("again.csv");
    std::fs::write(&again, "客户名称\n按编号导入\n").unwrap();
    let (ok, out) = guanxi(
        dir.path(),
        &[
            "import",
            "customers",
            again.to_str().unwrap(),
            "--pool",
            &pool.to_string(),
        ],
    );
    assert!(ok && out.contains("1 created"), "{out}");
}

/// A server process, killed when dropped (a failed test leaves none running).
struct Server(Child);

impl Server {
    /// SIGKILL: no shutdown, no flush.
    fn kill(&mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A server on the SQLite database in `dir`, or on the PostgreSQL database `database`.
fn serve(dir: &std::path::Path, database: Option<&str>) -> (Server, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guanxi"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("GUANXI_LOG", "warn")
        .env("GUANXI_ADMIN_PASSWORD", "password-123")
        .env_remove("GUANXI_DATABASE_URL");
    if let Some(url) = database {
        cmd.args(["--database-url", url]);
    }
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("Guanxi (关系) CRM is running at ")
                .map(|u| u.trim().trim_end_matches('/').to_owned())
        })
        .expect("URL printed");
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Server(child), url)
}

async fn token(url: &str) -> String {
    let v: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": "password-123"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["token"].as_str().unwrap().to_owned()
}

async fn status(url: &str, token: &str, id: i64) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{url}/api/v1/imports/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// 120,000 rows into an empty table: the import sets the table's indexes aside, so the kill
/// leaves them unbuilt, and the restart must build them before the import goes on.
#[test]
fn an_import_resumes_after_the_server_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    resumes_after_kill(dir.path(), None, 120_000);
}

/// The secondary indexes of `customers` in a SQLite file, those set aside, and the quick-search
/// index's `automerge` setting (`None`: FTS5's default).
fn sqlite_indexes(path: &std::path::Path) -> (Vec<String>, Vec<String>, Option<i64>) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            let built = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customers' \
                 AND sql IS NOT NULL ORDER BY name",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            let aside = sqlx::query_scalar("SELECT name FROM deferred_indexes ORDER BY name")
                .fetch_all(&mut c)
                .await
                .unwrap();
            let merging =
                sqlx::query_scalar("SELECT v FROM search_customers_config WHERE k = 'automerge'")
                    .fetch_optional(&mut c)
                    .await
                    .unwrap();
            (built, aside, merging)
        })
}

/// The same on PostgreSQL, where the search documents of a chunk are committed on a connection
/// of their own before the chunk: none may be missing after the restart.
#[test]
fn an_import_resumes_after_the_server_is_killed_on_postgres() {
    let Some(url) = pg_database("import_kill") else {
        return;
    };
    let _drop = DropDatabase(url.clone());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(guanxi_store::bulk::ensure_pg_database(&url))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A server's import commits every 5,000 rows: the kill comes after the first of two
    // transactions.
    resumes_after_kill(dir.path(), Some(&url), 10_000);
}

fn resumes_after_kill(dir: &std::path::Path, database: Option<&str>, total: usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (mut child, url) = serve(dir, database);
    let (id, killed_at) = rt.block_on(async {
        let t = token(&url).await;
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(customers_csv(total, &[]).into_bytes())
                .file_name("big.csv"),
        );
        let imp: serde_json::Value = reqwest::Client::new()
            .post(format!("{url}/api/v1/customers/imports"))
            .bearer_auth(&t)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = imp["id"].as_i64().unwrap();
        let r = reqwest::Client::new()
            .post(format!("{url}/api/v1/imports/{id}/start"))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        loop {
            let s = status(&url, &t, id).await;
            let p = s["position"].as_i64().unwrap();
            if p > 0 {
                // SIGKILL: no shutdown, no flush — a chunk may be half written.
                child.kill();
                return (id, p);
            }
            assert_ne!(s["state"], "failed", "{s}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    assert!(
        killed_at < total as i64,
        "killed before the end ({killed_at})"
    );
    // A large import into an empty table on SQLite wrote without the table's indexes; their
    // definitions outlive the process.
    let aside = database.is_none().then(|| {
        let (built, aside, merging) = sqlite_indexes(&dir.join("guanxi.db"));
        assert!(
            built.is_empty(),
            "indexes set aside while writing: {built:?}"
        );
        assert!(aside.contains(&"customers_name".to_owned()), "{aside:?}");
        assert_eq!(merging, Some(0), "the search index merges at the end");
        aside
    });
    if let Some(url) = database {
        // PostgreSQL may be shared by several servers: the dead one's job is taken over when
        // its lease runs out (two minutes), which the test brings forward.
        rt.block_on(async {
            let db = guanxi_store::Db::connect(url).await.unwrap();
            let guanxi_store::Db::Postgres(p) = &db else {
                unreachable!()
            };
            sqlx::query(
                "UPDATE jobs SET locked_until = now() - interval '1 second' \
                 WHERE state = 'running'",
            )
            .execute(p)
            .await
            .unwrap();
            db.close().await;
        });
    }
    let (mut child, url) = serve(dir, database);
    let done = rt.block_on(async {
        let t = token(&url).await;
        let mut last = serde_json::Value::Null;
        for _ in 0..1200 {
            last = status(&url, &t, id).await;
            if last["state"] == "done" {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the import did not finish after the restart: {last}");
    });
    child.kill();
    if let Some(aside) = aside {
        assert_eq!(
            sqlite_indexes(&dir.join("guanxi.db")),
            (aside, vec![], Some(4)),
            "every index built again, the search index merging as it goes"
        );
    }
    assert_eq!(done["position"], total as i64, "{done}");
    assert_eq!(done["created_rows"], total as i64, "{done}");
    rt.block_on(async {
        let db = match database {
            Some(url) => guanxi_store::Db::connect(url).await.unwrap(),
            None => guanxi_store::Db::open_sqlite(&dir.join("guanxi.db"))
                .await
                .unwrap(),
        };
        let (rows, names): (i64, i64) = guanxi_store::on_db!(&db, read, |p| {
            sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT name) FROM customers")
                .fetch_one(p)
                .await
                .unwrap()
        });
        assert_eq!(
            (rows, names),
            (total as i64, total as i64),
            "no row lost, none twice"
        );
        let items: i64 = guanxi_store::on_db!(&db, read, |p| {
            sqlx::query_scalar("SELECT COUNT(*) FROM import_items")
                .fetch_one(p)
                .await
                .unwrap()
        });
        assert_eq!(items, total as i64);
        // Every record is in the quick-search index.
        let indexed: i64 = match &db {
            guanxi_store::Db::Sqlite { read, .. } => {
                sqlx::query_scalar("SELECT COUNT(*) FROM search_customers_docsize")
                    .fetch_one(read)
                    .await
                    .unwrap()
            }
            guanxi_store::Db::Postgres(p) => sqlx::query_scalar(
                "SELECT COUNT(DISTINCT record_id) FROM search_grams \
                 WHERE module = 'customers' AND record_id IN (SELECT id FROM customers)",
            )
            .fetch_one(p)
            .await
            .unwrap(),
        };
        assert_eq!(indexed, total as i64, "every record searchable");
        db.close().await;
    });
}
