//! Catalogue files: one row per training, CSV (`,` or `;`) or Excel, in and out. Reading,
//! header mapping, row errors and writing are `crate::sheet`'s.
//! An import checks every row first and writes all of them in one transaction, or nothing.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use super::model::*;
use super::store::{self, Applied};
use crate::db::Db;
use crate::error::FieldError;
use crate::sheet::{write_table, Column, Format, Headers, ImportError, Layout, RowError, Sheet};

/// Header names offices use for the catalogue columns, by loket's column name.
const ALIASES: &[(&str, &[&str])] = &[
    ("training_id", &["kode_pelatihan", "id_pelatihan"]),
    ("title", &["judul", "judul_pelatihan", "nama_pelatihan"]),
    ("institution_id", &["kode_lembaga", "id_lembaga"]),
    (
        "institution_name",
        &["lembaga", "nama_lembaga", "lembaga_pelatihan"],
    ),
    ("institution_city", &["kota_lembaga", "kota"]),
    ("category", &["kategori"]),
    ("occupations", &["pekerjaan", "sasaran_pekerjaan"]),
    ("mode", &["metode", "moda"]),
    ("hours", &["durasi_jam", "jam", "durasi"]),
    ("language", &["bahasa"]),
    ("description", &["deskripsi"]),
    ("prerequisites", &["prasyarat", "persyaratan"]),
    ("rating", &["nilai", "ulasan_rata_rata"]),
    ("review_count", &["jumlah_ulasan"]),
];

/// Every catalogue column, in export order.
fn columns() -> Vec<Column> {
    Column::list(COLUMNS, ALIASES, REQUIRED_COLUMNS)
}

/// A price column in Indonesian: "harga_tokopedia" is "price_tokopedia".
fn price_column(key: &str) -> Option<String> {
    let platform = key.strip_prefix("harga_")?;
    COLUMNS
        .iter()
        .find(|name| name.strip_prefix("price_") == Some(platform))
        .map(std::string::ToString::to_string)
}

/// One row's values under the catalogue's own column names.
fn training_fields(values: HashMap<String, String>) -> TrainingFields {
    TrainingFields(
        values
            .into_iter()
            .filter_map(|(name, text)| Some((*COLUMNS.iter().find(|c| **c == name)?, text)))
            .collect(),
    )
}

/// Checks every row; returns the validated trainings or every problem found.
pub fn check_sheet(sheet: &Sheet) -> Result<Vec<TrainingData>, Vec<RowError>> {
    let columns = columns();
    let layout = Layout {
        pattern: &price_column,
        ..Layout::new(&columns)
    };
    let headers = Headers::map(&sheet.headers, &layout)?;
    let mut errors = Vec::new();
    let mut records = Vec::with_capacity(sheet.rows.len());
    let mut first_row: HashMap<String, usize> = HashMap::new();
    let mut institutions: HashMap<String, (usize, String, String)> = HashMap::new();
    for (i, cells) in sheet.rows.iter().enumerate() {
        let row = i + 2;
        let error = |e: FieldError| RowError {
            row,
            column: headers.locate(&e.field),
            code: e.code,
            message: e.message,
            message_en: e.message_en,
        };
        let data = match validate(&training_fields(headers.values(cells))) {
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
    write_table(format, out, COLUMNS, records.iter().map(to_row))
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
        let located: Vec<_> = errors.iter().map(RowError::place).collect();
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
