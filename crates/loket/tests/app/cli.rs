//! The operator's day at the command line: `loket demo` on a fresh machine, accounts that can
//! do their job, and messages a person can act on. (The built binary on a SQLite file: the
//! commands are the same on PostgreSQL, whose stories are in the other areas.)

use std::process::{Command, Output};

/// `loket args…` run in `dir` with a fixed data key, `stdin` written to it.
fn loket_in(dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    crate::common::run_with_input(
        Command::new(env!("CARGO_BIN_EXE_loket"))
            .args(args)
            .current_dir(dir)
            .env("LOKET_LOG", "warn")
            .env("LOKET_DATA_KEY", "42".repeat(32))
            .env("LOKET_DATABASE_URL", "sqlite://loket.db"),
        stdin,
    )
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn an_operator_seeds_the_demo_and_adds_a_coordinator_with_clear_answers() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // No ./data yet (the key comes from the environment): the demo makes it for its sample.
    let out = loket_in(dir, &["demo", "--participants", "40"], "");
    assert!(out.status.success(), "{}", said(&out));
    assert!(dir.join("data/contoh-penerima-prakerja.csv").exists());
    let printed = said(&out);
    for role in ["admin", "koordinator", "petugas", "auditor", "mitra"] {
        assert!(printed.contains(&format!("login: {role} ")), "{printed}");
    }
    assert!(printed.contains("API token: lkt_") || printed.contains("API token: "));

    let add = |extra: &[&str]| {
        let mut args = vec![
            "user",
            "add",
            "--username",
            "koord.jatim",
            "--role",
            "koordinator",
        ];
        args.extend_from_slice(extra);
        args.push("--password-stdin");
        loket_in(dir, &args, "sawah-hijau-2021-kopi\n")
    };
    // A coordinator without an office would see nobody.
    let out = add(&[]);
    assert!(!out.status.success());
    assert!(said(&out).contains("pass --office CODE"), "{}", said(&out));
    let out = add(&["--office", "UPT-JATIM"]);
    assert!(out.status.success(), "{}", said(&out));
    // The same name again: a sentence, not a debug dump.
    let out = add(&["--office", "UPT-JATIM"]);
    assert!(!out.status.success());
    let answer = said(&out);
    assert!(
        answer.contains("username koord.jatim is already taken"),
        "{answer}"
    );
    assert!(!answer.contains("{ "), "{answer}");

    // An agency's staff is made with its agency, not changed into one (it would be refused
    // everywhere without it).
    let out = loket_in(
        dir,
        &[
            "user",
            "change",
            "--username",
            "koord.jatim",
            "--role",
            "lembaga",
        ],
        "",
    );
    assert!(!out.status.success());
    assert!(
        said(&out).contains("--role lembaga --agency CODE"),
        "{}",
        said(&out)
    );

    let help = said(&loket_in(dir, &["user", "add", "--help"], ""));
    assert!(help.contains("Office code for a koordinator"), "{help}");
    assert!(
        help.contains("Read the password from standard input"),
        "{help}"
    );
    let help = said(&loket_in(dir, &["serve", "--help"], ""));
    assert!(help.contains("Address and port to listen on"), "{help}");
}
