//! Appending rows: many per statement on SQLite, `COPY` on PostgreSQL.

use super::{SQLITE_PARAMS, Val};
use crate::Result;

fn placeholders(columns: usize, rows: usize) -> String {
    let one = format!("({})", vec!["?"; columns].join(", "));
    vec![one; rows].join(", ")
}

/// Appends rows on SQLite, many per statement, as `INSERT OR FAIL`: a failing row stops the
/// statement and keeps its earlier rows, and the error ends the caller's transaction (every
/// caller returns it, and the transaction rolls back), so nothing partial is ever committed.
/// Unlike the default (`ABORT`), this needs no statement journal, where SQLite would otherwise
/// copy every page the statement touches so that it could undo its own earlier rows — unless
/// a foreign key is checked (see [`Db::begin_bulk`]).
///
/// Measured on 200,000 customers (10 secondary indexes, 470 rows a statement, transactions of
/// 100,000 rows) with Python's `sqlite3`: 7.1 s as plain `INSERT`, 4.3 s as `INSERT OR FAIL`
/// without foreign-key checks; one row a statement took 4.5 s, but would cost a round trip to
/// sqlx's worker thread per row.
pub(crate) async fn sqlite_insert(
    c: &mut sqlx::SqliteConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Val>>,
) -> Result<()> {
    // The rows split evenly over as few statements as the parameter limit allows: chunks of
    // the same size then reuse the same two prepared statements, where a full statement and a
    // short remainder made a new remainder to prepare for every chunk.
    let max = (SQLITE_PARAMS / columns.len().max(1)).max(1);
    let per = rows.len().div_ceil(rows.len().div_ceil(max).max(1)).max(1);
    let head = format!(
        "INSERT OR FAIL INTO {table} ({}) VALUES ",
        columns.join(", ")
    );
    let full = format!("{head}{}", placeholders(columns.len(), per));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<Vec<Val>> = rows.by_ref().take(per).collect();
        let partial;
        let sql = if batch.len() == per {
            full.as_str()
        } else {
            partial = format!("{head}{}", placeholders(columns.len(), batch.len()));
            partial.as_str()
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in batch.into_iter().flatten() {
            q = match v {
                Val::Null => q.bind(None::<i64>),
                Val::Int(i) => q.bind(i),
                Val::Text(s) => q.bind(s),
                Val::Bool(b) => q.bind(b),
                Val::Time(t) => q.bind(t),
                Val::Date(d) => q.bind(d),
                Val::Float(f) => q.bind(f),
            };
        }
        q.execute(&mut *c).await?;
    }
    Ok(())
}

/// Appends a value in COPY's text format.
fn copy_text(out: &mut String, v: &Val) {
    use std::fmt::Write;
    match v {
        Val::Null => out.push_str("\\N"),
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Val::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Val::Time(t) => {
            let _ = write!(out, "{}", t.format("%Y-%m-%d %H:%M:%S%.6f+00"));
        }
        Val::Date(d) => {
            let _ = write!(out, "{}", d.format("%Y-%m-%d"));
        }
        Val::Float(f) => {
            let _ = write!(out, "{f:?}");
        }
        Val::Text(s) => {
            for ch in s.chars() {
                match ch {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c => out.push(c),
                }
            }
        }
    }
}

pub(crate) async fn pg_copy(
    c: &mut sqlx::PgConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Val>>,
) -> Result<()> {
    let sql = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
    let mut copy = c.copy_in_raw(&sql).await?;
    let mut buf = String::with_capacity(1 << 20);
    for row in &rows {
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                buf.push('\t');
            }
            copy_text(&mut buf, v);
        }
        buf.push('\n');
        if buf.len() >= 1 << 20 {
            copy.send(std::mem::take(&mut buf).into_bytes()).await?;
        }
    }
    if !buf.is_empty() {
        copy.send(buf.into_bytes()).await?;
    }
    copy.finish().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_escapes() {
        let mut s = String::new();
        copy_text(&mut s, &Val::Text("a\tb\\c\nd".into()));
        assert_eq!(s, "a\\tb\\\\c\\nd");
    }
}
