//! The `loket` command line: the clap types, one function per subcommand (grouped in files by
//! topic) and [`dispatch`], which opens what a command needs and runs it. The library holds the
//! features; this module only parses arguments, prints and sets exit codes.

mod accounts;
mod files;
mod integrity;
mod journey;
mod link;
mod network;
mod server;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use loket::Config;

#[derive(Parser)]
#[command(
    name = "loket",
    version,
    about = "Counter Layanan Prakerja — BP2MI service counters for Purna PMI"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args)]
pub struct Global {
    /// sqlite://path (default, created on first run) or postgres://user@host/db
    #[arg(long, global = true, env = "LOKET_DATABASE_URL", default_value = loket::config::DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Master data key (32 bytes, base64 or hex). Without it the key file is used or created.
    #[arg(long, global = true, env = "LOKET_DATA_KEY", hide_env_values = true)]
    pub data_key: Option<String>,
    /// Where the data key is kept when LOKET_DATA_KEY is not set (created with mode 0600).
    #[arg(
        long,
        global = true,
        env = "LOKET_KEY_FILE",
        default_value = "data/loket.key"
    )]
    pub key_file: PathBuf,
    #[command(flatten)]
    pub reminders: ReminderFlags,
}

/// Where reminders go (see the README's configuration table); secrets are never printed.
#[derive(Args)]
pub struct ReminderFlags {
    /// WhatsApp Business Cloud API base URL, e.g. https://graph.facebook.com
    #[arg(long, global = true, env = "LOKET_WHATSAPP_URL")]
    pub whatsapp_url: Option<String>,
    #[arg(
        long,
        global = true,
        env = "LOKET_WHATSAPP_VERSION",
        default_value = "v21.0"
    )]
    pub whatsapp_version: String,
    #[arg(
        long,
        global = true,
        env = "LOKET_WHATSAPP_PHONE_ID",
        default_value = ""
    )]
    pub whatsapp_phone_id: String,
    #[arg(
        long,
        global = true,
        env = "LOKET_WHATSAPP_TOKEN",
        hide_env_values = true
    )]
    pub whatsapp_token: Option<String>,
    /// The app secret that signs WhatsApp's webhooks (X-Hub-Signature-256).
    #[arg(
        long,
        global = true,
        env = "LOKET_WHATSAPP_APP_SECRET",
        hide_env_values = true
    )]
    pub whatsapp_app_secret: Option<String>,
    #[arg(
        long,
        global = true,
        env = "LOKET_WHATSAPP_VERIFY_TOKEN",
        hide_env_values = true
    )]
    pub whatsapp_verify_token: Option<String>,
    /// An approved template with one body parameter (the message); without it, text messages.
    #[arg(long, global = true, env = "LOKET_WHATSAPP_TEMPLATE")]
    pub whatsapp_template: Option<String>,
    /// An SMS HTTP gateway's URL.
    #[arg(long, global = true, env = "LOKET_SMS_URL", hide_env_values = true)]
    pub sms_url: Option<String>,
    /// One header `Name: value` the gateway authenticates with.
    #[arg(
        long,
        global = true,
        env = "LOKET_SMS_AUTH_HEADER",
        hide_env_values = true
    )]
    pub sms_auth_header: Option<String>,
    /// The body with {to}, {text} and {ref}: JSON when it starts with `{`, else a form.
    #[arg(long, global = true, env = "LOKET_SMS_BODY_TEMPLATE")]
    pub sms_body_template: Option<String>,
    /// The secret the gateway's webhook sends in X-Loket-Secret.
    #[arg(
        long,
        global = true,
        env = "LOKET_SMS_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub sms_webhook_secret: Option<String>,
    /// The file/log channel: one JSON line per message (number masked).
    #[arg(long, global = true, env = "LOKET_REMINDER_FILE")]
    pub reminder_file: Option<PathBuf>,
    /// Quiet hours in the person's own zone, FROM-UNTIL (0-0: none).
    #[arg(long, global = true, env = "LOKET_QUIET_HOURS", default_value = "21-7")]
    pub quiet_hours: String,
    /// At most this many messages per person in seven days.
    #[arg(
        long,
        global = true,
        env = "LOKET_REMINDER_WEEKLY_LIMIT",
        default_value_t = 2
    )]
    pub reminder_weekly_limit: i64,
}

