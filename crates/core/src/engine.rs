//! The record engine's metadata: every business module (customers, contacts, organisations now;
//! leads, opportunities, orders... later) is described once as a [`ModuleDef`] — its fields,
//! relations and duplicate keys — and the store, API and UI derive tables, forms, lists, filters,
//! history and permission checks from that one description.

use serde::Serialize;

use crate::Module;

/// How a field is stored, validated and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    LongText,
    Integer,
    /// Stored as 64-bit integer cents, shown as ¥12,345.00.
    Money,
    Date,
    DateTime,
    /// A code from the data dictionary list named in [`FieldDef::dictionary`].
    Select,
    Checkbox,
    Phone,
    Email,
    Url,
    /// A user id.
    User,
    /// A department id.
    Department,
    /// The id of a record of another module.
    Relation(Module),
    /// 统一社会信用代码: 18 characters with a check character.
    CreditCode,
    /// A decimal number (custom fields).
    Decimal,
    /// A percentage, stored as the number shown (12.5 means 12.5 %).
    Percent,
    /// Several codes from a dictionary list (custom fields), stored as a JSON array.
    MultiSelect,
    /// A region code (province, city or district) from the built-in tree.
    Region,
}

impl FieldKind {
    /// Whether the value is held as a 64-bit integer column.
    pub const CUSTOM_KINDS: [FieldKind; 17] = [
        FieldKind::Text,
        FieldKind::LongText,
        FieldKind::Integer,
        FieldKind::Decimal,
        FieldKind::Money,
        FieldKind::Percent,
        FieldKind::Date,
        FieldKind::DateTime,
        FieldKind::Select,
        FieldKind::MultiSelect,
        FieldKind::Checkbox,
        FieldKind::Phone,
        FieldKind::Email,
        FieldKind::Url,
        FieldKind::User,
        FieldKind::Department,
        FieldKind::Region,
    ];

    /// The stable name of a kind (API, database, templates). Relations name their module.
    pub fn code(self) -> String {
        match self {
            FieldKind::Relation(m) => format!("relation:{}", m.code()),
            other => serde_json::to_value(other)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        }
    }

    pub fn from_code(code: &str) -> Option<FieldKind> {
        if let Some(m) = code.strip_prefix("relation:") {
            return Module::from_code(m).map(FieldKind::Relation);
        }
        FieldKind::CUSTOM_KINDS
            .into_iter()
            .chain([FieldKind::CreditCode])
            .find(|k| k.code() == code)
    }

    /// Whether values compare as numbers (filters, sorting, indexes).
    pub fn is_numeric(self) -> bool {
        self.is_integer() || matches!(self, FieldKind::Decimal | FieldKind::Percent)
    }

    pub fn is_integer(self) -> bool {
        matches!(
            self,
            FieldKind::Integer
                | FieldKind::Money
                | FieldKind::User
                | FieldKind::Department
                | FieldKind::Relation(_)
        )
    }
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct FieldDef {
    /// Column and API name.
    pub code: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    /// Maximum length in characters, for text kinds.
    pub max_len: usize,
    /// Part of the quick search (names, phones, e-mail).
    pub searchable: bool,
    /// Shown as a list column unless the user chose otherwise.
    pub list: bool,
    /// The data dictionary list of a select field.
    pub dictionary: Option<&'static str>,
    /// Set by the system, never by a form (owner's department, last follow-up...).
    pub read_only: bool,
    /// Kept for search only, never shown (the pinyin of a name).
    pub hidden: bool,
    /// An administrator's field, stored in the record's `custom` JSON column.
    pub custom: bool,
    /// A custom field with an expression index, so filters and sorting stay fast.
    pub indexed: bool,
    /// The labels of a custom field (zh, en); built-in fields are labelled through i18n.
    pub label: Option<(&'static str, &'static str)>,
    /// A column every module table has ([`SYSTEM_FIELDS`]): lists filter and sort by it.
    pub system: bool,
}

impl FieldDef {
    const fn new(code: &'static str, kind: FieldKind) -> FieldDef {
        FieldDef {
            code,
            kind,
            required: false,
            max_len: 200,
            searchable: false,
            list: false,
            dictionary: None,
            read_only: false,
            hidden: false,
            custom: false,
            indexed: false,
            label: None,
            system: false,
        }
    }

