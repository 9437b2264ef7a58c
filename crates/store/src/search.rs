//! Quick search from an index, not a scan: each record's searchable text is cut into grams —
//! single and paired Chinese characters (张, 张三), and pairs of letters and triples of digits
//! (phone fragments, last digits, e-mail, pinyin initials such as "zs"). A query is cut the same
//! way; records holding all its grams are candidates, and the exact match is then checked on the
//! candidates only.
//!
//! Where the grams live depends on the database:
//!
//! - **SQLite**: an FTS5 table per module, `search_<module>` (contentless, with deletes, no
//!   positions, the `ascii` tokenizer), holding one document per record under its id: the
//!   record's grams separated by spaces ([`document`]). A transaction's documents become one
//!   new sorted segment, merged with older ones as later writes go on — sequential writes,
//!   where a B-tree of (gram, record) rows took a random page per gram once it outgrew the page
//!   cache. A query is an `AND` of its grams (`MATCH`).
//! - **PostgreSQL**: the B-tree table `search_grams (module, gram, record_id)`, appended to by
//!   `COPY` in gram order; a query intersects the rows of its rarest grams.

use std::collections::BTreeSet;

use guanxi_core::engine::{Fields, ModuleDef};
use serde_json::Value;

use crate::bulk::Val;
use crate::{Db, Result, StoreError, Tx, on_db, on_tx};

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// What a run of characters is made of; each kind is cut into grams of its own sizes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cjk,
    Letter,
    Digit,
}

impl Kind {
    /// Gram sizes indexed: Chinese characters alone and in pairs (张, 张三), letters in pairs
    /// (pinyin initials zs), digits in triples (phone fragments 800). One size per Latin kind
    /// keeps the index small enough to write a million records quickly; a longer query is
    /// matched by all its windows of that size.
    fn sizes(self) -> &'static [usize] {
        match self {
            Kind::Cjk => &[1, 2],
            Kind::Letter => &[2],
            Kind::Digit => &[3],
        }
    }
}

/// Runs of Chinese characters, of ASCII letters and of digits, lower-cased.
fn runs(text: &str) -> Vec<(Kind, Vec<char>)> {
    let mut out: Vec<(Kind, Vec<char>)> = vec![];
    for c in text.chars().flat_map(char::to_lowercase) {
        let kind = if is_cjk(c) {
            Some(Kind::Cjk)
        } else if c.is_ascii_alphabetic() {
            Some(Kind::Letter)
        } else if c.is_ascii_digit() {
            Some(Kind::Digit)
        } else {
            None
        };
        match (kind, out.last_mut()) {
            (Some(k), Some((lk, run))) if *lk == k => run.push(c),
            (Some(k), _) => out.push((k, vec![c])),
            (None, _) => out.push((Kind::Letter, vec![])),
        }
    }
    out.retain(|(_, r)| !r.is_empty());
    out
}

/// Every window a text is indexed under, with repeats, as slices of its lower-cased runs.
fn windows(runs: &[(Kind, Vec<char>)]) -> Vec<&[char]> {
    let mut out = vec![];
    for (kind, run) in runs {
        for &n in kind.sizes() {
            out.extend(run.windows(n));
        }
    }
    out
}

/// The grams a text is indexed under.
pub fn grams(text: &str) -> BTreeSet<String> {
    windows(&runs(text))
        .into_iter()
        .map(|w| w.iter().collect())
        .collect()
}

/// The grams a query must all match, or `None` when the query is too short to use the index
/// (one letter, or fewer than three digits): then the ordered scan answers it.
pub fn query_grams(q: &str) -> Option<BTreeSet<String>> {
    let mut g = BTreeSet::new();
    for (kind, run) in runs(q) {
        let n = match kind {
            Kind::Cjk => run.len().min(2),
            Kind::Letter => 2,
            Kind::Digit => 3,
        };
        if run.len() < n {
            return None;
        }
        for w in run.windows(n) {
            g.insert(w.iter().collect::<String>());
        }
    }
    // A few grams select well enough; the exact match is checked afterwards.
    let v: Vec<String> = g.into_iter().collect();
    let picked: BTreeSet<String> = v
        .iter()
        .step_by(v.len().div_ceil(4).max(1))
        .cloned()
        .collect();
    (!picked.is_empty()).then_some(picked)
}

