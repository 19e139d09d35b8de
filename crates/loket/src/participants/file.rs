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
use crate::sheet::{Column, Format, Headers, ImportError, Layout, RowError, Sheet, TableWriter};
use crate::vault::Vault;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub rows: usize,
    pub imported: usize,
    pub dry_run: bool,
}

/// Header names offices actually use, by loket's field name.
const ALIASES: &[(&str, &[&str])] = &[
    ("full_name", &["nama", "nama_lengkap", "name"]),
    ("sex", &["jenis_kelamin", "jk", "gender"]),
    (
        "birth_date",
        &["tanggal_lahir", "tgl_lahir", "date_of_birth"],
    ),
    ("kk", &["no_kk", "nomor_kk", "kk_number"]),
    ("phone", &["no_hp", "nomor_hp", "hp", "telepon"]),
    ("address", &["alamat"]),
    ("education", &["pendidikan"]),
    ("marital_status", &["status_perkawinan"]),
    ("destination_country", &["negara_penempatan", "negara"]),
    ("job_sector", &["sektor_pekerjaan", "pekerjaan_luar_negeri"]),
    ("departure_date", &["tanggal_berangkat"]),
    ("return_date", &["tanggal_pulang"]),
    ("return_reason", &["alasan_pulang"]),
    ("training_interests", &["minat_pelatihan"]),
    ("digital_literacy", &["literasi_digital"]),
    ("has_smartphone", &["punya_smartphone"]),
    ("consent_processing", &["persetujuan_pengolahan"]),
    ("consent_sharing", &["persetujuan_berbagi"]),
    ("consent_method", &["cara_persetujuan"]),
];

const REQUIRED_COLUMNS: &[&str] = &[
    "nik",
    "full_name",
    "sex",
    "birth_date",
    "consent_processing",
];

/// Numbers that Excel rounds when a cell holds them as a number.
const DIGIT_COLUMNS: &[&str] = &["nik", "kk", "phone"];

/// Every field a participant file may carry, in export order.
fn columns() -> Vec<Column> {
    Column::list(FIELD_NAMES, ALIASES, REQUIRED_COLUMNS)
}

/// Turns one row's values into fields; an import without a consent method says so.
fn row_fields(values: HashMap<String, String>) -> ParticipantFields {
    let mut fields = ParticipantFields::default();
    for (name, text) in values {
        if let Some(slot) = fields.slot(&name) {
            *slot = Some(text);
        }
    }
    if fields.consent_method.is_none() {
        fields.consent_method = Some("import".into());
    }
    fields
}

/// Checks every row; returns the validated records or every problem found.
pub fn check_sheet(sheet: &Sheet, today: NaiveDate) -> Result<Vec<ParticipantData>, Vec<RowError>> {
    let columns = columns();
    let layout = Layout {
        digits: DIGIT_COLUMNS,
        ..Layout::new(&columns)
    };
    let headers = Headers::map(&sheet.headers, &layout)?;
    let mut errors = Vec::new();
    let mut records = Vec::with_capacity(sheet.rows.len());
    let mut first_row_of_nik: HashMap<String, usize> = HashMap::new();
    for (i, cells) in sheet.rows.iter().enumerate() {
        let row = i + 2;
        let values = match headers.row(row, cells) {
            Ok(values) => values,
            Err(number_cells) => {
                // The row is not checked further: one problem for it, as the first number cell.
                errors.extend(number_cells.into_iter().take(1));
                continue;
            }
        };
        match validate(&row_fields(values), today) {
            Ok(data) => {
                if let Some(first) = first_row_of_nik.insert(data.nik.as_str().to_string(), row) {
                    errors.push(RowError {
                        row,
                        column: headers.locate("nik"),
                        code: "nik_duplicate".into(),
                        message: format!("NIK ini sudah ada di baris {first} berkas yang sama."),
                        message_en: format!(
                            "This NIK already appears in row {first} of the same file."
                        ),
                    });
                }
                records.push(data);
            }
            Err(field_errors) => errors.extend(
                field_errors
                    .into_iter()
                    .map(|e| located(row, headers.locate(&e.field), e)),
            ),
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

fn located(row: usize, column: String, e: FieldError) -> RowError {
    RowError {
        row,
        column,
        code: e.code,
        message: e.message,
        message_en: e.message_en,
    }
}

/// Seals records on all cores; encryption dominates a large import.
pub fn seal_all(vault: &Vault, records: Vec<ParticipantData>) -> Vec<(ParticipantData, Sealed)> {
    let threads = std::thread::available_parallelism()
        .map(std::num::NonZero::get)
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

fn import_entry(action: &'static str, id: impl ToString, reason: &str) -> crate::audit::Entry {
    crate::audit::Entry::new(action, "participant", id).reason(reason)
}

/// Imports a file: all rows or none. With `dry_run`, checks only. Each person gets a
/// `participant.create` audit entry naming `source`, and the import one `participant.import`
/// entry, all by `who`, in the rows' own transaction.
pub async fn import(
    db: &Db,
    vault: &Vault,
    sheet: &Sheet,
    reg: Registration,
    (who, source): (&str, &str),
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
    let empty = crate::audit::Batch::new(db)?;
    let audited = |ids: &[i64]| {
        let mut batch = empty.clone();
        for id in ids {
            batch.add(
                None,
                Some(who),
                import_entry("participant.create", id, source),
            );
        }
        let summary = crate::audit::Entry {
            entity_id: None,
            ..import_entry("participant.import", "", source)
        }
        .reason(format!("{} baris/rows: {source}", ids.len()));
        batch.add(None, Some(who), summary);
        batch
    };
    store::insert_many(db, &sealed, reg, audited, progress).await?;
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
    let mut writer = TableWriter::create(format, out, FIELD_NAMES)?;
    let mut after = 0;
    loop {
        let page = store::page(db, vault, scope, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for p in &page {
            writer.write_row(&super::model::to_fields(&p.data).values())?;
        }
        progress(page.len());
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sheet::{column_letter, read_csv, Cell};

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
        let located: Vec<_> = errors.iter().map(RowError::place).collect();
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
        let mut sheet = read_csv(
            b"nik,full_name,sex,birth_date,consent_processing\nx,Siti,female,1990-05-05,ya\n",
        )
        .unwrap();
        sheet.rows[0][0] = Cell::Number(3201014505900000.0);
        let errors = check_sheet(&sheet, today()).unwrap_err();
        let located: Vec<_> = errors.iter().map(RowError::place).collect();
        assert_eq!(located, [(2, "A (nik)", "number_cell")]);
    }
}
