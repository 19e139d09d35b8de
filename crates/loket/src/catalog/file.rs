//! Catalogue files: one row per training, CSV (`,` or `;`) or Excel, in and out. Reading the
//! sheet, cells, row errors and column letters are the participants' file helpers, reused.
//! An import checks every row first and writes all of them in one transaction, or nothing.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use super::model::*;
use super::store::{self, Applied};
use crate::db::Db;
use crate::error::FieldError;
use crate::sheet::{column_letter, Cell, Format, ImportError, RowError, Sheet};

/// Header names offices use for the catalogue columns.
fn canonical_header(header: &str) -> Option<&'static str> {
    let key = crate::sheet::header_key(header);
    if let Some(name) = COLUMNS.iter().find(|n| **n == key) {
        return Some(name);
    }
    if let Some(name) = COLUMNS.iter().find(|n| {
        n.strip_prefix("price_")
            .is_some_and(|p| key == format!("harga_{p}"))
    }) {
        return Some(name);
    }
    Some(match key.as_str() {
        "kode_pelatihan" | "id_pelatihan" => "training_id",
        "judul" | "judul_pelatihan" | "nama_pelatihan" => "title",
        "kode_lembaga" | "id_lembaga" => "institution_id",
        "lembaga" | "nama_lembaga" | "lembaga_pelatihan" => "institution_name",
        "kota_lembaga" | "kota" => "institution_city",
        "kategori" => "category",
        "pekerjaan" | "sasaran_pekerjaan" => "occupations",
        "metode" | "moda" => "mode",
        "durasi_jam" | "jam" | "durasi" => "hours",
        "bahasa" => "language",
        "deskripsi" => "description",
        "prasyarat" | "persyaratan" => "prerequisites",
        "nilai" | "ulasan_rata_rata" => "rating",
        "jumlah_ulasan" => "review_count",
        _ => return None,
    })
}

fn map_columns(headers: &[String]) -> Result<Vec<Option<&'static str>>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut mapped: Vec<Option<&'static str>> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let located = format!("{} ({h})", column_letter(i));
        match canonical_header(h) {
            Some(name) if mapped.contains(&Some(name)) => errors.push(RowError {
                row: 1,
                column: located,
                code: "column_repeated".into(),
                message: format!("Kolom {name} muncul dua kali."),
                message_en: format!("Column {name} appears twice."),
            }),
            Some(name) => mapped.push(Some(name)),
            None => errors.push(RowError {
                row: 1,
                column: located,
                code: "column_unknown".into(),
                message: format!(
                    "Kolom \"{h}\" tidak dikenal. Kolom yang dikenal: {}.",
                    COLUMNS.join(", ")
                ),
                message_en: format!(
                    "Unknown column \"{h}\". Known columns: {}.",
                    COLUMNS.join(", ")
                ),
            }),
        }
    }
    for required in REQUIRED_COLUMNS {
        if !mapped.contains(&Some(required)) {
            errors.push(RowError {
                row: 1,
                column: required.to_string(),
                code: "column_missing".into(),
                message: format!("Kolom wajib {required} tidak ada."),
                message_en: format!("The required column {required} is missing."),
            });
        }
    }
    if errors.is_empty() {
        Ok(mapped)
    } else {
        Err(errors)
    }
}

fn cell_text(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Empty => None,
        Cell::Text(t) => Some(t.clone()),
        Cell::Date(d) => Some(d.format("%Y-%m-%d").to_string()),
        Cell::Number(n) if n.fract() == 0.0 => Some(format!("{}", *n as i64)),
        // A decimal stays as written by Rust ("4.7"); prices with decimals are refused later.
        Cell::Number(n) => Some(n.to_string()),
    }
}

