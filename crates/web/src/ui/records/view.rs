//! Turning records into what templates show: labels, display values, input values and options.

use std::collections::HashMap;

use guanxi_core::engine::{self, FieldDef, FieldKind, ModuleDef};
use guanxi_core::{Action, Locale};
use guanxi_store::records::{ListQuery, Record};
use serde_json::Value;

use crate::auth::Auth;
use crate::state::AppState;
use crate::ui::Tr;

/// One field as a form or the detail page shows it.
pub struct FieldView {
    pub code: &'static str,
    pub label: String,
    /// `text`, `textarea`, `select`, `checkbox`, `date`, `datetime`, `tel`, `email`, `url`, `number`.
    pub input: &'static str,
    pub required: bool,
    pub read_only: bool,
    pub max_len: usize,
    /// The value as an input holds it.
    pub raw: String,
    /// The value as a reader sees it.
    pub display: String,
    /// For selects: (value, label).
    pub options: Vec<(String, String)>,
    pub error: String,
    /// For relations: the linked record's page.
    pub link: Option<String>,
}

impl FieldView {
    pub fn selected(&self, v: &str) -> bool {
        self.raw == v
    }
}

pub fn input_kind(k: FieldKind) -> &'static str {
    match k {
        FieldKind::LongText => "textarea",
        FieldKind::Select | FieldKind::Relation(_) | FieldKind::User | FieldKind::Department => {
            "select"
        }
        FieldKind::Checkbox => "checkbox",
        FieldKind::Date => "date",
        FieldKind::DateTime => "datetime",
        FieldKind::Phone => "tel",
        FieldKind::Email => "email",
        FieldKind::Url => "url",
        FieldKind::Integer | FieldKind::Money => "number",
        FieldKind::Text | FieldKind::CreditCode => "text",
    }
}

/// Everything needed to show values of a module: dictionary labels and the titles of related
/// records, loaded once per page (never per row).
pub struct Lookups {
    dict: HashMap<(String, String), String>,
    options: HashMap<String, Vec<(String, String)>>,
    titles: HashMap<(&'static str, i64), String>,
    relation_options: HashMap<&'static str, Vec<(String, String)>>,
}

impl Lookups {
    pub async fn load(
        state: &AppState,
        auth: &Auth,
        def: &ModuleDef,
        records: &[&Record],
        with_options: bool,
    ) -> Lookups {
        let locale = auth.locale;
        let mut dict = HashMap::new();
        let mut options: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for i in guanxi_store::dictionary::all(&state.db)
            .await
            .unwrap_or_default()
        {
            dict.insert(
                (i.dictionary.clone(), i.code.clone()),
                i.label(locale).to_owned(),
            );
            if i.active {
                options
                    .entry(i.dictionary.clone())
                    .or_default()
                    .push((i.code.clone(), i.label(locale).to_owned()));
            }
        }
        let mut titles = HashMap::new();
        let mut relation_options = HashMap::new();
        for f in def.fields {
            let FieldKind::Relation(target) = f.kind else {
                continue;
            };
            let (Some(tdef), Ok(g)) = (
                engine::def_of(target),
                auth.principal.authorize(target, Action::View),
            ) else {
                continue;
            };
            for r in records {
                if let Some(id) = r.values.get(f.code).and_then(Value::as_i64)
                    && let Ok(t) = guanxi_store::records::get(&state.db, tdef, &g, id).await
                {
                    titles.insert((f.code, id), t.title(tdef));
                }
            }
            if with_options {
                // The most recent records in scope; a searching picker replaces this later.
                let q = ListQuery {
                    limit: 200,
                    ..ListQuery::default()
                };
                let list = guanxi_store::records::list(&state.db, tdef, &g, &q)
                    .await
                    .unwrap_or_default();
                relation_options.insert(
                    f.code,
                    list.iter()
                        .map(|r| (r.id.to_string(), r.title(tdef)))
                        .collect(),
                );
            }
        }
        Lookups {
            dict,
            options,
            titles,
            relation_options,
        }
    }

    pub fn display(&self, f: &FieldDef, v: Option<&Value>, tr: Tr, tz: &str) -> String {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return String::new();
        };
        match f.kind {
            FieldKind::Select => {
                let code = v.as_str().unwrap_or_default();
                self.dict
                    .get(&(f.dictionary.unwrap_or_default().to_owned(), code.to_owned()))
                    .cloned()
                    .unwrap_or_else(|| code.to_owned())
            }
            FieldKind::Checkbox => tr.t(if v.as_bool() == Some(true) {
                "yes"
            } else {
                "no"
            }),
            FieldKind::Relation(_) => v
                .as_i64()
                .and_then(|id| self.titles.get(&(f.code, id)).cloned())
                .unwrap_or_else(|| format!("#{v}")),
            FieldKind::DateTime => v
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|t| crate::ui::pages::local_time(&t.with_timezone(&chrono::Utc), tz))
                .unwrap_or_default(),
            _ => match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
        }
    }

    pub fn field_view(
        &self,
        def: &ModuleDef,
        f: &'static FieldDef,
        v: Option<&Value>,
        tr: Tr,
        tz: &str,
    ) -> FieldView {
        let raw = match v {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        let options = match f.kind {
            FieldKind::Select => self
                .options
                .get(f.dictionary.unwrap_or_default())
                .cloned()
                .unwrap_or_default(),
            FieldKind::Relation(_) => {
                let mut o = self
                    .relation_options
                    .get(f.code)
                    .cloned()
                    .unwrap_or_default();
                // Keep the current value choosable even when it is not among the recent ones.
                if let Some(id) = v.and_then(Value::as_i64)
                    && !o.iter().any(|(k, _)| *k == id.to_string())
                {
                    o.insert(0, (id.to_string(), self.display(f, v, tr, tz)));
                }
                o
            }
            _ => vec![],
        };
        let link = match (f.kind, v.and_then(Value::as_i64)) {
            (FieldKind::Relation(m), Some(id)) => {
                engine::def_of(m).map(|d| format!("/{}/{id}", d.code))
            }
            _ => None,
        };
        FieldView {
            code: f.code,
            label: tr.t(&f.label_key(def)),
            input: input_kind(f.kind),
            required: f.required,
            read_only: f.read_only,
            max_len: f.max_len,
            display: self.display(f, v, tr, tz),
            raw,
            options,
            error: String::new(),
            link,
        }
    }
}

/// The module's name in the user's language.
pub fn module_name(def: &ModuleDef, locale: Locale) -> String {
    guanxi_core::I18n::global().t(locale, &format!("module-{}", def.code))
}
