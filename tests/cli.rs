//! The binary as an operator uses it: help, `serve` printing the URL and first administrator,
//! `migrate`, and `user add | list | disable | enable | reset-password`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

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

#[test]
fn help_lists_every_subcommand_and_option() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, help) = guanxi(dir.path(), &["--help"]);
    assert!(ok);
    for word in [
        "serve",
        "migrate",
        "user",
        "--data-dir",
        "--database-url",
        "--config",
    ] {
        assert!(help.contains(word), "{word} missing from --help:\n{help}");
    }
    let (_, serve) = guanxi(dir.path(), &["serve", "--help"]);
    for word in [
        "--listen",
        "GUANXI_LISTEN",
        "GUANXI_ADMIN_PASSWORD",
        "GUANXI_DATABASE_URL",
        "--secure-cookies",
        "--trust-proxy",
    ] {
        assert!(
            serve.contains(word),
            "{word} missing from serve --help:\n{serve}"
        );
    }
}

#[test]
fn user_commands_and_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = guanxi(dir.path(), &["migrate"]);
    assert!(ok, "{out}");
    assert!(out.contains("up to date"));
    let (ok, out) = guanxi(
        dir.path(),
        &[
            "user",
            "add",
            "li.na",
            "--name",
            "李娜",
            "--role",
            "sales_manager",
        ],
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("password: "),
        "a generated password is printed: {out}"
    );
    let (ok, out) = guanxi(dir.path(), &["user", "add", "li.na"]);
    assert!(!ok && out.contains("already exists"), "{out}");
    let (ok, out) = guanxi(
        dir.path(),
        &["user", "add", "x", "--password", "password-1"],
    );
    assert!(!ok && out.contains("invalid user name"), "{out}");
    let (ok, out) = guanxi(dir.path(), &["user", "list"]);
    assert!(
        ok && out.contains("li.na") && out.contains("李娜") && out.contains("active"),
        "{out}"
    );
    let (ok, _) = guanxi(dir.path(), &["user", "disable", "li.na"]);
    assert!(ok);
    let (_, out) = guanxi(dir.path(), &["user", "list"]);
    assert!(out.contains("disabled"), "{out}");
    let (ok, _) = guanxi(dir.path(), &["user", "enable", "li.na"]);
    assert!(ok);
    let (ok, out) = guanxi(dir.path(), &["user", "reset-password", "li.na"]);
    assert!(ok && out.contains("new password for li.na: "), "{out}");
    let (ok, out) = guanxi(dir.path(), &["user", "reset-password", "nobody"]);
    assert!(!ok && out.contains("no user nobody"), "{out}");
}

#[test]
fn serve_prints_url_and_first_administrator() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_guanxi"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("GUANXI_LOG", "warn")
        .env_remove("GUANXI_ADMIN_PASSWORD")
        .env_remove("GUANXI_DATABASE_URL")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    let mut password = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("Guanxi (关系) CRM is running at ") {
            url = Some(rest.trim().trim_end_matches('/').to_owned());
        }
        if let Some((_, pw)) = line.split_once("password: ") {
            password = Some(pw.trim().to_owned());
            break;
        }
    }
    let (url, password) = (
        url.expect("URL printed"),
        password.expect("password printed"),
    );
    let rt = tokio_rt();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": "admin", "password": password}))
            .send()
            .await
            .unwrap()
            .status()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status, 200);
    assert!(
        dir.path().join("guanxi.db").exists(),
        "the SQLite database lives in the data directory"
    );
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `guanxi demo` before the first `serve` makes the first administrator with the password
/// GUANXI_ADMIN_PASSWORD chooses, as `serve` would, and does not print it.
#[tokio::test]
async fn demo_first_takes_the_chosen_admin_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_guanxi"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["demo", "--customers", "30"])
        .env("GUANXI_LOG", "warn")
        .env("GUANXI_ADMIN_PASSWORD", "chosen-admin-password-1")
        .env_remove("GUANXI_DATABASE_URL")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("user name: admin (password from GUANXI_ADMIN_PASSWORD)"),
        "{text}"
    );
    assert!(!text.contains("chosen-admin-password-1"), "{text}");
    let url = format!(
        "sqlite://{}?mode=ro",
        dir.path().join("guanxi.db").display()
    );
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'admin'")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert!(guanxi_core::security::verify_password(
        "chosen-admin-password-1",
        &hash
    ));
}
