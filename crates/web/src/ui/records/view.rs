//! Turning records into what templates show: labels, display values, input values and options.

use std::collections::HashMap;

use guanxi_core::Action;
use guanxi_core::engine::{self, FieldDef, FieldKind, Fields, ModuleDef};
use guanxi_store::records::{ListQuery, Record};
use serde_json::Value;

use crate::auth::Auth;
use crate::state::AppState;
use crate::ui::Tr;

/// One field as a form or the detail page shows it.
pub struct FieldView {
    pub code: &'static str,
    pub label: String,
    /// `text`, `textarea`, `select`, `multiselect`, `checkbox`, `date`, `datetime`, `tel`,
    /// `email`, `url`, `number`, `decimal`, `region`.
    pub input: &'static str,
    pub required: bool,
    pub read_only: bool,
    pub max_len: usize,
    /// The value as an input holds it.
    pub raw: String,
    /// For multi-selects: the chosen codes.
    pub chosen: Vec<String>,
    /// The value as a reader sees it.
    pub display: String,
    /// For selects: (value, label).
    pub options: Vec<(String, String)>,
    pub error: String,
    /// For relations: the linked record's page.
    pub link: Option<String>,
    /// For regions in forms: the cascading picker (set by [`with_pickers`]).
    pub region_picker: Option<crate::ui::regions_picker::RegionPicker>,
}

/// Fills the region pickers of a form's fields (they read the region tree).
pub async fn with_pickers(state: &AppState, mut fields: Vec<FieldView>) -> Vec<FieldView> {
    for f in fields.iter_mut().filter(|f| f.input == "region") {
        let current = Some(f.raw.as_str()).filter(|s| !s.is_empty());
        f.region_picker = crate::ui::regions_picker::picker(&state.db, f.code, current)
            .await
            .ok()
            .map(|p| p.required(f.required));
    }
    fields
}

impl FieldView {
    pub fn selected(&self, v: &str) -> bool {
        self.raw == v || self.chosen.iter().any(|c| c == v)
    }
}

pub fn input_kind(k: FieldKind) -> &'static str {
    match k {
        FieldKind::LongText => "textarea",
        FieldKind::Select | FieldKind::Relation(_) | FieldKind::User | FieldKind::Department => {
            "select"
        }
        FieldKind::MultiSelect => "multiselect",
        FieldKind::Checkbox => "checkbox",
        FieldKind::Date => "date",
        FieldKind::DateTime => "datetime",
        FieldKind::Phone => "tel",
        FieldKind::Email => "email",
        FieldKind::Url => "url",
        FieldKind::Integer => "number",
        FieldKind::Money | FieldKind::Decimal | FieldKind::Percent => "decimal",
        FieldKind::Region => "region",
        FieldKind::Text | FieldKind::CreditCode => "text",
    }
}

/// ¥12,345.67 from cents.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let yuan = (c / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in yuan.chars().enumerate() {
        if i > 0 && (yuan.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}¥{grouped}.{:02}", c % 100)
}

