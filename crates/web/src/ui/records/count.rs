//! The count a list page shows ("共 12 条", "1,000+ 条") without a `COUNT(*)` over a big table.

use guanxi_core::engine::ModuleDef;

use super::list::query_string;
use crate::ui::Tr;

/// How many records a list holds: a first page that is not full is its own count; a full one
/// asks the list API for it after the page has loaded (`count=true`: up to 1,000, so the page
/// never waits for a count), and later pages show none.
pub struct Count {
    /// The count, when the page itself tells it ("共 12 条").
    pub known: Option<String>,
    /// The list API's address that counts (first pages only).
    pub url: Option<String>,
    /// The texts for the script, `{n}` standing for the number.
    pub one: String,
    pub more: String,
}

impl Count {
    pub(super) fn of(
        def: &ModuleDef,
        pairs: &[(String, String)],
        q: &guanxi_store::records::ListQuery,
        rows: usize,
        bin: bool,
        tr: Tr,
    ) -> Count {
        let first = q.after.is_none();
        let full = rows as i64 >= q.limit;
        let text = |n: usize| {
            tr.t1(
                "record-count",
                "count",
                &crate::ui::pages::thousands(n as i64),
            )
        };
        let keep: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k.starts_with("f.") || ["q", "match"].contains(&k.as_str()))
            .cloned()
            .collect();
        let sep = if keep.is_empty() { "" } else { "&" };
        Count {
            known: (first && !full).then(|| text(rows)),
            url: (first && full && !bin).then(|| {
                format!(
                    "/api/v1/{}?{}{sep}count=true&limit=1",
                    def.code,
                    query_string(&keep, &[])
                )
            }),
            one: tr.t1("record-count", "count", "{n}"),
            more: tr.t1("record-count-more", "count", "{n}"),
        }
    }
}
