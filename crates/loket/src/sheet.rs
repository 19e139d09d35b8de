//! Reading a spreadsheet whose columns are named by a header row: header names (and the
//! aliases offices actually use) mapped to canonical names, each data row as
//! canonical name → text, and every problem located by row and column in both languages.

use std::borrow::Cow;
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

impl RowError {
    /// Where and what, as a test or a summary names it: (row, column, code).
    pub fn place(&self) -> (usize, &str, &str) {
        (self.row, self.column.as_str(), self.code.as_str())
    }
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
                Cell::Text(csv_cell_read(text).to_string())
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

/// What a spreadsheet may unpack to. An .xlsx is a zip: a 2 MB upload can unpack to a
/// gigabyte of repeated text, and the reader would hold all of it. The largest real file (the
/// programme office's NIK list, some 200,000 rows) unpacks to well under these.
pub const MAX_UNPACKED_BYTES: u64 = 256 * 1024 * 1024;
pub const MAX_CELLS: usize = 5_000_000;
pub const MAX_ROWS: u32 = 1_048_576;
pub const MAX_COLUMNS: u32 = 1_000;

fn read_xlsx_bytes(bytes: Vec<u8>) -> Result<Sheet, ImportError> {
    use calamine::{Reader, Xlsx};
    check_unpacked_size(&bytes)?;
    let mut workbook = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| ImportError::Unreadable(e.to_string()))?;
    let first = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| ImportError::Unreadable("the workbook has no sheet".into()))?;
    let mut reader = workbook
        .worksheet_cells_reader(&first)
        .map_err(|e| ImportError::Unreadable(e.to_string()))?;
    let mut placed = Vec::new();
    while let Some(cell) = reader
        .next_cell()
        .map_err(|e| ImportError::Unreadable(e.to_string()))?
    {
        let (row, col) = cell.get_position();
        if row >= MAX_ROWS || col >= MAX_COLUMNS || placed.len() >= MAX_CELLS {
            return Err(too_large());
        }
        let value = xlsx_cell(calamine::Data::from(cell.get_value().clone()));
        if value != Cell::Empty {
            placed.push((row, col, value));
        }
    }
    sheet_of_cells(placed)
}

/// Unpacks every part of the zip into nothing, counting, and refuses the file once the total
/// passes [`MAX_UNPACKED_BYTES`]: the sizes a zip declares may lie, what comes out does not.
fn check_unpacked_size(bytes: &[u8]) -> Result<(), ImportError> {
    let unreadable = |e: zip::result::ZipError| ImportError::Unreadable(e.to_string());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(unreadable)?;
    let mut left = MAX_UNPACKED_BYTES;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(unreadable)?;
        let unpacked = std::io::copy(&mut entry.take(left + 1), &mut std::io::sink())
            .map_err(|e| ImportError::Unreadable(e.to_string()))?;
        left = left.checked_sub(unpacked).ok_or_else(too_large)?;
    }
    Ok(())
}

fn too_large() -> ImportError {
    let mb = MAX_UNPACKED_BYTES / (1024 * 1024);
    ImportError::Rejected(vec![RowError {
        row: 0,
        column: "-".into(),
        code: "file_too_large".into(),
        message: format!(
            "Berkas Excel ini terlalu besar setelah dibuka (lebih dari {mb} MB, {MAX_CELLS} sel, \
             {MAX_COLUMNS} kolom atau {MAX_ROWS} baris). Bagi menjadi beberapa berkas."
        ),
        message_en: format!(
            "This Excel file is too large once unpacked (over {mb} MB, {MAX_CELLS} cells, \
             {MAX_COLUMNS} columns or {MAX_ROWS} rows). Split it into several files."
        ),
    }])
}

