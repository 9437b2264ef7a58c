//! Guanxi's storage layer: one API over SQLite (embedded, the default) and PostgreSQL (scale-out).
//!
//! [`Db`] is an enum over the two typed pools rather than `sqlx::Any`, so timestamps, JSON and
//! 64-bit integers keep their types. Queries are written once with `$N` placeholders (which
//! sqlx's SQLite driver accepts too) and run on either pool through [`on_db!`] / [`on_tx!`],
//! which compile the same body for each backend.
//!
//! SQLite runs in WAL mode with `synchronous=FULL` and a single writer connection, so a committed
//! write survives a power cut and no write ever fails with SQLITE_BUSY; readers use their own pool.

pub mod attachments;
pub mod audit;
pub mod bulk;
pub mod cache;
pub mod custom_fields;
pub mod db;
pub mod departments;
pub mod dictionary;
pub mod error;
pub mod follow_ups;
pub mod history;
pub mod imports;
pub mod jobs;
pub mod migrate;
pub mod notifications;
mod pg_admin;
pub mod pools;
pub mod principal;
pub mod records;
pub mod regions;
pub mod roles;
pub mod rules;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod tokens;
pub mod users;
pub mod views;

pub use db::{Backend, Db, Tx};
pub use error::StoreError;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The current time, truncated to microseconds so that both databases store it exactly.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}

pub mod setup;
