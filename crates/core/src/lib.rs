//! Guanxi's domain core: the permission policy and data scopes, validated value types,
//! localisation and security primitives. It knows nothing of HTTP or SQL, so every other crate
//! (store, web, the binary) can share one definition of who may do what.

pub mod convert;
pub mod engine;
pub mod i18n;
pub mod permission;
pub mod rules;
pub mod security;
pub mod validate;

pub use i18n::{I18n, Locale};
pub use permission::{
    Action, Denied, Grant, Module, ModulePermission, Principal, Scope, ScopeFilter,
};
