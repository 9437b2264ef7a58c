//! Regions (地区): the province / city / district tree of China. The built-in rows are the
//! national code list (GB/T 2260, six-digit codes: province `330000`, city `330100`, district
//! `330106`) embedded from `data/regions.tsv` and copied into the table once, after migrating.
//! Administrators add custom regions (`builtin = false`) whose code is the parent's code plus a
//! suffix of their choosing, rename any region, and delete custom regions without sub-regions.

use serde::Serialize;

use crate::{Db, Result, StoreError, Tx, on_db, on_tx};

/// The built-in tree: `code <TAB> parent_code <TAB> name`, parents before children.
const BUILTIN_TSV: &str = include_str!("../data/regions.tsv");

/// Provinces are level 1, cities 2, districts 3; there is no level below.
pub const MAX_LEVEL: i32 = 3;

/// The longest suffix an administrator may give a custom region's code.
pub const MAX_SUFFIX: usize = 20;

/// Rows per INSERT statement while seeding.
const BATCH: usize = 500;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Region {
    pub code: String,
    /// Null for a province.
    pub parent_code: Option<String>,
    pub name: String,
    /// 1 province (省), 2 city (市), 3 district (区县).
    pub level: i32,
    /// Part of the national code list (cannot be deleted).
    pub builtin: bool,
    pub sort_order: i32,
}

/// Why an administrator's change was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum RegionError {
    /// The parent region does not exist.
    ParentMissing,
    /// The parent is a district: the tree has three levels.
    TooDeep,
    /// The code is already used.
    CodeTaken,
    /// A sibling already has this name.
    NameTaken,
    /// Built-in regions cannot be deleted.
    Builtin,
    /// The region still has this many sub-regions.
    HasChildren(i64),
}

const COLUMNS: &str = "code, parent_code, name, level, builtin, sort_order";
/// Siblings in their order: explicit order, then the national list, then custom ones, by code.
const ORDER: &str = "ORDER BY sort_order, builtin DESC, code";

/// Whether `s` may end a custom region's code: 1–20 ASCII letters or digits.
pub fn valid_suffix(s: &str) -> bool {
    (1..=MAX_SUFFIX).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Every region with its display label ("广东省 / 深圳市 / 南山区"), computed in memory from one
/// read of the table (exports and imports show and accept labels).
pub async fn all_labels(db: &Db) -> Result<Vec<(String, String)>> {
    let sql = format!("SELECT {COLUMNS} FROM regions");
    let all: Vec<Region> = on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .fetch_all(p)
    .await)?;
    let by_code: std::collections::HashMap<&str, &Region> =
        all.iter().map(|r| (r.code.as_str(), r)).collect();
    Ok(all
        .iter()
        .map(|r| {
            let mut path = vec![r.clone()];
            while path.len() < MAX_LEVEL as usize {
                match path
                    .last()
                    .and_then(|r| r.parent_code.as_deref())
                    .and_then(|p| by_code.get(p))
                {
                    Some(parent) => path.push((*parent).clone()),
                    None => break,
                }
            }
            path.reverse();
            (r.code.clone(), label(&path))
        })
        .collect())
}

/// Which of `codes` exist.
pub async fn existing(db: &Db, codes: &[String]) -> Result<Vec<String>> {
    let t = tree(db).await?;
    Ok(codes
        .iter()
        .filter(|c| t.by_code.contains_key(c.as_str()))
        .cloned()
        .collect())
}

/// The direct sub-regions of `parent`, or the provinces when `parent` is `None`.
pub async fn children(db: &Db, parent: Option<&str>) -> Result<Vec<Region>> {
    Ok(tree(db)
        .await?
        .children
        .get(parent.unwrap_or(""))
        .cloned()
        .unwrap_or_default())
}

/// How many sub-regions each child of `parent` (or each province) has; children without any
/// are left out.
pub async fn child_counts(db: &Db, parent: Option<&str>) -> Result<Vec<(String, i64)>> {
    let inner = match parent {
        Some(_) => "SELECT code FROM regions WHERE parent_code = $1",
        None => "SELECT code FROM regions WHERE parent_code IS NULL",
    };
    let sql = format!(
        "SELECT parent_code, COUNT(*) FROM regions WHERE parent_code IN ({inner}) \
         GROUP BY parent_code"
    );
    Ok(on_db!(db, read, |p| {
        let q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
        match parent {
            Some(code) => q.bind(code),
            None => q,
        }
        .fetch_all(p)
        .await
    })?)
}

