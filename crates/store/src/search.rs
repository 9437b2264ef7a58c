//! Quick search from an index, not a scan: each record's searchable text is cut into grams —
//! single and paired Chinese characters (张, 张三), and pairs and triples of letters or digits
//! (phone fragments, last digits, e-mail, pinyin initials such as "zs") — kept in
//! `search_grams (module, gram, record_id)`. A query is cut the same way; records holding all
//! its grams are candidates, and the exact match is then checked on the candidates only.

use std::collections::BTreeSet;

use guanxi_core::engine::{Fields, ModuleDef};
use serde_json::Value;

use crate::{Db, Result, Tx, on_db, on_tx};

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

/// The grams a text is indexed under.
pub fn grams(text: &str) -> BTreeSet<String> {
    let mut g = BTreeSet::new();
    for (kind, run) in runs(text) {
        for &n in kind.sizes() {
            for w in run.windows(n) {
                g.insert(w.iter().collect());
            }
        }
    }
    g
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
    fs.iter()
        .filter(|f| f.searchable)
        .filter_map(|f| values.get(f.code).and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

async fn insert_grams(tx: &mut Tx, module: &str, id: i64, grams: &BTreeSet<String>) -> Result<()> {
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

/// Brings a record's grams in step after a change of its searchable text.
pub async fn index_record(
    tx: &mut Tx,
    def: &ModuleDef,
    id: i64,
    old_text: &str,
    new_text: &str,
) -> Result<()> {
    let (old, new) = (grams(old_text), grams(new_text));
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
    insert_grams(tx, def.code, id, &added).await
}

/// Rebuilds the index of a whole module in batches (after bulk loads); returns records indexed.
pub async fn reindex(db: &Db, fs: &Fields) -> Result<usize> {
    let cols: Vec<&str> = fs
        .iter()
        .filter(|f| f.searchable && !f.custom)
        .map(|f| f.code)
        .collect();
    let select = format!(
        "SELECT id, {} FROM {} WHERE id > $1 ORDER BY id LIMIT 2000",
        cols.iter()
            .map(|c| format!("COALESCE({c}, '')"))
            .collect::<Vec<_>>()
            .join(" || ' ' || "),
        fs.def.table
    );
    {
        let mut tx = db.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "DELETE FROM search_grams WHERE module = $1"
        )
        .bind(fs.def.code)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        tx.commit().await?;
    }
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
        let mut tx = db.begin().await?;
        let mut batch: Vec<(i64, String)> = vec![];
        for (id, text) in &rows {
            batch.extend(grams(text).into_iter().map(|g| (*id, g)));
        }
        for chunk in batch.chunks(300) {
            let rows_sql: Vec<String> = (0..chunk.len())
                .map(|i| format!("($1, ${}, ${})", 2 * i + 2, 2 * i + 3))
                .collect();
            let sql = format!(
                "INSERT INTO search_grams (module, gram, record_id) VALUES {} ON CONFLICT DO NOTHING",
                rows_sql.join(", ")
            );
            on_tx!(&mut tx, |c| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(fs.def.code);
                for (id, g) in chunk {
                    q = q.bind(g.as_str()).bind(*id);
                }
                q.execute(&mut *c).await.map(|r| r.rows_affected())
            })?;
        }
        tx.commit().await?;
        count += rows.len();
    }
    Ok(count)
}

/// How many records hold a gram, counting at most `cap` (cheap: an index range).
pub async fn gram_frequency(db: &Db, module: &str, gram: &str, cap: i64) -> Result<i64> {
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
mod tests {
    use super::*;

    #[test]
    fn grams_cover_chinese_phones_and_pinyin() {
        let g = grams("张三贸易 13800138000 zhangsanmaoyi zsmy");
        for want in ["张", "张三", "贸易", "138", "000", "zs", "sm", "my"] {
            assert!(g.contains(want), "{want} missing");
        }
        for not in ["00", "zsm"] {
            assert!(!g.contains(not), "{not} is not indexed");
        }
        assert_eq!(
            query_grams("张").unwrap().into_iter().collect::<Vec<_>>(),
            ["张"]
        );
        assert_eq!(
            query_grams("张三").unwrap().into_iter().collect::<Vec<_>>(),
            ["张三"]
        );
        assert!(query_grams("z").is_none());
        assert!(query_grams("80").is_none(), "two digits: the scan answers");
        assert_eq!(
            query_grams("zsm").unwrap().into_iter().collect::<Vec<_>>(),
            ["sm", "zs"]
        );
        assert_eq!(
            query_grams("zs").unwrap().into_iter().collect::<Vec<_>>(),
            ["zs"]
        );
        assert!(query_grams("8000").unwrap().contains("800"));
    }
}