    /// A custom field, as its definition in the database describes it. The strings are leaked
    /// once per definition change (a handful of bytes, on an administrator's action), so custom
    /// fields and built-in ones are the same type everywhere.
    #[expect(
        clippy::too_many_arguments,
        reason = "one constructor fed from one database row"
    )]
    pub fn new_custom(
        code: String,
        kind: FieldKind,
        label_zh: String,
        label_en: String,
        required: bool,
        dictionary: Option<String>,
        indexed: bool,
        list: bool,
    ) -> FieldDef {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        FieldDef {
            code: leak(code),
            kind,
            required,
            max_len: if kind == FieldKind::LongText {
                5000
            } else {
                200
            },
            searchable: false,
            list,
            dictionary: dictionary.map(leak),
            read_only: false,
            hidden: false,
            custom: true,
            indexed,
            label: Some((leak(label_zh), leak(label_en))),
            system: false,
        }
    }

    /// The field's label in a language.
    pub fn label_in(&self, module: &ModuleDef, locale: crate::Locale) -> String {
        match (self.label, locale) {
            (Some((zh, _)), crate::Locale::ZhCn) => zh.to_owned(),
            (Some((_, en)), crate::Locale::En) => en.to_owned(),
            (None, _) => crate::I18n::global().t(locale, &self.label_key(module)),
        }
    }
    const fn required(mut self) -> FieldDef {
        self.required = true;
        self
    }
    const fn searchable(mut self) -> FieldDef {
        self.searchable = true;
        self
    }
    const fn list(mut self) -> FieldDef {
        self.list = true;
        self
    }
    const fn max(mut self, n: usize) -> FieldDef {
        self.max_len = n;
        self
    }
    const fn dict(mut self, d: &'static str) -> FieldDef {
        self.dictionary = Some(d);
        self
    }
    const fn read_only(mut self) -> FieldDef {
        self.read_only = true;
        self
    }
    /// Kept in the record's `custom` JSON column although declared (lists of codes).
    const fn in_json(mut self) -> FieldDef {
        self.custom = true;
        self
    }
    const fn system(mut self) -> FieldDef {
        self.system = true;
        self.read_only = true;
        self
    }
    const fn hidden(mut self) -> FieldDef {
        self.hidden = true;
        self.read_only = true;
        self
    }

    /// The i18n key of the field's label.
    pub fn label_key(&self, module: &ModuleDef) -> String {
        if self.system {
            return format!("field-system-{}", self.code.replace('_', "-"));
        }
        format!("field-{}-{}", module.code, self.code.replace('_', "-"))
    }
}

/// A list of another module's records that point at this one (e.g. a customer's contacts).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct RelatedList {
    pub module: Module,
    /// The field of the other module that holds this record's id.
    pub via: &'static str,
}

/// A module's fields at this moment: the declared ones, then the administrators' custom fields.
#[derive(Debug)]
pub struct Fields {
    pub def: &'static ModuleDef,
    pub all: Vec<&'static FieldDef>,
}

impl Fields {
    /// The declared fields only (before custom fields are loaded, or in tests).
    pub fn builtin(def: &'static ModuleDef) -> Fields {
        Fields {
            def,
            all: def.fields.iter().collect(),
        }
    }

    pub fn field(&self, code: &str) -> Option<&'static FieldDef> {
        self.all.iter().copied().find(|f| f.code == code)
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static FieldDef> + '_ {
        self.all.iter().copied()
    }

    /// A field lists may filter and sort by: the module's, or a column every table has
    /// (owner, owner's department, created and updated at and by).
    pub fn filter_field(&self, code: &str) -> Option<&'static FieldDef> {
        self.field(code)
            .or_else(|| SYSTEM_FIELDS.iter().find(|f| f.code == code))
    }

    pub fn editable(&self) -> impl Iterator<Item = &'static FieldDef> + '_ {
        self.iter().filter(|f| !f.read_only)
    }

    pub fn custom(&self) -> impl Iterator<Item = &'static FieldDef> + '_ {
        self.iter().filter(|f| f.custom)
    }

    pub fn columns(&self) -> impl Iterator<Item = &'static FieldDef> + '_ {
        self.iter().filter(|f| !f.custom)
    }
}

