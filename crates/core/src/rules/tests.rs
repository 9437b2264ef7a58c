use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value, json};

use super::*;
use crate::engine::CUSTOMERS;

fn spec(code: &str, label: &str, kind: Kind, options: &[(&str, &str)]) -> FieldSpec {
    FieldSpec {
        code: code.into(),
        label: label.into(),
        kind,
        money: code == "cf_budget",
        options: options
            .iter()
            .map(|(c, l)| ((*c).into(), (*l).into()))
            .collect(),
    }
}

fn catalog() -> Catalog {
    Catalog {
        fields: vec![
            spec("name", "客户名称", Kind::Text, &[]),
            spec(
                "industry",
                "行业",
                Kind::Select,
                &[("manufacturing", "制造业"), ("it", "信息技术")],
            ),
            spec("score", "评分", Kind::Number, &[]),
            spec("cf_budget", "预算", Kind::Number, &[]),
            spec(
                "cf_tags",
                "标签",
                Kind::Multi,
                &[("hot", "热门"), ("gov", "政府")],
            ),
            spec("cf_founded", "成立日期", Kind::Date, &[]),
            spec("last_follow_up_at", "最近跟进", Kind::Date, &[]),
            spec(FOLLOW_UP_AGE, "未跟进天数", Kind::Days, &[]),
            spec("cf_listed", "上市", Kind::Bool, &[]),
            spec("cf_manager", "客户经理", Kind::Ref, &[]),
            spec(
                "customer_type",
                "客户类型",
                Kind::Select,
                &[("a", "A 类（重点）")],
            ),
            spec(
                "credit_level",
                "信用等级",
                Kind::Select,
                &[("5", "5 级（优）")],
            ),
        ],
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()
}

fn customer() -> Map<String, Value> {
    json!({
        "name": "杭州云峰 Technology",
        "industry": "manufacturing",
        "score": 60,
        "cf_budget": 1_500_000,
        "cf_tags": ["hot"],
        "cf_founded": "2020-05-01",
        "last_follow_up_at": "2026-03-01T08:00:00+00:00",
        "cf_listed": true,
        "cf_manager": 7,
        "customer_type": null,
        "notes": ""
    })
    .as_object()
    .unwrap()
    .clone()
}

fn kind_of(code: &str) -> Option<(Kind, bool)> {
    catalog().field(code).map(|f| (f.kind, f.money))
}

fn holds(field: &str, op: &str, value: Value) -> bool {
    holds_on(&customer(), field, op, value)
}

fn holds_on(values: &Map<String, Value>, field: &str, op: &str, value: Value) -> bool {
    let node =
        Node::parse(&json!({ "all": [{ "field": field, "op": op, "value": value }] })).unwrap();
    assert!(
        validate(RuleKind::Credit, &node, &catalog()).is_ok(),
        "{field} {op} is valid"
    );
    Compiled::new(&node, &kind_of).matches(values, now())
}

#[test]
fn text_operators() {
    assert!(holds("name", "eq", json!("杭州云峰 technology")));
    assert!(!holds("name", "eq", json!("杭州")));
    assert!(holds("name", "ne", json!("杭州")));
    assert!(holds("name", "contains", json!("TECH")));
    assert!(holds("name", "in", json!(["x", "杭州云峰 Technology"])));
    assert!(!holds("name", "empty", Value::Null));
    assert!(holds("name", "not_empty", Value::Null));
}

#[test]
fn select_operators() {
    assert!(holds("industry", "eq", json!("manufacturing")));
    assert!(!holds("industry", "ne", json!("manufacturing")));
    assert!(holds("industry", "in", json!(["it", "manufacturing"])));
    assert!(!holds("industry", "in", json!(["it"])));
    // An empty value differs from every value.
    assert!(holds("customer_type", "ne", json!("a")));
    assert!(holds("customer_type", "empty", Value::Null));
}

#[test]
fn number_operators_and_money_in_yuan() {
    assert!(holds("score", "eq", json!(60)));
    assert!(holds("score", "ne", json!(61)));
    assert!(holds("score", "gt", json!(59)));
    assert!(!holds("score", "gt", json!(60)));
    assert!(holds("score", "gte", json!(60)));
    assert!(holds("score", "lt", json!(60.5)));
    assert!(holds("score", "lte", json!(60)));
    assert!(holds("score", "between", json!([50, 60])));
    assert!(!holds("score", "between", json!([61, 70])));
    // 1,500,000 cents are ¥15,000.
    assert!(holds("cf_budget", "gte", json!(15_000)));
    assert!(!holds("cf_budget", "gt", json!(15_000)));
    let mut none = customer();
    none.insert("score".into(), Value::Null);
    assert!(!holds_on(&none, "score", "gte", json!(0)));
    assert!(holds_on(&none, "score", "empty", Value::Null));
}

#[test]
fn multi_select_operators() {
    assert!(holds("cf_tags", "contains", json!("hot")));
    assert!(!holds("cf_tags", "contains", json!("gov")));
    assert!(holds("cf_tags", "in", json!(["gov", "hot"])));
    assert!(holds("cf_tags", "not_empty", Value::Null));
    let mut none = customer();
    none.insert("cf_tags".into(), json!([]));
    assert!(holds_on(&none, "cf_tags", "empty", Value::Null));
}

#[test]
fn date_operators() {
    assert!(holds("cf_founded", "before", json!("2020-05-02")));
    assert!(!holds("cf_founded", "before", json!("2020-05-01")));
    assert!(holds("cf_founded", "after", json!("2020-04-30")));
    assert!(holds(
        "cf_founded",
        "between",
        json!(["2020-05-01", "2020-05-01"])
    ));
    assert!(holds("cf_founded", "days_since_gte", json!(365)));
    assert!(!holds("cf_founded", "days_since_lte", json!(365)));
    // A time: whole days elapsed (9 days and 4 hours).
    assert!(holds("last_follow_up_at", "days_since_gte", json!(9)));
    assert!(!holds("last_follow_up_at", "days_since_gte", json!(10)));
    assert!(holds("last_follow_up_at", "days_since_lte", json!(9)));
    assert!(holds("last_follow_up_at", "after", json!("2026-02-28")));
}

#[test]
fn follow_up_age_counts_never_as_infinitely_old() {
    assert!(holds(FOLLOW_UP_AGE, "gte", json!(9)));
    assert!(!holds(FOLLOW_UP_AGE, "gt", json!(9)));
    assert!(holds(FOLLOW_UP_AGE, "lt", json!(10)));
    assert!(holds(FOLLOW_UP_AGE, "lte", json!(9)));
    assert!(holds(FOLLOW_UP_AGE, "between", json!([0, 30])));
    let mut never = customer();
    never.remove("last_follow_up_at");
    assert!(holds_on(&never, FOLLOW_UP_AGE, "gte", json!(100_000)));
    assert!(holds_on(&never, FOLLOW_UP_AGE, "gt", json!(1)));
    assert!(!holds_on(&never, FOLLOW_UP_AGE, "lte", json!(100_000)));
    assert!(!holds_on(&never, FOLLOW_UP_AGE, "between", json!([0, 30])));
    assert!(holds_on(&never, FOLLOW_UP_AGE, "empty", Value::Null));
}

#[test]
fn checkbox_and_reference_operators() {
    assert!(holds("cf_listed", "eq", json!(true)));
    assert!(!holds("cf_listed", "eq", json!(false)));
    let mut unset = customer();
    unset.remove("cf_listed");
    assert!(holds_on(&unset, "cf_listed", "eq", json!(false)));
    assert!(holds("cf_manager", "eq", json!(7)));
    assert!(holds("cf_manager", "ne", json!(8)));
    assert!(holds("cf_manager", "in", json!([1, 7])));
    assert!(!holds("cf_manager", "empty", Value::Null));
}

#[test]
fn groups_nest() {
    let node = Node::parse(&json!({ "all": [
        { "field": "score", "op": "gte", "value": 50 },
        { "any": [
            { "field": "industry", "op": "eq", "value": "it" },
            { "field": "cf_tags", "op": "contains", "value": "hot" }
        ]}
    ]}))
    .unwrap();
    let c = Compiled::new(&node, &kind_of);
    assert!(c.matches(&customer(), now()));
    let mut cold = customer();
    cold.insert("cf_tags".into(), json!(["gov"]));
    assert!(!c.matches(&cold, now()));
    assert!(Compiled::new(&Node::always(), &kind_of).matches(&cold, now()));
    let any_empty = Node::Any { any: vec![] };
    assert!(!Compiled::new(&any_empty, &kind_of).matches(&cold, now()));
}

fn errors(kind: RuleKind, tree: Value) -> Vec<(String, String)> {
    let node = Node::parse(&tree).unwrap();
    validate(kind, &node, &catalog())
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.field, e.message))
        .collect()
}

