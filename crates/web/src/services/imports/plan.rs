//! From a row of cells to a checked record: which column fills which field (the mapping), the
//! conversion of every cell, the owner column, and the duplicate keys of the row. Pure and
//! synchronous except for [`Plan::resolve`], which looks up by name the records a chunk's
//! relation columns point at.

use std::collections::HashMap;
use std::sync::Arc;

use guanxi_core::convert::{Lookups, convert, is_empty};
use guanxi_core::engine::{FieldDef, FieldKind, Fields};
use guanxi_core::validate::FieldError;
use guanxi_core::{Locale, Module};
use guanxi_store::records::Values;
use serde_json::{Value, json};

/// The pseudo-field of an owner column (负责人: a user name or display name).
pub const OWNER: &str = "owner";
/// The pseudo-field of a contact's organisation name (单位名称), created when unknown.
pub const ORGANISATION_NAME: &str = "organisation_name";

/// What an import may fill: the module's editable fields plus the pseudo-fields.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Target {
    pub code: String,
    pub label: String,
    pub required: bool,
    pub kind: String,
    /// The option labels of a select field (the template's second sheet).
    pub options: Vec<String>,
}

/// The fields a file's columns can be mapped to, in form order.
pub fn targets(fs: &Fields, lk: &Lookups, locale: Locale) -> Vec<Target> {
    let i18n = guanxi_core::I18n::global();
    let mut out: Vec<Target> = fs
        .editable()
        .filter(|f| !f.hidden)
        .map(|f| Target {
            code: f.code.to_owned(),
            label: f.label_in(fs.def, locale),
            required: f.required,
            kind: f.kind.code(),
            options: f
                .dictionary
                .and_then(|d| lk.dictionaries.get(d))
                .map(|items| {
                    items
                        .iter()
                        .filter(|c| c.active)
                        .map(|c| match locale {
                            Locale::ZhCn => c.label_zh.clone(),
                            Locale::En => c.label_en.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    if fs.def.module == Module::Contacts {
        out.push(Target {
            code: ORGANISATION_NAME.into(),
            label: i18n.t(locale, "import-target-organisation-name"),
            required: false,
            kind: "text".into(),
            options: vec![],
        });
    }
    out.push(Target {
        code: OWNER.into(),
        label: i18n.t(locale, "import-target-owner"),
        required: false,
        kind: "user".into(),
        options: vec![],
    });
    out
}

fn normalise_header(h: &str) -> String {
    h.trim().trim_end_matches(['*', '＊']).trim().to_lowercase()
}

/// A mapping guessed from the headers: the user's remembered choice for a header first, then a
/// field whose code or label (either language) is the header.
pub fn guess(fs: &Fields, headers: &[String], remembered: &Value) -> Vec<Option<String>> {
    let labels: Vec<(String, Vec<String>)> = [Locale::ZhCn, Locale::En]
        .into_iter()
        .flat_map(|l| targets(fs, &Lookups::default(), l))
        .map(|t| {
            (
                t.code.clone(),
                vec![normalise_header(&t.label), t.code.clone()],
            )
        })
        .collect();
    let mut used = vec![];
    headers
        .iter()
        .map(|h| {
            let n = normalise_header(h);
            let pick = remembered
                .get(h.trim())
                .and_then(Value::as_str)
                .filter(|c| labels.iter().any(|(code, _)| code == c))
                .map(str::to_owned)
                .or_else(|| {
                    labels
                        .iter()
                        .find(|(_, names)| names.contains(&n))
                        .map(|(c, _)| c.clone())
                })
                .filter(|c| !used.contains(c));
            if let Some(c) = &pick {
                used.push(c.clone());
            }
            pick
        })
        .collect()
}

/// How rows that match an existing record are handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDuplicate {
    Skip,
    Update,
    Create,
}

impl OnDuplicate {
    pub fn parse(s: &str) -> Option<OnDuplicate> {
        match s {
            "skip" => Some(OnDuplicate::Skip),
            "update" => Some(OnDuplicate::Update),
            "create" => Some(OnDuplicate::Create),
            _ => None,
        }
    }
}

/// Everything needed to turn rows into records for one import.
pub struct Plan {
    pub fs: Arc<Fields>,
    /// Per column: the field it fills.
    pub columns: Vec<Option<String>>,
    pub lk: Lookups,
    pub on_duplicate: OnDuplicate,
    /// The pool new records go into, ownerless (customers only; no owner column then).
    pub pool_id: Option<i64>,
    /// The importing user (owner of rows without an owner column).
    pub user_id: i64,
    /// Whether the user may give records to others (the assign permission).
    pub may_assign: bool,
    pub tz: chrono_tz::Tz,
    /// While the module table's indexes are set aside for a large import: the highest id
    /// before it, the only records its duplicate checks read (its own are found in the file).
    pub existing_up_to: Option<i64>,
}

/// One row after conversion.
pub struct Prepared {
    pub line: i64,
    pub cells: Vec<String>,
    pub values: Values,
    pub owner: i64,
    pub errors: Vec<FieldError>,
    /// Relation cells given by name, to resolve per chunk: (field, name).
    pub names: Vec<(&'static FieldDef, String)>,
    pub organisation: Option<String>,
}

impl Prepared {
    pub fn errors_json(&self, headers: &[String], columns: &[Option<String>]) -> Value {
        json!(
            self.errors
                .iter()
                .map(|e| {
                    let column = columns
                        .iter()
                        .position(|c| c.as_deref() == Some(e.field.as_str()))
                        .and_then(|i| headers.get(i).cloned());
                    json!({
                        "field": e.field,
                        "column": column,
                        "message": e.message,
                        "args": e.args.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
                    })
                })
                .collect::<Vec<_>>()
        )
    }
}

impl Plan {
    /// Converts a row's cells; relation names are left for [`Plan::resolve`].
    pub fn prepare(&self, line: i64, cells: Vec<String>) -> Prepared {
        let mut p = Prepared {
            line,
            values: Values::new(),
            owner: self.user_id,
            errors: vec![],
            names: vec![],
            organisation: None,
            cells: vec![],
        };
        for (i, code) in self.columns.iter().enumerate() {
            let (Some(code), Some(cell)) = (code, cells.get(i)) else {
                continue;
            };
            // An export's cell comes back as it was before the export quoted it.
            let cell = guanxi_io::unneutralise(cell.trim());
            if code == OWNER {
                if !cell.is_empty() {
                    match self.lk.user_named(cell) {
                        Some(u) if u.id == self.user_id || self.may_assign => p.owner = u.id,
                        Some(_) => p
                            .errors
                            .push(FieldError::new(OWNER, "import-error-owner-not-allowed")),
                        None => p.errors.push(
                            FieldError::new(OWNER, "import-error-owner-unknown")
                                .with_arg("value", cell),
                        ),
                    }
                }
                continue;
            }
            if code == ORGANISATION_NAME {
                if !cell.is_empty() {
                    p.organisation = Some(cell.to_owned());
                }
                continue;
            }
            let Some(f) = self.fs.field(code).filter(|f| !f.read_only) else {
                continue;
            };
            let raw = self.normalise(f, cell);
            if let FieldKind::Relation(_) = f.kind
                && !cell.is_empty()
                && cell.parse::<i64>().is_err()
            {
                p.names.push((f, cell.to_owned()));
                continue;
            }
            match convert(f, &raw, &self.lk) {
                Ok(v) => {
                    p.values.insert(f.code.to_owned(), v);
                }
                Err(e) => p.errors.push(e),
            }
        }
        p.cells = cells;
        p
    }

    /// Spreadsheet dates and times in every form Excel writes, to the forms the engine stores.
    fn normalise(&self, f: &FieldDef, cell: &str) -> Value {
        if cell.is_empty() {
            return Value::Null;
        }
        match f.kind {
            FieldKind::Date => guanxi_io::dates::parse_date(cell)
                .map_or_else(|| json!(cell), |d| json!(d.format("%Y-%m-%d").to_string())),
            FieldKind::DateTime => {
                if chrono::DateTime::parse_from_rfc3339(cell).is_ok() {
                    return json!(cell);
                }
                match guanxi_io::dates::parse_datetime(cell) {
                    Some(naive) => {
                        use chrono::TimeZone;
                        match self.tz.from_local_datetime(&naive).earliest() {
                            Some(t) => json!(t.with_timezone(&chrono::Utc).to_rfc3339()),
                            None => json!(cell),
                        }
                    }
                    None => json!(cell),
                }
            }
            _ => json!(cell),
        }
    }

    /// Fields still missing for a new record.
    pub fn missing_required(&self, p: &mut Prepared) {
        for f in self.fs.iter().filter(|f| f.required && !f.read_only) {
            let absent = p.values.get(f.code).is_none_or(is_empty)
                && !p.names.iter().any(|(n, _)| n.code == f.code)
                && !p.errors.iter().any(|e| e.field == f.code);
            if absent {
                p.errors.push(FieldError::new(f.code, "error-required"));
            }
        }
    }

    /// The duplicate keys of a row: (key index, normalised text).
    pub fn keys(&self, p: &Prepared) -> Vec<(usize, &'static FieldDef, String)> {
        let mut out = vec![];
        for (i, set) in self.fs.def.duplicate_keys.iter().enumerate() {
            for code in *set {
                if let (Some(f), Some(v)) = (self.fs.field(code), p.values.get(*code))
                    && !v.is_null()
                {
                    out.push((i, f, guanxi_store::records::match_key(v).to_lowercase()));
                }
            }
        }
        out
    }
}

/// Names of related records resolved for a chunk: field code → (lower-cased name → id).
pub type Resolved = HashMap<&'static str, HashMap<String, i64>>;

/// Fills the relation fields given by name; unknown names are errors.
pub fn apply_names(p: &mut Prepared, resolved: &Resolved) {
    for (f, name) in std::mem::take(&mut p.names) {
        match resolved
            .get(f.code)
            .and_then(|m| m.get(&name.to_lowercase()))
        {
            Some(id) => {
                p.values.insert(f.code.to_owned(), json!(id));
            }
            None => p.errors.push(
                FieldError::new(f.code, "import-error-relation-unknown").with_arg("value", name),
            ),
        }
    }
}