/// A module of the engine.
#[derive(Debug, Serialize)]
pub struct ModuleDef {
    pub module: Module,
    pub code: &'static str,
    pub table: &'static str,
    /// The field that names a record (its title on the detail page and in pickers).
    pub title: &'static str,
    pub fields: &'static [FieldDef],
    pub related: &'static [RelatedList],
    /// Field sets that identify a duplicate (each set compared after normalisation).
    pub duplicate_keys: &'static [&'static [&'static str]],
    /// Records have collaborators (协作人) besides their owner.
    pub collaborators: bool,
}

impl ModuleDef {
    pub fn field(&self, code: &str) -> Option<&'static FieldDef> {
        self.fields.iter().find(|f| f.code == code)
    }

    pub fn editable(&self) -> impl Iterator<Item = &'static FieldDef> {
        self.fields.iter().filter(|f| !f.read_only)
    }
}

use FieldKind as K;

pub static CUSTOMERS: ModuleDef = ModuleDef {
    module: Module::Customers,
    code: "customers",
    table: "customers",
    title: "name",
    fields: &[
        FieldDef::new("name", K::Text)
            .required()
            .searchable()
            .list()
            .max(100),
        FieldDef::new("pinyin", K::Text)
            .hidden()
            .searchable()
            .max(400),
        FieldDef::new("customer_type", K::Select)
            .dict("customer_type")
            .list(),
        FieldDef::new("source", K::Select).dict("customer_source"),
        FieldDef::new("industry", K::Select).dict("industry").list(),
        FieldDef::new("level", K::Select)
            .dict("customer_level")
            .list(),
        FieldDef::new("region", K::Region).max(20),
        FieldDef::new("address", K::Text).max(200),
        FieldDef::new("phone", K::Phone).searchable().list().max(40),
        FieldDef::new("website", K::Url).max(200),
        FieldDef::new("tags", K::Text).max(200),
        FieldDef::new("notes", K::LongText).max(5000),
        FieldDef::new("credit_level", K::Select).dict("credit_level"),
        FieldDef::new("score", K::Integer).read_only(),
        FieldDef::new("last_follow_up_at", K::DateTime).read_only(),
        FieldDef::new("fall_back_at", K::DateTime).read_only(),
        FieldDef::new("last_deal_at", K::DateTime).read_only(),
    ],
    related: &[
        RelatedList {
            module: Module::Contacts,
            via: "customer_id",
        },
        RelatedList {
            module: Module::FollowUps,
            via: "customer_id",
        },
    ],
    duplicate_keys: &[&["name"], &["phone"]],
    collaborators: true,
};

pub static CONTACTS: ModuleDef = ModuleDef {
    module: Module::Contacts,
    code: "contacts",
    table: "contacts",
    title: "name",
    fields: &[
        FieldDef::new("name", K::Text)
            .required()
            .searchable()
            .list()
            .max(50),
        FieldDef::new("gender", K::Select).dict("gender"),
        FieldDef::new("title", K::Text).list().max(50),
        FieldDef::new("mobile", K::Phone)
            .searchable()
            .list()
            .max(40),
        FieldDef::new("phone", K::Phone).searchable().max(40),
        FieldDef::new("email", K::Email).searchable().max(254),
        FieldDef::new("wechat", K::Text).max(50),
        FieldDef::new("birthday", K::Date),
        FieldDef::new("customer_id", K::Relation(Module::Customers)).list(),
        FieldDef::new("organisation_id", K::Relation(Module::Organisations)),
        FieldDef::new("is_primary", K::Checkbox),
    ],
    related: &[RelatedList {
        module: Module::FollowUps,
        via: "contact_id",
    }],
    duplicate_keys: &[&["mobile"], &["email"]],
    collaborators: false,
};