fn one(field: &str, op: &str, value: Value) -> Value {
    json!({ "all": [{ "field": field, "op": op, "value": value }] })
}

#[test]
fn validation_names_the_condition() {
    let c = RuleKind::Classification;
    let e = |f: &str, m: &str| vec![(f.to_owned(), m.to_owned())];
    assert_eq!(
        errors(c, one("nope", "eq", json!(1))),
        e("conditions.0", "rule-error-field")
    );
    assert_eq!(
        errors(c, one("score", "contains", json!("1"))),
        e("conditions.0", "rule-error-op")
    );
    assert_eq!(
        errors(c, one("score", "frobnicate", json!(1))),
        e("conditions.0", "rule-error-op")
    );
    assert_eq!(
        errors(c, one("score", "gte", json!("many"))),
        e("conditions.0", "rule-error-value")
    );
    assert_eq!(
        errors(c, one("industry", "eq", json!("farming"))),
        e("conditions.0", "rule-error-option")
    );
    assert_eq!(
        errors(c, one("industry", "in", json!(["it", "farming"]))),
        e("conditions.0", "rule-error-option")
    );
    assert_eq!(
        errors(c, one("score", "between", json!([9, 1]))),
        e("conditions.0", "rule-error-range")
    );
    assert_eq!(
        errors(c, one("cf_founded", "before", json!("2020-13-01"))),
        e("conditions.0", "rule-error-value")
    );
    assert_eq!(
        errors(c, one("cf_founded", "days_since_gte", json!(-1))),
        e("conditions.0", "rule-error-value")
    );
    assert_eq!(
        errors(c, one("name", "eq", json!("  "))),
        e("conditions.0", "rule-error-value")
    );
    // The rules' own results are off limits where they would go round in circles.
    assert_eq!(
        errors(c, one("customer_type", "eq", json!("a"))),
        e("conditions.0", "rule-error-field")
    );
    assert!(errors(RuleKind::Credit, one("customer_type", "eq", json!("a"))).is_empty());
    assert_eq!(
        errors(RuleKind::Credit, one("credit_level", "eq", json!("5"))),
        e("conditions.0", "rule-error-field")
    );
    let nested = json!({ "all": [
        { "field": "score", "op": "gte", "value": 1 },
        { "any": [] },
        { "any": [{ "field": "score", "op": "lt", "value": "x" }] }
    ]});
    assert_eq!(
        errors(c, nested),
        vec![
            ("conditions.1".into(), "rule-error-empty-group".into()),
            ("conditions.2.0".into(), "rule-error-value".into())
        ]
    );
    let mut deep = json!({ "field": "score", "op": "gte", "value": 1 });
    for _ in 0..=MAX_DEPTH {
        deep = json!({ "all": [deep] });
    }
    assert!(
        errors(c, deep)
            .iter()
            .any(|(_, m)| m == "rule-error-too-deep")
    );
    let many: Vec<Value> = (0..=MAX_CONDITIONS)
        .map(|_| json!({ "field": "score", "op": "gte", "value": 1 }))
        .collect();
    assert!(
        errors(c, json!({ "any": many }))
            .iter()
            .any(|(_, m)| m == "rule-error-too-many")
    );
    assert!(
        errors(c, json!({ "all": [] })).is_empty(),
        "the catch-all rule"
    );
    assert!(Node::parse(&json!({ "field": "score" })).is_err());
    assert!(Node::parse(&json!([1, 2])).is_err());
}