/// The searchable text of a record's values.
pub fn text_of(fs: &Fields, values: &serde_json::Map<String, Value>) -> String {
    let mut out = String::new();
    text_into(fs, values, &mut out);
    out
}

/// [`text_of`] into a buffer the caller reuses from record to record.
pub fn text_into(fs: &Fields, values: &serde_json::Map<String, Value>, out: &mut String) {
    out.clear();
    for s in fs
        .iter()
        .filter(|f| f.searchable)
        .filter_map(|f| values.get(f.code).and_then(Value::as_str))
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(s);
    }
}

/// A record's grams as one FTS5 document: separated by spaces, in order, without repeats.
pub fn document(text: &str) -> String {
    let runs = runs(text);
    let mut grams = windows(&runs);
    // Char order is the order of the UTF-8 strings: the same as [`grams`].
    grams.sort_unstable();
    grams.dedup();
    let mut doc = String::with_capacity(grams.iter().map(|g| 4 * g.len() + 1).sum());
    for g in grams {
        if !doc.is_empty() {
            doc.push(' ');
        }
        doc.extend(g);
    }
    doc
}

/// The FTS5 table holding `module`'s index on SQLite.
pub fn fts_table(module: &str) -> Result<String> {
    if !module.is_empty() && module.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        Ok(format!("search_{module}"))
    } else {
        Err(StoreError::Config(format!("not a module: {module}")))
    }
}

