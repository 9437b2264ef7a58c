//! Classification (客户自动分类) and credit (信用等级) rules: a condition tree over a customer's
//! fields, checked when a rule is saved, evaluated in Rust against a customer's values, and
//! explained in words ("A 类（重点）: 行业 = 制造业 且 评分 ≥ 50").
//!
//! A condition is a group `{"all": [...]}` / `{"any": [...]}` or a leaf
//! `{"field": code, "op": op, "value": ...}`. Fields are the customer's fields (custom ones too)
//! plus two virtual ones: `score` and `follow_up_age_days`, the days since the last follow-up,
//! where a customer never followed up counts as infinitely old. Rules of a kind are tried in
//! priority order; the first that matches decides. Nothing here reads the clock or the database.

mod eval;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::{FieldKind, Fields};
use crate::validate::FieldError;
use crate::{I18n, Locale};

pub use eval::{Compiled, Outcome, RuleSet};

/// The virtual field holding the days since the last follow-up.
pub const FOLLOW_UP_AGE: &str = "follow_up_age_days";
/// The column the follow-up age is computed from.
pub const LAST_FOLLOW_UP: &str = "last_follow_up_at";
/// Nesting of groups a rule may have, and leaves in all.
pub const MAX_DEPTH: usize = 5;
pub const MAX_CONDITIONS: usize = 50;

/// What a rule decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// The customer type (dictionary `customer_type`).
    Classification,
    /// The credit level 1–5 (dictionary `credit_level`).
    Credit,
}

impl RuleKind {
    pub const ALL: [RuleKind; 2] = [RuleKind::Classification, RuleKind::Credit];

    pub fn code(self) -> &'static str {
        match self {
            RuleKind::Classification => "classification",
            RuleKind::Credit => "credit",
        }
    }

    pub fn from_code(code: &str) -> Option<RuleKind> {
        RuleKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The customer field a rule of this kind sets (and the dictionary of its results).
    pub fn target(self) -> &'static str {
        match self {
            RuleKind::Classification => "customer_type",
            RuleKind::Credit => "credit_level",
        }
    }

    /// Whether a condition may read `field`. Classification runs first and may not read what
    /// the rules themselves set; credit rules may read the type just decided.
    pub fn may_read(self, field: &str) -> bool {
        match self {
            RuleKind::Classification => field != "customer_type" && field != "credit_level",
            RuleKind::Credit => field != "credit_level",
        }
    }
}

/// How a field's values compare in a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Text,
    Number,
    /// One dictionary code.
    Select,
    /// Several dictionary codes.
    Multi,
    Date,
    Bool,
    /// A count of days, "never" being infinitely many (the follow-up age).
    Days,
    /// The id of a user, department or record.
    Ref,
}

impl Kind {
    pub fn of(k: FieldKind) -> Kind {
        match k {
            FieldKind::Integer | FieldKind::Money | FieldKind::Decimal | FieldKind::Percent => {
                Kind::Number
            }
            FieldKind::Select => Kind::Select,
            FieldKind::MultiSelect => Kind::Multi,
            FieldKind::Date | FieldKind::DateTime => Kind::Date,
            FieldKind::Checkbox => Kind::Bool,
            FieldKind::User | FieldKind::Department | FieldKind::Relation(_) => Kind::Ref,
            _ => Kind::Text,
        }
    }