#[test]
fn first_matching_rule_in_priority_order_wins_and_credit_sees_the_new_type() {
    let t = |v: Value| Node::parse(&v).unwrap();
    let hot = t(one("score", "gte", json!(50)));
    let any = Node::always();
    let made = t(one("industry", "eq", json!("manufacturing")));
    let type_a = t(one("customer_type", "eq", json!("a")));
    let set = RuleSet::new(
        [
            (3, RuleKind::Classification, &made, "b"),
            (1, RuleKind::Classification, &hot, "a"),
            (2, RuleKind::Classification, &any, "c"),
            (9, RuleKind::Credit, &type_a, "5"),
            (8, RuleKind::Credit, &any, "3"),
        ],
        &kind_of,
    );
    let out = set.evaluate(&customer(), now());
    assert_eq!(out.customer_type, Some(("b".into(), 3)));
    assert_eq!(out.credit, Some(("3".into(), 8)));
    let mut it = customer();
    it.insert("industry".into(), json!("it"));
    let out = set.evaluate(&it, now());
    assert_eq!(out.customer_type, Some(("a".into(), 1)));
    assert_eq!(out.credit, Some(("5".into(), 9)), "the type just decided");
    assert_eq!(set.sources(), ["industry", "score", "customer_type"]);
    assert_eq!(
        RuleSet::new([], &kind_of).evaluate(&it, now()),
        Outcome::default()
    );
}