pub async fn get(db: &Db, code: &str) -> Result<Region> {
    tree(db)
        .await?
        .by_code
        .get(code)
        .cloned()
        .ok_or(StoreError::NotFound)
}

/// The whole tree in memory (a few thousand rows), read once and kept in [`crate::cache`]:
/// pickers, labels and checks answer from it instead of asking the database per level.
#[derive(Debug, Default)]
pub struct Tree {
    pub by_code: std::collections::HashMap<String, Region>,
    /// Children of each region (provinces under ""), in their order.
    pub children: std::collections::HashMap<String, Vec<Region>>,
}

pub async fn tree(db: &Db) -> Result<std::sync::Arc<Tree>> {
    crate::cache::through(db, crate::cache::Topic::Regions, "tree", async || {
        let sql = format!("SELECT {COLUMNS} FROM regions {ORDER}");
        let all: Vec<Region> = on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .fetch_all(p)
        .await)?;
        let mut t = Tree::default();
        for r in all {
            t.children
                .entry(r.parent_code.clone().unwrap_or_default())
                .or_default()
                .push(r.clone());
            t.by_code.insert(r.code.clone(), r);
        }
        Ok(std::sync::Arc::new(t))
    })
    .await
}

async fn find_tx(tx: &mut Tx, code: &str) -> Result<Option<Region>> {
    let sql = format!("SELECT {COLUMNS} FROM regions WHERE code = $1");
    Ok(on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(code)
    .fetch_optional(&mut *c)
    .await)?)
}

/// A region and its ancestors, from the province down to the region itself.
pub async fn path(db: &Db, code: &str) -> Result<Vec<Region>> {
    let mut out = vec![get(db, code).await?];
    // The tree has three levels; the bound also guards against a cycle made by hand.
    while out.len() < MAX_LEVEL as usize {
        let Some(parent) = out.last().and_then(|r| r.parent_code.clone()) else {
            break;
        };
        out.push(get(db, &parent).await?);
    }
    out.reverse();
    Ok(out)
}

/// The path as one line, "浙江省 / 杭州市 / 西湖区". The national list's placeholders for the
/// districts of a municipality or the counties under a province (市辖区, 省直辖县级行政区划, …)
/// name no place, so they are left out: "北京市 / 朝阳区".
pub fn label(path: &[Region]) -> String {
    let placeholder = |r: &&Region| {
        r.builtin && r.level == 2 && (r.name == "市辖区" || r.name.ends_with("直辖县级行政区划"))
    };
    let names: Vec<&str> = path
        .iter()
        .filter(|r| !placeholder(r) || path.len() == 2)
        .map(|r| r.name.as_str())
        .collect();
    names.join(" / ")
}

async fn sibling_named(tx: &mut Tx, parent: Option<&str>, name: &str) -> Result<Option<String>> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "SELECT code FROM regions WHERE COALESCE(parent_code, '') = $1 AND name = $2",
        )
        .bind(parent.unwrap_or(""))
        .bind(name)
        .fetch_optional(&mut *c)
        .await
    })?)
}

/// A unique-constraint violation as the error it stands for.
fn unique_as_region_error(e: StoreError) -> Result<RegionError> {
    match e {
        StoreError::Unique(c) if c.contains("sibling_name") => Ok(RegionError::NameTaken),
        StoreError::Unique(_) => Ok(RegionError::CodeTaken),
        other => Err(other),
    }
}