/// A full-text query holding every gram: `"a" AND "b"`. Grams are Chinese characters, letters
/// and digits only, so quoting them is enough.
fn match_expr<'a>(grams: impl IntoIterator<Item = &'a String>) -> String {
    grams
        .into_iter()
        .map(|g| format!("\"{g}\""))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// PostgreSQL: at this many candidates matches are dense, and the ordered scan of the list
/// finds a page of them sooner than reading the grams' rows would.
const DENSE: i64 = 20_000;
/// SQLite: the same for FTS5, whose document lists are compact — reading 100,000 ids costs
/// about 9 ms at 1,000,000 customers, while the ordered scan of a scope where a query's
/// matches are rare (a salesperson's 32,000 customers and "nb", in 33,000 customers but 26 of
/// his) evaluated the exact match on every row of the scope: 30-60 ms.
const FTS_DENSE: i64 = 100_000;

/// Candidates from which on a query is answered by the ordered scan instead of the index.
pub fn dense_at(backend: crate::Backend) -> i64 {
    match backend {
        crate::Backend::Sqlite => FTS_DENSE,
        crate::Backend::Postgres => DENSE,
    }
}
/// PostgreSQL: up to this many candidates are read first and listed in the query; more would
/// cost more to list than the subquery costs to walk (a one-character search listing up to
/// 20,000 ids: 32-55 ms at 1,000,000 customers, against 4-8 ms as a subquery).
const FEW: i64 = 2_000;
/// PostgreSQL: a gram in fewer records than this is the only one a search reads.
const RARE: i64 = 2_000;

/// How a list narrows its rows to those matching a quick search (the exact match is checked
/// on them afterwards in every case).
#[derive(Clone, Debug, PartialEq)]
pub enum Candidates {
    /// The query is too short for the index, or its matches are dense: no narrowing.
    Scan,
    /// SQLite: the ids the FTS5 table `table` gives for `MATCH expr`, `n` of them.
    Match { table: String, expr: String, n: i64 },
    /// PostgreSQL: the ids of the records holding the query's rarest grams, read first so
    /// that the list's plan knows how few they are (as a subquery the planner guessed
    /// thousands and walked the whole table in id order, filtering: a four-digit phone
    /// fragment at 1,000,000 customers took 190-360 ms).
    Ids(Vec<i64>),
    /// PostgreSQL: more than [`FEW`] records hold these grams (the rarest of the query's): a
    /// subquery, which the ordered scan of the list walks while it finds its page. `dense`
    /// when even the rarest is in [`DENSE`] records or more: then the ordered scan alone finds
    /// a page sooner, unless the list's scope is narrower than the grams' records.
    Grams { grams: Vec<String>, dense: bool },
}

impl Candidates {
    /// How many records the index gives, where that decides whether intersecting them with a
    /// narrow data scope first pays ([`NARROW_FROM`]): at most [`FTS_DENSE`] on SQLite, and on
    /// PostgreSQL [`DENSE`] or [`FEW`] as a rough size (the gram counts stop there).
    pub fn many(&self) -> Option<i64> {
        match self {
            Candidates::Match { n, .. } => Some(*n),
            Candidates::Grams { dense: true, .. } => Some(DENSE),
            Candidates::Grams { dense: false, .. } => Some(FEW),
            Candidates::Scan | Candidates::Ids(_) => None,
        }
    }
}

/// From this many candidates on, a list whose data scope is narrow (a salesperson's own
/// customers) may intersect the candidates with the ids in scope before reading any row (see
/// `records::narrow_scope`); below it, walking the candidates costs a few milliseconds at most.
pub const NARROW_FROM: i64 = 2_000;

/// Chooses how a list finds the records matching `q` in `module`.
pub async fn candidates(db: &Db, module: &str, q: &str) -> Result<Candidates> {
    let Some(grams) = query_grams(q) else {
        return Ok(Candidates::Scan);
    };
    match db {
        Db::Sqlite { read, .. } => {
            let table = fts_table(module)?;
            let expr = match_expr(&grams);
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM (SELECT rowid FROM {table} WHERE {table} MATCH $1 LIMIT $2)"
            )))
            .bind(&expr)
            .bind(FTS_DENSE)
            .fetch_one(read)
            .await?;
            Ok(if n < FTS_DENSE {
                Candidates::Match { table, expr, n }
            } else {
                Candidates::Scan
            })
        }
        Db::Postgres(_) => {
            let mut by_freq = vec![];
            for g in grams {
                by_freq.push((gram_frequency(db, module, &g, DENSE).await?, g));
            }
            by_freq.sort();
            let Some((rarest, _)) = by_freq.first() else {
                return Ok(Candidates::Scan);
            };
            // Every gram in tens of thousands of records: matches are dense.
            if *rarest >= DENSE {
                let grams = by_freq.into_iter().take(1).map(|(_, g)| g).collect();
                return Ok(Candidates::Grams { grams, dense: true });
            }
            // A rare gram is enough by itself (the LIKE after it checks the whole text);
            // intersecting it with commoner ones would read their many rows for nothing.
            let take = if by_freq[0].0 < RARE { 1 } else { 3 };
            let grams: Vec<String> = by_freq
                .into_iter()
                .take(take)
                .filter(|(n, _)| *n < DENSE)
                .map(|(_, g)| g)
                .collect();
            let ids = holding_all(db, module, &grams, FEW + 1).await?;
            Ok(if ids.len() as i64 > FEW {
                Candidates::Grams {
                    grams,
                    dense: false,
                }
            } else {
                Candidates::Ids(ids)
            })
        }
    }
}

