//! `loket serve`, `loket migrate` and `loket demo`: running the app and preparing its database.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;

use loket::{AppState, Application, Config};

/// `loket serve`: runs the web server until stopped, seeding demo data first with `--demo`.
pub async fn serve(
    mut config: Config,
    bind: SocketAddr,
    demo: bool,
    secure_cookies: bool,
    checkpoints: Option<(PathBuf, std::time::Duration)>,
) -> anyhow::Result<()> {
    config.bind = bind;
    config.secure_cookies = secure_cookies;
    let r = &mut config.reminders;
    if demo && r.file.is_none() && r.whatsapp_url.is_none() && r.sms_url.is_none() {
        // The demo "sends" its reminders to a file beside its database.
        r.file = Some(PathBuf::from("data/reminders.jsonl"));
    }
    let app = Application::build(config.clone())
        .await
        .with_context(|| format!("starting loket ({config})"))?;
    if demo {
        print_demo(app.state(), 5000).await?;
    }
    if let Some((file, every)) = checkpoints {
        tokio::spawn(write_checkpoints(app.state().db.clone(), file, every));
    }
    println!("loket listening on http://{}", app.local_addr()?);
    app.run_until_stopped().await?;
    Ok(())
}

/// Signs the audit chain's head into `file` now and every `every`; a failure is logged and
/// tried again next time, never stops the server.
async fn write_checkpoints(db: loket::db::Db, file: PathBuf, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        let written = match loket::audit::checkpoint(&db).await {
            Ok(point) => loket::audit::write_checkpoint(&file, &point).map_err(anyhow::Error::from),
            Err(e) => Err(anyhow::anyhow!("{e}")),
        };
        if let Err(e) = written {
            tracing::error!(file = %file.display(), error = %e, "audit checkpoint failed");
        }
    }
}

/// `loket migrate`: opening the app applies the pending migrations (and makes the data key of
/// a new database).
pub async fn migrate(config: Config) -> anyhow::Result<()> {
    AppState::open_or_initialise(config).await?;
    println!("migrations applied");
    Ok(())
}

/// `loket reminders send`: one pass of the sending worker (what the server does every few
/// seconds), for cron or a check; prints what it did.
pub async fn send_reminders(config: Config, limit: i64) -> anyhow::Result<()> {
    let state = AppState::open_or_initialise(config).await?;
    let pass = loket::reminders::send_due(&state, chrono::Utc::now(), limit.max(1)).await?;
    println!(
        "terkirim/sent {}, dicoba lagi/retried {}, gagal/failed {}, ditunda (jam tenang)/later (quiet hours) {}",
        pass.sent, pass.retried, pass.failed, pass.later
    );
    Ok(())
}

/// `loket demo`: seeds the database, or with `--csv` only writes the synthetic people to a file.
pub async fn demo(config: Config, participants: usize, csv: Option<PathBuf>) -> anyhow::Result<()> {
    if let Some(path) = csv {
        let written = loket::demo::write_csv(&path, participants, 20_210_630)?;
        println!(
            "{written} baris ditulis ke / rows written to {}",
            path.display()
        );
        return Ok(());
    }
    let state = AppState::open(config).await?;
    print_demo(&state, participants).await
}

async fn print_demo(state: &AppState, participants: usize) -> anyhow::Result<()> {
    let summary = loket::demo::seed(&state.db, &state.vault, participants).await?;
    println!(
        "Data demo / demo data: {} kantor/offices, {} loket/counters, {} Purna PMI",
        summary.offices, summary.counters, summary.participants
    );
    let (trainings, institutions) = loket::catalog::counts(&state.db).await?;
    println!(
        "Katalog / catalogue: {trainings} pelatihan/trainings, {institutions} lembaga/institutions"
    );
    // A programme-office file to try the exchange with, next to the database's key.
    let dir = state
        .config
        .key_file
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    // With LOKET_DATA_KEY set nothing has made the key file's folder yet.
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating {} for the sample file", dir.display()))?;
    let sample = dir.join("contoh-penerima-prakerja.csv");
    let maker = loket::demo::stranger_maker();
    let rows =
        loket::exchange::demo::seed_and_write(&state.db, &state.vault, &sample, &maker).await?;
    println!(
        "Contoh berkas Prakerja / sample programme-office file ({rows} rows): {} (upload at /exchange)",
        sample.display()
    );
    for login in &summary.logins {
        println!(
            "  login: {:<12} password: {:<28} ({})",
            login.username,
            login.password,
            login.role.code()
        );
        if let Some(token) = &login.token {
            println!("         API token: {token}");
        }
    }
    Ok(())
}
