//! Reading a spreadsheet whose columns are named by a header row: header names (and the
//! aliases offices actually use) mapped to canonical names, each data row as
//! canonical name → text, and every problem located by row and column in both languages.

use std::collections::HashMap;

use std::io::Read;
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn from_path(path: &Path) -> Format {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("xlsx") => Format::Xlsx,
            _ => Format::Csv,
        }
    }
}

/// One problem in a file, located by row (as numbered in a spreadsheet: the header is row 1)
/// and column (header name and spreadsheet letter).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub code: String,
    pub message: String,
    pub message_en: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "baris/row {}, kolom/column {}: [{}] {} / {}",
            self.row, self.column, self.code, self.message, self.message_en
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file has {} problem(s); nothing was imported", .0.len())]
    Rejected(Vec<RowError>),
    #[error("cannot read the file: {0}")]
    Unreadable(String),
    #[error(transparent)]
    App(#[from] crate::error::AppError),
}

/// Spreadsheet column letters: 0 → A, 25 → Z, 26 → AA.
pub fn column_letter(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// A cell as read from the file; numbers matter because Excel silently rounds 16-digit numbers.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Empty,
}

/// The header row and the data rows of a file.
pub struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

pub fn read_sheet(path: &Path) -> Result<Sheet, ImportError> {
    match Format::from_path(path) {
        Format::Csv => {
            let mut bytes = Vec::new();
            std::fs::File::open(path)
                .and_then(|mut f| f.read_to_end(&mut bytes))
                .map_err(|e| ImportError::Unreadable(e.to_string()))?;
            read_csv(&bytes)
        }
        Format::Xlsx => read_xlsx(path),
    }
}

pub fn read_csv(bytes: &[u8]) -> Result<Sheet, ImportError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = if first_line.iter().filter(|b| **b == b';').count()
        > first_line.iter().filter(|b| **b == b',').count()
    {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(bytes);
    let unreadable = |e: csv::Error| ImportError::Unreadable(e.to_string());
    let headers = reader
        .headers()
        .map_err(unreadable)?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for (i, record) in reader.byte_records().enumerate() {
        let record = record.map_err(unreadable)?;
        let mut row = Vec::with_capacity(record.len());
        for (col, field) in record.iter().enumerate() {
            let text = std::str::from_utf8(field).map_err(|_| {
                ImportError::Rejected(vec![RowError {
                    row: i + 2,
                    column: column_letter(col),
                    code: "encoding_invalid".into(),
                    message: "Berkas bukan UTF-8. Simpan ulang sebagai \"CSV UTF-8\".".into(),
                    message_en: "The file is not UTF-8. Save it again as \"CSV UTF-8\".".into(),
                }])
            })?;
            row.push(if text.trim().is_empty() {
                Cell::Empty
            } else {
                Cell::Text(text.to_string())
            });
        }
        rows.push(row);
    }
    Ok(Sheet { headers, rows })
}

fn read_xlsx(path: &Path) -> Result<Sheet, ImportError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| ImportError::Unreadable(e.to_string()))?;
    read_xlsx_bytes(bytes)
}

/// A file as uploaded through a page: Excel when it is a zip (every .xlsx is), CSV otherwise.
pub fn read_sheet_bytes(bytes: Vec<u8>) -> Result<Sheet, ImportError> {
    if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx_bytes(bytes)
    } else {
        read_csv(&bytes)
    }
}