    /// The operators that fit the kind, in the order a builder offers them.
    pub fn ops(self) -> &'static [Op] {
        use Op::*;
        match self {
            Kind::Text => &[Eq, Ne, Contains, In, Empty, NotEmpty],
            Kind::Number => &[Eq, Ne, Gt, Gte, Lt, Lte, Between, Empty, NotEmpty],
            Kind::Select | Kind::Ref => &[Eq, Ne, In, Empty, NotEmpty],
            Kind::Multi => &[Contains, In, Empty, NotEmpty],
            Kind::Date => &[
                Before,
                After,
                Between,
                DaysSinceGte,
                DaysSinceLte,
                Empty,
                NotEmpty,
            ],
            Kind::Bool => &[Eq],
            Kind::Days => &[Gte, Lte, Gt, Lt, Between, Empty, NotEmpty],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Contains,
    In,
    Gt,
    Gte,
    Lt,
    Lte,
    Between,
    Empty,
    NotEmpty,
    Before,
    After,
    DaysSinceGte,
    DaysSinceLte,
}

impl Op {
    pub const ALL: [Op; 15] = [
        Op::Eq,
        Op::Ne,
        Op::Contains,
        Op::In,
        Op::Gt,
        Op::Gte,
        Op::Lt,
        Op::Lte,
        Op::Between,
        Op::Empty,
        Op::NotEmpty,
        Op::Before,
        Op::After,
        Op::DaysSinceGte,
        Op::DaysSinceLte,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Contains => "contains",
            Op::In => "in",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Between => "between",
            Op::Empty => "empty",
            Op::NotEmpty => "not_empty",
            Op::Before => "before",
            Op::After => "after",
            Op::DaysSinceGte => "days_since_gte",
            Op::DaysSinceLte => "days_since_lte",
        }
    }

    pub fn from_code(code: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|o| o.code() == code)
    }

    /// The operator's name in a builder ("等于", "is one of").
    pub fn label(self, locale: Locale) -> String {
        I18n::global().t(
            locale,
            &format!("rule-opname-{}", self.code().replace('_', "-")),
        )
    }

    fn takes_value(self) -> bool {
        !matches!(self, Op::Empty | Op::NotEmpty)
    }
}

/// A condition tree as stored and sent by the builder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Node {
    All { all: Vec<Node> },
    Any { any: Vec<Node> },
    Leaf(Leaf),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Leaf {
    pub field: String,
    /// Kept as text so that an unknown operator gets a clear message rather than a parse error.
    pub op: String,
    #[serde(default)]
    pub value: Value,
}

impl Node {
    /// Reads a tree; anything that is not one is refused as a whole.
    pub fn parse(v: &Value) -> Result<Node, FieldError> {
        serde_json::from_value(v.clone())
            .map_err(|_| FieldError::new("conditions", "rule-error-conditions"))
    }

    /// The rule that matches every customer (an empty "all" group).
    pub fn always() -> Node {
        Node::All { all: vec![] }
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// A field a condition may use, labelled in one language, with the options of select fields.
#[derive(Clone, Debug, Serialize)]
pub struct FieldSpec {
    pub code: String,
    pub label: String,
    pub kind: Kind,
    /// Money is stored in cents and compared in yuan.
    pub money: bool,
    pub options: Vec<(String, String)>,
}

/// The fields conditions may use, in one language. Also the labels an explanation needs.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub fields: Vec<FieldSpec>,
}

impl Catalog {
    /// The customer's fields (hidden ones left out) and the virtual follow-up age; `options`
    /// gives (code, label) of a dictionary list in `locale`.
    pub fn build(
        fs: &Fields,
        locale: Locale,
        mut options: impl FnMut(&str) -> Vec<(String, String)>,
    ) -> Catalog {
        let mut fields: Vec<FieldSpec> = fs
            .iter()
            .filter(|f| !f.hidden)
            .map(|f| FieldSpec {
                code: f.code.to_owned(),
                label: f.label_in(fs.def, locale),
                kind: Kind::of(f.kind),
                money: f.kind == FieldKind::Money,
                options: f.dictionary.map(&mut options).unwrap_or_default(),
            })
            .collect();
        fields.push(FieldSpec {
            code: FOLLOW_UP_AGE.to_owned(),
            label: I18n::global().t(locale, "rule-field-follow-up-age-days"),
            kind: Kind::Days,
            money: false,
            options: vec![],
        });
        Catalog { fields }
    }

