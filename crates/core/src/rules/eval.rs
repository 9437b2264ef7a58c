//! Rules compiled for evaluation: each operand is parsed once (dates, lower-cased text, money in
//! cents), so checking a customer costs a few comparisons per condition.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::{FOLLOW_UP_AGE, Kind, LAST_FOLLOW_UP, Node, Op, RuleKind};

/// A date from "YYYY-MM-DD" or from an RFC 3339 time (its UTC date).
pub(crate) fn date_of(s: &str) -> Option<NaiveDate> {
    point(s).map(|p| p.date())
}

pub(crate) fn date_value(v: &Value) -> Option<NaiveDate> {
    v.as_str().and_then(date_of)
}

#[derive(Clone, Copy)]
enum Point {
    Day(NaiveDate),
    Time(DateTime<Utc>),
}

impl Point {
    fn date(self) -> NaiveDate {
        match self {
            Point::Day(d) => d,
            Point::Time(t) => t.date_naive(),
        }
    }

    /// Whole days from the point to `now`: calendar days for a date, elapsed 24 hours for a time.
    fn days_until(self, now: DateTime<Utc>) -> i64 {
        match self {
            Point::Day(d) => (now.date_naive() - d).num_days(),
            Point::Time(t) => (now - t).num_days(),
        }
    }
}

fn point(s: &str) -> Option<Point> {
    let s = s.trim();
    if s.len() == 10 {
        return NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(Point::Day);
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| Point::Time(t.with_timezone(&Utc)))
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn text_of(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s.trim()),
        other => Cow::Owned(other.to_string()),
    }
}

fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        other => other.as_f64(),
    }
}

#[derive(Clone, Debug)]
struct Test {
    /// The value read: the field itself, or the last follow-up for the follow-up age.
    src: String,
    kind: Kind,
    op: Op,
    nums: Vec<f64>,
    texts: Vec<String>,
    dates: Vec<NaiveDate>,
    flag: bool,
}

#[derive(Clone, Debug)]
enum C {
    All(Vec<C>),
    Any(Vec<C>),
    Leaf(Box<Test>),
    /// A condition on a field that no longer exists, or that no longer fits it.
    Never,
}

/// A condition tree ready to evaluate.
#[derive(Clone, Debug)]
pub struct Compiled(C);

/// The kind of a field, and whether it is money (cents), or `None` when unknown.
pub type KindOf<'a> = &'a dyn Fn(&str) -> Option<(Kind, bool)>;

fn compile(node: &Node, kind_of: KindOf<'_>) -> C {
    let leaf = match node {
        Node::All { all } => return C::All(all.iter().map(|n| compile(n, kind_of)).collect()),
        Node::Any { any } => return C::Any(any.iter().map(|n| compile(n, kind_of)).collect()),
        Node::Leaf(l) => l,
    };
    let Some((kind, money)) = kind_of(&leaf.field) else {
        return C::Never;
    };
    let Some(op) = Op::from_code(&leaf.op).filter(|o| kind.ops().contains(o)) else {
        return C::Never;
    };
    let items: Vec<&Value> = match &leaf.value {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    let scale = if money { 100.0 } else { 1.0 };
    let lower = kind == Kind::Text;
    let src = if leaf.field == FOLLOW_UP_AGE {
        LAST_FOLLOW_UP
    } else {
        &leaf.field
    };
    C::Leaf(Box::new(Test {
        src: src.to_owned(),
        kind,
        op,
        nums: items
            .iter()
            .filter_map(|v| number_of(v))
            .map(|n| n * scale)
            .collect(),
        texts: items
            .iter()
            .map(|v| {
                let t = text_of(v);
                if lower {
                    t.to_lowercase()
                } else {
                    t.into_owned()
                }
            })
            .collect(),
        dates: items.iter().filter_map(|v| date_value(v)).collect(),
        flag: leaf.value.as_bool().unwrap_or(false),
    }))
}

fn numeric(t: &Test, x: f64) -> bool {
    let n = |i: usize| t.nums.get(i).copied().unwrap_or(f64::NAN);
    let eq = |a: f64| (x - a).abs() < 1e-9;
    match t.op {
        Op::Eq => eq(n(0)),
        Op::Ne => !eq(n(0)),
        Op::Gt => x > n(0),
        Op::Gte => x >= n(0),
        Op::Lt => x < n(0),
        Op::Lte => x <= n(0),
        Op::Between => n(0) <= x && x <= n(1),
        Op::In => t.nums.iter().any(|a| eq(*a)),
        _ => false,
    }
}

fn first(v: &[String]) -> &str {
    v.first().map_or("", String::as_str)
}

fn test<'v>(t: &Test, get: &dyn Fn(&str) -> Option<&'v Value>, now: DateTime<Utc>) -> bool {
    let raw = get(&t.src).filter(|v| !is_blank(v));
    match t.op {
        Op::Empty => return raw.is_none(),
        Op::NotEmpty => return raw.is_some(),
        _ => {}
    }
    match t.kind {
        // Never followed up: infinitely long ago.
        Kind::Days => {
            let days = raw
                .and_then(Value::as_str)
                .and_then(point)
                .map_or(f64::INFINITY, |p| p.days_until(now) as f64);
            return numeric(t, days);
        }
        Kind::Bool => return raw.and_then(Value::as_bool).unwrap_or(false) == t.flag,
        _ => {}
    }
    // An empty value differs from every value and satisfies no other comparison.
    let Some(raw) = raw else {
        return t.op == Op::Ne;
    };
    match t.kind {
        Kind::Text | Kind::Select => {
            let s = text_of(raw);
            let s = if t.kind == Kind::Text {
                Cow::Owned(s.to_lowercase())
            } else {
                s
            };
            match t.op {
                Op::Eq => s == first(&t.texts),
                Op::Ne => s != first(&t.texts),
                Op::Contains => s.contains(first(&t.texts)),
                Op::In => t.texts.iter().any(|x| *x == s),
                _ => false,
            }
        }
        Kind::Number | Kind::Ref => {
            number_of(raw).is_some_and(|x| numeric(t, x)) || {
                t.op == Op::Ne && number_of(raw).is_none()
            }
        }
        Kind::Multi => {
            let has = |code: &str| {
                raw.as_array()
                    .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(code)))
            };
            match t.op {
                Op::Contains => has(first(&t.texts)),
                Op::In => t.texts.iter().any(|c| has(c)),
                _ => false,
            }
        }
        Kind::Date => {
            let Some(p) = raw.as_str().and_then(point) else {
                return false;
            };
            let d = p.date();
            let at = |i: usize| t.dates.get(i).copied();
            let days = |i: usize| t.nums.get(i).map(|n| *n as i64);
            match t.op {
                Op::Before => at(0).is_some_and(|x| d < x),
                Op::After => at(0).is_some_and(|x| d > x),
                Op::Between => at(0).is_some_and(|a| a <= d) && at(1).is_some_and(|b| d <= b),
                Op::DaysSinceGte => days(0).is_some_and(|n| p.days_until(now) >= n),
                Op::DaysSinceLte => days(0).is_some_and(|n| p.days_until(now) <= n),
                _ => false,
            }
        }
        Kind::Days | Kind::Bool => false,
    }
}

