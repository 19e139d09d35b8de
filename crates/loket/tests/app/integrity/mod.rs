//! Nothing lost, nothing mixed (issue 12): the data keys, key rotation beside live edits,
//! bulk imports beside a live server, and `loket` killed midway and started again. The
//! command-line stories run the built `loket` binary as a child process.

mod import;
mod keys;
mod rotation;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use loket::access::Scope;
use loket::vault::Vault;

use crate::common::{TestApp, DATA_KEY};

/// The test app's key, as an operator would give it in `LOKET_DATA_KEY`.
fn app_key() -> String {
    hex::encode(DATA_KEY)
}

/// `loket args` against `database_url`, run in `dir`, with `data_key` as `LOKET_DATA_KEY`
/// (none: the key file is looked for, `data/loket.key` under `dir` unless told otherwise).
fn loket(database_url: &str, data_key: Option<&str>, dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_loket"));
    command
        .args(args)
        .current_dir(dir)
        .env("LOKET_DATABASE_URL", database_url)
        .env("LOKET_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .env_remove("LOKET_DATA_KEY")
        .env_remove("LOKET_KEY_FILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(key) = data_key {
        command.env("LOKET_DATA_KEY", key);
    }
    command
}

/// Runs a command to its end without blocking the test's runtime (the server runs on it).
async fn finish(mut child: Child) -> Output {
    while child.try_wait().unwrap().is_none() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.wait_with_output().unwrap()
}

async fn run(mut command: Command) -> Output {
    finish(command.spawn().unwrap()).await
}

/// Standard output and error of a finished command, for checks and failure messages.
fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `loket args` with the app's key and expects success; returns what it printed.
async fn loket_ok(app: &TestApp, dir: &Path, args: &[&str]) -> String {
    let key = app_key();
    let out = run(loket(&app.state.config.database_url, Some(&key), dir, args)).await;
    assert!(out.status.success(), "loket {args:?}:\n{}", said(&out));
    said(&out)
}

/// Starts `loket args` with `data_key`, lets it run for `after`, then kills it (SIGKILL).
async fn kill_after(app: &TestApp, data_key: &str, dir: &Path, args: &[&str], after: Duration) {
    let mut child = loket(&app.state.config.database_url, Some(data_key), dir, args)
        .spawn()
        .unwrap();
    tokio::time::sleep(after).await;
    let _ = child.kill();
    let _ = child.wait();
}

/// Every participant opens with `vault` (none sealed under a key it lacks); returns them.
async fn everyone_opens(
    app: &TestApp,
    vault: &Vault,
) -> Vec<loket::participants::model::Participant> {
    loket::participants::store::page(&app.state.db, vault, Scope::All, 0, 1_000_000)
        .await
        .expect("every record opens")
}
