//! Export (导出) of any list view — its filter, sort and chosen columns — as CSV (UTF-8 with a
//! BOM, for Excel) or XLSX. Rows are read in keyset pages and written as they come, so a million
//! rows never sit in memory; values are shown the way the pages show them (option labels, user
//! names, region names, yuan), which is also what an import takes back.

use std::collections::HashMap;

use chrono::{Datelike, Timelike};

use guanxi_core::Action;
use guanxi_core::engine::{self, FieldDef, FieldKind, Fields, ModuleDef};
use guanxi_io::Cell;
use guanxi_store::audit::{self, Event};
use guanxi_store::records::{self, ListQuery, Row};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::records::fields;
use crate::state::AppState;

/// Rows read per query.
const PAGE: i64 = 2_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// A column of an export: a field, or one of the two every list shows after its fields.
#[derive(Clone, Copy, Debug)]
pub enum Column {
    Field(&'static FieldDef),
    /// The owner (负责人), by display name: an import takes it back.
    Owner,
    /// The time of the last change.
    Updated,
}

/// The code of the owner column in `columns=`.
pub const OWNER: &str = "owner";
/// The code of the column of the last change in `columns=`.
pub const UPDATED: &str = "updated_at";

/// The columns of an export: those asked for (in that order), else every visible field and
/// the owner.
pub fn columns(fs: &Fields, chosen: Option<&[String]>) -> AppResult<Vec<Column>> {
    match chosen.filter(|c| !c.is_empty()) {
        Some(codes) => codes
            .iter()
            .map(|c| match c.as_str() {
                OWNER => Ok(Column::Owner),
                UPDATED => Ok(Column::Updated),
                c => fs
                    .field(c)
                    .filter(|f| !f.hidden)
                    .map(Column::Field)
                    .ok_or(AppError::BadRequest("error-filter")),
            })
            .collect(),
        None => Ok(fs
            .iter()
            .filter(|f| !f.hidden)
            .map(Column::Field)
            .chain([Column::Owner])
            .collect()),
    }
}

/// What turns stored values into the text users read, loaded once per export.
struct Shown {
    dict: HashMap<(String, String), String>,
    users: HashMap<i64, String>,
    departments: HashMap<i64, String>,
    regions: HashMap<String, String>,
    tz: chrono_tz::Tz,
}

impl Shown {
    async fn load(state: &AppState, auth: &Auth, cols: &[&FieldDef]) -> AppResult<Shown> {
        let locale = auth.locale;
        let dict = guanxi_store::dictionary::all(&state.db)
            .await?
            .into_iter()
            .map(|i| {
                let label = i.label(locale).to_owned();
                ((i.dictionary, i.code), label)
            })
            .collect();
        let users = guanxi_store::users::list_all(&state.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
        let departments = guanxi_store::departments::list(&state.db)
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect();
        let regions = if cols.iter().any(|f| f.kind == FieldKind::Region) {
            guanxi_store::regions::all_labels(&state.db)
                .await?
                .into_iter()
                .collect()
        } else {
            HashMap::new()
        };
        Ok(Shown {
            dict,
            users,
            departments,
            regions,
            tz: auth
                .principal
                .time_zone
                .parse()
                .unwrap_or(chrono_tz::Asia::Shanghai),
        })
    }

    fn label(&self, f: &FieldDef, code: &str) -> String {
        self.dict
            .get(&(f.dictionary.unwrap_or_default().to_owned(), code.to_owned()))
            .cloned()
            .unwrap_or_else(|| code.to_owned())
    }

    /// The cells of a row: `fields` are the field columns among `cols`, in their order, as the
    /// row's values are.
    fn row(
        &self,
        cols: &[Column],
        fields: &[&FieldDef],
        row: Row,
        titles: &HashMap<(&str, i64), String>,
    ) -> Vec<Cell> {
        let mut values = fields.iter().zip(row.values);
        let (mut owner, mut updated) = (row.owner_name, row.updated_at);
        cols.iter()
            .map(|c| match c {
                Column::Field(_) => match values.next() {
                    Some((f, v)) => self.cell(f, Some(&v), titles),
                    None => Cell::Empty,
                },
                Column::Owner => owner.take().map_or(Cell::Empty, Cell::Text),
                Column::Updated => updated
                    .take()
                    .as_deref()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                    .map_or(Cell::Empty, |t| {
                        Cell::DateTime(t.with_timezone(&self.tz).naive_local())
                    }),
            })
            .collect()
    }

    fn cell(&self, f: &FieldDef, v: Option<&Value>, titles: &HashMap<(&str, i64), String>) -> Cell {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Cell::Empty;
        };
        let text = |s: String| Cell::Text(s);
        match f.kind {
            FieldKind::Select => text(self.label(f, v.as_str().unwrap_or_default())),
            FieldKind::MultiSelect => text(
                v.as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(|c| self.label(f, c))
                            .collect::<Vec<_>>()
                            .join("、")
                    })
                    .unwrap_or_default(),
            ),
            FieldKind::Checkbox => Cell::Bool(v.as_bool() == Some(true)),
            FieldKind::Money => v
                .as_i64()
                .map_or(Cell::Empty, |c| Cell::Number(c as f64 / 100.0)),
            FieldKind::Integer => v.as_i64().map_or(Cell::Empty, Cell::Int),
            FieldKind::Decimal | FieldKind::Percent => v.as_f64().map_or(Cell::Empty, Cell::Number),
            FieldKind::Region => {
                let code = v.as_str().unwrap_or_default();
                text(
                    self.regions
                        .get(code)
                        .cloned()
                        .unwrap_or_else(|| code.to_owned()),
                )
            }
            FieldKind::User => v.as_i64().map_or(Cell::Empty, |id| {
                text(
                    self.users
                        .get(&id)
                        .cloned()
                        .unwrap_or_else(|| id.to_string()),
                )
            }),
            FieldKind::Department => v.as_i64().map_or(Cell::Empty, |id| {
                text(
                    self.departments
                        .get(&id)
                        .cloned()
                        .unwrap_or_else(|| id.to_string()),
                )
            }),
            FieldKind::Relation(_) => v.as_i64().map_or(Cell::Empty, |id| {
                text(
                    titles
                        .get(&(f.code, id))
                        .cloned()
                        .unwrap_or_else(|| id.to_string()),
                )
            }),
            FieldKind::Date => v
                .as_str()
                .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .map_or(Cell::Empty, Cell::Date),
            FieldKind::DateTime => v
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map_or(Cell::Empty, |t| {
                    Cell::DateTime(t.with_timezone(&self.tz).naive_local())
                }),
            _ => match v {
                Value::String(s) => text(s.clone()),
                other => text(other.to_string()),
            },
        }
    }
}