fn xlsx_cell(data: calamine::Data) -> Cell {
    use calamine::Data;
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) if s.trim().is_empty() => Cell::Empty,
        Data::String(s) => Cell::Text(s),
        Data::Int(i) => Cell::Number(i as f64),
        Data::Float(f) => Cell::Number(f),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|dt| Cell::Date(dt.date()))
            .unwrap_or(Cell::Empty),
        Data::DateTimeIso(s) => Cell::Text(s.chars().take(10).collect()),
        other => Cell::Text(other.to_string()),
    }
}

/// The used area of a sheet from its non-empty cells: the first used row is the header, and
/// columns count from the first used one (as a spreadsheet's used range does). Two cells far
/// apart would make a huge grid of empty cells, so the grid too is capped at [`MAX_CELLS`].
fn sheet_of_cells(placed: Vec<(u32, u32, Cell)>) -> Result<Sheet, ImportError> {
    let top = placed.iter().map(|c| c.0).min().unwrap_or(0);
    let left = placed.iter().map(|c| c.1).min().unwrap_or(0);
    let width = placed.iter().map(|c| c.1 - left + 1).max().unwrap_or(0) as usize;
    let height = placed.iter().map(|c| c.0 - top + 1).max().unwrap_or(0) as usize;
    if width.saturating_mul(height) > MAX_CELLS {
        return Err(too_large());
    }
    let mut grid = vec![Vec::new(); height];
    for (row, col, value) in placed {
        let cells = &mut grid[(row - top) as usize];
        let at = (col - left) as usize;
        if cells.len() <= at {
            cells.resize(at + 1, Cell::Empty);
        }
        cells[at] = value;
    }
    for cells in &mut grid {
        cells.resize(width, Cell::Empty);
    }
    let mut rows = grid.into_iter();
    let headers = rows
        .next()
        .map(|r| r.iter().map(|c| cell_text(c).unwrap_or_default()).collect())
        .unwrap_or_default();
    Ok(Sheet {
        headers,
        rows: rows.collect(),
    })
}

/// A column a file may carry: its canonical name and the other headers that mean it.
pub struct Column {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

impl Column {
    /// The columns of a file from its names in order, the other headers offices use for some
    /// of them, and which ones are required.
    pub fn list(
        names: &[&'static str],
        aliases: &[(&str, &'static [&'static str])],
        required: &[&str],
    ) -> Vec<Column> {
        names
            .iter()
            .map(|name| Column {
                name,
                aliases: aliases
                    .iter()
                    .find(|(column, _)| column == name)
                    .map_or(&[][..], |(_, aliases)| aliases),
                required: required.contains(name),
            })
            .collect()
    }
}

/// How a kind of file names its columns.
pub struct Layout<'a> {
    pub columns: &'a [Column],
    /// Names columns outside the fixed list (e.g. numbered payment columns) from a header key.
    pub pattern: &'a dyn Fn(&str) -> Option<String>,
    /// Columns that lose digits when Excel stores them as numbers (NIK, phone): such cells
    /// are errors, not silently rounded values.
    pub digits: &'a [&'a str],
    /// Whether a column with an empty header is skipped (an exchange file's spare column)
    /// or refused as an unknown column.
    pub skip_blank_headers: bool,
}

fn no_pattern(_: &str) -> Option<String> {
    None
}

impl<'a> Layout<'a> {
    /// Only the fixed columns, no digit columns, empty headers refused.
    pub fn new(columns: &'a [Column]) -> Layout<'a> {
        Layout {
            columns,
            pattern: &no_pattern,
            digits: &[],
            skip_blank_headers: false,
        }
    }

    fn name_of(&self, key: &str) -> Option<String> {
        self.columns
            .iter()
            .find(|c| c.name == key || c.aliases.contains(&key))
            .map(|c| c.name.to_string())
            .or_else(|| (self.pattern)(key))
    }
}

/// A header row mapped to canonical names: which column of the file holds which name.
pub struct Headers {
    /// Per column of the file: its canonical name and whether it is a digits column.
    names: Vec<Option<(String, bool)>>,
    /// Canonical name → "C (name)", for error messages.
    letters: HashMap<String, String>,
}

impl Headers {
    /// Maps a header row; unknown, repeated and missing required columns are errors on row 1.
    pub fn map(headers: &[String], layout: &Layout) -> Result<Headers, Vec<RowError>> {
        let (mapped, errors) = Headers::map_all(headers, layout);
        if errors.is_empty() {
            Ok(mapped)
        } else {
            Err(errors)
        }
    }

