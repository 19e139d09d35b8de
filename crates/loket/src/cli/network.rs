//! `loket counters` and `loket dashboard`: the counter network and its figures.

use std::path::PathBuf;

use anyhow::{bail, Context};

use loket::sheet::{Format, ImportError};
use loket::{AppState, Config};

use super::{CountersAction, FileFormat};

fn network_kind(text: &str) -> anyhow::Result<loket::counters::file::Kind> {
    loket::counters::file::Kind::parse(text)
        .with_context(|| format!("unknown kind {text}; use offices, counters or officers"))
}

/// `loket counters list|import|export`.
pub async fn counters(config: Config, action: CountersAction) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    use loket::counters::file as netfile;
    match action {
        CountersAction::List => {
            for c in loket::counters::counter_rows(&state.db).await? {
                let planned = c.planned_open.map(|d| d.to_string()).unwrap_or_default();
                println!(
                    "{:<16} {:<10} {:<10} {:<12} {}",
                    c.code, c.office_code, c.status, planned, c.name
                );
            }
        }
        CountersAction::Import {
            kind,
            file: path,
            dry_run,
        } => {
            let kind = network_kind(&kind)?;
            let sheet = loket::sheet::read_sheet(&path)?;
            match netfile::import(&state.db, None, kind, &sheet, dry_run).await {
                Ok(s) if s.dry_run => println!(
                    "{} baris valid, tidak ada yang disimpan (--dry-run) / {} rows valid, nothing written",
                    s.rows, s.rows
                ),
                Ok(s) => println!(
                    "{} baru, {} diperbarui / {} created, {} updated",
                    s.created, s.updated, s.created, s.updated
                ),
                Err(ImportError::Rejected(errors)) => {
                    for e in &errors {
                        eprintln!("{e}");
                    }
                    bail!(
                        "{} masalah; tidak ada yang diimpor / {} problem(s); nothing was imported",
                        errors.len(),
                        errors.len()
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        CountersAction::Export { kind, format, out } => {
            let kind = network_kind(&kind)?;
            let (format, ext) = match format {
                FileFormat::Csv => (Format::Csv, "csv"),
                FileFormat::Xlsx => (Format::Xlsx, "xlsx"),
            };
            let out = out.unwrap_or_else(|| {
                PathBuf::from(format!("{}.{ext}", format!("{kind:?}").to_lowercase()))
            });
            let n = netfile::export(&state.db, kind, format, &out).await?;
            println!("{n} baris ditulis ke / rows written to {}", out.display());
        }
    }
    Ok(())
}

/// `loket dashboard`: the figures as text, or with `--json` as the API gives them.
pub async fn dashboard(
    config: Config,
    json: bool,
    scope: &str,
    as_of: Option<&str>,
) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    let (scope, as_of) = loket::counters::api::dashboard_params(Some(scope), as_of)
        .map_err(|e| anyhow::anyhow!("{} / {}", e.messages().0, e.messages().1))?;
    let d = loket::counters::dashboard::compute(&state.db, &scope, as_of).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&d)?);
        return Ok(());
    }
    let r = &d.reach;
    println!("{} per/as of {}", d.scope_name, d.as_of);
    println!(
        "loket beroperasi / counters operating: {} of {}",
        d.counters.operating, d.counters.total
    );
    println!(
        "petugas bersertifikat / certified officers: {} of {}",
        d.officers_certified, d.officers_total
    );
    println!(
        "terjangkau / reached: {} (target {}), {} per week; projection {}",
        r.reached,
        r.target
            .map(|t| t.to_string())
            .unwrap_or_else(|| "-".into()),
        r.weekly_rate,
        r.met_on
            .map(|d| format!("met on {d}"))
            .or(r.projected_date.map(|d| d.to_string()))
            .unwrap_or_else(|| "not at the current rate".into())
    );
    for t in &d.targets {
        println!(
            "target {} {}: {} / actual {}",
            t.metric,
            t.period_end,
            t.target,
            t.actual
                .map(|a| a.to_string())
                .unwrap_or_else(|| "-".into())
        );
    }
    Ok(())
}
