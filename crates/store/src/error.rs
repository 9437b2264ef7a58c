//! Storage errors. A unique-constraint violation is its own variant so callers can turn it into
//! a field error ("this user name is taken") rather than a 500.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("unique constraint violated: {0}")]
    Unique(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("migration: {0}")]
    Migration(String),
    /// A background job's lease was lost (cancelled, or taken over by another worker).
    #[error("the job is no longer this worker's")]
    LeaseLost,
    #[error(transparent)]
    Sql(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error()
            && db.is_unique_violation()
        {
            return StoreError::Unique(db.constraint().unwrap_or(db.message()).to_owned());
        }
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            other => StoreError::Sql(other),
        }
    }
}