impl ReminderFlags {
    fn config(&self) -> loket::config::Reminders {
        let defaults = loket::config::Reminders::default();
        let (quiet_from, quiet_until) = self
            .quiet_hours
            .split_once('-')
            .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
            .filter(|(a, b): &(u32, u32)| *a < 24 && *b < 24)
            .unwrap_or((defaults.quiet_from, defaults.quiet_until));
        loket::config::Reminders {
            whatsapp_url: self.whatsapp_url.clone(),
            whatsapp_version: self.whatsapp_version.clone(),
            whatsapp_phone_id: self.whatsapp_phone_id.clone(),
            whatsapp_token: self.whatsapp_token.clone(),
            whatsapp_app_secret: self.whatsapp_app_secret.clone(),
            whatsapp_template: self.whatsapp_template.clone(),
            whatsapp_verify_token: self.whatsapp_verify_token.clone(),
            sms_url: self.sms_url.clone(),
            sms_auth_header: self.sms_auth_header.clone(),
            sms_body_template: self
                .sms_body_template
                .clone()
                .unwrap_or(defaults.sms_body_template.clone()),
            sms_webhook_secret: self.sms_webhook_secret.clone(),
            file: self.reminder_file.clone(),
            quiet_from,
            quiet_until,
            weekly_limit: self.reminder_weekly_limit,
            ..defaults
        }
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the web server.
    Serve {
        /// Address and port to listen on (0.0.0.0:8080 to serve the office network).
        #[arg(long, env = "LOKET_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Seed demo data when the database is empty and print the demo logins.
        #[arg(long)]
        demo: bool,
        /// Mark cookies Secure (when served over HTTPS).
        #[arg(long, env = "LOKET_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Write a signed audit checkpoint to this file at start and on a schedule (keep it,
        /// or copies of it, away from the database server).
        #[arg(long, env = "LOKET_AUDIT_CHECKPOINT")]
        audit_checkpoint: Option<PathBuf>,
        /// Minutes between audit checkpoints.
        #[arg(long, env = "LOKET_AUDIT_CHECKPOINT_MINUTES", default_value_t = 60)]
        audit_checkpoint_minutes: u64,
    },
    /// Apply database migrations.
    Migrate,
    /// Seed deterministic demo data (offices, 92 counters, Purna PMI, demo accounts).
    Demo {
        /// How many synthetic Purna PMI to register.
        #[arg(long, default_value_t = 5000)]
        participants: usize,
        /// Write the synthetic participants to this CSV file instead of the database.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Import a file (CSV or XLSX). A bad file imports nothing; an interrupted participant
    /// import is finished by running the same file again.
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
    /// Reminders by WhatsApp/SMS: send what is due now.
    Reminders {
        #[command(subcommand)]
        action: RemindersAction,
    },
    /// Record linkage of CSV lists: run, dedupe, evaluate, generate, encode, example-config.
    Link {
        #[command(subcommand)]
        action: link::LinkCommand,
    },
}

#[derive(Subcommand)]
pub enum CountersAction {
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

#[derive(Subcommand)]
pub enum JourneyAction {
    /// Recompute every participant's journey row from their events, sessions and contacts.
    Rebuild,
}

#[derive(Subcommand)]
pub enum ImportWhat {
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
pub enum FileFormat {
    Csv,
    Xlsx,
}

#[derive(Subcommand)]
pub enum ExportWhat {
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
pub enum UserAction {
    /// Create a user; the password is read from standard input.
    Add {
        /// The sign-in name: 3–40 of a-z, 0-9, . _ -
        #[arg(long)]
        username: String,
        /// admin, koordinator, petugas, mitra, auditor or lembaga
        #[arg(long)]
        role: String,
        /// Counter code for a petugas (its office is taken from it).
        #[arg(long)]
        counter: Option<String>,
        /// Agency code for a lembaga (partner agency staff), e.g. BLK-SBY.
        #[arg(long)]
        agency: Option<String>,
        /// Office code for a koordinator (e.g. UPT-JATIM): the office whose people they see.
        #[arg(long)]
        office: Option<String>,
        /// Read the password from standard input (it never goes on the command line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password, read from standard input (the user's sessions end).
    ResetPassword {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Give a user another role or counter (the user's sessions end).
    Change {
        #[arg(long)]
        username: String,
        /// admin, koordinator, petugas, mitra or auditor (default: unchanged); a lembaga is
        /// added with its agency (`user add --role lembaga --agency CODE`)
        #[arg(long)]
        role: Option<String>,
        /// Counter code (its office is taken from it); default: unchanged
        #[arg(long)]
        counter: Option<String>,
    },
    /// Deactivate a user: sessions end and API tokens are revoked.
    Deactivate {
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
pub enum TokenAction {
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
pub enum KeysAction {
    /// Add a new key to the key file; it seals new data from the next start on.
    Add,
    /// Re-encrypt NIK/KK/phone under the newest key and rebuild blind indexes (resumable).
    Rotate {
        /// Stop after this many batches of 1,000 (run again to resume).
        #[arg(long)]
        max_batches: Option<usize>,
    },
    /// How many records each key protects (an old key may be removed once it protects none,
    /// except the first: it keys the audit log).
    Status,
}

#[derive(Subcommand)]
pub enum RemindersAction {
    /// Send the reminders due now, once (for cron or tests; `serve` runs the worker itself).
    Send {
        /// At most this many messages.
        #[arg(long, default_value_t = 1000)]
        limit: i64,
    },
}

#[derive(Subcommand)]
pub enum AuditAction {
    /// Check the audit log's keyed hash chain; exits non-zero if a row was changed or removed.
    Verify {
        /// Also check against a checkpoint written earlier (`loket audit checkpoint`): catches
        /// entries removed from the end and a log rewritten since.
        #[arg(long)]
        against: Option<PathBuf>,
    },
    /// Sign the chain's current head (entry count and last link) into a file to keep outside
    /// the database; `verify --against` checks the log still holds it.
    Checkpoint {
        #[arg(long)]
        out: PathBuf,
    },
}

/// The configuration the global flags describe (everything else at its default).
fn config(global: &Global) -> Config {
    Config {
        database_url: global.database_url.clone(),
        data_key: global.data_key.clone(),
        key_file: global.key_file.clone(),
        reminders: global.reminders.config(),
        ..Config::default()
    }
}

/// Who the audit log names for a command run on the server: the CLI, and the operating-system
/// account that ran it when the environment says.
fn cli_actor() -> String {
    match std::env::var("USER").or_else(|_| std::env::var("LOGNAME")) {
        Ok(user) if !user.trim().is_empty() => format!("system/cli ({})", user.trim()),
        _ => "system/cli".to_string(),
    }
}

/// Records what an operator did from the command line.
async fn audit_cli(db: &loket::db::Db, entry: loket::audit::Entry) -> anyhow::Result<()> {
    loket::audit::record(db, None, Some(&cli_actor()), entry).await?;
    Ok(())
}

/// A progress bar on stderr for `len` rows of `what`.
fn progress_bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{what} {{bar:40}} {{pos}}/{{len}} ({{per_sec}}, {{eta}})"
    )) {
        bar.set_style(style);
    }
    bar
}

/// Runs the parsed command.
pub async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let config = config(&cli.global);
    match cli.command {
        Command::Link { action } => link::run(action),
        Command::Serve {
            bind,
            demo,
            secure_cookies,
            audit_checkpoint,
            audit_checkpoint_minutes,
        } => {
            let checkpoints = audit_checkpoint.map(|file| {
                let every = std::time::Duration::from_secs(audit_checkpoint_minutes.max(1) * 60);
                (file, every)
            });
            server::serve(config, bind, demo, secure_cookies, checkpoints).await
        }
        Command::Migrate => server::migrate(config).await,
        Command::Demo { participants, csv } => server::demo(config, participants, csv).await,
        Command::Import { what } => files::import(config, what).await,
        Command::Export { what } => files::export(config, what).await,
        Command::User { action } => accounts::user(config, action).await,
        Command::Token { action } => accounts::token(config, action).await,
        Command::Keys { action } => integrity::keys(config, action).await,
        Command::Audit { action } => integrity::audit(config, action).await,
        Command::Counters { action } => network::counters(config, action).await,
        Command::Dashboard { json, scope, as_of } => {
            network::dashboard(config, json, &scope, as_of.as_deref()).await
        }
        Command::Journey { action } => journey::journey(config, action).await,
        Command::Reminders { action } => match action {
            RemindersAction::Send { limit } => server::send_reminders(config, limit).await,
        },
    }
}
