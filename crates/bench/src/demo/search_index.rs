//! The demo's quick-search index, made beside the rows it indexes: gram rows sorted by gram for
//! PostgreSQL's `search_grams`, or one document per record for SQLite's FTS5 tables — the
//! same grams either way, cut as the store cuts a record's searchable text.

use guanxi_core::engine::{CONTACTS, CUSTOMERS, ModuleDef, ORGANISATIONS};
use guanxi_store::bulk::Val;
use guanxi_store::search;

use super::generate::{Batch, CONTACT_COLUMNS, CUSTOMER_COLUMNS, ORGANISATION_COLUMNS};

/// Positions in `columns` of the module's searchable fields, as the engine declares them.
fn searchable(def: &ModuleDef, columns: &[&str]) -> Vec<usize> {
    def.fields
        .iter()
        .filter(|f| f.searchable && !f.custom)
        .filter_map(|f| columns.iter().position(|c| *c == f.code))
        .collect()
}

/// A generated row's id and searchable text (its searchable values joined by spaces, as the
/// store indexes a record).
fn searchable_text(row: &[Val], positions: &[usize]) -> Option<(i64, String)> {
    let Some(Val::Int(id)) = row.first() else {
        return None;
    };
    let text: Vec<&str> = positions
        .iter()
        .filter_map(|&i| match row.get(i) {
            Some(Val::Text(s)) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    Some((*id, text.join(" ")))
}

/// The search index's grams of a generated row, as PostgreSQL's `search_grams` rows.
fn index(row: &[Val], positions: &[usize], out: &mut Vec<(String, i64)>) {
    if let Some((id, text)) = searchable_text(row, positions) {
        out.extend(search::grams(&text).into_iter().map(|g| (g, id)));
    }
}

/// The search index's document of a generated row, as SQLite's FTS5 tables take it; returns
/// how many grams it holds.
fn document(row: &[Val], positions: &[usize], out: &mut Vec<(i64, String)>) -> u64 {
    let Some((id, text)) = searchable_text(row, positions) else {
        return 0;
    };
    let doc = search::document(&text);
    if doc.is_empty() {
        // Nothing to find it by: no document, as the store writes none.
        return 0;
    }
    let grams = doc.split(' ').count() as u64;
    out.push((id, doc));
    grams
}

/// Adds a batch's index: documents (SQLite) or gram rows (PostgreSQL).
pub fn add(b: &mut Batch, documents: bool) {
    if documents {
        for (rows, columns, def, out) in [
            (
                &b.customers,
                CUSTOMER_COLUMNS,
                &CUSTOMERS,
                &mut b.customer_docs,
            ),
            (&b.contacts, CONTACT_COLUMNS, &CONTACTS, &mut b.contact_docs),
            (
                &b.organisations,
                ORGANISATION_COLUMNS,
                &ORGANISATIONS,
                &mut b.organisation_docs,
            ),
        ] {
            let positions = searchable(def, columns);
            for row in rows {
                b.doc_grams += document(row, &positions, out);
            }
        }
        return;
    }
    for (rows, columns, def, out) in [
        (
            &b.customers,
            CUSTOMER_COLUMNS,
            &CUSTOMERS,
            &mut b.customer_grams,
        ),
        (
            &b.contacts,
            CONTACT_COLUMNS,
            &CONTACTS,
            &mut b.contact_grams,
        ),
        (
            &b.organisations,
            ORGANISATION_COLUMNS,
            &ORGANISATIONS,
            &mut b.organisation_grams,
        ),
    ] {
        let positions = searchable(def, columns);
        for row in rows {
            index(row, &positions, out);
        }
        // Sorted, consecutive rows land on the same index pages: the insert is about twice as
        // fast, and the sort runs on the generator's thread, beside the database.
        out.sort_unstable();
    }
}