fn read_xlsx_bytes(bytes: Vec<u8>) -> Result<Sheet, ImportError> {
    use calamine::{Data, Reader, Xlsx};
    let mut workbook = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| ImportError::Unreadable(e.to_string()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| ImportError::Unreadable("the workbook has no sheet".into()))?
        .map_err(|e| ImportError::Unreadable(e.to_string()))?;
    let mut rows = range.rows();
    let headers = rows
        .next()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .unwrap_or_default();
    let rows = rows
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => Cell::Empty,
                    Data::String(s) if s.trim().is_empty() => Cell::Empty,
                    Data::String(s) => Cell::Text(s.clone()),
                    Data::Int(i) => Cell::Number(*i as f64),
                    Data::Float(f) => Cell::Number(*f),
                    Data::Bool(b) => Cell::Text(b.to_string()),
                    Data::DateTime(d) => d
                        .as_datetime()
                        .map(|dt| Cell::Date(dt.date()))
                        .unwrap_or(Cell::Empty),
                    Data::DateTimeIso(s) => Cell::Text(s.chars().take(10).collect()),
                    other => Cell::Text(other.to_string()),
                })
                .collect()
        })
        .collect();
    Ok(Sheet { headers, rows })
}

/// A column a file may carry: its canonical name and the other headers that mean it.
pub struct Column {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

/// A checked sheet: each data row (numbered as in a spreadsheet, the header being row 1) as
/// canonical column name → trimmed, non-empty text.
pub struct Rows {
    pub rows: Vec<(usize, HashMap<String, String>)>,
    letters: HashMap<String, String>,
}

impl Rows {
    /// Where a column is, for error messages: "C (tanggal_lahir)".
    pub fn locate(&self, column: &str) -> String {
        self.letters
            .get(column)
            .cloned()
            .unwrap_or_else(|| column.to_string())
    }

    /// The canonical names of the columns present.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.letters.keys().map(String::as_str)
    }
}

/// A header as compared: lower case, spaces, dashes and dots as underscores, no BOM.
pub fn header_key(header: &str) -> String {
    header
        .trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace([' ', '-', '.'], "_")
}

/// A cell as text; Excel numbers that are whole print without ".0".
pub fn cell_text(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Empty => None,
        Cell::Text(t) => Some(t.trim().to_string()).filter(|t| !t.is_empty()),
        Cell::Date(d) => Some(d.to_string()),
        Cell::Number(n) if n.fract() == 0.0 => Some(format!("{}", *n as i64)),
        Cell::Number(n) => Some(n.to_string()),
    }
}

/// Maps the header row to canonical names. `pattern` names columns outside the fixed list
/// (e.g. numbered payment columns). `digits` are columns that lose digits when Excel stores
/// them as numbers (NIK, phone): such cells are errors, not silently rounded values.
pub fn map_rows(
    sheet: &Sheet,
    columns: &[Column],
    pattern: impl Fn(&str) -> Option<String>,
    digits: &[&str],
) -> Result<Rows, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut names: Vec<Option<String>> = Vec::new();
    let mut letters = HashMap::new();
    let known: Vec<&str> = columns.iter().map(|c| c.name).collect();
    for (i, header) in sheet.headers.iter().enumerate() {
        let key = header_key(header);
        let name = columns
            .iter()
            .find(|c| c.name == key || c.aliases.contains(&key.as_str()))
            .map(|c| c.name.to_string())
            .or_else(|| pattern(&key));
        let place = format!("{} ({header})", column_letter(i));
        match name {
            Some(name) if letters.contains_key(&name) => {
                errors.push(RowError {
                    row: 1,
                    column: place,
                    code: "column_repeated".into(),
                    message: format!("Kolom {name} muncul dua kali."),
                    message_en: format!("Column {name} appears twice."),
                });
                names.push(None);
            }
            Some(name) => {
                letters.insert(name.clone(), format!("{} ({name})", column_letter(i)));
                names.push(Some(name));
            }
            None if key.is_empty() => names.push(None),
            None => {
                errors.push(RowError {
                    row: 1,
                    column: place,
                    code: "column_unknown".into(),
                    message: format!(
                        "Kolom \"{header}\" tidak dikenal. Kolom yang dikenal: {}.",
                        known.join(", ")
                    ),
                    message_en: format!(
                        "Unknown column \"{header}\". Known columns: {}.",
                        known.join(", ")
                    ),
                });
                names.push(None);
            }
        }
    }
    for column in columns.iter().filter(|c| c.required) {
        if !letters.contains_key(column.name) {
            errors.push(RowError {
                row: 1,
                column: column.name.to_string(),
                code: "column_missing".into(),
                message: format!("Kolom wajib {} tidak ada.", column.name),
                message_en: format!("The required column {} is missing.", column.name),
            });
        }
    }
    let mut rows = Vec::with_capacity(sheet.rows.len());
    for (i, cells) in sheet.rows.iter().enumerate() {
        let row = i + 2;
        let mut values = HashMap::new();
        for (name, cell) in names.iter().zip(cells) {
            let Some(name) = name else { continue };
            if matches!(cell, Cell::Number(_)) && digits.contains(&name.as_str()) {
                errors.push(RowError {
                    row,
                    column: letters.get(name).cloned().unwrap_or_default(),
                    code: "number_cell".into(),
                    message: "Kolom ini tersimpan sebagai angka di Excel sehingga digit terakhir bisa hilang. Format kolom sebagai Teks lalu isi ulang.".into(),
                    message_en: "This column is stored as a number in Excel, which loses the last digits. Format the column as Text and enter it again.".into(),
                });
                continue;
            }
            if let Some(text) = cell_text(cell) {
                values.insert(name.clone(), text);
            }
        }
        // A row with nothing in it is a spreadsheet's trailing blank line, not a record.
        if !values.is_empty() {
            rows.push((row, values));
        }
    }
    if errors.is_empty() {
        Ok(Rows { rows, letters })
    } else {
        Err(errors)
    }
}