/// Checks every row; returns the validated trainings or every problem found.
pub fn check_sheet(sheet: &Sheet) -> Result<Vec<TrainingData>, Vec<RowError>> {
    let columns = map_columns(&sheet.headers)?;
    let locate = |field: &str| -> String {
        columns
            .iter()
            .position(|c| *c == Some(field))
            .map(|i| format!("{} ({field})", column_letter(i)))
            .unwrap_or_else(|| field.to_string())
    };
    let mut errors = Vec::new();
    let mut records = Vec::with_capacity(sheet.rows.len());
    let mut first_row: HashMap<String, usize> = HashMap::new();
    let mut institutions: HashMap<String, (usize, String, String)> = HashMap::new();
    for (i, cells) in sheet.rows.iter().enumerate() {
        let row = i + 2;
        let error = |e: FieldError| RowError {
            row,
            column: locate(&e.field),
            code: e.code,
            message: e.message,
            message_en: e.message_en,
        };
        let mut fields = TrainingFields::default();
        for (column, cell) in columns.iter().zip(cells) {
            if let (Some(name), Some(text)) = (column, cell_text(cell)) {
                fields.0.insert(name, text);
            }
        }
        let data = match validate(&fields) {
            Ok(d) => d,
            Err(field_errors) => {
                errors.extend(field_errors.into_iter().map(error));
                continue;
            }
        };
        if let Some(first) = first_row.insert(data.external_id.clone(), row) {
            errors.push(error(FieldError::new(
                "training_id",
                "training_duplicate",
                format!("Kode pelatihan ini sudah ada di baris {first} berkas yang sama."),
                format!("This training id already appears in row {first} of the same file."),
            )));
        }
        let seen = institutions
            .entry(data.institution_external_id.clone())
            .or_insert_with(|| {
                (
                    row,
                    data.institution_name.clone(),
                    data.institution_city.clone(),
                )
            });
        if seen.1 != data.institution_name || seen.2 != data.institution_city {
            let first = seen.0;
            errors.push(error(FieldError::new(
                "institution_name",
                "institution_conflict",
                format!("Lembaga dengan kode ini bernama/berkota lain di baris {first}."),
                format!("The institution with this id has another name or city in row {first}."),
            )));
        }
        records.push(data);
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub rows: usize,
    pub dry_run: bool,
    pub applied: Applied,
}

/// Imports a catalogue sheet: all rows or none; re-importing the same file changes nothing.
pub async fn import(db: &Db, sheet: &Sheet, dry_run: bool) -> Result<ImportSummary, ImportError> {
    let records = check_sheet(sheet).map_err(ImportError::Rejected)?;
    if dry_run {
        return Ok(ImportSummary {
            rows: records.len(),
            dry_run: true,
            applied: Applied::default(),
        });
    }
    let applied = store::apply(db, &records).await?;
    Ok(ImportSummary {
        rows: records.len(),
        dry_run: false,
        applied,
    })
}

/// Writes trainings in the import format, so an export can be edited and imported back.
pub fn write(records: &[TrainingData], format: Format, out: &Path) -> Result<usize, ImportError> {
    let io = |e: std::io::Error| ImportError::Unreadable(e.to_string());
    match format {
        Format::Csv => {
            let mut file = std::fs::File::create(out).map_err(io)?;
            // A BOM makes Excel read the titles as UTF-8.
            std::io::Write::write_all(&mut file, b"\xef\xbb\xbf").map_err(io)?;
            let mut w = csv::Writer::from_writer(file);
            let csv_err = |e: csv::Error| ImportError::Unreadable(e.to_string());
            w.write_record(COLUMNS).map_err(csv_err)?;
            for r in records {
                w.write_record(to_row(r)).map_err(csv_err)?;
            }
            w.flush().map_err(io)?;
        }
        Format::Xlsx => {
            let xlsx = |e: rust_xlsxwriter::XlsxError| ImportError::Unreadable(e.to_string());
            let mut workbook = rust_xlsxwriter::Workbook::new();
            let sheet = workbook.add_worksheet();
            let bold = rust_xlsxwriter::Format::new().set_bold();
            for (col, name) in COLUMNS.iter().enumerate() {
                sheet
                    .write_string_with_format(0, col as u16, *name, &bold)
                    .map_err(xlsx)?;
            }
            for (i, r) in records.iter().enumerate() {
                for (col, value) in to_row(r).iter().enumerate() {
                    // Text everywhere: ids such as "00123" must keep their zeros.
                    sheet
                        .write_string((i + 1) as u32, col as u16, value)
                        .map_err(xlsx)?;
                }
            }
            workbook.save(out).map_err(xlsx)?;
        }
    }
    Ok(records.len())
}

/// Exports the whole catalogue (withdrawn trainings included, with their status).
pub async fn export(db: &Db, format: Format, out: &Path) -> Result<usize, ImportError> {
    let records: Vec<TrainingData> = store::all_trainings(db)
        .await?
        .into_iter()
        .map(|t| t.data)
        .collect();
    write(&records, format, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sheet::read_csv;

    #[test]
    fn indonesian_headers_and_semicolons_are_read() {
        let csv = "kode_pelatihan;judul;kode_lembaga;nama_lembaga;kategori;metode;jam;deskripsi;harga_tokopedia\n\
                   PRK-1;Menjahit Dasar;LP-1;LPK Busana;hard_skill;luring (tatap muka);40;Belajar menjahit.;350.000\n";
        let records = check_sheet(&read_csv(csv.as_bytes()).unwrap()).unwrap();
        assert_eq!(records[0].mode, Mode::Offline);
        assert_eq!(records[0].offers[0].price, 350_000);
    }

    #[test]
    fn bad_rows_are_reported_by_row_and_column() {
        let csv = "training_id,title,institution_id,institution_name,category,mode,hours,description,price_tokopedia\n\
                   PRK-1,Menjahit,LP-1,LPK A,hard_skill,online,10,Belajar.,100000\n\
                   PRK-2,Memasak,LP-1,LPK B,hard_skill,online,10,Belajar.,100000\n\
                   PRK-1,Las,LP-2,LPK C,teknik,online,0,Belajar.,\n";
        let errors = check_sheet(&read_csv(csv.as_bytes()).unwrap()).unwrap_err();
        let located: Vec<_> = errors
            .iter()
            .map(|e| (e.row, e.column.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            located,
            [
                (3, "D (institution_name)", "institution_conflict"),
                (4, "E (category)", "choice_invalid"),
                (4, "G (hours)", "number_invalid"),
                (4, "I (price_tokopedia)", "price_missing"),
            ]
        );
    }

    #[test]
    fn unknown_and_missing_columns_are_reported_on_row_one() {
        let errors = check_sheet(&read_csv(b"training_id,judul,warna\n").unwrap()).unwrap_err();
        assert!(errors
            .iter()
            .any(|e| e.code == "column_unknown" && e.column == "C (warna)"));
        assert!(errors
            .iter()
            .any(|e| e.code == "column_missing" && e.column == "mode"));
    }
}
