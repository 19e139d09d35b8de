//! The doors an attacker or a fuzzer tries (issue 13): sessions that outlive a change of the
//! account, personal data left in caches, sign-in throttling under concurrent attempts, login
//! CSRF and cross-origin posts, redirects off the site, formulas in CSV exports, control and
//! invisible characters, and files or fields larger than loket accepts.
mod exports;
mod limits;
mod redirects;
mod sessions;
mod signin;
mod text;

use std::process::Output;

use crate::common::{TestApp, DATA_KEY_HEX};

/// Runs the `loket` binary on the test app's database, with `stdin` as standard input.
pub fn loket_cli(app: &TestApp, args: &[&str], stdin: &str) -> Output {
    let out = crate::common::run_with_input(
        std::process::Command::new(env!("CARGO_BIN_EXE_loket"))
            .args(args)
            .env("LOKET_DATABASE_URL", &app.state.config.database_url)
            .env("LOKET_DATA_KEY", DATA_KEY_HEX)
            .env("LOKET_LOG", "warn"),
        stdin,
    );
    assert!(
        out.status.success(),
        "loket {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
