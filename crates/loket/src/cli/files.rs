//! `loket import` and `loket export`: participants and the training catalogue as CSV or XLSX.
//! A bad file imports nothing; a participant import that stops midway is finished by running
//! the same file again. Exports of people need a reason, which the audit log keeps.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use loket::access::Scope;
use loket::participants::file;
use loket::participants::Registration;
use loket::sheet::{Format, ImportError};
use loket::{AppState, Config};

use super::{progress_bar, ExportWhat, FileFormat, ImportWhat};

/// `loket import participants|catalog`.
pub async fn import(config: Config, what: ImportWhat) -> anyhow::Result<()> {
    match what {
        ImportWhat::Participants {
            file: path,
            dry_run,
            counter,
        } => import_participants(config, &path, dry_run, counter).await,
        ImportWhat::Catalog {
            file: path,
            dry_run,
        } => import_catalog(config, &path, dry_run).await,
    }
}

/// `loket export participants|catalog`.
pub async fn export(config: Config, what: ExportWhat) -> anyhow::Result<()> {
    match what {
        ExportWhat::Catalog { format, out } => export_catalog(config, format, out).await,
        ExportWhat::Participants {
            format,
            out,
            reason,
        } => export_participants(config, format, out, &reason).await,
    }
}

/// Prints the problems of a rejected file (the first 200, then how many more when `count_rest`)
/// and fails with the count.
fn rejected(errors: &[impl std::fmt::Display], count_rest: bool) -> anyhow::Result<()> {
    for e in errors.iter().take(200) {
        eprintln!("{e}");
    }
    if count_rest && errors.len() > 200 {
        eprintln!("… {} more", errors.len() - 200);
    }
    bail!(
        "{} masalah; tidak ada yang diimpor / {} problem(s); nothing was imported",
        errors.len(),
        errors.len()
    );
}

async fn import_participants(
    config: Config,
    path: &Path,
    dry_run: bool,
    counter: Option<String>,
) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    let counter_id = match counter {
        Some(code) => Some(
            loket::counters::counter_by_code(&state.db, &code)
                .await?
                .with_context(|| format!("no counter with code {code}"))?
                .id,
        ),
        None => None,
    };
    let sheet = loket::sheet::read_sheet(path)?;
    let bar = progress_bar(sheet.rows.len() as u64, "import");
    let reg = Registration {
        counter_id,
        officer_id: None,
        at: chrono::Utc::now(),
    };
    let (who, source) = (super::cli_actor(), path.display().to_string());
    let summary = match file::import(
        &state.db,
        &state.vault,
        &sheet,
        reg,
        (&who, &source),
        dry_run,
        |n| bar.inc(n as u64),
    )
    .await
    {
        Ok(summary) => summary,
        Err(ImportError::Rejected(errors)) => {
            bar.abandon();
            audit_rejected(&state.db, "participant.import", &source, errors.len()).await?;
            return rejected(&errors, true);
        }
        Err(e) => {
            bar.abandon();
            explain_stopped_import(&state).await;
            return Err(e.into());
        }
    };
    bar.finish_and_clear();
    if summary.already_imported > 0 {
        println!(
            "Impor #{} dilanjutkan: {} baris sudah tersimpan oleh percobaan sebelumnya yang terhenti / import #{} resumed: {} rows were stored by an earlier, interrupted attempt",
            summary.run, summary.already_imported, summary.run, summary.already_imported
        );
    }
    if summary.dry_run {
        println!(
            "{} baris valid, tidak ada yang disimpan (--dry-run) / {} rows valid, nothing written",
            summary.rows, summary.rows
        );
        return Ok(());
    }
    println!(
        "{} baris diimpor / {} rows imported",
        summary.imported, summary.imported
    );
    Ok(())
}