pub static ORGANISATIONS: ModuleDef = ModuleDef {
    module: Module::Organisations,
    code: "organisations",
    table: "organisations",
    title: "name",
    fields: &[
        FieldDef::new("name", K::Text)
            .required()
            .searchable()
            .list()
            .max(100),
        FieldDef::new("credit_code", K::CreditCode).list().max(18),
        FieldDef::new("industry", K::Select).dict("industry").list(),
        FieldDef::new("address", K::Text).max(200),
    ],
    related: &[RelatedList {
        module: Module::Contacts,
        via: "organisation_id",
    }],
    duplicate_keys: &[&["name"], &["credit_code"]],
    collaborators: false,
};

/// 跟进记录: a call, visit, message... with a customer (and optionally one of its contacts), the
/// behaviours observed (which score the customer) and the next visit agreed (预约拜访).
pub static FOLLOW_UPS: ModuleDef = ModuleDef {
    module: Module::FollowUps,
    code: "follow_ups",
    table: "follow_ups",
    title: "content",
    fields: &[
        FieldDef::new("customer_id", K::Relation(Module::Customers))
            .required()
            .list(),
        FieldDef::new("contact_id", K::Relation(Module::Contacts)),
        FieldDef::new("kind", K::Select)
            .dict("follow_up_type")
            .list(),
        FieldDef::new("at", K::DateTime).list(),
        FieldDef::new("content", K::LongText)
            .required()
            .list()
            .max(2000),
        FieldDef::new("behaviours", K::MultiSelect)
            .dict("behaviour")
            .in_json(),
        FieldDef::new("next_visit_at", K::DateTime).list(),
        FieldDef::new("next_visit_done", K::Checkbox),
    ],
    related: &[],
    duplicate_keys: &[],
    collaborators: false,
};

/// The columns every module table has besides its declared fields (`id` filters a selection).
pub static SYSTEM_FIELDS: [FieldDef; 7] = [
    FieldDef::new("id", K::Integer).system().required(),
    FieldDef::new("owner_id", K::User).system(),
    FieldDef::new("department_id", K::Department).system(),
    FieldDef::new("created_at", K::DateTime).system().required(),
    FieldDef::new("updated_at", K::DateTime).system().required(),
    FieldDef::new("created_by", K::User).system(),
    FieldDef::new("updated_by", K::User).system(),
];

/// Every engine module, in menu order.
pub static MODULES: [&ModuleDef; 4] = [&CUSTOMERS, &CONTACTS, &ORGANISATIONS, &FOLLOW_UPS];

pub fn module_def(code: &str) -> Option<&'static ModuleDef> {
    MODULES.iter().copied().find(|m| m.code == code)
}

pub fn def_of(module: Module) -> Option<&'static ModuleDef> {
    MODULES.iter().copied().find(|m| m.module == module)
}

/// Checks a unified social credit code (GB 32100-2015): 18 characters from the code set,
/// the last one a check character over the first 17.
pub fn valid_credit_code(code: &str) -> bool {
    const CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let code: Vec<char> = code.trim().to_ascii_uppercase().chars().collect();
    if code.len() != 18 {
        return false;
    }
    let mut sum = 0;
    for (i, c) in code[..17].iter().enumerate() {
        let Some(v) = CHARS.find(*c) else {
            return false;
        };
        sum += v * WEIGHTS[i];
    }
    let check = (31 - sum % 31) % 31;
    CHARS.chars().nth(check) == Some(code[17])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_codes() {
        assert!(valid_credit_code("91350100M000100Y43"));
        assert!(valid_credit_code("91110000802100433B"));
        assert!(!valid_credit_code("91350100M000100Y44"));
        assert!(!valid_credit_code("91350100M000100Y4"));
        assert!(!valid_credit_code("91350100I000100Y43"));
    }

    #[test]
    fn modules_are_declared_once() {
        for m in MODULES {
            assert!(m.field(m.title).is_some(), "{} has its title field", m.code);
            assert_eq!(def_of(m.module).map(|d| d.code), Some(m.code));
            for keys in m.duplicate_keys {
                for k in *keys {
                    assert!(m.field(k).is_some(), "{}: duplicate key {k}", m.code);
                }
            }
        }
    }
}
