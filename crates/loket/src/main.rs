//! The `loket` command: serve, migrate, seed demo data, import/export, accounts and tokens.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use loket::access::Scope;
use loket::auth::store::{self as users, NewUser};
use loket::auth::Role;
use loket::participants::file;
use loket::participants::store::Registration;
use loket::sheet::{Format, ImportError};
use loket::{AppState, Application, Config};

#[derive(Parser)]
#[command(
    name = "loket",
    version,
    about = "Counter Layanan Prakerja — BP2MI service counters for Purna PMI"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Global {
    /// sqlite://path (default, created on first run) or postgres://user@host/db
    #[arg(long, global = true, env = "LOKET_DATABASE_URL", default_value = loket::config::DEFAULT_DATABASE_URL)]
    database_url: String,
    /// Master data key (32 bytes, base64 or hex). Without it the key file is used or created.
    #[arg(long, global = true, env = "LOKET_DATA_KEY", hide_env_values = true)]
    data_key: Option<String>,
    /// Where the data key is kept when LOKET_DATA_KEY is not set (created with mode 0600).
    #[arg(
        long,
        global = true,
        env = "LOKET_KEY_FILE",
        default_value = "data/loket.key"
    )]
    key_file: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server.
    Serve {
        #[arg(long, env = "LOKET_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Seed demo data when the database is empty and print the demo logins.
        #[arg(long)]
        demo: bool,
        /// Mark cookies Secure (when served over HTTPS).
        #[arg(long, env = "LOKET_SECURE_COOKIES")]
        secure_cookies: bool,
    },
    /// Apply database migrations.
    Migrate,
    /// Seed deterministic demo data (offices, 92 counters, Purna PMI, demo accounts).
    Demo {
        #[arg(long, default_value_t = 5000)]
        participants: usize,
        /// Write the synthetic participants to this CSV file instead of the database.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Import a file (CSV or XLSX); all rows or none.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Export to CSV or XLSX.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage API tokens for partner systems.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Data keys: add, rotate, status.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// The counter network: list, import or export offices, counters and officers.
    Counters {
        #[command(subcommand)]
        action: CountersAction,
    },
    /// The dashboard figures (rollout, officers, reach, projection) for scripts.
    Dashboard {
        /// Print the full figures as JSON (the same as /api/v1/dashboard).
        #[arg(long)]
        json: bool,
        /// national, province:35, office:UPT-JATIM or counter:UPT-JATIM-01
        #[arg(long, default_value = "national")]
        scope: String,
        /// The day the figures are for, YYYY-MM-DD (default today, WIB).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// The Prakerja journey: rebuild the per-participant projection and the funnel roll-up from the events.
    Journey {
        #[command(subcommand)]
        action: JourneyAction,
    },
    /// Record linkage of CSV lists: run, dedupe, evaluate, generate, encode, example-config.
    Link {
        #[command(subcommand)]
        action: loket::linkage_jobs::LinkCommand,
    },
}

#[derive(Subcommand)]
enum CountersAction {
    /// Every counter with its office, status and planned opening date.
    List,
    /// Import offices, counters or officers (CSV or XLSX); all rows or none.
    Import {
        /// offices, counters or officers
        kind: String,
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
    },
    /// Export offices, counters or officers.
    Export {
        /// offices, counters or officers
        kind: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: FileFormat,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn network_kind(text: &str) -> anyhow::Result<loket::counters::file::Kind> {
    loket::counters::file::Kind::parse(text)
        .with_context(|| format!("unknown kind {text}; use offices, counters or officers"))
}

async fn counters_command(state: &AppState, action: CountersAction) -> anyhow::Result<()> {
    use loket::counters::file as netfile;
    match action {
        CountersAction::List => {
            for c in loket::counters::store::counter_rows(&state.db).await? {
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

async fn dashboard_command(
    state: &AppState,
    json: bool,
    scope: &str,
    as_of: Option<&str>,
) -> anyhow::Result<()> {
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

#[derive(Subcommand)]
enum JourneyAction {
    /// Recompute every participant's journey row from their events, sessions and contacts.
    Rebuild,
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Purna PMI records. Columns: see the README (nik, full_name, sex, birth_date, consent_processing, …).
    Participants {
        file: PathBuf,
        /// Check the file and report problems without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// Counter code the people are registered at (e.g. UPT-JATIM-01).
        #[arg(long)]
        counter: Option<String>,
    },
    /// The training catalogue: one row per training (training_id, title, institution_id, …,
    /// price_tokopedia … price_kariermu). Re-importing the same file changes nothing.
    Catalog {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum FileFormat {
    Csv,
    Xlsx,
}

#[derive(Subcommand)]
enum ExportWhat {
    Participants {
        #[arg(long, value_enum, default_value = "csv")]
        format: FileFormat,
        /// Output file (default: participants.csv / participants.xlsx).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Why the export is made (required; kept in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// The training catalogue, in the import format.
    Catalog {
        #[arg(long, value_enum, default_value = "csv")]
        format: FileFormat,
        /// Output file (default: catalog.csv / catalog.xlsx).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Create a user; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// admin, koordinator, petugas, mitra or auditor
        #[arg(long)]
        role: String,
        /// Counter code for a petugas (its office is taken from it).
        #[arg(long)]
        counter: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password, read from standard input.
    ResetPassword {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Create an API token for a user and print it once.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "cli")]
        label: String,
        /// Days until the token expires (default: never).
        #[arg(long)]
        days: Option<i64>,
        /// What a partner token may reach, e.g. exchange:participants (repeatable).
        #[arg(long = "grant")]
        grants: Vec<String>,
    },
    /// List a user's tokens (never the tokens themselves).
    List {
        #[arg(long)]
        username: String,
    },
    /// Revoke a token at once.
    Revoke {
        #[arg(long)]
        id: i64,
    },
}

#[derive(Subcommand)]
enum KeysAction {
    /// Add a new key to the key file; it seals new data from the next start on.
    Add,
    /// Re-encrypt NIK/KK/phone under the newest key and rebuild blind indexes (resumable).
    Rotate {
        /// Stop after this many batches of 1,000 (run again to resume).
        #[arg(long)]
        max_batches: Option<usize>,
    },
    /// How many records each key protects (an old key may be removed once it protects none).
    Status,
}

#[derive(Subcommand)]
enum AuditAction {
    /// Check the audit log's hash chain; exits non-zero if a row was changed or removed.
    Verify,
}

fn config(global: &Global) -> Config {
    Config {
        database_url: global.database_url.clone(),
        data_key: global.data_key.clone(),
        key_file: global.key_file.clone(),
        ..Config::default()
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if !from_stdin {
        bail!("pass --password-stdin and write the password to standard input (it never goes on the command line)");
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let password = text.trim_end_matches(['\n', '\r']).to_string();
    if let Err((id, en)) = users::check_password_rules(&password) {
        bail!("{id} / {en}");
    }
    Ok(password)
}

fn progress_bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{what} {{bar:40}} {{pos}}/{{len}} ({{per_sec}}, {{eta}})"
    )) {
        bar.set_style(style);
    }
    bar
}

async fn print_demo(state: &AppState, participants: usize) -> anyhow::Result<()> {
    let summary = loket::demo::seed(&state.db, &state.vault, participants).await?;
    println!(
        "Data demo / demo data: {} kantor/offices, {} loket/counters, {} Purna PMI",
        summary.offices, summary.counters, summary.participants
    );
    let (trainings, institutions) = loket::catalog::store::counts(&state.db).await?;
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
    let sample = dir.join("contoh-penerima-prakerja.csv");
    let rows = loket::reconcile::demo::seed_and_write(&state.db, &state.vault, &sample).await?;
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
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LOKET_LOG")
                .unwrap_or_else(|_| "loket=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut config = config(&cli.global);
    match cli.command {
        Command::Link { action } => loket::linkage_jobs::run(action)?,
        Command::Serve {
            bind,
            demo,
            secure_cookies,
        } => {
            config.bind = bind;
            config.secure_cookies = secure_cookies;
            let app = Application::build(config.clone())
                .await
                .with_context(|| format!("starting loket ({config})"))?;
            if demo {
                print_demo(app.state(), 5000).await?;
            }
            println!("loket listening on http://{}", app.local_addr()?);
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            AppState::open(config).await?;
            println!("migrations applied");
        }
        Command::Demo {
            participants,
            csv: Some(path),
        } => {
            let written = loket::demo::write_csv(&path, participants, 20_210_630)?;
            println!(
                "{written} baris ditulis ke / rows written to {}",
                path.display()
            );
        }
        Command::Demo {
            participants,
            csv: None,
        } => {
            let state = AppState::open(config).await?;
            print_demo(&state, participants).await?;
        }
        Command::Import {
            what:
                ImportWhat::Participants {
                    file: path,
                    dry_run,
                    counter,
                },
        } => {
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
            let sheet = loket::sheet::read_sheet(&path)?;
            let bar = progress_bar(sheet.rows.len() as u64, "import");
            let reg = Registration {
                counter_id,
                officer_id: None,
                at: chrono::Utc::now(),
            };
            match file::import(&state.db, &state.vault, &sheet, reg, dry_run, |n| {
                bar.inc(n as u64)
            })
            .await
            {
                Ok(summary) => {
                    bar.finish_and_clear();
                    if !summary.dry_run {
                        let entry = loket::audit::Entry {
                            entity_id: None,
                            ..loket::audit::Entry::new("participant.import", "participant", "")
                        }
                        .reason(format!(
                            "{} baris/rows from {}",
                            summary.imported,
                            path.display()
                        ));
                        loket::audit::record(&state.db, None, Some("cli"), entry).await?;
                    }
                    if summary.dry_run {
                        println!("{} baris valid, tidak ada yang disimpan (--dry-run) / {} rows valid, nothing written", summary.rows, summary.rows);
                    } else {
                        println!(
                            "{} baris diimpor / {} rows imported",
                            summary.imported, summary.imported
                        );
                    }
                }
                Err(ImportError::Rejected(errors)) => {
                    bar.abandon();
                    for e in errors.iter().take(200) {
                        eprintln!("{e}");
                    }
                    if errors.len() > 200 {
                        eprintln!("… {} more", errors.len() - 200);
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
        Command::Import {
            what:
                ImportWhat::Catalog {
                    file: path,
                    dry_run,
                },
        } => {
            let state = AppState::open(config).await?;
            let sheet = loket::sheet::read_sheet(&path)?;
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
                    for e in errors.iter().take(200) {
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
        Command::Export {
            what: ExportWhat::Catalog { format, out },
        } => {
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
        }
        Command::Export {
            what:
                ExportWhat::Participants {
                    format,
                    out,
                    reason,
                },
        } => {
            if reason.trim().chars().count() < 5 {
                bail!("--reason: tuliskan alasan ekspor (minimal 5 karakter) / give the reason for the export (at least 5 characters)");
            }
            let state = AppState::open(config).await?;
            let (format, default) = match format {
                FileFormat::Csv => (Format::Csv, "participants.csv"),
                FileFormat::Xlsx => (Format::Xlsx, "participants.xlsx"),
            };
            let out = out.unwrap_or_else(|| PathBuf::from(default));
            let total = loket::participants::store::count(&state.db).await?;
            let bar = progress_bar(total as u64, "export");
            let written = file::export(&state.db, &state.vault, Scope::All, format, &out, |n| {
                bar.inc(n as u64)
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
            loket::audit::record(&state.db, None, Some("cli"), entry).await?;
            println!(
                "{written} baris ditulis ke / rows written to {}",
                out.display()
            );
        }
        Command::User { action } => {
            let state = AppState::open(config).await?;
            match action {
                UserAction::Add {
                    username,
                    role,
                    counter,
                    password_stdin,
                } => {
                    let role = Role::parse(&role).with_context(|| {
                        format!("unknown role {role}; use one of {}", Role::codes())
                    })?;
                    let username = loket::auth::model::parse_username(&username)
                        .context("username: 3–40 of a-z, 0-9, . _ -")?;
                    let counter = match counter {
                        Some(code) => Some(
                            loket::counters::counter_by_code(&state.db, &code)
                                .await?
                                .with_context(|| format!("no counter with code {code}"))?,
                        ),
                        None => None,
                    };
                    if role == Role::Petugas && counter.is_none() {
                        bail!("a petugas works at a counter: pass --counter CODE");
                    }
                    let password = read_password(password_stdin)?;
                    let id = users::create_user(
                        &state.db,
                        NewUser {
                            username: &username,
                            password: &password,
                            role,
                            office_id: counter.as_ref().map(|c| c.office_id),
                            counter_id: counter.as_ref().map(|c| c.id),
                        },
                    )
                    .await?;
                    println!("user {username} ({}) created with id {id}", role.code());
                }
                UserAction::ResetPassword {
                    username,
                    password_stdin,
                } => {
                    let user = users::user_by_username(&state.db, &username)
                        .await?
                        .with_context(|| format!("no user {username}"))?;
                    let password = read_password(password_stdin)?;
                    users::set_password(&state.db, user.id, &password).await?;
                    println!("password of {username} changed");
                }
            }
        }
        Command::Token { action } => {
            let state = AppState::open(config).await?;
            match action {
                TokenAction::Create {
                    username,
                    label,
                    days,
                    grants,
                } => {
                    let user = users::user_by_username(&state.db, &username)
                        .await?
                        .with_context(|| format!("no user {username}"))?;
                    let expires = days.map(|d| chrono::Utc::now() + chrono::Duration::days(d));
                    let token =
                        users::create_token(&state.db, user.id, &label, &grants, expires).await?;
                    println!("{token}");
                }
                TokenAction::List { username } => {
                    let user = users::user_by_username(&state.db, &username)
                        .await?
                        .with_context(|| format!("no user {username}"))?;
                    for t in users::tokens_of(&state.db, user.id).await? {
                        let status = if t.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        println!("{:>5}  {:<20} {:<8} grants=[{}] created {} expires {:?} last used {:?}", t.id, t.label, status, t.grants, t.created_at, t.expires_at, t.last_used_at);
                    }
                }
                TokenAction::Revoke { id } => {
                    if !users::revoke_token(&state.db, id).await? {
                        bail!("no active token with id {id}");
                    }
                    println!("token {id} revoked");
                }
            }
        }
        Command::Keys {
            action: KeysAction::Add,
        } => {
            if config.data_key.is_some() {
                let key = base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    loket::vault::Vault::generate_master(),
                );
                println!("LOKET_DATA_KEY is set: add the new key to it yourself, e.g. LOKET_DATA_KEY=\"1:<old>,2:{key}\", restart, then run `loket keys rotate`.");
            } else {
                let id = loket::vault::Vault::add_key_to_file(&config.key_file)?;
                println!(
                    "key {id} added to {}; run `loket keys rotate` to re-encrypt existing data",
                    config.key_file.display()
                );
            }
        }
        Command::Keys {
            action: KeysAction::Rotate { max_batches },
        } => {
            let state = AppState::open(config).await?;
            let total = loket::participants::store::count(&state.db).await?;
            let bar = progress_bar(total as u64, "rotate");
            let report =
                loket::keys::rotate(&state.db, &state.vault, max_batches, |n| bar.inc(n as u64))
                    .await?;
            bar.finish_and_clear();
            let state_word = if report.finished {
                "finished"
            } else {
                "paused (run again to resume)"
            };
            println!(
                "rotation to key {}: {} rows re-encrypted in {} batches, {state_word}",
                report.to_key, report.rows_rewritten, report.batches
            );
        }
        Command::Keys {
            action: KeysAction::Status,
        } => {
            let state = AppState::open(config).await?;
            println!(
                "keys in the ring: {:?}, current {}",
                state.vault.key_ids(),
                state.vault.current_key_id()
            );
            for (id, count) in loket::keys::key_usage(&state.db).await? {
                println!("  key {id}: {count} participants");
            }
        }
        Command::Audit {
            action: AuditAction::Verify,
        } => {
            let state = AppState::open(config).await?;
            match loket::audit::verify(&state.db).await? {
                (checked, None) => println!("audit chain intact: {checked} entries verified"),
                (checked, Some(broken)) => {
                    bail!("audit chain BROKEN after {checked} good entries: {broken:?}")
                }
            }
        }
        Command::Counters { action } => {
            let state = AppState::open(config).await?;
            counters_command(&state, action).await?;
        }
        Command::Dashboard { json, scope, as_of } => {
            let state = AppState::open(config).await?;
            dashboard_command(&state, json, &scope, as_of.as_deref()).await?;
        }
        Command::Journey {
            action: JourneyAction::Rebuild,
        } => {
            let state = AppState::open(config).await?;
            let total = loket::participants::store::count(&state.db).await?;
            let bar = progress_bar(total as u64, "rebuild");
            let rebuilt =
                loket::journey::service::rebuild(&state.db, |n| bar.inc(n as u64)).await?;
            bar.finish_and_clear();
            println!("{rebuilt} perjalanan dihitung ulang / journeys rebuilt");
        }
    }
    Ok(())
}