    /// The mapping as far as it goes, with every header problem.
    fn map_all(headers: &[String], layout: &Layout) -> (Headers, Vec<RowError>) {
        let mut errors = Vec::new();
        let mut mapped = Headers {
            names: Vec::with_capacity(headers.len()),
            letters: HashMap::new(),
        };
        for (i, header) in headers.iter().enumerate() {
            let key = header_key(header);
            let place = format!("{} ({header})", column_letter(i));
            let name = match layout.name_of(&key) {
                Some(name) if mapped.letters.contains_key(&name) => {
                    errors.push(repeated_column(place, &name));
                    None
                }
                Some(name) => {
                    mapped
                        .letters
                        .insert(name.clone(), format!("{} ({name})", column_letter(i)));
                    let digits = layout.digits.contains(&name.as_str());
                    Some((name, digits))
                }
                None if key.is_empty() && layout.skip_blank_headers => None,
                None => {
                    errors.push(unknown_column(place, header, layout.columns));
                    None
                }
            };
            mapped.names.push(name);
        }
        for column in layout.columns.iter().filter(|c| c.required) {
            if !mapped.letters.contains_key(column.name) {
                errors.push(missing_column(column.name));
            }
        }
        (mapped, errors)
    }

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

    /// One data row (numbered as in a spreadsheet) as canonical name → trimmed, non-empty
    /// text; a digits column stored as an Excel number is an error (one per such cell), and so
    /// is a cell with a character loket refuses.
    pub fn row(
        &self,
        row: usize,
        cells: &[Cell],
    ) -> Result<HashMap<String, String>, Vec<RowError>> {
        let errors: Vec<RowError> = self
            .names
            .iter()
            .zip(cells)
            .filter_map(|(name, cell)| match (name, cell) {
                (Some((name, true)), Cell::Number(_)) => Some(number_cell(row, self.locate(name))),
                (Some((name, _)), Cell::Text(text)) => {
                    crate::text::refused_char(text).map(|c| refused_cell(row, self.locate(name), c))
                }
                _ => None,
            })
            .collect();
        if errors.is_empty() {
            Ok(self.values(cells))
        } else {
            Err(errors)
        }
    }

    /// One data row as canonical name → trimmed, non-empty text, without the digits check
    /// (for layouts without digit columns).
    pub fn values(&self, cells: &[Cell]) -> HashMap<String, String> {
        self.names
            .iter()
            .zip(cells)
            .filter_map(|(name, cell)| Some((name.as_ref()?.0.clone(), cell_text(cell)?)))
            .collect()
    }
}

fn repeated_column(place: String, name: &str) -> RowError {
    RowError {
        row: 1,
        column: place,
        code: "column_repeated".into(),
        message: format!("Kolom {name} muncul dua kali."),
        message_en: format!("Column {name} appears twice."),
    }
}

fn unknown_column(place: String, header: &str, columns: &[Column]) -> RowError {
    let known = columns
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ");
    RowError {
        row: 1,
        column: place,
        code: "column_unknown".into(),
        message: format!("Kolom \"{header}\" tidak dikenal. Kolom yang dikenal: {known}."),
        message_en: format!("Unknown column \"{header}\". Known columns: {known}."),
    }
}

fn missing_column(name: &str) -> RowError {
    RowError {
        row: 1,
        column: name.to_string(),
        code: "column_missing".into(),
        message: format!("Kolom wajib {name} tidak ada."),
        message_en: format!("The required column {name} is missing."),
    }
}

fn number_cell(row: usize, column: String) -> RowError {
    RowError {
        row,
        column,
        code: "number_cell".into(),
        message: "Kolom ini tersimpan sebagai angka di Excel sehingga digit terakhir bisa hilang. Format kolom sebagai Teks lalu isi ulang.".into(),
        message_en: "This column is stored as a number in Excel, which loses the last digits. Format the column as Text and enter it again.".into(),
    }
}

/// A cell holding a character loket refuses (`crate::text`), located like every other problem.
fn refused_cell(row: usize, column: String, c: char) -> RowError {
    let refused = crate::text::refused_field(&column, c);
    RowError {
        row,
        column,
        code: refused.code,
        message: refused.message,
        message_en: refused.message_en,
    }
}

/// A checked sheet: each data row (numbered as in a spreadsheet, the header being row 1) as
/// canonical column name → trimmed, non-empty text.
pub struct Rows {
    pub rows: Vec<(usize, HashMap<String, String>)>,
    headers: Headers,
}

impl Rows {
    /// Where a column is, for error messages: "C (tanggal_lahir)".
    pub fn locate(&self, column: &str) -> String {
        self.headers.locate(column)
    }