/// Everything needed to show values of a module: dictionary labels, users, departments and the
/// titles of related records, loaded once per page (never per row).
pub struct Lookups {
    dict: HashMap<(String, String), String>,
    options: HashMap<String, Vec<(String, String)>>,
    titles: HashMap<(&'static str, i64), String>,
    relation_options: HashMap<&'static str, Vec<(String, String)>>,
    users: Vec<(i64, String, bool)>,
    departments: Vec<(i64, String)>,
    regions: HashMap<String, String>,
}

impl Lookups {
    pub async fn load(
        state: &AppState,
        auth: &Auth,
        fs: &Fields,
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
        let needs = |k: fn(FieldKind) -> bool| fs.iter().any(|f| k(f.kind));
        let users = if needs(|k| k == FieldKind::User) {
            let all = guanxi_store::users::list_all(&state.db)
                .await
                .unwrap_or_default();
            all.into_iter()
                .map(|u| (u.id, u.display_name, u.is_active))
                .collect()
        } else {
            vec![]
        };
        let departments = if needs(|k| k == FieldKind::Department) {
            let all = guanxi_store::departments::list(&state.db)
                .await
                .unwrap_or_default();
            all.into_iter()
                .map(|d| (d.id, format!("{}{}", "— ".repeat(d.depth()), d.name)))
                .collect()
        } else {
            vec![]
        };
        let mut regions = HashMap::new();
        for f in fs.iter().filter(|f| f.kind == FieldKind::Region) {
            for r in records {
                if let Some(code) = r.values.get(f.code).and_then(Value::as_str)
                    && !regions.contains_key(code)
                    && let Ok(path) = guanxi_store::regions::path(&state.db, code).await
                {
                    regions.insert(code.to_owned(), guanxi_store::regions::label(&path));
                }
            }
        }
        let mut titles = HashMap::new();
        let mut relation_options = HashMap::new();
        for f in fs.iter() {
            let FieldKind::Relation(target) = f.kind else {
                continue;
            };
            let (Some(tdef), Ok(g)) = (
                engine::def_of(target),
                auth.principal.authorize(target, Action::View),
            ) else {
                continue;
            };
            let tfs = Fields::builtin(tdef);
            for r in records {
                if let Some(id) = r.values.get(f.code).and_then(Value::as_i64)
                    && let Ok(t) = guanxi_store::records::get(&state.db, &tfs, &g, id).await
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
                let list = guanxi_store::records::list(&state.db, &tfs, &g, &q)
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
            users,
            departments,
            regions,
        }
    }

    fn dict_label(&self, f: &FieldDef, code: &str) -> String {
        self.dict
            .get(&(f.dictionary.unwrap_or_default().to_owned(), code.to_owned()))
            .cloned()
            .unwrap_or_else(|| code.to_owned())
    }

    pub fn display(&self, f: &FieldDef, v: Option<&Value>, tr: Tr, tz: &str) -> String {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return String::new();
        };
        match f.kind {
            FieldKind::Select => self.dict_label(f, v.as_str().unwrap_or_default()),
            FieldKind::MultiSelect => v
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(|c| self.dict_label(f, c))
                        .collect::<Vec<_>>()
                        .join("、")
                })
                .unwrap_or_default(),
            FieldKind::Checkbox => tr.t(if v.as_bool() == Some(true) {
                "yes"
            } else {
                "no"
            }),
            FieldKind::Money => v.as_i64().map(money).unwrap_or_default(),
            FieldKind::Region => {
                let code = v.as_str().unwrap_or_default();
                self.regions
                    .get(code)
                    .cloned()
                    .unwrap_or_else(|| code.to_owned())
            }
            FieldKind::Percent => format!("{}%", v),
            FieldKind::Relation(_) => v
                .as_i64()
                .and_then(|id| self.titles.get(&(f.code, id)).cloned())
                .unwrap_or_else(|| format!("#{v}")),
            FieldKind::User => v
                .as_i64()
                .and_then(|id| self.users.iter().find(|u| u.0 == id).map(|u| u.1.clone()))
                .unwrap_or_else(|| format!("#{v}")),
            FieldKind::Department => v
                .as_i64()
                .and_then(|id| {
                    self.departments
                        .iter()
                        .find(|d| d.0 == id)
                        .map(|d| d.1.trim_start_matches("— ").to_owned())
                })
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
        let raw = match (f.kind, v) {
            (_, None | Some(Value::Null)) => String::new(),
            (FieldKind::Money, Some(Value::Number(n))) => n
                .as_i64()
                .map(|c| format!("{}.{:02}", c / 100, (c % 100).abs()))
                .unwrap_or_default(),
            (_, Some(Value::String(s))) => s.clone(),
            (_, Some(other)) => other.to_string(),
        };
        let chosen = match v {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            _ => vec![],
        };
        let options = match f.kind {
            FieldKind::Select | FieldKind::MultiSelect => {
                let mut o = self
                    .options
                    .get(f.dictionary.unwrap_or_default())
                    .cloned()
                    .unwrap_or_default();
                // A disabled option the record still holds stays choosable for it.
                let current = (!raw.is_empty() && f.kind == FieldKind::Select).then_some(&raw);
                for c in chosen.iter().chain(current) {
                    if !o.iter().any(|(k, _)| k == c) {
                        o.push((c.clone(), self.dict_label(f, c)));
                    }
                }
                o
            }
            FieldKind::User => self
                .users
                .iter()
                .filter(|u| u.2)
                .map(|u| (u.0.to_string(), u.1.clone()))
                .collect(),
            FieldKind::Department => self
                .departments
                .iter()
                .map(|d| (d.0.to_string(), d.1.clone()))
                .collect(),
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
            label: f.label_in(def, tr.0),
            input: input_kind(f.kind),
            required: f.required,
            read_only: f.read_only,
            max_len: f.max_len,
            display: self.display(f, v, tr, tz),
            raw,
            chosen,
            options,
            error: String::new(),
            link,
            region_picker: None,
        }
    }
}

/// The module's name in the user's language.
pub fn module_name(def: &ModuleDef, locale: guanxi_core::Locale) -> String {
    guanxi_core::I18n::global().t(locale, &format!("module-{}", def.code))
}
