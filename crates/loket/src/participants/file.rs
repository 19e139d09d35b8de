//! Participant files: CSV (`,` or `;`, UTF-8 with or without BOM) and Excel (.xlsx), in and out.
//! An import checks the whole file first and writes all rows in one transaction, or nothing.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;

use super::model::{validate, ParticipantData, ParticipantFields, FIELD_NAMES};
use super::store::{self, Registration, Sealed};
use crate::access::Scope;
use crate::db::Db;
use crate::error::FieldError;
use crate::sheet::{column_letter, Cell, Format, ImportError, RowError, Sheet};
use crate::vault::Vault;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub rows: usize,
    pub imported: usize,
    pub dry_run: bool,
}

/// Header names offices actually use, mapped to loket's field names.
fn canonical_header(header: &str) -> Option<&'static str> {
    let key = crate::sheet::header_key(header);
    if let Some(name) = FIELD_NAMES.iter().find(|n| **n == key) {
        return Some(name);
    }
    Some(match key.as_str() {
        "nama" | "nama_lengkap" | "name" => "full_name",
        "jenis_kelamin" | "jk" | "gender" => "sex",
        "tanggal_lahir" | "tgl_lahir" | "date_of_birth" => "birth_date",
        "no_kk" | "nomor_kk" | "kk_number" => "kk",
        "no_hp" | "nomor_hp" | "hp" | "telepon" => "phone",
        "alamat" => "address",
        "pendidikan" => "education",
        "status_perkawinan" => "marital_status",
        "negara_penempatan" | "negara" => "destination_country",
        "sektor_pekerjaan" | "pekerjaan_luar_negeri" => "job_sector",
        "tanggal_berangkat" => "departure_date",
        "tanggal_pulang" => "return_date",
        "alasan_pulang" => "return_reason",
        "minat_pelatihan" => "training_interests",
        "literasi_digital" => "digital_literacy",
        "punya_smartphone" => "has_smartphone",
        "persetujuan_pengolahan" => "consent_processing",
        "persetujuan_berbagi" => "consent_sharing",
        "cara_persetujuan" => "consent_method",
        _ => return None,
    })
}

const REQUIRED_COLUMNS: &[&str] = &[
    "nik",
    "full_name",
    "sex",
    "birth_date",
    "consent_processing",
];

