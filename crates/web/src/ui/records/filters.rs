//! The list page's filter builder and its chips. Each field offers the operators that fit its
//! kind ([`Op::for_kind`]) and, with the script, a value input of its type: a date, a number, or
//! the options of a select, a user or a department. What a person types is turned into what
//! the list API compares before it goes into the URL: money from yuan into cents, an option's
//! label into its code, a user's name into the user's id, a region's name into its code.

use std::collections::HashMap;

use guanxi_core::engine::{FieldDef, FieldKind, Fields, ModuleDef, SYSTEM_FIELDS};
use guanxi_store::records::Op;

use super::list::{Chip, query_string};
use crate::error::AppResult;
use crate::state::AppState;
use crate::ui::Tr;

/// Every operator, in the order a builder offers them.
const OPS: [Op; 12] = [
    Op::Eq,
    Op::Ne,
    Op::Contains,
    Op::StartsWith,
    Op::In,
    Op::Gt,
    Op::Gte,
    Op::Lt,
    Op::Lte,
    Op::Between,
    Op::Empty,
    Op::NotEmpty,
];

/// A field the builder offers.
pub struct FilterField {
    pub code: &'static str,
    pub label: String,
    /// The value input: text, number, money, date or select.
    pub input: &'static str,
    /// The operators that fit, comma-separated.
    pub ops: String,
    /// The options of a select-like field: (value, label).
    pub options: Vec<(String, String)>,
}

/// The operators with their labels.
pub fn ops(tr: Tr) -> Vec<(&'static str, String)> {
    OPS.iter()
        .map(|o| {
            (
                o.code(),
                tr.t(&format!("op-{}", o.code().replace('_', "-"))),
            )
        })
        .collect()
}

fn filterable(f: &FieldDef) -> bool {
    !f.hidden
}

/// The fields a list can be filtered by: the module's, then the columns every record has.
pub async fn fields(
    state: &AppState,
    def: &'static ModuleDef,
    fs: &Fields,
    tr: Tr,
) -> AppResult<Vec<FilterField>> {
    let dict = guanxi_store::dictionary::all(&state.db).await?;
    let users = guanxi_store::users::list_all(&state.db).await?;
    let departments = guanxi_store::departments::list(&state.db).await?;
    let fields = fs
        .iter()
        .filter(|f| filterable(f))
        .chain(SYSTEM_FIELDS.iter());
    Ok(fields
        .map(|f| {
            let options: Vec<(String, String)> = match f.kind {
                FieldKind::Select | FieldKind::MultiSelect => dict
                    .iter()
                    .filter(|i| Some(i.dictionary.as_str()) == f.dictionary)
                    .map(|i| (i.code.clone(), i.label(tr.0).to_owned()))
                    .collect(),
                FieldKind::User => users
                    .iter()
                    .map(|u| (u.id.to_string(), u.display_name.clone()))
                    .collect(),
                FieldKind::Department => departments
                    .iter()
                    .map(|d| (d.id.to_string(), d.name.clone()))
                    .collect(),
                FieldKind::Checkbox => {
                    vec![("true".into(), tr.t("yes")), ("false".into(), tr.t("no"))]
                }
                _ => vec![],
            };
            let input = match f.kind {
                _ if !options.is_empty() => "select",
                FieldKind::Money => "money",
                k if k.is_numeric() && !matches!(k, FieldKind::Relation(_)) => "number",
                FieldKind::Date | FieldKind::DateTime => "date",
                _ => "text",
            };
            FilterField {
                code: f.code,
                label: f.label_in(def, tr.0),
                input,
                ops: Op::for_kind(f.kind)
                    .iter()
                    .map(|o| o.code())
                    .collect::<Vec<_>>()
                    .join(","),
                options,
            }
        })
        .collect())
}

