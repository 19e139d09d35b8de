//! The audit trail as an operator and an auditor rely on it: entries commit with the change
//! they describe, the keyed chain and its checkpoints catch removal and rewriting, and the
//! administration done on the server is in the log.

mod administration;
mod anchor;
mod transaction;

use crate::common::{Backend, TestApp};

/// The `loket` binary run as an operator would, against the test app's database and key.
pub fn loket_cli(app: &TestApp) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_loket"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("USER", "operator")
        .env("LOKET_DATABASE_URL", &app.state.config.database_url)
        .env("LOKET_DATA_KEY", "42".repeat(32))
        .env("LOKET_KEY_FILE", app.state.config.key_file.as_os_str());
    command
}

/// Runs SQL as someone holding the database's own powers (not through loket).
pub async fn run_sql(app: &TestApp, sql: &str) {
    loket::with_db!(&app.state.db, |pool| {
        sqlx::query(sql).execute(pool).await.unwrap();
    });
}

/// What the append-only guard of the audit log is called on each backend, to switch it off as
/// an attacker with the database's powers would.
pub async fn drop_append_only_guard(app: &TestApp) {
    match app.backend {
        Backend::Sqlite => {
            run_sql(app, "DROP TRIGGER audit_log_no_update").await;
            run_sql(app, "DROP TRIGGER audit_log_no_delete").await;
        }
        Backend::Postgres => run_sql(app, "ALTER TABLE audit_log DISABLE TRIGGER USER").await,
    }
}
