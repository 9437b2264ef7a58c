//! Searching and exporting the audit log (administrators).

use guanxi_core::{Action, I18n, Module};
use guanxi_store::audit::{self, Entry, Event, Filter};

use crate::auth::Auth;
use crate::error::AppResult;
use crate::state::AppState;

pub async fn search(state: &AppState, auth: &Auth, filter: &Filter) -> AppResult<Vec<Entry>> {
    auth.principal.authorize(Module::AuditLog, Action::View)?;
    Ok(audit::search(&state.db, filter).await?)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

/// Neutralises cells a spreadsheet would run as a formula.
pub fn safe_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

fn csv_field(s: &str) -> String {
    let s = safe_cell(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Exports up to 100,000 matching entries, newest first; records the export in the log.
pub async fn export(
    state: &AppState,
    auth: &Auth,
    filter: &Filter,
    format: Format,
) -> AppResult<Vec<u8>> {
    auth.principal.authorize(Module::AuditLog, Action::Export)?;
    let mut f = filter.clone();
    f.limit = 5000;
    let mut rows: Vec<Entry> = vec![];
    loop {
        let page = audit::search(&state.db, &f).await?;
        let done = page.len() < f.limit as usize || rows.len() + page.len() >= 100_000;
        f.before_id = page.last().map(|e| e.id);
        rows.extend(page);
        if done {
            break;
        }
    }
    let i = I18n::global();
    let l = auth.locale;
    let headers: Vec<String> = [
        "audit-at",
        "audit-user",
        "audit-ip",
        "audit-action",
        "audit-module",
        "audit-target",
        "audit-summary",
    ]
    .iter()
    .map(|k| i.t(l, k))
    .collect();
    let tz: chrono_tz::Tz = auth
        .principal
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai);
    let cells = |e: &Entry| -> [String; 7] {
        [
            e.at.with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            e.username.clone().unwrap_or_default(),
            e.ip.clone().unwrap_or_default(),
            e.action.clone(),
            e.module
                .as_deref()
                .map(|m| i.t(l, &format!("module-{m}")))
                .unwrap_or_default(),
            e.target_label.clone().unwrap_or_default(),
            e.summary.clone(),
        ]
    };
    let bytes = match format {
        Format::Csv => {
            // A BOM so that Excel opens Chinese text as UTF-8.
            let mut out = String::from("\u{feff}");
            out += &headers
                .iter()
                .map(|h| csv_field(h))
                .collect::<Vec<_>>()
                .join(",");
            out += "\r\n";
            for e in &rows {
                out += &cells(e)
                    .iter()
                    .map(|c| csv_field(c))
                    .collect::<Vec<_>>()
                    .join(",");
                out += "\r\n";
            }
            out.into_bytes()
        }
        Format::Xlsx => {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            let bold = rust_xlsxwriter::Format::new().set_bold();
            let xl = |e: rust_xlsxwriter::XlsxError| anyhow::anyhow!("xlsx: {e}");
            for (c, h) in headers.iter().enumerate() {
                ws.write_string_with_format(0, c as u16, h, &bold)
                    .map_err(xl)?;
            }
            for (r, e) in rows.iter().enumerate() {
                for (c, v) in cells(e).iter().enumerate() {
                    ws.write_string(r as u32 + 1, c as u16, v).map_err(xl)?;
                }
            }
            ws.set_column_width(0, 20).map_err(xl)?;
            ws.set_column_width(6, 60).map_err(xl)?;
            wb.save_to_buffer().map_err(xl)?
        }
    };
    audit::record_now(
        &state.db,
        &auth.actor,
        Event::new(
            "audit.export",
            format!("exported {} audit entries", rows.len()),
        )
        .module(Module::AuditLog),
    )
    .await?;
    Ok(bytes)
}