/// Adds a custom region under `parent` (a province when `None`), coded `parent + suffix`.
/// The caller checks the suffix with [`valid_suffix`] and the name's length.
pub async fn add(
    tx: &mut Tx,
    parent: Option<&str>,
    suffix: &str,
    name: &str,
) -> Result<std::result::Result<Region, RegionError>> {
    crate::cache::invalidate(crate::cache::Topic::Regions);
    let level = match parent {
        Some(p) => match find_tx(tx, p).await? {
            None => return Ok(Err(RegionError::ParentMissing)),
            Some(r) if r.level >= MAX_LEVEL => return Ok(Err(RegionError::TooDeep)),
            Some(r) => r.level + 1,
        },
        None => 1,
    };
    let code = format!("{}{suffix}", parent.unwrap_or(""));
    if find_tx(tx, &code).await?.is_some() {
        return Ok(Err(RegionError::CodeTaken));
    }
    if sibling_named(tx, parent, name).await?.is_some() {
        return Ok(Err(RegionError::NameTaken));
    }
    let inserted = on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO regions (code, parent_code, name, level, builtin, sort_order) \
             VALUES ($1, $2, $3, $4, FALSE, 0)",
        )
        .bind(&code)
        .bind(parent)
        .bind(name)
        .bind(level)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    });
    if let Err(e) = inserted {
        return unique_as_region_error(e.into()).map(Err);
    }
    Ok(Ok(Region {
        code,
        parent_code: parent.map(str::to_owned),
        name: name.to_owned(),
        level,
        builtin: false,
        sort_order: 0,
    }))
}

/// Renames a region (built-in ones too: divisions are renamed now and then).
pub async fn rename(
    tx: &mut Tx,
    code: &str,
    name: &str,
) -> Result<std::result::Result<Region, RegionError>> {
    crate::cache::invalidate(crate::cache::Topic::Regions);
    let Some(mut region) = find_tx(tx, code).await? else {
        return Err(StoreError::NotFound);
    };
    if sibling_named(tx, region.parent_code.as_deref(), name)
        .await?
        .is_some_and(|c| c != code)
    {
        return Ok(Err(RegionError::NameTaken));
    }
    let updated = on_tx!(tx, |c| {
        sqlx::query("UPDATE regions SET name = $1 WHERE code = $2")
            .bind(name)
            .bind(code)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    });
    if let Err(e) = updated {
        return unique_as_region_error(e.into()).map(Err);
    }
    region.name = name.to_owned();
    Ok(Ok(region))
}

/// Deletes a custom region that has no sub-regions; returns what was deleted.
pub async fn delete(tx: &mut Tx, code: &str) -> Result<std::result::Result<Region, RegionError>> {
    crate::cache::invalidate(crate::cache::Topic::Regions);
    let Some(region) = find_tx(tx, code).await? else {
        return Err(StoreError::NotFound);
    };
    if region.builtin {
        return Ok(Err(RegionError::Builtin));
    }
    let children: i64 = on_tx!(tx, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM regions WHERE parent_code = $1")
            .bind(code)
            .fetch_one(&mut *c)
            .await
    })?;
    if children > 0 {
        return Ok(Err(RegionError::HasChildren(children)));
    }
    on_tx!(tx, |c| sqlx::query("DELETE FROM regions WHERE code = $1")
        .bind(code)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(Ok(region))
}

/// One built-in row: (code, parent code, name, level).
type Row<'a> = (&'a str, Option<&'a str>, &'a str, i32);

/// The embedded national list, each row with its level (parents come first in the file).
fn builtin_rows() -> Result<Vec<Row<'static>>> {
    let mut levels: std::collections::HashMap<&str, i32> = std::collections::HashMap::new();
    let mut rows = Vec::with_capacity(3400);
    for (n, line) in BUILTIN_TSV.lines().enumerate() {
        let bad = || StoreError::Config(format!("data/regions.tsv line {}: {line:?}", n + 1));
        let mut cols = line.split('\t');
        let (Some(code), Some(parent), Some(name), None) =
            (cols.next(), cols.next(), cols.next(), cols.next())
        else {
            return Err(bad());
        };
        let parent = Some(parent).filter(|p| !p.is_empty());
        let level = match parent {
            None => 1,
            Some(p) => levels.get(p).copied().ok_or_else(bad)? + 1,
        };
        if code.is_empty() || name.is_empty() || level > MAX_LEVEL {
            return Err(bad());
        }
        if levels.insert(code, level).is_some() {
            return Err(bad());
        }
        rows.push((code, parent, name, level));
    }
    Ok(rows)
}