/// The titles of the related records a page points at: one query per relation column.
async fn titles(
    state: &AppState,
    fields: &[&'static FieldDef],
    page: &[Row],
) -> AppResult<HashMap<(&'static str, i64), String>> {
    let mut out = HashMap::new();
    for (i, f) in fields.iter().enumerate() {
        let FieldKind::Relation(target) = f.kind else {
            continue;
        };
        let Some(tdef) = engine::def_of(target) else {
            continue;
        };
        let ids: Vec<i64> = page
            .iter()
            .filter_map(|r| r.values.get(i).and_then(Value::as_i64))
            .collect();
        for (id, title) in records::titles(&state.db, tdef, &ids).await? {
            out.insert((f.code, id), title);
        }
    }
    Ok(out)
}

/// An export in progress: headers, then pages of rows until the list ends.
pub struct Export {
    pub headers: Vec<String>,
    pub rows: mpsc::Receiver<AppResult<Vec<Vec<Cell>>>>,
    pub file_name: String,
}

/// Starts an export of the list `q` (its limit and cursor are ignored: everything matching).
pub async fn start(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    mut q: ListQuery,
    chosen: Option<&[String]>,
    format: Format,
) -> AppResult<Export> {
    let grant = auth.principal.authorize(def.module, Action::View)?;
    auth.principal.authorize(def.module, Action::Export)?;
    let fs = fields(state, def).await?;
    let cols = columns(&fs, chosen)?;
    let fields: Vec<&'static FieldDef> = cols
        .iter()
        .filter_map(|c| match c {
            Column::Field(f) => Some(*f),
            _ => None,
        })
        .collect();
    let shown = Shown::load(state, auth, &fields).await?;
    let headers = cols
        .iter()
        .map(|c| match c {
            Column::Field(f) => f.label_in(def, auth.locale),
            Column::Owner => guanxi_core::i18n::t(auth.locale, "record-owner"),
            Column::Updated => guanxi_core::i18n::t(auth.locale, "record-updated"),
        })
        .collect();
    audit::record_now(
        &state.db,
        &auth.actor,
        Event::new(
            "record.export",
            format!(
                "exported {} as {} ({} conditions{})",
                def.code,
                format.extension(),
                q.conditions.len(),
                q.q.as_deref()
                    .map(|s| format!(", search \"{s}\""))
                    .unwrap_or_default()
            ),
        )
        .module(def.module),
    )
    .await?;
    let (tx, rx) = mpsc::channel(2);
    // Two stages, so that the database reads the next page while this one is turned into
    // cells: the reader follows the keyset, the shower looks up titles and formats values.
    let (pages_tx, mut pages) = mpsc::channel::<AppResult<Vec<Row>>>(1);
    let reader = state.clone();
    let shown_fields = fields.clone();
    q.limit = PAGE;
    q.after = None;
    tokio::spawn(async move {
        loop {
            let (page, next) = match records::list_rows(&reader.db, &fs, &grant, &q, &fields).await
            {
                Ok(p) => p,
                Err(e) => {
                    let _ = pages_tx.send(Err(e.into())).await;
                    return;
                }
            };
            if pages_tx.send(Ok(page)).await.is_err() {
                return;
            }
            match next {
                Some(c) => q.after = Some(c),
                None => return,
            }
        }
    });
    let state = state.clone();
    tokio::spawn(async move {
        while let Some(page) = pages.recv().await {
            let shown_page = match page {
                Ok(page) => match titles(&state, &shown_fields, &page).await {
                    Ok(t) => Ok(page
                        .into_iter()
                        .map(|r| shown.row(&cols, &shown_fields, r, &t))
                        .collect()),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            let failed = shown_page.is_err();
            if tx.send(shown_page).await.is_err() || failed {
                return;
            }
        }
    });
    let stamp = chrono::Utc::now()
        .with_timezone(&shown_tz(auth))
        .format("%Y%m%d-%H%M");
    Ok(Export {
        headers,
        rows: rx,
        file_name: format!("{}-{stamp}.{}", def.code, format.extension()),
    })
}

fn shown_tz(auth: &Auth) -> chrono_tz::Tz {
    auth.principal
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai)
}

/// Text of a cell for CSV.
pub fn csv_text(c: &Cell) -> String {
    match c {
        Cell::Text(s) => s.clone(),
        Cell::Number(n) => {
            if n.fract() == 0.0 && n.abs() < 1e15 {
                format!("{n:.0}")
            } else {
                n.to_string()
            }
        }
        Cell::Int(i) => i.to_string(),
        // Written out by hand: chrono's format strings are parsed again for every cell, which
        // was a tenth of a million-row export's time.
        Cell::Date(d) if (0..=9999).contains(&d.year()) => {
            format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
        }
        Cell::DateTime(t) if (0..=9999).contains(&t.year()) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        Cell::DateTime(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Cell::Empty => String::new(),
    }
}

/// Writes a whole export to a file (the CLI, and XLSX downloads, which must be finished before
/// they can be sent). Returns the rows written.
pub async fn to_file(mut export: Export, format: Format, path: &std::path::Path) -> AppResult<u64> {
    let (tx, mut rx) = mpsc::channel::<Vec<Vec<Cell>>>(2);
    let path = path.to_owned();
    let headers = export.headers.clone();
    let writer = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        let mut n = 0u64;
        match format {
            Format::Csv => {
                let f = std::io::BufWriter::new(std::fs::File::create(&path)?);
                let mut w = guanxi_io::CsvWriter::new(f)?;
                w.write_row(&headers)?;
                while let Some(rows) = rx.blocking_recv() {
                    for r in rows {
                        w.write_row(r.iter().map(csv_text))?;
                        n += 1;
                    }
                }
                w.finish()?;
            }
            Format::Xlsx => {
                let mut w = guanxi_io::XlsxWriter::new("Sheet1")?;
                w.header(&headers)?;
                while let Some(rows) = rx.blocking_recv() {
                    for r in rows {
                        w.write_row(&r)?;
                        n += 1;
                    }
                }
                w.save(&path)?;
            }
        }
        Ok(n)
    });
    while let Some(page) = export.rows.recv().await {
        let page = page?;
        if tx.send(page).await.is_err() {
            break;
        }
    }
    drop(tx);
    writer
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(AppError::Internal)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use guanxi_io::Cell;

    use super::csv_text;

    #[test]
    fn dates_and_times_are_written_as_excel_reads_them() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 7).unwrap();
        assert_eq!(csv_text(&Cell::Date(d)), "2026-03-07");
        let t = d.and_hms_opt(9, 5, 1).unwrap();
        assert_eq!(csv_text(&Cell::DateTime(t)), "2026-03-07 09:05:01");
        let early = NaiveDate::from_ymd_opt(1, 1, 1).unwrap();
        assert_eq!(csv_text(&Cell::Date(early)), "0001-01-01");
        let far = NaiveDate::from_ymd_opt(12345, 1, 2).unwrap();
        assert_eq!(
            csv_text(&Cell::Date(far)),
            far.format("%Y-%m-%d").to_string()
        );
    }
}