/// Turns the builder's rows (`cond_field`, `cond_value`) from what a person typed into what the
/// list API compares: yuan into cents, labels and names into codes and ids.
pub async fn normalise_rows(
    state: &AppState,
    fs: &Fields,
    filter: &[FilterField],
    raw: &mut [(String, String)],
) -> AppResult<()> {
    let on_region = raw.iter().any(|(k, v)| {
        k == "cond_field" && fs.field(v).is_some_and(|f| f.kind == FieldKind::Region)
    });
    let regions: HashMap<String, String> = if on_region {
        guanxi_store::regions::all_labels(&state.db)
            .await?
            .into_iter()
            .map(|(code, label)| (label, code))
            .collect()
    } else {
        HashMap::new()
    };
    normalise(fs, filter, raw, &regions);
    Ok(())
}

fn normalise(
    fs: &Fields,
    filter: &[FilterField],
    raw: &mut [(String, String)],
    regions: &HashMap<String, String>,
) {
    let mut field: Option<&'static FieldDef> = None;
    for (k, v) in raw.iter_mut() {
        match k.as_str() {
            "cond_field" => field = fs.filter_field(v),
            "cond_value" => {
                let typed = field.filter(|f| {
                    f.kind == FieldKind::Money
                        || f.kind == FieldKind::Region
                        || filter
                            .iter()
                            .any(|x| x.code == f.code && !x.options.is_empty())
                });
                if let Some(f) = typed {
                    let parts: Vec<String> = v
                        .split([',', '，'])
                        .map(|p| value(f, p.trim(), filter, regions))
                        .collect();
                    *v = parts.join(",");
                }
            }
            _ => {}
        }
    }
}

fn value(
    f: &FieldDef,
    s: &str,
    filter: &[FilterField],
    regions: &HashMap<String, String>,
) -> String {
    match f.kind {
        FieldKind::Money => s
            .replace([',', '¥', '￥'], "")
            .parse::<f64>()
            .map_or_else(|_| s.to_owned(), |y| format!("{:.0}", (y * 100.0).round())),
        FieldKind::Region => regions.get(s).cloned().unwrap_or_else(|| s.to_owned()),
        _ => filter
            .iter()
            .find(|x| x.code == f.code)
            .and_then(|x| {
                let by_value = x.options.iter().any(|(v, _)| v == s);
                let by_label = x.options.iter().find(|(_, l)| l == s);
                by_label.filter(|_| !by_value).map(|(v, _)| v.clone())
            })
            .unwrap_or_else(|| s.to_owned()),
    }
}

/// The filter conditions of the list as removable chips, values shown as a person reads them.
pub fn chips(
    def: &ModuleDef,
    fs: &Fields,
    filter: &[FilterField],
    pairs: &[(String, String)],
    base: &str,
    tr: Tr,
) -> Vec<Chip> {
    pairs
        .iter()
        .enumerate()
        .filter_map(|(i, (k, v))| {
            let key = k.strip_prefix("f.")?;
            let (code, op) = key.split_once('.').unwrap_or((key, "eq"));
            let f = fs.filter_field(code)?;
            let options = filter.iter().find(|x| x.code == f.code).map(|x| &x.options);
            let shown = v
                .split(',')
                .map(|part| match (f.kind, options) {
                    (FieldKind::Money, _) => part
                        .parse::<i64>()
                        .map_or_else(|_| part.to_owned(), |c| format!("{:.2}", c as f64 / 100.0)),
                    (_, Some(o)) => o
                        .iter()
                        .find(|(val, _)| val == part)
                        .map_or_else(|| part.to_owned(), |(_, l)| l.clone()),
                    _ => part.to_owned(),
                })
                .collect::<Vec<_>>()
                .join(&if op == "between" {
                    " – ".to_owned()
                } else {
                    tr.t("list-separator")
                });
            let rest: Vec<(String, String)> = pairs
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, p)| p.clone())
                .collect();
            let op_label = tr.t(&format!("op-{}", op.replace('_', "-")));
            Some(Chip {
                text: format!("{} {op_label} {shown}", f.label_in(def, tr.0)),
                remove: format!("{base}?{}", query_string(&rest, &["cursor"])),
            })
        })
        .collect()
}
