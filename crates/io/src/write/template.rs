//! Import templates: an `.xlsx` a user fills in and uploads back.
//!
//! The template is the import's contract, so its header row holds exactly the field labels
//! the importer maps (required ones in red bold, explained in a cell note rather than by a
//! `*` that would break the mapping), and every field with a fixed set of values gets an
//! Excel drop-down fed from a second sheet, so typos never reach the importer.

use std::path::Path;

use rust_xlsxwriter::{Color, DataValidation, Format, Formula, Note, Workbook};

use super::display_width;
use super::xlsx::XlsxError;

/// The last row index a drop-down covers: Excel's last row.
const LAST_ROW: u32 = 1_048_575;

/// The note on a required column without a note of its own.
const REQUIRED_NOTE: &str = "必填 / required";

/// One column of an import template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateColumn {
    /// The label, exactly as the importer maps it.
    pub header: String,
    /// Shown in red bold.
    pub required: bool,
    /// A cell note on the header; required columns without one get "必填 / required".
    pub note: Option<String>,
    /// Allowed values; non-empty gives the column a drop-down.
    pub options: Vec<String>,
}

/// Writes an import template to `path`: sheet `data_sheet` with the header row and the
/// optional `example` row, then, if any column has options, sheet `options_sheet` with one
/// column of values per such field (header = field label) feeding the drop-downs.
pub fn write_template(
    path: &Path,
    data_sheet: &str,
    options_sheet: &str,
    columns: &[TemplateColumn],
    example: Option<&[String]>,
) -> Result<(), XlsxError> {
    let mut workbook = Workbook::new();
    let plain = Format::new().set_bold();
    let required = Format::new().set_bold().set_font_color(Color::Red);
    let with_options: Vec<(u16, &TemplateColumn)> = (0u16..)
        .zip(columns)
        .filter(|(_, column)| !column.options.is_empty())
        .collect();

    let sheet = workbook.add_worksheet();
    sheet.set_name(data_sheet)?;
    for (index, column) in (0u16..).zip(columns) {
        let format = if column.required { &required } else { &plain };
        sheet.write_string_with_format(0, index, &column.header, format)?;
        let note = column
            .note
            .as_deref()
            .or(column.required.then_some(REQUIRED_NOTE));
        if let Some(text) = note {
            sheet.insert_note(0, index, &Note::new(text).add_author_prefix(false))?;
        }
        let example_text = example.and_then(|cells| cells.get(usize::from(index)));
        if let Some(text) = example_text {
            sheet.write_string(1, index, text)?;
        }
        let widest = std::iter::once(&column.header)
            .chain(example_text)
            .chain(&column.options)
            .map(|text| display_width(text))
            .max()
            .unwrap_or(0);
        sheet.set_column_width(index, (widest + 2).clamp(8, 50) as f64)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (list, (index, column)) in with_options.iter().enumerate() {
        let range = options_range(options_sheet, list, column.options.len());
        let validation = DataValidation::new().allow_list_formula(Formula::new(range));
        sheet.add_data_validation(1, *index, LAST_ROW, *index, &validation)?;
    }

    if !with_options.is_empty() {
        let sheet = workbook.add_worksheet();
        sheet.set_name(options_sheet)?;
        for (list, (_, column)) in (0u16..).zip(&with_options) {
            sheet.write_string_with_format(0, list, &column.header, &plain)?;
            for (row, option) in (1u32..).zip(&column.options) {
                sheet.write_string(row, list, option)?;
            }
            let widest = column.options.iter().map(|o| display_width(o)).max();
            let width = widest.unwrap_or(0).max(display_width(&column.header)) + 2;
            sheet.set_column_width(list, width.clamp(8, 50) as f64)?;
        }
    }
    workbook.save(path)?;
    Ok(())
}

/// `='Sheet'!$C$2:$C$n` for the `list`-th options column holding `count` values.
fn options_range(sheet: &str, list: usize, count: usize) -> String {
    let letter = column_letter(list);
    let quoted = sheet.replace('\'', "''");
    format!("='{quoted}'!${letter}$2:${letter}${}", count + 1)
}

/// Excel's column letters for a 0-based index: A, B, …, Z, AA, AB, ….
fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8_lossy(&letters).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn ranges_quote_sheet_names() {
        assert_eq!(options_range("选项", 1, 3), "='选项'!$B$2:$B$4");
        assert_eq!(options_range("O'Neil", 0, 1), "='O''Neil'!$A$2:$A$2");
    }
}
