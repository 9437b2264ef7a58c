//! Command-line interface: flags, `GUANXI_*` environment variables and an optional TOML file.

mod bench;
mod demo;
mod serve;
mod transfer;
mod user;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use guanxi_store::Db;

#[derive(Parser, Debug)]
#[command(
    name = "guanxi",
    version,
    about = "Guanxi (关系) CRM: one binary, SQLite by default, PostgreSQL to scale out"
)]
pub struct Cli {
    #[command(flatten)]
    pub db: DbArgs,
    /// Optional TOML file with the same keys as the long flags (listen, data_dir, database_url, ...).
    #[arg(long, global = true, env = "GUANXI_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    /// Directory of the embedded SQLite database (guanxi.db) when no --database-url is given.
    #[arg(long, global = true, env = "GUANXI_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://FILE or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "GUANXI_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the web server (creates and migrates the database, and the first administrator).
    Serve(serve::ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts from the command line.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Fill the database with realistic, deterministic demo data (default 2,000 customers).
    Demo(demo::DemoArgs),
    /// Measure the server on a generated data set and write BENCHMARKS.md.
    Bench(bench::BenchArgs),
    /// Import a CSV or XLSX file into a module (the same checks as the web import).
    Import(transfer::ImportArgs),
    /// Export a module's records (with a filter) to CSV or XLSX.
    Export(transfer::ExportArgs),
    /// Background jobs of the server.
    #[command(subcommand)]
    Jobs(transfer::JobsCommand),
}

/// Keys of the optional TOML configuration file; flags and environment variables win.
#[derive(serde::Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub secure_cookies: Option<bool>,
    pub trust_proxy: Option<bool>,
}

impl FileConfig {
    fn load(path: Option<&PathBuf>) -> anyhow::Result<FileConfig> {
        let Some(path) = path else {
            return Ok(FileConfig::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("invalid {}: {e}", path.display()))
    }
}

impl DbArgs {
    /// The database URL: flag/env, then config file, then `./guanxi-data/guanxi.db`.
    pub fn url(&self, file: &FileConfig) -> String {
        if let Some(u) = self
            .database_url
            .clone()
            .or_else(|| file.database_url.clone())
        {
            return u;
        }
        let dir = self
            .data_dir
            .clone()
            .or_else(|| file.data_dir.clone())
            .unwrap_or_else(|| "guanxi-data".into());
        format!("sqlite://{}", dir.join("guanxi.db").display())
    }

    /// The directory for files the server keeps (import uploads), and the SQLite database.
    pub fn data_dir(&self, file: &FileConfig) -> PathBuf {
        self.data_dir
            .clone()
            .or_else(|| file.data_dir.clone())
            .unwrap_or_else(|| "guanxi-data".into())
    }

    /// Opens and migrates the database.
    pub async fn open(&self, file: &FileConfig) -> anyhow::Result<Db> {
        let url = self.url(file);
        let db = Db::connect(&url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", redact(&url)))?;
        let n = guanxi_store::migrate::run(&db).await?;
        if n > 0 {
            tracing::info!(migrations = n, "database migrated");
        }
        Ok(db)
    }
}

/// The first administrator's password, for the commands that create one when there is none.
#[derive(Args, Debug)]
pub struct AdminPassword {
    /// Password of the first administrator, created on first start (random when unset).
    #[arg(long, env = "GUANXI_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
}

impl AdminPassword {
    /// Creates the first administrator if the database has none; returns what to tell the
    /// operator: a generated password, once, or where the chosen one came from.
    /// An empty password (`GUANXI_ADMIN_PASSWORD=`) counts as none.
    pub async fn ensure(&self, db: &Db) -> anyhow::Result<Vec<String>> {
        let chosen = self.admin_password.clone().filter(|p| !p.is_empty());
        let random = chosen.is_none();
        let created = guanxi_store::setup::ensure_first_admin(db, chosen).await?;
        Ok(match created {
            Some((user, password)) if random => vec![
                format!("First administrator created — user name: {user}  password: {password}"),
                "(shown only now; change it after signing in)".into(),
            ],
            Some((user, _)) => vec![format!(
                "First administrator created — user name: {user} (password from GUANXI_ADMIN_PASSWORD)"
            )],
            None => vec![],
        })
    }
}

/// Hides a password in a database URL before printing it.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GUANXI_LOG")
                .unwrap_or_else(|_| "info,sqlx=error,tower_http=warn".into()),
        )
        .with_target(false)
        .init();
    let file = FileConfig::load(cli.config.as_ref())?;
    match cli.command {
        Command::Serve(args) => serve::run(&cli.db, &file, args).await,
        Command::Migrate => {
            let db = cli.db.open(&file).await?;
            println!("database at {} is up to date", redact(&cli.db.url(&file)));
            db.close().await;
            Ok(())
        }
        Command::User(cmd) => user::run(&cli.db, &file, cmd).await,
        Command::Demo(args) => demo::run(&cli.db, &file, args).await,
        Command::Bench(args) => bench::run(&cli.db, &file, args).await,
        Command::Import(args) => transfer::import(&cli.db, &file, args).await,
        Command::Export(args) => transfer::export(&cli.db, &file, args).await,
        Command::Jobs(cmd) => transfer::jobs(&cli.db, &file, cmd).await,
    }
}
