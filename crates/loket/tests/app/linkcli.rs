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
        "blocks skipped as too large: 0 blocks, 0 records in them\n",
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
    assert_eq!(written.lines().next(), Some("id,cluster_id,cluster_size"));
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

// ------------------------------------------------------------------------- dedupe (issue 21) --

/// `loket link …` that must fail: its standard error.
fn fails(args: &[&str]) -> String {
    let out = loket(args);
    assert!(
        !out.status.success(),
        "loket {args:?} succeeded\nstdout:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

struct DedupeFiles {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    config: PathBuf,
    people: PathBuf,
}

/// `example-config --dedupe` (fewer u-samples: debug build) and a generated list of 3,000 rows
/// with duplicates whose id column is renamed `rec_id` (the outputs must keep that name).
fn dedupe_setup() -> DedupeFiles {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let example = ok(&["link", "example-config", "--dedupe"]);
    assert_eq!(example, linkage::EXAMPLE_DEDUPE_CONFIG);
    let config = dir.join("dedupe.toml");
    std::fs::write(
        &config,
        example
            .replace("u_sample_pairs = 1000000", "u_sample_pairs = 200000")
            .replace("id = \"id\"", "id = \"rec_id\""),
    )
    .unwrap();
    let generated = dir.join("generated.csv");
    let out = ok(&[
        "link",
        "generate",
        "--dedupe",
        s(&generated),
        "--rows",
        "3000",
        "--overlap",
        "0.1",
        "--seed",
        "5",
    ]);
    assert!(out.starts_with("3000 rows with duplicates → "), "{out}");
    let text = std::fs::read_to_string(&generated).unwrap();
    assert!(text.starts_with("id,truth_id,nik,nama"), "{text:.80}");
    let people = dir.join("people.csv");
    std::fs::write(&people, text.replacen("id,", "rec_id,", 1)).unwrap();
    DedupeFiles {
        _dir: tmp,
        dir,
        config,
        people,
    }
}

fn dedupe(f: &DedupeFiles, out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "link",
        "dedupe",
        "--config",
        s(&f.config),
        s(&f.people),
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    ok(&args)
}

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let mut rows = vec![reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect()];
    for r in reader.records() {
        rows.push(r.unwrap().iter().map(str::to_string).collect());
    }
    rows
}

#[test]
fn dedupe_out_writes_clusters_or_pairs_under_headers_that_keep_the_id_column() {
    let f = dedupe_setup();
    let clusters = f.dir.join("clusters.csv");
    dedupe(&f, &clusters, &[]);
    let rows = read_csv(&clusters);
    assert_eq!(rows[0], ["rec_id", "cluster_id", "cluster_size"]);
    assert_eq!(rows.len(), 3001);
    // cluster_size is the number of records that carry the cluster id.
    let mut sizes = std::collections::HashMap::new();
    for r in &rows[1..] {
        *sizes.entry(r[1].clone()).or_insert(0usize) += 1;
    }
    for r in &rows[1..] {
        assert_eq!(r[2], sizes[&r[1]].to_string(), "{r:?}");
    }
    assert!(sizes.values().any(|&n| n > 1), "no duplicate found");

    let pairs = f.dir.join("pairs.csv");
    let out = dedupe(&f, &pairs, &["--output", "pairs"]);
    assert!(out.ends_with(&format!("pairs written to {}\n", pairs.display())));
    let rows = read_csv(&pairs);
    assert_eq!(
        rows[0],
        [
            "rec_id_1",
            "rec_id_2",
            "match_weight",
            "match_probability",
            "nik",
            "name",
            "birth_date",
            "sex",
            "region",
            "phone",
            "clustered"
        ]
    );
    assert!(rows.len() > 100, "{} pairs", rows.len() - 1);
    let first = &rows[1];
    assert!(
        first[0].starts_with('D') && first[1].starts_with('D'),
        "{first:?}"
    );
    assert!(first[3].parse::<f64>().unwrap() >= 0.5);
    assert!(["exact", "nik_typo", "else", "null"].contains(&first[4].as_str()));
    assert!(["true", "false"].contains(&first[10].as_str()));
}

#[test]
fn dedupe_summary_says_each_thing_once_and_json_for_scripts() {
    let f = dedupe_setup();
    let clusters = f.dir.join("clusters.csv");
    let text = dedupe(&f, &clusters, &["--truth", "truth_id"]);
    let labels = [
        "rows read: 3000\n",
        "pairs compared: ",
        "blocks skipped as too large: ",
        "pairs at or above threshold 0.5: ",
        "clusters: ",
        "estimated parameters",
        "timings: ",
        "precision ",
    ];
    for label in labels {
        assert_eq!(text.matches(label).count(), 1, "{label:?} in\n{text}");
    }
    // The row count, the evaluation and the wall time are said once.
    assert_eq!(text.matches("3000").count(), 1, "{text}");
    assert_eq!(text.matches("F1").count(), 1, "{text}");
    assert_eq!(text.matches("wall time").count(), 1, "{text}");
    assert!(
        text.ends_with(&format!("clusters written to {}\n", clusters.display())),
        "{text}"
    );

    let json = dedupe(&f, &clusters, &["--truth", "truth_id", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("stdout is one JSON object");
    assert_eq!(v["rows"], 3000);
    assert_eq!(v["threshold"], 0.5);
    assert_eq!(v["output"], "clusters");
    assert_eq!(v["out"], s(&clusters));
    let n_clusters = v["clusters"].as_u64().unwrap();
    assert!((2000..3000).contains(&n_clusters), "{n_clusters}");
    assert!(v["clusters_with_duplicates"].as_u64().unwrap() > 0);
    assert!(v["largest_cluster"].as_u64().unwrap() <= 5);
    assert!(v["pairs_per_rule"]["nik"].as_u64().is_some());
    assert!(v["candidate_pairs"].as_u64().unwrap() >= v["pairs_above_threshold"].as_u64().unwrap());
    assert_eq!(v["skipped_blocks"], 0);
    assert_eq!(v["skipped_records"], 0);
    assert!(v["timings_ms"]["total"].as_f64().unwrap() > 0.0);
    assert!(v["wall_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(v["model"]["comparisons"][0]["name"], "nik");
    let f1 = v["evaluation"]["f1"].as_f64().unwrap();
    assert!(f1 >= 0.9, "F1 {f1}");
    // The same figures as the console.
    assert!(
        text.contains(&format!("clusters: {n_clusters} (")),
        "{text}"
    );
}

#[test]
fn a_truth_column_that_does_not_exist_is_an_error() {
    let f = dedupe_setup();
    let out = f.dir.join("x.csv");
    let header = "rec_id, truth_id, nik, nama, jenis_kelamin, tanggal_lahir, kabupaten, telepon";
    let err = fails(&[
        "link",
        "dedupe",
        "--config",
        s(&f.config),
        s(&f.people),
        "--out",
        s(&out),
        "--truth",
        "truth",
    ]);
    assert!(
        err.contains(&format!(
            "--truth truth: the input {} has no column `truth` (its columns: {header})",
            f.people.display()
        )),
        "{err}"
    );
    // Named in the config: like any other missing column.
    let text = std::fs::read_to_string(&f.config).unwrap();
    let bad = f.dir.join("bad.toml");
    std::fs::write(
        &bad,
        text.replace("# truth = \"truth_id\"", "truth = \"kebenaran\""),
    )
    .unwrap();
    let err = fails(&[
        "link",
        "dedupe",
        "--config",
        s(&bad),
        s(&f.people),
        "--out",
        s(&out),
    ]);
    assert!(
        err.contains(&format!(
            "input: column `kebenaran` (for the ground-truth id) not found in header [{header}]"
        )),
        "{err}"
    );
    assert!(!err.contains("left"), "{err}");
    assert!(!out.exists());
}

#[test]
fn dedupe_warns_about_settings_it_ignores_says_input_and_names_the_flag() {
    let f = dedupe_setup();
    let out = f.dir.join("x.csv");
    let text = std::fs::read_to_string(&f.config).unwrap();
    let with_link_settings = f.dir.join("linkish.toml");
    std::fs::write(
        &with_link_settings,
        text.replace("threshold = 0.5 ", "threshold = 0.5\none_to_one = true "),
    )
    .unwrap();
    let run = loket(&[
        "link",
        "dedupe",
        "--config",
        s(&with_link_settings),
        s(&f.people),
        "--out",
        s(&out),
    ]);
    assert!(run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("warning:"))
            .collect::<Vec<_>>(),
        [format!(
            "warning: config {}: `link.one_to_one` does nothing in dedupe (a record may be in many pairs; clusters are what comes out); ignored",
            with_link_settings.display()
        )]
    );
    // The dedupe starting point itself draws no warning.
    let run = loket(&[
        "link",
        "dedupe",
        "--config",
        s(&f.config),
        s(&f.people),
        "--out",
        s(&out),
    ]);
    assert!(!String::from_utf8_lossy(&run.stderr).contains("warning"));

    // A missing column: "input", not "left input".
    let bad = f.dir.join("bad.toml");
    std::fs::write(
        &bad,
        text.replacen("column = \"nama\"", "column = \"nama_lengkap\"", 1),
    )
    .unwrap();
    let err = fails(&[
        "link",
        "dedupe",
        "--config",
        s(&bad),
        s(&f.people),
        "--out",
        s(&out),
    ]);
    assert!(
        err.contains(
            "input: column `nama_lengkap` (for field `name`) not found in header [rec_id, "
        ),
        "{err}"
    );
    assert!(!err.contains("left"), "{err}");

    // A flag's error names the flag, not the config file.
    for (flag, value) in [("--threshold", "1.5"), ("--cluster-floor", "2")] {
        let err = fails(&[
            "link",
            "dedupe",
            "--config",
            s(&f.config),
            s(&f.people),
            "--out",
            s(&out),
            flag,
            value,
        ]);
        assert!(
            err.contains(&format!(
                "{flag} {value}: not a probability (give a number from 0 to 1)"
            )),
            "{err}"
        );
        assert!(!err.contains("dedupe.toml"), "{err}");
    }
}

#[test]
fn blocks_skipped_as_too_large_counts_blocks_and_records() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("kota.toml");
    std::fs::write(
        &config,
        "[input]\nid = \"no\"\n\n[[fields]]\nname = \"name\"\ncolumn = \"nama\"\n\n\
         [[fields]]\nname = \"kota\"\n\n[[comparisons]]\nfield = \"name\"\n\
         levels = [\"exact\"]\n\n[[blocking]]\nname = \"kota\"\nkeys = [\"kota\"]\n\n\
         [model]\nu_sample_pairs = 100\n\n[link]\nmax_block_size = 2\n",
    )
    .unwrap();
    // Kota A: 4 records, B: 3 (both over 2: skipped), C: 2 (compared).
    let people = tmp.path().join("people.csv");
    std::fs::write(
        &people,
        "no,nama,kota\n1,Siti,A\n2,Siti,A\n3,Budi,A\n4,Ani,A\n5,Dewi,B\n6,Dewi,B\n7,Eko,B\n\
         8,Tuti,C\n9,Tuti,C\n",
    )
    .unwrap();
    let out = tmp.path().join("clusters.csv");
    let text = ok(&[
        "link",
        "dedupe",
        "--config",
        s(&config),
        s(&people),
        "--out",
        s(&out),
    ]);
    assert!(
        text.contains("pairs compared: 1 (kota: 1)\nblocks skipped as too large: 2 blocks, 7 records in them\n"),
        "{text}"
    );
    let json = ok(&[
        "link",
        "dedupe",
        "--config",
        s(&config),
        s(&people),
        "--out",
        s(&out),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (v["skipped_blocks"].clone(), v["skipped_records"].clone()),
        (2.into(), 7.into())
    );
    let rows = read_csv(&out);
    assert_eq!(rows[0], ["no", "cluster_id", "cluster_size"]);
}

#[test]
fn example_config_dedupe_is_a_starting_point_the_readme_walks_through() {
    let example = ok(&["link", "example-config", "--dedupe"]);
    assert_eq!(example, linkage::EXAMPLE_DEDUPE_CONFIG);
    let config: linkage::LinkConfig = linkage::LinkConfig::from_toml_str(&example).unwrap();
    config.validate().unwrap();
    assert_eq!(config.link.max_cluster_size, 5);
    assert!(
        config.input.truth.is_none(),
        "real lists carry no truth column"
    );
    for absent in ["one_to_one", "[encoding]", "right_"] {
        assert!(!example.contains(absent), "{absent} in\n{example}");
    }
    // The link example is still the default.
    assert_eq!(ok(&["link", "example-config"]), linkage::EXAMPLE_CONFIG);
}

#[test]
fn cluster_limits_keep_a_chain_of_weak_links_apart() {
    let f = dedupe_setup();
    // People with several records each (70% of rows are copies of the other 30%'s people).
    let generated = f.dir.join("many.csv");
    ok(&[
        "link",
        "generate",
        "--dedupe",
        s(&generated),
        "--rows",
        "1000",
        "--overlap",
        "0.7",
    ]);
    let text = std::fs::read_to_string(&generated).unwrap();
    std::fs::write(&f.people, text.replacen("id,", "rec_id,", 1)).unwrap();
    let json = |extra: &[&str]| -> serde_json::Value {
        let out = f.dir.join("c.csv");
        let mut args = vec!["--format", "json", "--threshold", "0.05"];
        args.extend_from_slice(extra);
        serde_json::from_str(&dedupe(&f, &out, &args)).unwrap()
    };
    // No limits: low-threshold links chain records together.
    let free = json(&["--max-cluster-size", "0", "--cluster-floor", "0"]);
    assert_eq!(free["refused_pairs"], 0);
    let free_largest = free["largest_cluster"].as_u64().unwrap();
    assert!(free_largest > 2, "largest {free_largest}");

    // A size cap.
    let capped = json(&["--max-cluster-size", "2", "--cluster-floor", "0"]);
    assert_eq!(capped["largest_cluster"], 2);
    assert!(capped["refused_pairs"].as_u64().unwrap() > 0);

    // A floor: every pair inside a cluster is a candidate pair that scores at least 0.2 (the
    // model does not depend on the threshold, so a run at 0.2 lists those pairs).
    let (clusters, pairs) = (f.dir.join("fc.csv"), f.dir.join("fp.csv"));
    let floored = [
        "--threshold",
        "0.9",
        "--cluster-floor",
        "0.2",
        "--max-cluster-size",
        "0",
    ];
    dedupe(&f, &clusters, &floored);
    let all = [
        "--threshold",
        "0.2",
        "--cluster-floor",
        "0",
        "--max-cluster-size",
        "0",
    ];
    dedupe(&f, &pairs, &[&all[..], &["--output", "pairs"]].concat());
    let vouched: std::collections::HashSet<(String, String)> = read_csv(&pairs)[1..]
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let mut members: std::collections::HashMap<String, Vec<String>> = Default::default();
    for r in &read_csv(&clusters)[1..] {
        members.entry(r[1].clone()).or_default().push(r[0].clone());
    }
    let mut checked = 0;
    for ids in members.values().filter(|m| m.len() > 1) {
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                let known = vouched.contains(&(a.clone(), b.clone()))
                    || vouched.contains(&(b.clone(), a.clone()));
                assert!(known, "{a} and {b} share a cluster without a pair ≥ 0.2");
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked} pairs in clusters");
}
