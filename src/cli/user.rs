//! `guanxi user add | list | reset-password | disable | enable`: account administration for the
//! machine's operator (recorded in the audit log as "system").

use clap::Subcommand;
use guanxi_store::audit::{self, Actor, Event};
use guanxi_store::{roles, users};

use super::{DbArgs, FileConfig};

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user. Prints the generated password when none is given.
    Add {
        username: String,
        /// Display name (defaults to the user name).
        #[arg(long)]
        name: Option<String>,
        #[arg(long, env = "GUANXI_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Built-in role code: admin, sales_manager, sales, service, finance.
        #[arg(long, default_value = "sales")]
        role: String,
    },
    /// List all users.
    List,
    /// Set a new random password (printed) and end the user's sessions.
    ResetPassword { username: String },
    /// Disable an account and end its sessions at once.
    Disable { username: String },
    /// Enable a disabled account.
    Enable { username: String },
}

pub async fn run(db_args: &DbArgs, file: &FileConfig, cmd: UserCommand) -> anyhow::Result<()> {
    let db = db_args.open(file).await?;
    guanxi_store::setup::ensure_builtin_roles(&db).await?;
    let actor = Actor::system();
    let result = match cmd {
        UserCommand::Add {
            username,
            name,
            password,
            role,
        } => {
            let username = guanxi_core::validate::username(&username).map_err(|_| {
                anyhow::anyhow!("invalid user name: 2–32 letters, digits or _ . - @")
            })?;
            let role_id = roles::id_by_code(&db, &role)
                .await?
                .ok_or_else(|| anyhow::anyhow!("unknown role {role}"))?;
            let generated = password.is_none();
            let password = password.unwrap_or_else(guanxi_core::security::random_password);
            guanxi_core::validate::password("password", &password)
                .map_err(|_| anyhow::anyhow!("the password needs at least 8 characters"))?;
            let hash = guanxi_core::security::hash_password(&password);
            let display = name.unwrap_or_else(|| username.clone());
            let mut tx = db.begin().await?;
            let id = users::insert_unchecked(
                &mut tx,
                &users::NewUser {
                    username: &username,
                    display_name: &display,
                    mobile: None,
                    email: None,
                    department_id: None,
                    password_hash: &hash,
                    locale: "zh-CN",
                    time_zone: "Asia/Shanghai",
                },
            )
            .await
            .map_err(|e| match e {
                guanxi_store::StoreError::Unique(_) => {
                    anyhow::anyhow!("user {username} already exists")
                }
                other => other.into(),
            })?;
            users::set_roles(&mut tx, id, &[role_id]).await?;
            audit::record(
                &mut tx,
                &actor,
                Event::new(
                    "user.create",
                    format!("created user {username} from the command line"),
                )
                .module(guanxi_core::Module::Users)
                .target(id, &username),
            )
            .await?;
            tx.commit().await?;
            if generated {
                println!("created {username} (id {id}); password: {password}");
            } else {
                println!("created {username} (id {id})");
            }
            Ok(())
        }
        UserCommand::List => {
            println!(
                "{:>6}  {:<24} {:<20} {:<16} status",
                "id", "username", "name", "department"
            );
            for u in users::list_all(&db).await? {
                println!(
                    "{:>6}  {:<24} {:<20} {:<16} {}",
                    u.id,
                    u.username,
                    u.display_name,
                    u.department_name.unwrap_or_default(),
                    if u.is_active { "active" } else { "disabled" }
                );
            }
            Ok(())
        }
        UserCommand::ResetPassword { username } => {
            let password = guanxi_core::security::random_password();
            let hash = guanxi_core::security::hash_password(&password);
            let mut tx = db.begin().await?;
            let id = users::reset_password_unchecked(&mut tx, &username.to_lowercase(), &hash)
                .await
                .map_err(|_| anyhow::anyhow!("no user {username}"))?;
            audit::record(
                &mut tx,
                &actor,
                Event::new(
                    "user.reset_password",
                    format!("reset the password of {username} from the command line"),
                )
                .module(guanxi_core::Module::Users)
                .target(id, &username),
            )
            .await?;
            tx.commit().await?;
            println!("new password for {username}: {password}");
            Ok(())
        }
        UserCommand::Disable { username } => set_active(&db, &actor, &username, false).await,
        UserCommand::Enable { username } => set_active(&db, &actor, &username, true).await,
    };
    db.close().await;
    result
}

async fn set_active(
    db: &guanxi_store::Db,
    actor: &Actor,
    username: &str,
    active: bool,
) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let id = users::set_active_unchecked(&mut tx, &username.to_lowercase(), active)
        .await
        .map_err(|_| anyhow::anyhow!("no user {username}"))?;
    let (action, verb) = if active {
        ("user.enable", "enabled")
    } else {
        ("user.disable", "disabled")
    };
    audit::record(
        &mut tx,
        actor,
        Event::new(action, format!("{verb} {username} from the command line"))
            .module(guanxi_core::Module::Users)
            .target(id, username),
    )
    .await?;
    tx.commit().await?;
    println!("{username} {verb}");
    Ok(())
}