async fn add_record_grams(
    tx: &mut Tx,
    module: &str,
    id: i64,
    grams: &BTreeSet<String>,
) -> Result<()> {
    let list: Vec<&String> = grams.iter().collect();
    for chunk in list.chunks(200) {
        let mut sql = String::from("INSERT INTO search_grams (module, gram, record_id) VALUES ");
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, ${}, $2)", i + 3))
            .collect();
        sql += &rows.join(", ");
        sql += " ON CONFLICT DO NOTHING";
        on_tx!(tx, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(module)
                .bind(id);
            for g in chunk {
                q = q.bind(g.as_str());
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Adds the quick-search index entries of `module`'s new records: (record id, document), the
/// document being the record's grams separated by spaces as [`document`] makes
/// it. On SQLite one row per record goes into the module's FTS5 table, many rows per
/// statement; on PostgreSQL one `search_grams` row per gram, by `COPY` in gram order (each
/// gram's new entries land together at the end of its range).
pub async fn insert_docs(tx: &mut Tx, module: &str, docs: Vec<(i64, String)>) -> Result<()> {
    crate::bulk::check_ident(module)?;
    if docs.is_empty() {
        return Ok(());
    }
    match tx {
        Tx::Sqlite(c) => {
            let table = fts_table(module)?;
            let rows = docs
                .into_iter()
                .map(|(id, doc)| vec![Val::Int(id), Val::Text(doc)])
                .collect();
            crate::bulk::sqlite_insert(c, &table, &["rowid", "grams"], rows).await
        }
        Tx::Postgres(c) => {
            let mut pairs: Vec<(&str, i64)> = docs
                .iter()
                .flat_map(|(id, doc)| doc.split(' ').map(move |g| (g, *id)))
                .collect();
            pairs.sort_unstable();
            let rows = pairs
                .into_iter()
                .map(|(g, id)| {
                    vec![
                        Val::Text(module.to_owned()),
                        Val::Text(g.to_owned()),
                        Val::Int(id),
                    ]
                })
                .collect();
            crate::bulk::pg_copy(c, "search_grams", &["module", "gram", "record_id"], rows).await
        }
    }
}

/// Adds quick-search grams of `module`'s new records given as (gram, record id) pairs: on
/// SQLite they are gathered into one document per record ([`insert_docs`]), on PostgreSQL
/// copied into `search_grams` as they come.
pub async fn insert_grams(tx: &mut Tx, module: &str, grams: Vec<(String, i64)>) -> Result<()> {
    crate::bulk::check_ident(module)?;
    match tx {
        Tx::Sqlite(_) => {
            let mut grams = grams;
            // Stable: a record's grams keep their order.
            grams.sort_by_key(|(_, id)| *id);
            let mut docs: Vec<(i64, String)> = vec![];
            for (g, id) in grams {
                match docs.last_mut() {
                    Some((last, doc)) if *last == id => {
                        doc.push(' ');
                        doc.push_str(&g);
                    }
                    _ => docs.push((id, g)),
                }
            }
            insert_docs(tx, module, docs).await
        }
        Tx::Postgres(c) => {
            let rows = grams
                .into_iter()
                .map(|(g, id)| vec![Val::Text(module.to_owned()), Val::Text(g), Val::Int(id)])
                .collect();
            crate::bulk::pg_copy(c, "search_grams", &["module", "gram", "record_id"], rows).await
        }
    }
}

/// Brings a record's index entries in step after a change of its searchable text.
pub async fn index_record(
    tx: &mut Tx,
    def: &ModuleDef,
    id: i64,
    old_text: &str,
    new_text: &str,
) -> Result<()> {
    let (old, new) = (grams(old_text), grams(new_text));
    if old == new {
        return Ok(());
    }
    if let Tx::Sqlite(c) = tx {
        // The record's document is replaced as a whole.
        let table = fts_table(def.code)?;
        if !old.is_empty() {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE rowid = $1"
            )))
            .bind(id)
            .execute(&mut **c)
            .await?;
        }
        if !new.is_empty() {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO {table} (rowid, grams) VALUES ($1, $2)"
            )))
            .bind(id)
            .bind(document(new_text))
            .execute(&mut **c)
            .await?;
        }
        return Ok(());
    }
    let gone: Vec<&String> = old.difference(&new).collect();
    for chunk in gone.chunks(200) {
        let params: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "DELETE FROM search_grams WHERE module = $1 AND record_id = $2 AND gram IN ({})",
            params.join(", ")
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(def.code)
                .bind(id);
            for g in chunk {
                q = q.bind(g.as_str());
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
    }
    let added: BTreeSet<String> = new.difference(&old).cloned().collect();
    add_record_grams(tx, def.code, id, &added).await
}

