//! The use cases, shared by the JSON API, the HTML UI and the CLI. Each one authorizes through
//! the policy (`Principal::authorize`), validates its input, writes, and records its audit entry
//! in the same transaction.

pub mod account;
pub mod attachments;
pub mod audit;
pub mod custom_fields;
pub mod departments;
pub mod dictionary;
pub mod export;
pub mod history;
pub mod hooks;
pub mod imports;
pub mod lookups;
pub mod notifications;
pub mod pools;
pub mod records;
pub mod regions;
pub mod roles;
pub mod rules;
pub mod session;
pub mod settings;
pub mod sweep;
pub mod users;

use guanxi_core::validate::FieldError;
use guanxi_store::StoreError;

use crate::error::AppError;

/// Turns a unique-constraint violation into a field error on `field`.
pub(crate) fn unique_as(field: &'static str, key: &'static str) -> impl Fn(StoreError) -> AppError {
    move |e| match e {
        StoreError::Unique(_) => AppError::Validation(vec![FieldError::new(field, key)]),
        other => other.into(),
    }
}