/// Collects the problems of a file's rows.
#[derive(Default)]
pub struct Problems {
    pub errors: Vec<RowError>,
}

impl Problems {
    pub fn push(
        &mut self,
        row: usize,
        column: String,
        code: &str,
        message: impl Into<String>,
        message_en: impl Into<String>,
    ) {
        self.errors.push(RowError {
            row,
            column,
            code: code.into(),
            message: message.into(),
            message_en: message_en.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[Column] = &[
        Column {
            name: "nik",
            aliases: &[],
            required: true,
        },
        Column {
            name: "full_name",
            aliases: &["nama"],
            required: true,
        },
    ];

    fn sheet(headers: &[&str], rows: Vec<Vec<Cell>>) -> Sheet {
        Sheet {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows,
        }
    }

    #[test]
    fn aliases_and_patterns_map_and_blank_rows_are_skipped() {
        let s = sheet(
            &["NIK", "Nama", "Insentif 1 Tanggal"],
            vec![
                vec![
                    Cell::Text("3201".into()),
                    Cell::Text(" Siti ".into()),
                    Cell::Empty,
                ],
                vec![Cell::Empty, Cell::Empty, Cell::Empty],
            ],
        );
        let rows = map_rows(
            &s,
            COLUMNS,
            |k| k.starts_with("insentif_").then(|| k.to_string()),
            &["nik"],
        )
        .unwrap();
        assert_eq!(rows.rows.len(), 1);
        assert_eq!(rows.rows[0].0, 2);
        assert_eq!(rows.rows[0].1["full_name"], "Siti");
        assert_eq!(rows.locate("full_name"), "B (full_name)");
    }

    #[test]
    fn unknown_missing_repeated_and_numeric_nik_columns_are_located() {
        let s = sheet(
            &["nik", "alamat", "nik"],
            vec![vec![Cell::Number(3.2e15), Cell::Empty, Cell::Empty]],
        );
        let errors = map_rows(&s, COLUMNS, |_| None, &["nik"]).err().unwrap();
        let codes: Vec<_> = errors.iter().map(|e| (e.row, e.code.as_str())).collect();
        assert!(codes.contains(&(1, "column_unknown")), "{codes:?}");
        assert!(codes.contains(&(1, "column_repeated")), "{codes:?}");
        assert!(codes.contains(&(1, "column_missing")), "{codes:?}");
        assert!(codes.contains(&(2, "number_cell")), "{codes:?}");
    }
}
