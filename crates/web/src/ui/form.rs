//! Form bodies as ordered pairs, so repeated fields (check boxes) and matrices survive.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};

use crate::error::AppError;

pub struct RawForm(pub Vec<(String, String)>);

impl RawForm {
    pub fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    pub fn opt_id(&self, key: &str) -> Option<i64> {
        self.get(key).trim().parse().ok()
    }
}

impl<S: Send + Sync> FromRequest<S> for RawForm {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::BadRequest("error-form-body"))?;
        Ok(RawForm(
            form_urlencoded::parse(&bytes).into_owned().collect(),
        ))
    }
}