/// Rebuilds the index of a whole module in batches; returns the records indexed.
pub async fn reindex(db: &Db, fs: &Fields) -> Result<usize> {
    let cols: Vec<&str> = fs
        .iter()
        .filter(|f| f.searchable && !f.custom)
        .map(|f| f.code)
        .collect();
    if cols.is_empty() {
        return Ok(0);
    }
    let select = format!(
        "SELECT id, {} FROM {} WHERE id > $1 ORDER BY id LIMIT 5000",
        cols.iter()
            .map(|c| format!("COALESCE({c}, '')"))
            .collect::<Vec<_>>()
            .join(" || ' ' || "),
        fs.def.table
    );
    let mut tx = db.begin().await?;
    match &mut tx {
        Tx::Sqlite(c) => {
            let table = fts_table(fs.def.code)?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO {table} ({table}) VALUES ('delete-all')"
            )))
            .execute(&mut **c)
            .await?;
        }
        Tx::Postgres(c) => {
            sqlx::query("DELETE FROM search_grams WHERE module = $1")
                .bind(fs.def.code)
                .execute(&mut **c)
                .await?;
        }
    }
    tx.commit().await?;
    let mut after = 0i64;
    let mut count = 0;
    loop {
        let rows: Vec<(i64, String)> = on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            select.as_str()
        ))
        .bind(after)
        .fetch_all(p)
        .await)?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        count += rows.len();
        let docs = rows
            .into_iter()
            .map(|(id, text)| (id, document(&text)))
            .filter(|(_, doc)| !doc.is_empty())
            .collect();
        let mut tx = db.begin().await?;
        insert_docs(&mut tx, fs.def.code, docs).await?;
        tx.commit().await?;
    }
    Ok(count)
}

/// Moves the index of a database from before FTS5 (SQLite, migration 12): when `search_grams`
/// still holds rows, every module's FTS5 table is rebuilt from the records and the old table is
/// emptied. Runs after the migrations; nothing to do on PostgreSQL or once done. A crash midway
/// leaves `search_grams` as it was, so the next start does it again.
pub async fn upgrade(db: &Db) -> Result<usize> {
    let Db::Sqlite { write, .. } = db else {
        return Ok(0);
    };
    let old: Option<i64> = sqlx::query_scalar("SELECT 1 FROM search_grams LIMIT 1")
        .fetch_optional(write)
        .await?;
    if old.is_none() {
        return Ok(0);
    }
    let mut n = 0;
    for def in guanxi_core::engine::MODULES {
        if def.fields.iter().any(|f| f.searchable) {
            n += reindex(db, &Fields::builtin(def)).await?;
        }
    }
    sqlx::query("DELETE FROM search_grams")
        .execute(write)
        .await?;
    tracing::info!(records = n, "moved the quick-search index to FTS5");
    Ok(n)
}

/// The records holding every one of `grams` in `search_grams` (PostgreSQL), at most `cap`.
async fn holding_all(db: &Db, module: &str, grams: &[String], cap: i64) -> Result<Vec<i64>> {
    let sql = (0..grams.len())
        .map(|i| {
            format!(
                "SELECT record_id FROM search_grams WHERE module = $1 AND gram = ${}",
                i + 2
            )
        })
        .collect::<Vec<_>>()
        .join(" INTERSECT ");
    let sql = format!("SELECT record_id FROM ({sql}) c LIMIT {cap}");
    Ok(on_db!(db, read, |p| {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str())).bind(module);
        for g in grams {
            q = q.bind(g);
        }
        q.fetch_all(p).await
    })?)
}

/// How many records hold a gram in `search_grams` (PostgreSQL), counting at most `cap` (cheap:
/// an index range).
async fn gram_frequency(db: &Db, module: &str, gram: &str, cap: i64) -> Result<i64> {
    Ok(on_db!(db, read, |p| {
        sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM search_grams WHERE module = $1 AND gram = $2 LIMIT $3) s")
            .bind(module)
            .bind(gram)
            .bind(cap)
            .fetch_one(p)
            .await
    })?)
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