    /// The canonical names of the columns present.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.headers.columns()
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

/// Maps the header row to canonical names and checks every row at once; rows with nothing
/// in them are skipped and columns with an empty header ignored. `pattern` names columns
/// outside the fixed list; `digits` are the columns that must not be Excel numbers.
pub fn map_rows(
    sheet: &Sheet,
    columns: &[Column],
    pattern: impl Fn(&str) -> Option<String>,
    digits: &[&str],
) -> Result<Rows, Vec<RowError>> {
    let layout = Layout {
        columns,
        pattern: &pattern,
        digits,
        skip_blank_headers: true,
    };
    let (headers, mut errors) = Headers::map_all(&sheet.headers, &layout);
    let mut rows = Vec::with_capacity(sheet.rows.len());
    for (i, cells) in sheet.rows.iter().enumerate() {
        match headers.row(i + 2, cells) {
            Err(problems) => errors.extend(problems),
            // A row with nothing in it is a spreadsheet's trailing blank line, not a record.
            Ok(values) if values.is_empty() => {}
            Ok(values) => rows.push((i + 2, values)),
        }
    }
    if errors.is_empty() {
        Ok(Rows { rows, headers })
    } else {
        Err(errors)
    }
}

/// A text cell as loket writes it to CSV. A spreadsheet runs a cell that starts with `=`,
/// `+`, `-`, `@`, a tab or a carriage return as a formula, so a name such as
/// `=HYPERLINK(...)` typed at the counter (or as a username at the login form, which the
/// audit export carries) would run on the desk of whoever opens the export. Such a cell gets
/// a leading `'`, which spreadsheets show as text and do not display.
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A cell read from CSV without the `'` that [`csv_cell`] put in front of it, so that
/// loket's own exports read back as they were.
fn csv_cell_read(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if csv_cell(rest).len() != rest.len() => rest,
        _ => text,
    }
}

/// Writes one CSV record with every cell as [`csv_cell`] makes it: how every CSV export of
/// loket writes its rows.
pub fn write_csv_record<W: std::io::Write, S: AsRef<str>>(
    writer: &mut csv::Writer<W>,
    cells: impl IntoIterator<Item = S>,
) -> csv::Result<()> {
    let cells: Vec<S> = cells.into_iter().collect();
    let cells: Vec<Cow<'_, str>> = cells.iter().map(|c| csv_cell(c.as_ref())).collect();
    writer.write_record(cells.iter().map(|c| c.as_bytes()))
}

/// Writes a table (header and text rows) as CSV or XLSX, row by row, so a large export
/// streams a page at a time. CSV starts with a BOM so Excel reads the names as UTF-8; in XLSX
/// every cell is text, because a NIK or an id such as "00123" written as a number loses digits.
pub struct TableWriter {
    target: Target,
    written: usize,
}

enum Target {
    // Both boxed: the writers carry large buffers and one lives for a whole export.
    Csv(Box<csv::Writer<std::fs::File>>),
    Xlsx {
        workbook: Box<rust_xlsxwriter::Workbook>,
        out: std::path::PathBuf,
    },
}

fn unwritable(e: impl std::fmt::Display) -> ImportError {
    ImportError::Unreadable(e.to_string())
}

/// The header row of an XLSX table, bold.
fn xlsx_header(sheet: &mut rust_xlsxwriter::Worksheet, header: &[&str]) -> Result<(), ImportError> {
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (col, name) in header.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, *name, &bold)
            .map_err(unwritable)?;
    }
    Ok(())
}