/// Maps each column to a field; unknown or missing columns are errors on row 1.
fn map_columns(headers: &[String]) -> Result<Vec<&'static str>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut mapped = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        match canonical_header(h) {
            Some(name) if mapped.contains(&name) => errors.push(RowError {
                row: 1,
                column: format!("{} ({h})", column_letter(i)),
                code: "column_repeated".into(),
                message: format!("Kolom {name} muncul dua kali."),
                message_en: format!("Column {name} appears twice."),
            }),
            Some(name) => mapped.push(name),
            None => errors.push(RowError {
                row: 1,
                column: format!("{} ({h})", column_letter(i)),
                code: "column_unknown".into(),
                message: format!(
                    "Kolom \"{h}\" tidak dikenal. Kolom yang dikenal: {}.",
                    FIELD_NAMES.join(", ")
                ),
                message_en: format!(
                    "Unknown column \"{h}\". Known columns: {}.",
                    FIELD_NAMES.join(", ")
                ),
            }),
        }
    }
    for required in REQUIRED_COLUMNS {
        if !mapped.contains(required) {
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

/// Turns one row into fields; a NIK or KK stored as an Excel number has lost digits.
fn row_fields(columns: &[&'static str], cells: &[Cell]) -> Result<ParticipantFields, FieldError> {
    let mut fields = ParticipantFields::default();
    for (name, cell) in columns.iter().zip(cells) {
        let text = match cell {
            Cell::Empty => continue,
            Cell::Text(t) => t.clone(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Number(_) if matches!(*name, "nik" | "kk" | "phone") => {
                return Err(FieldError::new(
                    name,
                    "number_cell",
                    "Kolom ini tersimpan sebagai angka di Excel sehingga digit terakhir bisa hilang. Format kolom sebagai Teks lalu isi ulang.",
                    "This column is stored as a number in Excel, which loses the last digits. Format the column as Text and enter it again.",
                ));
            }
            Cell::Number(n) if n.fract() == 0.0 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
        };
        if let Some(slot) = fields.slot(name) {
            *slot = Some(text);
        }
    }
    if fields.consent_method.is_none() {
        fields.consent_method = Some("import".into());
    }
    Ok(fields)
}

/// Checks every row; returns the validated records or every problem found.
pub fn check_sheet(sheet: &Sheet, today: NaiveDate) -> Result<Vec<ParticipantData>, Vec<RowError>> {
    let columns = map_columns(&sheet.headers)?;
    let locate = |field: &str| -> String {
        columns
            .iter()
            .position(|c| *c == field)
            .map(|i| format!("{} ({field})", column_letter(i)))
            .unwrap_or_else(|| field.to_string())
    };
    let mut errors = Vec::new();
    let mut records = Vec::with_capacity(sheet.rows.len());
    let mut first_row_of_nik: HashMap<String, usize> = HashMap::new();
    for (i, cells) in sheet.rows.iter().enumerate() {
        let row = i + 2;
        let as_row_error = |e: FieldError| RowError {
            row,
            column: locate(&e.field),
            code: e.code,
            message: e.message,
            message_en: e.message_en,
        };
        let data = row_fields(&columns, cells)
            .map_err(|e| vec![e])
            .and_then(|f| validate(&f, today));
        match data {
            Ok(data) => {
                if let Some(first) = first_row_of_nik.insert(data.nik.as_str().to_string(), row) {
                    errors.push(RowError {
                        row,
                        column: locate("nik"),
                        code: "nik_duplicate".into(),
                        message: format!("NIK ini sudah ada di baris {first} berkas yang sama."),
                        message_en: format!(
                            "This NIK already appears in row {first} of the same file."
                        ),
                    });
                }
                records.push(data);
            }
            Err(field_errors) => errors.extend(field_errors.into_iter().map(as_row_error)),
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

/// Seals records on all cores; encryption dominates a large import.
pub fn seal_all(vault: &Vault, records: Vec<ParticipantData>) -> Vec<(ParticipantData, Sealed)> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let chunk = records.len().div_ceil(threads).max(1);
    let mut chunks: Vec<Vec<ParticipantData>> = Vec::new();
    let mut rest = records;
    while rest.len() > chunk {
        let tail = rest.split_off(chunk);
        chunks.push(rest);
        rest = tail;
    }
    chunks.push(rest);
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|c| {
                s.spawn(move || {
                    c.into_iter()
                        .map(|d| {
                            let sealed = Sealed::new(vault, &d);
                            (d, sealed)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Imports a file: all rows or none. With `dry_run`, checks only.
pub async fn import(
    db: &Db,
    vault: &Vault,
    sheet: &Sheet,
    reg: Registration,
    dry_run: bool,
    progress: impl FnMut(usize),
) -> Result<ImportSummary, ImportError> {
    let started = std::time::Instant::now();
    let records = check_sheet(sheet, crate::clock::today()).map_err(ImportError::Rejected)?;
    tracing::info!(
        rows = records.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "import: file checked"
    );
    let sealed = seal_all(vault, records);
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "import: sealed"
    );
    // Every key of the ring: during a key rotation older rows still carry old-key indexes.
    let indexes: Vec<Vec<u8>> = sealed
        .iter()
        .flat_map(|(d, s)| {
            let mut all = vec![s.nik_index.clone()];
            if vault.key_ids().len() > 1 {
                all.extend(
                    vault
                        .blind_indexes(crate::vault::IndexKind::Nik, d.nik.as_str())
                        .into_iter()
                        .skip(1),
                );
            }
            all
        })
        .collect();
    let taken = store::existing_nik_indexes(db, &indexes).await?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "import: duplicates checked"
    );
    if !taken.is_empty() {
        let errors = sealed
            .iter()
            .enumerate()
            .filter(|(_, (d, s))| {
                taken.contains(&s.nik_index)
                    || vault
                        .blind_indexes(crate::vault::IndexKind::Nik, d.nik.as_str())
                        .iter()
                        .any(|i| taken.contains(i))
            })
            .map(|(i, _)| RowError {
                row: i + 2,
                column: "nik".into(),
                code: "nik_duplicate".into(),
                message: "NIK ini sudah terdaftar di loket.".into(),
                message_en: "This NIK is already registered in loket.".into(),
            })
            .collect();
        return Err(ImportError::Rejected(errors));
    }
    let rows = sealed.len();
    if dry_run {
        return Ok(ImportSummary {
            rows,
            imported: 0,
            dry_run: true,
        });
    }
    store::insert_many(db, &sealed, reg, progress).await?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "import: written"
    );
    Ok(ImportSummary {
        rows,
        imported: rows,
        dry_run: false,
    })
}

/// Writes every participant in scope to `out` as CSV or XLSX, a page at a time.
pub async fn export(
    db: &Db,
    vault: &Vault,
    scope: Scope,
    format: Format,
    out: &Path,
    mut progress: impl FnMut(usize),
) -> Result<usize, ImportError> {
    let mut csv_writer = match format {
        Format::Csv => {
            let mut file =
                std::fs::File::create(out).map_err(|e| ImportError::Unreadable(e.to_string()))?;
            // A BOM makes Excel read the names as UTF-8.
            std::io::Write::write_all(&mut file, b"\xef\xbb\xbf")
                .map_err(|e| ImportError::Unreadable(e.to_string()))?;
            Some(csv::Writer::from_writer(file))
        }
        Format::Xlsx => None,
    };
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let xlsx_err = |e: rust_xlsxwriter::XlsxError| ImportError::Unreadable(e.to_string());
    let csv_err = |e: csv::Error| ImportError::Unreadable(e.to_string());
    match csv_writer.as_mut() {
        Some(w) => w.write_record(FIELD_NAMES).map_err(csv_err)?,
        None => {
            let bold = rust_xlsxwriter::Format::new().set_bold();
            for (col, name) in FIELD_NAMES.iter().enumerate() {
                sheet
                    .write_string_with_format(0, col as u16, *name, &bold)
                    .map_err(xlsx_err)?;
            }
        }
    }
    let mut after = 0;
    let mut written = 0usize;
    loop {
        let page = store::page(db, vault, scope, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for p in &page {
            let fields = super::model::to_fields(&p.data);
            let values = fields.values();
            match csv_writer.as_mut() {
                Some(w) => w.write_record(values).map_err(csv_err)?,
                None => {
                    for (col, value) in values.iter().enumerate() {
                        // Everything as text: a NIK written as a number would lose digits.
                        sheet
                            .write_string((written + 1) as u32, col as u16, *value)
                            .map_err(xlsx_err)?;
                    }
                }
            }
            written += 1;
        }
        progress(page.len());
    }
    match csv_writer {
        Some(mut w) => w
            .flush()
            .map_err(|e| ImportError::Unreadable(e.to_string()))?,
        None => workbook.save(out).map_err(xlsx_err)?,
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sheet::read_csv;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    #[test]
    fn column_letters_follow_spreadsheets() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
    }

    #[test]
    fn semicolon_csv_with_bom_and_indonesian_headers_is_read() {
        let csv = "\u{feff}NIK;Nama;Jenis Kelamin;Tanggal Lahir;persetujuan_pengolahan\n3201014505900001;Siti Aminah;P;05/05/1990;ya\n";
        let sheet = read_csv(csv.as_bytes()).unwrap();
        let records = check_sheet(&sheet, today()).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].full_name.as_str(), "Siti Aminah");
    }

    #[test]
    fn every_bad_row_is_reported_with_row_and_column() {
        let csv = "nik,full_name,sex,birth_date,consent_processing\n\
                   3201014505900001,Siti,female,1990-05-05,true\n\
                   32010145059,Ani,female,1990-05-05,true\n\
                   3201014505900001,Siti Dua,female,1990-05-05,true\n\
                   3201011203850002,Budi,x,1985-03-12,true\n";
        let errors = check_sheet(&read_csv(csv.as_bytes()).unwrap(), today()).unwrap_err();
        let located: Vec<_> = errors
            .iter()
            .map(|e| (e.row, e.column.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            located,
            [
                (3, "A (nik)", "nik_length"),
                (4, "A (nik)", "nik_duplicate"),
                (5, "C (sex)", "choice_invalid")
            ]
        );
        assert!(errors
            .iter()
            .all(|e| !e.message.is_empty() && !e.message_en.is_empty()));
    }

    #[test]
    fn unknown_and_missing_columns_are_reported_on_row_one() {
        let errors = check_sheet(&read_csv(b"nik,nama,warna\n").unwrap(), today()).unwrap_err();
        assert!(errors
            .iter()
            .any(|e| e.code == "column_unknown" && e.column == "C (warna)"));
        assert!(errors
            .iter()
            .any(|e| e.code == "column_missing" && e.column == "sex"));
    }

    #[test]
    fn a_nik_stored_as_an_excel_number_is_refused() {
        let err = row_fields(&["nik"], &[Cell::Number(3201014505900000.0)]).unwrap_err();
        assert_eq!(err.code, "number_cell");
    }
}
