//! Why an uploaded file cannot be read, in terms the uploader can act on.
//!
//! Every variant maps to an i18n key and Fluent arguments (`crates/io/locales.ftl.txt` holds
//! the messages), so the web layer shows "row 12, column 3 is longer than 32767 characters"
//! instead of a parser's internal text. Positions are the ones the user sees in Excel: rows and
//! columns count from 1 and the header is row 1.

/// A file that cannot be imported, or a row of it that cannot.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    /// No bytes, or no row with any content.
    #[error("the file is empty or has no header row")]
    Empty,
    /// Neither text nor a workbook: a picture, a PDF, an archive renamed `.csv`.
    #[error("the file is not a spreadsheet (binary content)")]
    Binary,
    /// An old binary Excel workbook (`.xls`), which must be saved as `.xlsx` or CSV first.
    #[error("the file is an old .xls workbook; save it as .xlsx or CSV")]
    LegacyXls,
    /// Text that is neither UTF-8, UTF-16 with a BOM nor GB18030/GBK.
    #[error("the text encoding is not UTF-8, UTF-16 or GB18030/GBK")]
    Encoding,
    /// A zip archive that is not a readable workbook.
    #[error("the file is not a valid .xlsx workbook")]
    NotXlsx,
    /// A workbook that would decompress to far more than its size on disk.
    #[error("the workbook decompresses to an unsafe size")]
    ZipBomb,
    /// More header columns than an import accepts.
    #[error("the header row has {found} columns; at most {max} are allowed")]
    TooManyColumns { found: usize, max: usize },
    /// A cell longer than Excel itself allows.
    #[error("row {row}, column {column} is longer than {max} characters")]
    CellTooLong { row: u64, column: usize, max: usize },
    /// A blank header cell with named columns after it.
    #[error("header column {column} is empty")]
    EmptyHeader { column: usize },
    /// Two header cells with the same text, so a value could not be mapped to one field.
    #[error("the header {name:?} appears more than once")]
    DuplicateHeader { name: String },
    /// The requested worksheet does not exist.
    #[error("the workbook has no sheet named {name:?}")]
    NoSuchSheet { name: String },
    /// More rows than one import accepts.
    #[error("the file has more than {max} rows")]
    TooManyRows { max: u64 },
    /// More bytes than one import accepts.
    #[error("the file is larger than {max} bytes")]
    TooLarge { max: u64 },
    /// One row that cannot be read; the rows after it can still be.
    #[error("row {row} cannot be read: {detail}")]
    Malformed { row: u64, detail: String },
    /// The file could not be read from disk.
    #[error("the file could not be read: {0}")]
    Io(String),
}

impl ReadError {
    /// The Fluent message id for this error.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Empty => "import-error-empty",
            Self::Binary => "import-error-binary",
            Self::LegacyXls => "import-error-legacy-xls",
            Self::Encoding => "import-error-encoding",
            Self::NotXlsx => "import-error-not-xlsx",
            Self::ZipBomb => "import-error-zip-bomb",
            Self::TooManyColumns { .. } => "import-error-too-many-columns",
            Self::CellTooLong { .. } => "import-error-cell-too-long",
            Self::EmptyHeader { .. } => "import-error-empty-header",
            Self::DuplicateHeader { .. } => "import-error-duplicate-header",
            Self::NoSuchSheet { .. } => "import-error-no-such-sheet",
            Self::TooManyRows { .. } => "import-error-too-many-rows",
            Self::TooLarge { .. } => "import-error-too-large",
            Self::Malformed { .. } => "import-error-malformed",
            Self::Io(_) => "import-error-io",
        }
    }

    /// The Fluent arguments of the message named by [`key`](Self::key).
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Empty
            | Self::Binary
            | Self::LegacyXls
            | Self::Encoding
            | Self::NotXlsx
            | Self::ZipBomb => Vec::new(),
            Self::Io(detail) => vec![("detail", detail.clone())],
            Self::TooManyColumns { found, max } => {
                vec![("found", found.to_string()), ("max", max.to_string())]
            }
            Self::CellTooLong { row, column, max } => vec![
                ("row", row.to_string()),
                ("column", column.to_string()),
                ("max", max.to_string()),
            ],
            Self::EmptyHeader { column } => vec![("column", column.to_string())],
            Self::DuplicateHeader { name } | Self::NoSuchSheet { name } => {
                vec![("name", name.clone())]
            }
            Self::TooManyRows { max } | Self::TooLarge { max } => vec![("max", max.to_string())],
            Self::Malformed { row, detail } => {
                vec![("row", row.to_string()), ("detail", detail.clone())]
            }
        }
    }

    /// Whether reading stops here. Only [`Malformed`](Self::Malformed) concerns a single row:
    /// the reader carries on after it, and returns nothing more after any other error.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, Self::Malformed { .. })
    }
}

impl From<std::io::Error> for ReadError {
    fn from(error: std::io::Error) -> Self {
        Self::Io(error.to_string())
    }
}