/// Row `row` (0 is the header) of an XLSX table, every cell as text.
fn xlsx_row<S: AsRef<str>>(
    sheet: &mut rust_xlsxwriter::Worksheet,
    row: usize,
    values: &[S],
) -> Result<(), ImportError> {
    for (col, value) in values.iter().enumerate() {
        sheet
            .write_string(row as u32, col as u16, value.as_ref())
            .map_err(unwritable)?;
    }
    Ok(())
}

impl TableWriter {
    /// Creates `out` and writes the header row (bold in XLSX).
    pub fn create(format: Format, out: &Path, header: &[&str]) -> Result<TableWriter, ImportError> {
        let target = match format {
            Format::Csv => {
                let mut file = std::fs::File::create(out).map_err(unwritable)?;
                std::io::Write::write_all(&mut file, b"\xef\xbb\xbf").map_err(unwritable)?;
                let mut writer = csv::Writer::from_writer(file);
                writer.write_record(header).map_err(unwritable)?;
                Target::Csv(Box::new(writer))
            }
            Format::Xlsx => {
                let mut workbook = rust_xlsxwriter::Workbook::new();
                xlsx_header(workbook.add_worksheet(), header)?;
                Target::Xlsx {
                    workbook: Box::new(workbook),
                    out: out.to_path_buf(),
                }
            }
        };
        Ok(TableWriter { target, written: 0 })
    }

