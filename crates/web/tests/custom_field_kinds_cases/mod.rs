//! The table of [`Case`]s: one per kind of custom field, with the records they point at.

use serde_json::{Value, json};

use crate::common::Api;

/// One kind of custom field and what it should do.
pub struct Case {
    pub kind: String,
    pub dictionary: Option<&'static str>,
    pub indexed: bool,
    /// Three valid inputs, in ascending sort order of what they store.
    pub inputs: [Value; 3],
    /// What the API returns for each of them.
    pub stored: [Value; 3],
    /// The value of `f.<code>.eq=` that finds the second record.
    pub filter: String,
    /// An input the field refuses.
    pub invalid: Value,
    /// The second value as a person reads it in a CSV export.
    pub export: &'static str,
    /// The second value as the detail page shows it.
    pub detail: String,
    /// The JSON type the OpenAPI document gives the field.
    pub json_type: &'static str,
    /// The form fields the in-place editor sends (besides `version`), and the value they store.
    pub inplace: Vec<(&'static str, String)>,
    pub edited: Value,
}

impl Case {
    /// The field's code: `cf_k_<kind>` (`cf_k_relation` for relations).
    pub fn code(&self) -> String {
        format!("cf_k_{}", self.kind.split(':').next().unwrap_or_default())
    }