    pub fn field(&self, code: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.code == code)
    }

    /// The fields a rule of `kind` may read.
    pub fn for_kind(&self, kind: RuleKind) -> impl Iterator<Item = &FieldSpec> {
        self.fields.iter().filter(move |f| kind.may_read(&f.code))
    }
}

/// Labels of fields and of dictionary values, for explanations.
pub trait Labels {
    fn field(&self, code: &str) -> String;
    fn option(&self, field: &str, code: &str) -> String;
}

impl Labels for Catalog {
    fn field(&self, code: &str) -> String {
        Catalog::field(self, code).map_or_else(|| code.to_owned(), |f| f.label.clone())
    }

    fn option(&self, field: &str, code: &str) -> String {
        Catalog::field(self, field)
            .and_then(|f| f.options.iter().find(|(c, _)| c == code))
            .map_or_else(|| code.to_owned(), |(_, l)| l.clone())
    }
}

/// Checks a tree for a rule of `kind`: known fields the kind may read, operators that fit each
/// field, values that fit each operator. Errors name the condition by its path
/// (`conditions.0.2`: the third item of the first group).
pub fn validate(kind: RuleKind, node: &Node, catalog: &Catalog) -> Result<(), Vec<FieldError>> {
    let mut errors = vec![];
    let mut leaves = 0;
    check(
        kind,
        node,
        catalog,
        "conditions",
        0,
        &mut leaves,
        &mut errors,
    );
    if leaves > MAX_CONDITIONS {
        errors.push(
            FieldError::new("conditions", "rule-error-too-many").with_arg("max", MAX_CONDITIONS),
        );
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn check(
    kind: RuleKind,
    node: &Node,
    catalog: &Catalog,
    path: &str,
    depth: usize,
    leaves: &mut usize,
    errors: &mut Vec<FieldError>,
) {
    let children = match node {
        Node::All { all } => all,
        Node::Any { any } => any,
        Node::Leaf(leaf) => {
            *leaves += 1;
            if let Err(e) = check_leaf(kind, leaf, catalog, path) {
                errors.push(e);
            }
            return;
        }
    };
    if depth >= MAX_DEPTH {
        errors.push(FieldError::new(path, "rule-error-too-deep").with_arg("max", MAX_DEPTH));
        return;
    }
    // An empty top group is the catch-all rule; an empty inner group is a mistake.
    if children.is_empty() && depth > 0 {
        errors.push(FieldError::new(path, "rule-error-empty-group"));
    }
    for (i, child) in children.iter().enumerate() {
        let p = format!("{path}.{i}");
        check(kind, child, catalog, &p, depth + 1, leaves, errors);
    }
}

fn check_leaf(
    kind: RuleKind,
    leaf: &Leaf,
    catalog: &Catalog,
    path: &str,
) -> Result<(), FieldError> {
    let Some(spec) = catalog
        .field(&leaf.field)
        .filter(|_| kind.may_read(&leaf.field))
    else {
        let name = catalog.field(&leaf.field).map_or(&leaf.field, |f| &f.label);
        return Err(FieldError::new(path, "rule-error-field").with_arg("field", name));
    };
    let err = |key: &str| FieldError::new(path, key).with_arg("field", &spec.label);
    let Some(op) = Op::from_code(&leaf.op).filter(|o| spec.kind.ops().contains(o)) else {
        return Err(err("rule-error-op"));
    };
    if !op.takes_value() {
        return Ok(());
    }
    let v = &leaf.value;
    let ok = match op {
        Op::In => v
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|x| scalar_fits(spec, x))),
        Op::Between if spec.kind == Kind::Date => {
            pair(v, eval::date_value).is_some_and(|(a, b)| a <= b)
        }
        Op::Between => pair(v, Value::as_f64).is_some_and(|(a, b)| a <= b),
        Op::Before | Op::After => eval::date_value(v).is_some(),
        Op::DaysSinceGte | Op::DaysSinceLte => v.as_i64().is_some_and(|n| n >= 0),
        Op::Gt | Op::Gte | Op::Lt | Op::Lte => v.as_f64().is_some(),
        _ => scalar_fits(spec, v),
    };
    if ok {
        return Ok(());
    }
    let strings = v.is_string()
        || v.as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string));
    Err(err(
        if matches!(spec.kind, Kind::Select | Kind::Multi) && strings {
            "rule-error-option"
        } else if op == Op::Between {
            "rule-error-range"
        } else {
            "rule-error-value"
        },
    ))
}