#[test]
fn a_condition_on_a_missing_field_never_matches() {
    let node = Node::parse(&one("cf_gone", "eq", json!("x"))).unwrap();
    assert!(!Compiled::new(&node, &kind_of).matches(&customer(), now()));
}

#[test]
fn explained_in_words_in_both_languages() {
    let node = Node::parse(&json!({ "all": [
        { "field": "industry", "op": "eq", "value": "manufacturing" },
        { "field": "score", "op": "gte", "value": 50 }
    ]}))
    .unwrap();
    let cat = catalog();
    assert_eq!(
        describe(&node, &cat, Locale::ZhCn),
        "行业 = 制造业 且 评分 ≥ 50"
    );
    let nested = Node::parse(&json!({ "any": [
        { "all": [
            { "field": "industry", "op": "in", "value": ["it", "manufacturing"] },
            { "field": "score", "op": "between", "value": [1, 9] }
        ]},
        { "field": FOLLOW_UP_AGE, "op": "gte", "value": 30 },
        { "field": "name", "op": "empty" }
    ]}))
    .unwrap();
    assert_eq!(
        describe(&nested, &cat, Locale::ZhCn),
        "(行业 属于 信息技术、制造业 且 评分 介于 1 与 9 之间) 或 未跟进天数 ≥ 30 或 客户名称 为空"
    );
    let en = Catalog::build(
        &crate::engine::Fields::builtin(&CUSTOMERS),
        Locale::En,
        |d| {
            if d == "industry" {
                vec![("manufacturing".into(), "Manufacturing".into())]
            } else {
                vec![]
            }
        },
    );
    assert_eq!(
        describe(&node, &en, Locale::En),
        "Industry = Manufacturing and Score ≥ 50"
    );
    assert_eq!(describe(&Node::always(), &cat, Locale::ZhCn), "所有客户");
    let dated = Node::parse(&one("cf_founded", "days_since_gte", json!(30))).unwrap();
    assert_eq!(
        describe(&dated, &cat, Locale::ZhCn),
        "成立日期 距今 ≥ 30 天"
    );
}

#[test]
fn the_catalog_offers_every_visible_field_and_the_follow_up_age() {
    let cat = Catalog::build(
        &crate::engine::Fields::builtin(&CUSTOMERS),
        Locale::ZhCn,
        |_| vec![],
    );
    assert!(cat.field("pinyin").is_none(), "hidden");
    assert_eq!(cat.field("score").map(|f| f.kind), Some(Kind::Number));
    assert_eq!(cat.field(FOLLOW_UP_AGE).map(|f| f.kind), Some(Kind::Days));
    assert!(
        cat.for_kind(RuleKind::Classification)
            .all(|f| f.code != "customer_type")
    );
    for kind in [
        Kind::Text,
        Kind::Number,
        Kind::Select,
        Kind::Multi,
        Kind::Date,
    ] {
        for op in kind.ops() {
            assert!(!op.label(Locale::ZhCn).starts_with("rule-"), "{op:?}");
            assert_eq!(Op::from_code(op.code()), Some(*op));
        }
    }
    assert_eq!(RuleKind::from_code("credit"), Some(RuleKind::Credit));
}