/// After a failed import: how far it got and how to finish it.
async fn explain_stopped_import(state: &AppState) {
    if let Ok(Some(run)) = loket::participants::store::unfinished_import(&state.db).await {
        eprintln!(
            "Impor #{} terhenti setelah {} dari {} baris; baris itu tetap tersimpan. Jalankan berkas yang sama lagi untuk menyelesaikannya. / Import #{} stopped after {} of {} rows; those rows stay stored. Run the same file again to finish it.",
            run.id, run.rows_done, run.rows_total, run.id, run.rows_done, run.rows_total
        );
    }
}

async fn import_catalog(config: Config, path: &Path, dry_run: bool) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    let sheet = loket::sheet::read_sheet(path)?;
    match loket::catalog::service::import(&state, None, &sheet, dry_run).await {
        Ok(summary) if summary.dry_run => println!(
            "{} baris valid, tidak ada yang disimpan (--dry-run) / {} rows valid, nothing written",
            summary.rows, summary.rows
        ),
        Ok(summary) => {
            let a = summary.applied;
            println!(
                "{} baris: {} baru, {} berubah, {} tetap; lembaga {} baru, {} berubah / rows: created, updated, unchanged; institutions created, updated",
                summary.rows,
                a.trainings_created,
                a.trainings_updated,
                a.trainings_unchanged,
                a.institutions_created,
                a.institutions_updated
            );
        }
        Err(ImportError::Rejected(errors)) => {
            let source = path.display().to_string();
            audit_rejected(&state.db, "catalog.import", &source, errors.len()).await?;
            return rejected(&errors, false);
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

async fn export_catalog(
    config: Config,
    format: FileFormat,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    let (format, default) = match format {
        FileFormat::Csv => (Format::Csv, "catalog.csv"),
        FileFormat::Xlsx => (Format::Xlsx, "catalog.xlsx"),
    };
    let out = out.unwrap_or_else(|| PathBuf::from(default));
    let written = loket::catalog::file::export(&state.db, format, &out).await?;
    println!(
        "{written} pelatihan ditulis ke / trainings written to {}",
        out.display()
    );
    Ok(())
}

async fn export_participants(
    config: Config,
    format: FileFormat,
    out: Option<PathBuf>,
    reason: &str,
) -> anyhow::Result<()> {
    // Checked before the database is opened: a missing reason changes nothing.
    if reason.trim().chars().count() < 5 {
        bail!("--reason: tuliskan alasan ekspor (minimal 5 karakter) / give the reason for the export (at least 5 characters)");
    }
    let state = AppState::open(config).await?;
    let (format, default) = match format {
        FileFormat::Csv => (Format::Csv, "participants.csv"),
        FileFormat::Xlsx => (Format::Xlsx, "participants.xlsx"),
    };
    let out = out.unwrap_or_else(|| PathBuf::from(default));
    let total = loket::participants::count(&state.db).await?;
    let bar = progress_bar(total as u64, "export");
    let written = file::export(&state.db, &state.vault, Scope::All, format, &out, |n| {
        bar.inc(n as u64);
    })
    .await?;
    bar.finish_and_clear();
    let entry = loket::audit::Entry {
        entity_id: None,
        ..loket::audit::Entry::new("participant.export", "participant", "")
    }
    .reason(format!(
        "{} ({written} baris/rows, {})",
        reason.trim(),
        out.display()
    ));
    super::audit_cli(&state.db, entry).await?;
    println!(
        "{written} baris ditulis ke / rows written to {}",
        out.display()
    );
    Ok(())
}

/// A refused import changes nothing, but that someone tried is part of the record.
async fn audit_rejected(
    db: &loket::db::Db,
    action: &'static str,
    source: &str,
    problems: usize,
) -> anyhow::Result<()> {
    let entry = loket::audit::Entry {
        entity_id: None,
        ..loket::audit::Entry::new(action, "file", "")
    }
    .reason(format!("{problems} masalah/problems: {source}"))
    .outcome(loket::audit::Outcome::Failed);
    super::audit_cli(db, entry).await
}