fn pair<T>(v: &Value, read: impl Fn(&Value) -> Option<T>) -> Option<(T, T)>
where
    T: PartialOrd,
{
    match v.as_array().map(Vec::as_slice) {
        Some([a, b]) => Some((read(a)?, read(b)?)),
        _ => None,
    }
}

/// Whether one value fits a field (an option of a select, a number, a date...).
fn scalar_fits(spec: &FieldSpec, v: &Value) -> bool {
    match spec.kind {
        Kind::Text => v.as_str().is_some_and(|s| !s.trim().is_empty()),
        Kind::Number | Kind::Days => v.as_f64().is_some(),
        Kind::Select | Kind::Multi => v
            .as_str()
            .is_some_and(|s| spec.options.iter().any(|(c, _)| c == s)),
        Kind::Date => eval::date_value(v).is_some(),
        Kind::Bool => v.is_boolean(),
        Kind::Ref => v.as_i64().is_some(),
    }
}

/// The tree in words: "行业 = 制造业 且 评分 ≥ 50"; inner groups in parentheses.
pub fn describe(node: &Node, labels: &dyn Labels, locale: Locale) -> String {
    let text = words(node, labels, locale, true);
    if text.is_empty() {
        I18n::global().t(locale, "rule-always")
    } else {
        text
    }
}

fn words(node: &Node, labels: &dyn Labels, locale: Locale, top: bool) -> String {
    let i = I18n::global();
    let (children, joiner) = match node {
        Node::All { all } => (all, "rule-and"),
        Node::Any { any } => (any, "rule-or"),
        Node::Leaf(leaf) => return leaf_words(leaf, labels, locale),
    };
    let parts: Vec<String> = children
        .iter()
        .map(|c| words(c, labels, locale, false))
        .filter(|s| !s.is_empty())
        .collect();
    let joined = parts.join(&format!(" {} ", i.t(locale, joiner)));
    if top || parts.len() < 2 {
        joined
    } else {
        format!("({joined})")
    }
}

fn leaf_words(leaf: &Leaf, labels: &dyn Labels, locale: Locale) -> String {
    let i = I18n::global();
    let field = labels.field(&leaf.field);
    let value = |v: &Value| -> String {
        match v {
            Value::String(s) => labels.option(&leaf.field, s),
            Value::Bool(b) => i.t(locale, if *b { "yes" } else { "no" }),
            Value::Array(a) => {
                let sep = if locale == Locale::En { ", " } else { "、" };
                a.iter()
                    .map(|x| match x {
                        Value::String(s) => labels.option(&leaf.field, s),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(sep)
            }
            Value::Null => String::new(),
            other => other.to_string(),
        }
    };
    let op = leaf.op.replace('_', "-");
    let mut args = vec![("field", field)];
    match (leaf.op.as_str(), leaf.value.as_array().map(Vec::as_slice)) {
        ("between", Some([a, b])) => {
            args.push(("from", value(a)));
            args.push(("to", value(b)));
        }
        _ => args.push(("value", value(&leaf.value))),
    }
    let key = format!("rule-op-{op}");
    let text = i.t_args(locale, &key, &args);
    if text == key {
        format!("{} {} {}", args[0].1, leaf.op, value(&leaf.value))
    } else {
        text
    }
}
