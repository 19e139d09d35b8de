//! `loket link …` end to end: the built binary on small generated files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn loket(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loket"))
        .args(args)
        .env("LOKET_LOG", "warn")
        .output()
        .expect("run loket")
}

fn ok(args: &[&str]) -> String {
    let out = loket(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "loket {args:?} failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The F1 printed by `evaluate` ("precision P  recall R  F1 F").
fn f1_of(stdout: &str) -> f64 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("precision "))
        .unwrap_or_else(|| panic!("no evaluation line in\n{stdout}"));
    line.rsplit("F1 ").next().unwrap().trim().parse().unwrap()
}

struct Files {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    config: PathBuf,
    left: PathBuf,
    right: PathBuf,
}

/// Example config (from `example-config`, fewer u-samples: debug build) and two small lists.
fn setup() -> Files {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let example = ok(&["link", "example-config"]);
    assert!(example.contains("[[comparisons]]"));
    let config = dir.join("link.toml");
    std::fs::write(
        &config,
        example.replace("u_sample_pairs = 1000000", "u_sample_pairs = 200000"),
    )
    .unwrap();
    let (left, right) = (dir.join("left.csv"), dir.join("right.csv"));
    let out = ok(&[
        "link",
        "generate",
        "--left-rows",
        "1500",
        "--right-rows",
        "6000",
        "--overlap",
        "0.15",
        "--seed",
        "11",
        "--left",
        s(&left),
        "--right",
        s(&right),
    ]);
    assert!(out.contains("900 right rows are left people"), "{out}");
    let header = std::fs::read_to_string(&left).unwrap();
    assert!(header.starts_with("id,truth_id,nik,nama"), "{header:.80}");
    Files {
        _dir: tmp,
        dir,
        config,
        left,
        right,
    }
}

#[test]
fn generate_run_evaluate_dedupe() {
    let f = setup();
    let pairs = f.dir.join("pairs.csv");
    let out = ok(&[
        "link",
        "run",
        "--config",
        s(&f.config),
        s(&f.left),
        s(&f.right),
        "--out",
        s(&pairs),
    ]);
    for want in [
        "rows read: left 1500, right 6000",
        "pairs compared: ",
        "matches: ",
        "estimated parameters",
        "jaro_winkler >= 0.94",
        "timings: read+normalise",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    let written = std::fs::read_to_string(&pairs).unwrap();
    let mut lines = written.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("left_id,right_id,match_weight,match_probability,nik,name"));
    let n_pairs = lines.count();
    assert!((800..=950).contains(&n_pairs), "{n_pairs} pairs");

    let out = ok(&[
        "link",
        "evaluate",
        "--config",
        s(&f.config),
        s(&f.left),
        s(&f.right),
        "--truth",
        "truth_id",
    ]);
    let f1 = f1_of(&out);
    assert!(f1 >= 0.95, "F1 {f1}\n{out}");

    let clusters = f.dir.join("clusters.csv");
    let out = ok(&[
        "link",
        "dedupe",
        "--config",
        s(&f.config),
        s(&f.right),
        "--out",
        s(&clusters),
    ]);
    assert!(out.contains("rows read: 6000"), "{out}");
    let written = std::fs::read_to_string(&clusters).unwrap();
    assert_eq!(written.lines().next(), Some("id,cluster_id"));
    assert_eq!(written.lines().count(), 6001);

    let out = ok(&[
        "link",
        "run",
        "--read-only",
        s(&f.left),
        s(&f.right),
        "--config",
        s(&f.config),
    ]);
    assert!(
        out.contains("left 1500 rows") && out.contains("right 6000 rows"),
        "{out}"
    );
}

#[test]
fn encoded_inputs_link_end_to_end() {
    let f = setup();
    let key = f.dir.join("shared.key");
    let (le, re) = (f.dir.join("left.enc.csv"), f.dir.join("right.enc.csv"));

    // Without the key file and without --create-key: a clear error, nothing created.
    let out = loket(&[
        "link",
        "encode",
        "--config",
        s(&f.config),
        "--key-file",
        s(&key),
        "--side",
        "left",
        s(&f.left),
        "--out",
        s(&le),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--create-key"));
    assert!(!key.exists());

    let mut printed = String::new();
    for (side, input, output, create) in [
        ("left", &f.left, &le, true),
        ("right", &f.right, &re, false),
    ] {
        let mut args = vec![
            "link",
            "encode",
            "--config",
            s(&f.config),
            "--key-file",
            s(&key),
            "--side",
            side,
            s(input),
            "--out",
            s(output),
        ];
        if create {
            args.push("--create-key");
        }
        let out = loket(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        printed.push_str(&String::from_utf8_lossy(&out.stdout));
        printed.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "key file mode {mode:o}");
    }
    let secret = std::fs::read_to_string(&key).unwrap();
    assert_eq!(secret.trim().len(), 64);
    assert!(!printed.contains(secret.trim()), "the key was printed");

    // The encoded files carry no NIK or name in clear.
    let enc = std::fs::read_to_string(&le).unwrap();
    let plain = std::fs::read_to_string(&f.left).unwrap();
    let nik = plain.lines().nth(1).unwrap().split(',').nth(2).unwrap();
    assert!(nik.len() == 16 && !enc.contains(nik));
    assert!(enc.lines().next().unwrap().contains("bk0"));

    // `run` detects encoded inputs; `evaluate` gives the quality.
    let pairs = f.dir.join("pairs.enc.csv");
    let out = ok(&[
        "link",
        "run",
        "--config",
        s(&f.config),
        s(&le),
        s(&re),
        "--out",
        s(&pairs),
    ]);
    assert!(out.contains("(encoded inputs)"), "{out}");
    let out = ok(&["link", "evaluate", "--config", s(&f.config), s(&le), s(&re)]);
    let f1 = f1_of(&out);
    assert!(f1 >= 0.9, "encoded F1 {f1}\n{out}");
}

#[test]
fn bad_config_names_the_field() {
    let f = setup();
    let text = std::fs::read_to_string(&f.config).unwrap();

    // A comparison on a field that does not exist.
    let bad = f.dir.join("bad.toml");
    std::fs::write(
        &bad,
        text.replacen(
            "[[comparisons]]\nfield = \"name\"",
            "[[comparisons]]\nfield = \"nmae\"",
            1,
        ),
    )
    .unwrap();
    let out = loket(&[
        "link",
        "run",
        "--config",
        s(&bad),
        s(&f.left),
        s(&f.right),
        "--out",
        s(&f.dir.join("x.csv")),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nmae") && err.contains("bad.toml"), "{err}");

    // A misspelt setting.
    std::fs::write(&bad, text.replacen("threshold = 0.5", "treshold = 0.5", 1)).unwrap();
    let out = loket(&[
        "link",
        "evaluate",
        "--config",
        s(&bad),
        s(&f.left),
        s(&f.right),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("treshold"), "{err}");

    // A column missing from the file.
    std::fs::write(
        &bad,
        text.replacen("column = \"nama\"", "column = \"nama_lengkap\"", 1),
    )
    .unwrap();
    let out = loket(&[
        "link",
        "run",
        "--config",
        s(&bad),
        s(&f.left),
        s(&f.right),
        "--out",
        s(&f.dir.join("x.csv")),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nama_lengkap"), "{err}");
}