/// Copies the built-in regions into an empty `regions` table, in one transaction; returns how
/// many rows were added (0 when the table already had rows).
pub async fn seed(db: &Db) -> Result<usize> {
    crate::cache::invalidate(crate::cache::Topic::Regions);
    let mut tx = db.begin().await?;
    let any: Option<String> = on_tx!(&mut tx, |c| {
        sqlx::query_scalar("SELECT code FROM regions LIMIT 1")
            .fetch_optional(&mut *c)
            .await
    })?;
    if any.is_some() {
        return Ok(0);
    }
    let rows = builtin_rows()?;
    for batch in rows.chunks(BATCH) {
        let values: Vec<String> = (0..batch.len())
            .map(|i| {
                let n = i * 4;
                format!("(${}, ${}, ${}, ${}, TRUE, 0)", n + 1, n + 2, n + 3, n + 4)
            })
            .collect();
        let sql = format!(
            "INSERT INTO regions (code, parent_code, name, level, builtin, sort_order) VALUES {} \
             ON CONFLICT (code) DO NOTHING",
            values.join(", ")
        );
        on_tx!(&mut tx, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for (code, parent, name, level) in batch {
                q = q.bind(*code).bind(*parent).bind(*name).bind(*level);
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// The labels of some regions by code, as [`label`] writes them for each one's [`path`]: one
/// query per level of the tree however many codes (a list page's rows). Unknown codes are left out.
pub async fn labels(
    db: &Db,
    codes: &[String],
) -> Result<std::collections::HashMap<String, String>> {
    let t = tree(db).await?;
    let mut out = std::collections::HashMap::new();
    'codes: for code in codes {
        let Some(r) = t.by_code.get(code) else {
            continue;
        };
        let mut path = vec![r.clone()];
        while path.len() < MAX_LEVEL as usize {
            let Some(parent) = path.last().and_then(|r| r.parent_code.as_deref()) else {
                break;
            };
            // Like `path`, a missing ancestor leaves the code without a label.
            let Some(p) = t.by_code.get(parent) else {
                continue 'codes;
            };
            path.push(p.clone());
        }
        path.reverse();
        out.insert(code.clone(), label(&path));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_list_is_a_three_level_tree() {
        let rows = builtin_rows().unwrap();
        let count = |l: i32| rows.iter().filter(|r| r.3 == l).count();
        assert_eq!(
            count(1),
            34,
            "31 mainland provinces + Taiwan, Hong Kong, Macau"
        );
        assert!(count(2) > 300 && count(3) > 2900, "cities and districts");
        assert!(rows.contains(&("330106", Some("330100"), "西湖区", 3)));
        assert!(BUILTIN_TSV.len() < 150_000);
    }

    #[test]
    fn suffixes_are_short_ascii_letters_and_digits() {
        assert!(valid_suffix("01") && valid_suffix("X1") && valid_suffix(&"9".repeat(20)));
        assert!(!valid_suffix("") && !valid_suffix(&"9".repeat(21)));
        assert!(!valid_suffix("a-b") && !valid_suffix("西湖") && !valid_suffix("1 2"));
    }

    fn r(code: &str, level: i32, name: &str) -> Region {
        Region {
            code: code.into(),
            parent_code: None,
            name: name.into(),
            level,
            builtin: true,
            sort_order: 0,
        }
    }

    #[test]
    fn labels_skip_placeholder_cities() {
        let zj = [
            r("330000", 1, "浙江省"),
            r("330100", 2, "杭州市"),
            r("330106", 3, "西湖区"),
        ];
        assert_eq!(label(&zj), "浙江省 / 杭州市 / 西湖区");
        let bj = [
            r("110000", 1, "北京市"),
            r("110100", 2, "市辖区"),
            r("110105", 3, "朝阳区"),
        ];
        assert_eq!(label(&bj), "北京市 / 朝阳区");
        assert_eq!(label(&bj[..2]), "北京市 / 市辖区");
    }

    #[tokio::test]
    async fn seeding_is_fast_and_happens_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_sqlite(&dir.path().join("t.db")).await.unwrap();
        let started = std::time::Instant::now();
        crate::migrate::run(&db).await.unwrap();
        let took = started.elapsed();
        let provinces = children(&db, None).await.unwrap();
        assert_eq!(provinces.len(), 34);
        assert!(
            took < std::time::Duration::from_secs(5),
            "migrate + seed: {took:?}"
        );
        assert_eq!(seed(&db).await.unwrap(), 0, "a second run adds nothing");
        let p = path(&db, "330106").await.unwrap();
        assert_eq!(label(&p), "浙江省 / 杭州市 / 西湖区");
        db.close().await;
    }
}
