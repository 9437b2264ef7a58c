//! `guanxi serve`.

use clap::Args;

use super::{AdminPassword, DbArgs, FileConfig, redact};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "GUANXI_LISTEN")]
    pub listen: Option<String>,
    #[command(flatten)]
    pub admin: AdminPassword,
    /// Mark cookies Secure (serving over TLS, or behind a TLS-terminating proxy).
    #[arg(long, env = "GUANXI_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Trust X-Forwarded-For from a reverse proxy in front of Guanxi.
    #[arg(long, env = "GUANXI_TRUST_PROXY")]
    pub trust_proxy: bool,
}

pub async fn run(db_args: &DbArgs, file: &FileConfig, args: ServeArgs) -> anyhow::Result<()> {
    let db = db_args.open(file).await?;
    let listen = args
        .listen
        .or_else(|| file.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    let admin = args.admin.ensure(&db).await?;
    println!("Guanxi (关系) CRM is running at http://{addr}/");
    println!("Database: {}", redact(&db_args.url(file)));
    for line in admin {
        println!("{line}");
    }
    let config = guanxi_web::WebConfig {
        secure_cookies: args.secure_cookies || file.secure_cookies.unwrap_or(false),
        trust_proxy: args.trust_proxy || file.trust_proxy.unwrap_or(false),
        data_dir: db_args.data_dir(file),
        ..guanxi_web::WebConfig::default()
    };
    let state = guanxi_web::AppState::new(db.clone(), config);
    guanxi_web::serve(state, listener).await?;
    db.close().await;
    Ok(())
}
