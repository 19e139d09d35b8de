//! Participant files: CSV (`,` or `;`, UTF-8 with or without BOM) and Excel (.xlsx), in and out.
//! An import checks the whole file first (a bad file writes nothing), then writes the rows a
//! chunk at a time; an interrupted import is finished by importing the same file again.

use std::collections::HashMap;
use std::path::Path;

use chrono::{NaiveDate, SubsecRound};

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
    /// Rows written by this call.
    pub imported: usize,
    pub dry_run: bool,
    /// The import run (0 for a dry run).
    pub run: i64,
    /// Rows an earlier, interrupted call of the same run had stored: this call resumed it.
    pub already_imported: usize,
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

/// Imports a file: a bad file writes nothing; a good one is written in chunks and, if stopped,
/// resumed by the next import of it. With `dry_run`, checks only. Each chunk commits with its
/// people's `participant.create` audit entries (naming `source`, by `who`); the last chunk also
/// carries the import's one `participant.import` entry.
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
    let indexes: Vec<Vec<u8>> = sealed
        .iter()
        .flat_map(|(d, s)| ring_indexes(vault, d, s))
        .collect();
    let mut taken = store::existing_nik_indexes(db, &indexes).await?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "import: duplicates checked"
    );
    // Rows that an interrupted run of this import stored are not duplicates: they are skipped.
    let run = store::unfinished_import(db).await?;
    let resumed = match &run {
        Some(run) if !taken.is_empty() => {
            let taken: Vec<Vec<u8>> = taken.iter().cloned().collect();
            store::nik_indexes_among(db, &taken, Some(run.registered_at)).await?
        }
        _ => Default::default(),
    };
    taken.retain(|i| !resumed.contains(i));
    if !taken.is_empty() {
        let errors = sealed
            .iter()
            .enumerate()
            .filter(|(_, (d, s))| ring_indexes(vault, d, s).iter().any(|i| taken.contains(i)))
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
            dry_run: true,
            ..Default::default()
        });
    }
    let (todo, done): (Vec<_>, Vec<_>) = sealed.into_iter().partition(|(d, s)| {
        !ring_indexes(vault, d, s)
            .iter()
            .any(|i| resumed.contains(i))
    });
    let (run, reg) = match run.filter(|_| !done.is_empty()) {
        Some(run) => (
            run.id,
            Registration {
                at: run.registered_at,
                ..reg
            },
        ),
        None => {
            // Stored at microseconds, as PostgreSQL keeps them, so the run finds its rows again.
            let reg = Registration {
                at: reg.at.trunc_subsecs(6),
                ..reg
            };
            (store::start_import(db, rows, reg.at).await?, reg)
        }
    };
    let empty = crate::audit::Batch::new(db)?;
    let total = todo.len();
    let audited = |ids: &[i64], last: bool| {
        let mut batch = empty.clone();
        for id in ids {
            batch.add(
                None,
                Some(who),
                import_entry("participant.create", id, source),
            );
        }
        if last {
            let summary = crate::audit::Entry {
                entity_id: None,
                ..import_entry("participant.import", "", source)
            }
            .reason(format!("{total} baris/rows: {source}"));
            batch.add(None, Some(who), summary);
        }
        batch
    };
    write_in_chunks(db, run, &todo, reg, audited, progress).await?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "import: written"
    );
    Ok(ImportSummary {
        rows,
        imported: todo.len(),
        dry_run: false,
        run,
        already_imported: done.len(),
    })
}

/// Rows a chunk: a chunk is one transaction, short enough that requests to a live SQLite
/// server get through between chunks.
pub const CHUNK_ROWS: usize = 2000;

/// Writes the rows a chunk at a time, then closes the run; a stop leaves whole chunks, and
/// running the same file again writes the rest.
async fn write_in_chunks(
    db: &Db,
    run: i64,
    records: &[(ParticipantData, Sealed)],
    reg: Registration,
    mut audited: impl FnMut(&[i64], bool) -> crate::audit::Batch,
    mut progress: impl FnMut(usize),
) -> Result<(), ImportError> {
    let chunks = records.len().div_ceil(CHUNK_ROWS);
    for (i, chunk) in records.chunks(CHUNK_ROWS).enumerate() {
        let started = std::time::Instant::now();
        let last = i + 1 == chunks;
        store::insert_many(
            db,
            chunk,
            reg,
            |ids: &[i64]| audited(ids, last),
            &mut progress,
        )
        .await?;
        db.pause_for_others(started.elapsed()).await;
    }
    store::finish_import(db, run).await?;
    Ok(())
}

/// A record's NIK index under every key of the ring: during a key rotation older rows still
/// carry old-key indexes.
fn ring_indexes(vault: &Vault, data: &ParticipantData, sealed: &Sealed) -> Vec<Vec<u8>> {
    let mut all = vec![sealed.nik_index.clone()];
    if vault.key_ids().len() > 1 {
        all.extend(
            vault
                .blind_indexes(crate::vault::IndexKind::Nik, data.nik.as_str())
                .into_iter()
                .skip(1),
        );
    }
    all
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
