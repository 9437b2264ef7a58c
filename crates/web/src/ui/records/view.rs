//! Turning records into what templates show: labels, display values, input values and options.

use std::collections::HashMap;

use guanxi_core::Action;
use guanxi_core::engine::{self, FieldDef, FieldKind, Fields, ModuleDef};
use guanxi_store::records::Record;
use serde_json::Value;

use crate::auth::Auth;
use crate::state::AppState;
use crate::ui::Tr;

/// One field as a form or the detail page shows it.
pub struct FieldView {
    pub code: &'static str,
    pub label: String,
    /// `text`, `textarea`, `select`, `multiselect`, `checkbox`, `date`, `datetime`, `tel`,
    /// `email`, `url`, `number`, `decimal`, `region`, `relation`.
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
    /// For relations: the linked module's code and its title field, which the searching
    /// picker asks the module's API for.
    pub relation: Option<(&'static str, &'static str)>,
    /// For a contact's organisation: the input a new organisation's name goes in (created on
    /// save when no existing one is picked).
    pub create_name: Option<&'static str>,
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
        FieldKind::Select | FieldKind::User | FieldKind::Department => "select",
        FieldKind::Relation(_) => "relation",
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

/// What a page shows values of: some fields, on some records.
pub type Shown<'a> = (&'a [&'static FieldDef], &'a [&'a Record]);

/// Everything needed to show values of a module: dictionary labels, users, departments, the
/// titles of related records and region labels, loaded once per page with a fixed number of
/// queries however many rows it shows (never one per row).
pub struct Lookups {
    dict: HashMap<(String, String), String>,
    options: HashMap<String, Vec<(String, String)>>,
    /// Titles of related records by (module code, id), only those the user may view.
    titles: HashMap<(&'static str, i64), String>,
    users: Vec<(i64, String, bool)>,
    departments: Vec<(i64, String)>,
    regions: HashMap<String, String>,
}

impl Lookups {
    /// For every field of `fs` on `records`.
    pub async fn load(state: &AppState, auth: &Auth, fs: &Fields, records: &[&Record]) -> Lookups {
        let all: Vec<&'static FieldDef> = fs.iter().collect();
        Self::load_for(state, auth, &[(&all, records)]).await
    }

    /// For several sets of fields and records at once (a detail page and its related lists).
    pub async fn load_for(state: &AppState, auth: &Auth, sets: &[Shown<'_>]) -> Lookups {
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
        // Every (field, value) the page shows.
        let values = || {
            sets.iter().flat_map(|(fields, records)| {
                fields
                    .iter()
                    .flat_map(move |f| records.iter().map(move |r| (*f, r.values.get(f.code))))
            })
        };
        let needs = |k: FieldKind| sets.iter().any(|(fs, _)| fs.iter().any(|f| f.kind == k));
        let users = if needs(FieldKind::User) {
            let all = guanxi_store::users::list_all(&state.db)
                .await
                .unwrap_or_default();
            all.into_iter()
                .map(|u| (u.id, u.display_name, u.is_active))
                .collect()
        } else {
            vec![]
        };
        let departments = if needs(FieldKind::Department) {
            let all = guanxi_store::departments::list(&state.db)
                .await
                .unwrap_or_default();
            all.into_iter()
                .map(|d| (d.id, format!("{}{}", "— ".repeat(d.depth()), d.name)))
                .collect()
        } else {
            vec![]
        };
        let codes: Vec<String> = values()
            .filter(|(f, _)| f.kind == FieldKind::Region)
            .filter_map(|(_, v)| v.and_then(Value::as_str).map(str::to_owned))
            .collect();
        let regions = if codes.is_empty() {
            HashMap::new()
        } else {
            guanxi_store::regions::labels(&state.db, &codes)
                .await
                .unwrap_or_default()
        };
        let mut wanted: Vec<(&'static ModuleDef, Vec<i64>)> = vec![];
        for (f, v) in values() {
            let (FieldKind::Relation(target), Some(id)) = (f.kind, v.and_then(Value::as_i64))
            else {
                continue;
            };
            let Some(tdef) = engine::def_of(target) else {
                continue;
            };
            match wanted.iter_mut().find(|(d, _)| d.code == tdef.code) {
                Some((_, ids)) => ids.push(id),
                None => wanted.push((tdef, vec![id])),
            }
        }
        let mut titles = HashMap::new();
        for (tdef, ids) in wanted {
            let Ok(g) = auth.principal.authorize(tdef.module, Action::View) else {
                continue;
            };
            let found = guanxi_store::records::titles_in_scope(&state.db, tdef, &g, &ids)
                .await
                .unwrap_or_default();
            titles.extend(found.into_iter().map(|(id, t)| ((tdef.code, id), t)));
        }
        Lookups {
            dict,
            options,
            titles,
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
            FieldKind::Relation(m) => v
                .as_i64()
                .zip(engine::def_of(m))
                .and_then(|(id, d)| self.titles.get(&(d.code, id)).cloned())
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
            _ => vec![],
        };
        let relation = match f.kind {
            FieldKind::Relation(m) => engine::def_of(m).map(|d| (d.code, d.title)),
            _ => None,
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
            relation,
            create_name: (def.module == guanxi_core::Module::Contacts
                && f.code == "organisation_id")
                .then_some("organisation_name"),
            region_picker: None,
        }
    }
}

/// The module's name in the user's language.
pub fn module_name(def: &ModuleDef, locale: guanxi_core::Locale) -> String {
    guanxi_core::I18n::global().t(locale, &format!("module-{}", def.code))
}