fn matches<'v>(c: &C, get: &dyn Fn(&str) -> Option<&'v Value>, now: DateTime<Utc>) -> bool {
    match c {
        C::All(v) => v.iter().all(|c| matches(c, get, now)),
        C::Any(v) => v.iter().any(|c| matches(c, get, now)),
        C::Leaf(t) => test(t, get, now),
        C::Never => false,
    }
}

fn sources(c: &C, out: &mut Vec<String>) {
    match c {
        C::All(v) | C::Any(v) => v.iter().for_each(|c| sources(c, out)),
        C::Leaf(t) if !out.contains(&t.src) => out.push(t.src.clone()),
        _ => {}
    }
}

impl Compiled {
    pub fn new(node: &Node, kind_of: KindOf<'_>) -> Compiled {
        Compiled(compile(node, kind_of))
    }

    /// Whether a customer's values satisfy the tree at `now`.
    pub fn matches(&self, values: &Map<String, Value>, now: DateTime<Utc>) -> bool {
        matches(&self.0, &|k| values.get(k), now)
    }
}

/// Who decided: the result code and the rule's id.
pub type Decision = Option<(String, i64)>;

/// What the rules decide for one customer; `None`: no rule of that kind matched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub customer_type: Decision,
    pub credit: Decision,
}

/// The active rules of both kinds, each list in priority order.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    classification: Vec<(i64, String, Compiled)>,
    credit: Vec<(i64, String, Compiled)>,
    sources: Vec<String>,
}

impl RuleSet {
    /// `rules`: (id, kind, conditions, result) of the active rules, in priority order.
    pub fn new<'a>(
        rules: impl IntoIterator<Item = (i64, RuleKind, &'a Node, &'a str)>,
        kind_of: KindOf<'_>,
    ) -> RuleSet {
        let mut set = RuleSet::default();
        for (id, kind, node, result) in rules {
            let c = Compiled::new(node, kind_of);
            sources(&c.0, &mut set.sources);
            let list = match kind {
                RuleKind::Classification => &mut set.classification,
                RuleKind::Credit => &mut set.credit,
            };
            list.push((id, result.to_owned(), c));
        }
        set
    }

    /// The values the rules read (field codes; the follow-up age reads the last follow-up).
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    pub fn is_empty(&self) -> bool {
        self.classification.is_empty() && self.credit.is_empty()
    }

    /// Classification first; the credit rules then see the type just decided.
    pub fn evaluate(&self, values: &Map<String, Value>, now: DateTime<Utc>) -> Outcome {
        let get = |k: &str| values.get(k);
        let customer_type = self
            .classification
            .iter()
            .find(|(_, _, c)| matches(&c.0, &get, now))
            .map(|(id, r, _)| (r.clone(), *id));
        let decided = customer_type
            .as_ref()
            .map(|(r, _)| Value::String(r.clone()));
        let get = |k: &str| match (&decided, k) {
            (Some(v), "customer_type") => Some(v),
            _ => values.get(k),
        };
        let credit = self
            .credit
            .iter()
            .find(|(_, _, c)| matches(&c.0, &get, now))
            .map(|(id, r, _)| (r.clone(), *id));
        Outcome {
            customer_type,
            credit,
        }
    }
}