    pub fn write_row<S: AsRef<str>>(&mut self, values: &[S]) -> Result<(), ImportError> {
        match &mut self.target {
            Target::Csv(writer) => write_csv_record(writer, values).map_err(unwritable)?,
            Target::Xlsx { workbook, .. } => {
                let sheet = workbook.worksheet_from_index(0).map_err(unwritable)?;
                xlsx_row(sheet, self.written + 1, values)?;
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Flushes or saves the file; returns the number of data rows.
    pub fn finish(self) -> Result<usize, ImportError> {
        match self.target {
            Target::Csv(mut writer) => writer.flush().map_err(unwritable)?,
            Target::Xlsx { mut workbook, out } => workbook.save(&out).map_err(unwritable)?,
        }
        Ok(self.written)
    }
}

/// A whole table as the bytes of a CSV file (with a BOM, cells a spreadsheet would run as
/// formulas quoted) or an XLSX workbook (bold header, every cell text), for a download.
pub fn table_bytes<R, S>(
    format: Format,
    header: &[&str],
    rows: impl IntoIterator<Item = R>,
) -> Result<Vec<u8>, ImportError>
where
    R: AsRef<[S]>,
    S: AsRef<str>,
{
    match format {
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(b"\xef\xbb\xbf".to_vec());
            write_csv_record(&mut writer, header).map_err(unwritable)?;
            for row in rows {
                write_csv_record(&mut writer, row.as_ref()).map_err(unwritable)?;
            }
            writer.into_inner().map_err(unwritable)
        }
        Format::Xlsx => {
            let mut workbook = rust_xlsxwriter::Workbook::new();
            let sheet = workbook.add_worksheet();
            xlsx_header(sheet, header)?;
            for (r, row) in rows.into_iter().enumerate() {
                xlsx_row(sheet, r + 1, row.as_ref())?;
            }
            workbook.save_to_buffer().map_err(unwritable)
        }
    }
}

/// Writes a whole table at once; returns the number of data rows.
pub fn write_table<R, S>(
    format: Format,
    out: &Path,
    header: &[&str],
    rows: impl IntoIterator<Item = R>,
) -> Result<usize, ImportError>
where
    R: AsRef<[S]>,
    S: AsRef<str>,
{
    let mut writer = TableWriter::create(format, out, header)?;
    for row in rows {
        writer.write_row(row.as_ref())?;
    }
    writer.finish()
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
            headers: headers
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
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

    #[test]
    fn blank_headers_are_refused_unless_the_layout_skips_them() {
        let s = sheet(
            &["nik", "", "nama"],
            vec![vec![Cell::Text("3201".into()), Cell::Empty, Cell::Empty]],
        );
        let errors = Headers::map(&s.headers, &Layout::new(COLUMNS))
            .err()
            .unwrap();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].code.as_str(), errors[0].column.as_str()),
            ("column_unknown", "B ()")
        );
        let skipping = Layout {
            skip_blank_headers: true,
            ..Layout::new(COLUMNS)
        };
        let headers = Headers::map(&s.headers, &skipping).unwrap();
        assert_eq!(headers.locate("full_name"), "C (full_name)");
        assert_eq!(headers.values(&s.rows[0])["nik"], "3201");
    }

    #[test]
    fn a_digits_column_stored_as_a_number_is_an_error_for_that_row_only() {
        let layout = Layout {
            digits: &["nik"],
            ..Layout::new(COLUMNS)
        };
        let headers = Headers::map(&["nik".into(), "nama".into()], &layout).unwrap();
        let refused = headers
            .row(2, &[Cell::Number(3.2e15), Cell::Text("Siti".into())])
            .unwrap_err();
        assert_eq!(refused[0].column, "A (nik)");
        assert_eq!(refused[0].code, "number_cell");
        let accepted = headers
            .row(3, &[Cell::Text("3201".into()), Cell::Number(7.0)])
            .unwrap();
        assert_eq!(accepted["full_name"], "7");
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_written_as_text_and_read_back_as_they_were() {
        for live in ["=1+1", "+62812", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_cell(live), format!("'{live}"));
            assert_eq!(csv_cell_read(&csv_cell(live)), live);
        }
        for plain in ["Siti", "'kutip", "3201014505900001", ""] {
            assert_eq!(csv_cell(plain), plain);
            assert_eq!(csv_cell_read(plain), plain);
        }
    }

    #[test]
    fn a_written_table_reads_back_the_same_in_both_formats() {
        let dir = tempfile::tempdir().unwrap();
        let rows = vec![
            vec!["0012".to_string(), "Siti Aminah".to_string()],
            vec![
                "3201014505900001".to_string(),
                "=cmd|' /C calc'!A0".to_string(),
            ],
        ];
        for name in ["t.csv", "t.xlsx"] {
            let path = dir.path().join(name);
            let written =
                write_table(Format::from_path(&path), &path, &["id", "name"], &rows).unwrap();
            assert_eq!(written, 2);
            let back = read_sheet(&path).unwrap();
            assert_eq!(back.headers, ["id", "name"], "{name}");
            let texts: Vec<Vec<Option<String>>> = back
                .rows
                .iter()
                .map(|r| r.iter().map(cell_text).collect())
                .collect();
            assert_eq!(
                texts[0],
                [Some("0012".into()), Some("Siti Aminah".into())],
                "{name}"
            );
            assert_eq!(texts[1][0].as_deref(), Some("3201014505900001"), "{name}");
            assert_eq!(texts[1][1].as_deref(), Some("=cmd|' /C calc'!A0"), "{name}");
        }
    }
}