    pub fn label_zh(&self) -> String {
        format!("扩展{}", self.code().trim_start_matches("cf_k_"))
    }
}

/// Records the tests need to point at.
pub struct Fixtures {
    pub users: [i64; 3],
    pub departments: [i64; 3],
    pub organisations: [i64; 3],
}

pub async fn fixtures(api: &Api) -> Fixtures {
    let me = api.ok("GET", "/api/v1/me", None).await;
    let mut users = [me["id"].as_i64().unwrap(), 0, 0];
    for (i, (login, name)) in [("zhang", "张经理"), ("li", "李经理")].iter().enumerate() {
        let u = api
            .ok(
                "POST",
                "/api/v1/users",
                Some(
                    json!({ "username": login, "display_name": name, "password": "password-123" }),
                ),
            )
            .await;
        users[i + 1] = u["id"].as_i64().unwrap();
    }
    let mut departments = [0; 3];
    for (i, name) in ["华北销售部", "华东销售部", "华南销售部"]
        .iter()
        .enumerate()
    {
        departments[i] = api.department(name, None).await;
    }
    let mut organisations = [0; 3];
    for (i, name) in ["甲方集团", "乙方集团", "丙方集团"].iter().enumerate() {
        let o = api
            .ok(
                "POST",
                "/api/v1/organisations",
                Some(json!({ "name": name })),
            )
            .await;
        organisations[i] = o["id"].as_i64().unwrap();
    }
    Fixtures {
        users,
        departments,
        organisations,
    }
}

fn form(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

pub fn cases(fx: &Fixtures) -> Vec<Case> {
    let [u0, u1, u2] = fx.users;
    let [d0, d1, d2] = fx.departments;
    let [o0, o1, o2] = fx.organisations;
    let s = |v: &str| v.to_owned();
    let case = |kind: &str, dictionary, indexed| Case {
        kind: kind.to_owned(),
        dictionary,
        indexed,
        inputs: [Value::Null, Value::Null, Value::Null],
        stored: [Value::Null, Value::Null, Value::Null],
        filter: String::new(),
        invalid: Value::Null,
        export: "",
        detail: String::new(),
        json_type: "string",
        inplace: vec![],
        edited: Value::Null,
    };
    vec![
        Case {
            inputs: [json!("HT-001"), json!("HT-002"), json!("HT-003")],
            stored: [json!("HT-001"), json!("HT-002"), json!("HT-003")],
            filter: s("HT-002"),
            invalid: json!("长".repeat(201)),
            export: "HT-002",
            detail: s("HT-002"),
            inplace: form(&[("cf_k_text", "HT-009")]),
            edited: json!("HT-009"),
            ..case("text", None, true)
        },
        Case {
            inputs: [
                json!("Note A\n一"),
                json!("Note B\n第二行"),
                json!("Note C"),
            ],
            stored: [
                json!("Note A\n一"),
                json!("Note B\n第二行"),
                json!("Note C"),
            ],
            filter: s("Note B\n第二行"),
            invalid: json!("bell \u{7}"),
            export: "Note B\n第二行",
            detail: s("Note B\n第二行"),
            inplace: form(&[("cf_k_long_text", "改过\n两行")]),
            edited: json!("改过\n两行"),
            ..case("long_text", None, false)
        },
        Case {
            inputs: [json!(10), json!("20"), json!(30)],
            stored: [json!(10), json!(20), json!(30)],
            filter: s("20"),
            invalid: json!("abc"),
            export: "20",
            detail: s("20"),
            json_type: "integer",
            inplace: form(&[("cf_k_integer", "25")]),
            edited: json!(25),
            ..case("integer", None, true)
        },
        Case {
            inputs: [json!(1.5), json!("2.25"), json!(30.75)],
            stored: [json!(1.5), json!(2.25), json!(30.75)],
            filter: s("2.25"),
            invalid: json!("abc"),
            export: "2.25",
            detail: s("2.25"),
            json_type: "number",
            inplace: form(&[("cf_k_decimal", "3.5")]),
            edited: json!(3.5),
            ..case("decimal", None, true)
        },
        Case {
            inputs: [json!("100"), json!("1,234.56"), json!(99999.99)],
            stored: [json!(10000), json!(123456), json!(9999999)],
            filter: s("123456"),
            invalid: json!("abc"),
            export: "1234.56",
            detail: s("¥1,234.56"),
            json_type: "integer",
            inplace: form(&[("cf_k_money", "2,000.5")]),
            edited: json!(200050),
            ..case("money", None, false)
        },
        Case {
            inputs: [json!(5.5), json!("12.5%"), json!(80.5)],
            stored: [json!(5.5), json!(12.5), json!(80.5)],
            filter: s("12.5"),
            invalid: json!("many"),
            export: "12.5",
            detail: s("12.5%"),
            json_type: "number",
            inplace: form(&[("cf_k_percent", "15")]),
            edited: json!(15.0),
            ..case("percent", None, false)
        },
        Case {
            inputs: [
                json!("2026-01-15"),
                json!("2026-03-01"),
                json!("2026-12-31"),
            ],
            stored: [
                json!("2026-01-15"),
                json!("2026-03-01"),
                json!("2026-12-31"),
            ],
            filter: s("2026-03-01"),
            invalid: json!("2026-02-30"),
            export: "2026-03-01",
            detail: s("2026-03-01"),
            inplace: form(&[("cf_k_date", "2026-04-02")]),
            edited: json!("2026-04-02"),
            ..case("date", None, true)
        },
        Case {
            inputs: [
                json!("2026-01-15T09:00:00+08:00"),
                json!("2026-03-01T08:30:00+08:00"),
                json!("2026-12-31T23:59:59Z"),
            ],
            stored: [
                json!("2026-01-15T01:00:00+00:00"),
                json!("2026-03-01T00:30:00+00:00"),
                json!("2026-12-31T23:59:59+00:00"),
            ],
            filter: s("2026-03-01T08:30:00+08:00"),
            invalid: json!("yesterday"),
            export: "2026-03-01 08:30:00",
            detail: s("2026-03-01 08:30:00"),
            inplace: form(&[("cf_k_date_time", "2026-04-02T10:00:00+08:00")]),
            edited: json!("2026-04-02T02:00:00+00:00"),
            ..case("date_time", None, false)
        },
        Case {
            inputs: [json!("it"), json!("制造业"), json!("Wholesale and retail")],
            stored: [json!("it"), json!("manufacturing"), json!("retail")],
            filter: s("manufacturing"),
            invalid: json!("no_such_code"),
            export: "制造业",
            detail: s("制造业"),
            inplace: form(&[("cf_k_select", "finance")]),
            edited: json!("finance"),
            ..case("select", Some("industry"), true)
        },
        Case {
            inputs: [
                json!(["finance"]),
                json!("信息技术,金融"),
                json!(["retail"]),
            ],
            stored: [
                json!(["finance"]),
                json!(["it", "finance"]),
                json!(["retail"]),
            ],
            filter: s("it"),
            invalid: json!(["it", "no_such_code"]),
            export: "信息技术、金融",
            detail: s("信息技术、金融"),
            json_type: "array",
            inplace: form(&[("cf_k_multi_select", "retail"), ("cf_k_multi_select", "it")]),
            edited: json!(["retail", "it"]),
            ..case("multi_select", Some("industry"), false)
        },
        Case {
            inputs: [json!(false), json!("是"), json!(true)],
            stored: [json!(false), json!(true), json!(true)],
            filter: s("true"),
            invalid: json!("maybe"),
            export: "TRUE",
            detail: s("是"),
            json_type: "boolean",
            // An unticked box sends nothing.
            inplace: vec![],
            edited: json!(false),
            ..case("checkbox", None, true)
        },
        Case {
            inputs: [
                json!("010-1234-5678"),
                json!("+86 138 0013 8000"),
                json!("15900001111"),
            ],
            stored: [
                json!("01012345678"),
                json!("13800138000"),
                json!("15900001111"),
            ],
            filter: s("13800138000"),
            invalid: json!("abc"),
            export: "13800138000",
            detail: s("13800138000"),
            inplace: form(&[("cf_k_phone", "0571-8888 6666")]),
            edited: json!("057188886666"),
            ..case("phone", None, true)
        },
        Case {
            inputs: [
                json!("a@example.com"),
                json!("B@Example.com"),
                json!("c@example.com"),
            ],
            stored: [
                json!("a@example.com"),
                json!("b@example.com"),
                json!("c@example.com"),
            ],
            filter: s("b@example.com"),
            invalid: json!("bad@"),
            export: "b@example.com",
            detail: s("b@example.com"),
            inplace: form(&[("cf_k_email", "d@example.com")]),
            edited: json!("d@example.com"),
            ..case("email", None, false)
        },
        Case {
            inputs: [
                json!("https://a.example.com"),
                json!("b.example.com/x"),
                json!("https://c.example.com"),
            ],
            stored: [
                json!("https://a.example.com"),
                json!("https://b.example.com/x"),
                json!("https://c.example.com"),
            ],
            filter: s("https://b.example.com/x"),
            invalid: json!("ftp://x.example.com"),
            export: "https://b.example.com/x",
            detail: s("https://b.example.com/x"),
            inplace: form(&[("cf_k_url", "https://d.example.com")]),
            edited: json!("https://d.example.com"),
            ..case("url", None, false)
        },
        Case {
            inputs: [json!(u0), json!(u1), json!(u2)],
            stored: [json!(u0), json!(u1), json!(u2)],
            filter: u1.to_string(),
            invalid: json!(999_999),
            export: "张经理",
            detail: s("张经理"),
            json_type: "integer",
            inplace: vec![("cf_k_user", u2.to_string())],
            edited: json!(u2),
            ..case("user", None, true)
        },
        Case {
            inputs: [json!(d0), json!(d1), json!(d2)],
            stored: [json!(d0), json!(d1), json!(d2)],
            filter: d1.to_string(),
            invalid: json!(999_999),
            export: "华东销售部",
            detail: s("华东销售部"),
            json_type: "integer",
            inplace: vec![("cf_k_department", d2.to_string())],
            edited: json!(d2),
            ..case("department", None, false)
        },
        Case {
            inputs: [json!("110101"), json!("330106"), json!("440305")],
            stored: [json!("110101"), json!("330106"), json!("440305")],
            filter: s("330106"),
            invalid: json!("999999"),
            export: "浙江省 / 杭州市 / 西湖区",
            detail: s("浙江省 / 杭州市 / 西湖区"),
            // The cascading picker sends one value per level.
            inplace: form(&[
                ("cf_k_region", "440000"),
                ("cf_k_region", "440300"),
                ("cf_k_region", "440305"),
            ]),
            edited: json!("440305"),
            ..case("region", None, true)
        },
        Case {
            inputs: [json!(o0), json!(o1), json!(o2)],
            stored: [json!(o0), json!(o1), json!(o2)],
            filter: o1.to_string(),
            invalid: json!(999_999),
            export: "乙方集团",
            detail: s("乙方集团"),
            json_type: "integer",
            inplace: vec![("cf_k_relation", o2.to_string())],
            edited: json!(o2),
            ..case("relation:organisations", None, false)
        },
    ]
}
