//! System settings: a key/value table read as a typed struct with defaults.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{Db, Result, Tx, now, on_db, on_tx};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Settings {
    pub company_name: String,
    /// `zh-CN` or `en`: the language of the login page and of new users.
    pub default_locale: String,
    pub default_time_zone: String,
    /// What a duplicate (查重) does per module: `block` refuses it, `warn` asks the user to
    /// confirm. Keys: customers, contacts, organisations.
    #[serde(default)]
    pub duplicates: std::collections::BTreeMap<String, String>,
    /// Related lists an administrator hid from a module's detail page: module → related
    /// module codes (e.g. `{"customers": ["contacts"]}`).
    #[serde(default)]
    pub hidden_related: std::collections::BTreeMap<String, Vec<String>>,
}

impl Settings {
    /// The duplicate mode of a module: `block` or `warn`.
    pub fn duplicate_mode(&self, module: &str) -> &str {
        match self.duplicates.get(module).map(String::as_str) {
            Some("warn") => "warn",
            Some("block") => "block",
            _ if module == "contacts" => "warn",
            _ => "block",
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            company_name: "关系 CRM".into(),
            default_locale: "zh-CN".into(),
            default_time_zone: "Asia/Shanghai".into(),
            duplicates: Default::default(),
            hidden_related: Default::default(),
        }
    }
}

pub async fn load(db: &Db) -> Result<Settings> {
    crate::cache::through(db, crate::cache::Topic::Settings, "settings", async || {
        let rows: Vec<(String, String)> = on_db!(db, read, |p| sqlx::query_as(
            "SELECT key, value FROM settings"
        )
        .fetch_all(p)
        .await)?;
        let map: HashMap<String, String> = rows.into_iter().collect();
        let d = Settings::default();
        let get = |k: &str, default: String| map.get(k).cloned().unwrap_or(default);
        Ok(Settings {
            company_name: get("company_name", d.company_name),
            default_locale: get("default_locale", d.default_locale),
            default_time_zone: get("default_time_zone", d.default_time_zone),
            duplicates: map
                .get("duplicates")
                .and_then(|v| serde_json::from_str(v).ok())
                .unwrap_or_default(),
            hidden_related: map
                .get("hidden_related")
                .and_then(|v| serde_json::from_str(v).ok())
                .unwrap_or_default(),
        })
    })
    .await
}

pub async fn save(tx: &mut Tx, s: &Settings) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::Settings);
    let t = now();
    let duplicates = serde_json::to_string(&s.duplicates).unwrap_or_default();
    let hidden_related = serde_json::to_string(&s.hidden_related).unwrap_or_default();
    for (k, v) in [
        ("company_name", &s.company_name),
        ("default_locale", &s.default_locale),
        ("default_time_zone", &s.default_time_zone),
        ("duplicates", &duplicates),
        ("hidden_related", &hidden_related),
    ] {
        on_tx!(tx, |c| {
            sqlx::query(
                "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(k)
            .bind(v)
            .bind(t)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}
