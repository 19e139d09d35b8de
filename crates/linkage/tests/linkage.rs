//! Integration tests of the linkage crate (one test binary).

// Test helpers outside `#[test]` functions may unwrap too (clippy.toml only covers the latter).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use linkage::normalise::Pipeline;
use linkage::similarity::{jaro_winkler, nik_one_edit, osa_distance};
use linkage::{
    evaluate_dedupe, evaluate_link, ConfigError, Dataset, Encoder, Generator, GeneratorConfig,
    LinkConfig, LinkResult, LinkageError, Linker, Side, EXAMPLE_CONFIG, EXAMPLE_DEDUPE_CONFIG,
    GENERATED_HEADER,
};
use proptest::prelude::*;

// ------------------------------------------------------------------------------ helpers --

/// The example config with fewer u-samples (debug builds are slow).
fn example_config() -> LinkConfig {
    let mut c = LinkConfig::from_toml_str(EXAMPLE_CONFIG).unwrap();
    c.model.u_sample_pairs = 100_000;
    c
}

struct Lists {
    left: Vec<u8>,
    right: Vec<u8>,
}

/// 2,000 × 20,000 generated lists (1,600 shared people with errors), built once.
fn lists() -> &'static Lists {
    static L: OnceLock<Lists> = OnceLock::new();
    L.get_or_init(|| {
        let g = Generator::new(GeneratorConfig {
            seed: 11,
            left_rows: 2_000,
            right_rows: 20_000,
            overlap: 0.08,
            ..GeneratorConfig::default()
        });
        Lists {
            left: g.left_csv().unwrap(),
            right: g.right_csv().unwrap(),
        }
    })
}

fn name_pipeline() -> Pipeline {
    Pipeline::from_names(
        &[
            "lowercase",
            "strip_titles",
            "strip_punctuation",
            "collapse_whitespace",
            "old_spelling",
            "canonical_names",
        ],
        &BTreeMap::new(),
    )
    .unwrap()
}

/// A small config comparing one field with the given levels.
fn one_field_config(kind: &str, levels: &[&str]) -> Linker {
    let levels: Vec<String> = levels.iter().map(|l| format!("{l:?}")).collect();
    let text = format!(
        r#"
        [input]
        id = "id"
        [[fields]]
        name = "v"
        kind = "{kind}"
        [[comparisons]]
        field = "v"
        levels = [{}]
        [[blocking]]
        keys = ["v"]
        [model]
        u_sample_pairs = 1000
        "#,
        levels.join(", ")
    );
    Linker::from_toml_str(&text).unwrap()
}

/// Level label of each (left value, right value) pair under a one-field config.
fn labels(linker: &Linker, pairs: &[(&str, &str)]) -> Vec<String> {
    let mut l = String::from("id,v\n");
    let mut r = String::from("id,v\n");
    for (i, (a, b)) in pairs.iter().enumerate() {
        l.push_str(&format!("{i},\"{a}\"\n"));
        r.push_str(&format!("{i},\"{b}\"\n"));
    }
    let left = linker.load_bytes(Side::Left, l.as_bytes()).unwrap();
    let right = linker.load_bytes(Side::Right, r.as_bytes()).unwrap();
    let result = linker.link(&left, &right).unwrap();
    (0..pairs.len())
        .map(|i| {
            linker.explain(&result, &left, i, &right, i).fields[0]
                .label
                .clone()
        })
        .collect()
}

// --------------------------------------------------------------------------- normalisers --

#[test]
fn titles_are_stripped() {
    let p = name_pipeline();
    assert_eq!(p.apply("Drs. H. Ahmad Fauzi, S.Pd."), "ahmad fauzi");
    assert_eq!(p.apply("Hj. Siti Aminah, S.Kom"), "siti aminah");
    assert_eq!(p.apply("Ir. Bambang Susanto, M.M."), "bambang susanto");
    assert_eq!(p.apply("KH. Abdul Hamid"), "abdul hamid");
    assert_eq!(p.apply("Dewi Lestari, A.Md."), "dewi lestari");
    assert_eq!(p.apply("Prof. Dr. Ir. Joko Widodo"), "joko widodo");
    // A degree-like first token is a name, not a title.
    assert_eq!(p.apply("St. Aminah"), "siti aminah");
}

#[test]
fn name_variants_are_canonicalised() {
    let p = name_pipeline();
    for v in [
        "Muhammad Rizki",
        "Mohammad Rizky",
        "Mohamad Rizki",
        "Muhamad Rizqi",
        "Moh. Rizki",
        "Muh. Rizki",
        "M. Rizki",
        "Mochammad Rizki",
        "MOCH. RIZKY",
    ] {
        assert_eq!(p.apply(v), "muhammad rizki", "{v}");
    }
    assert_eq!(p.apply("Sitti Nurul Hidayah"), "siti nur hidayah");
    assert_eq!(p.apply("Achmad Yusup"), "ahmad yusuf");
    assert_eq!(p.apply("Abd. Rachman"), "abdul rahman");
    assert_eq!(p.apply("Djoko Soesilo"), "joko susilo");
}

#[test]
fn other_normalisers() {
    let maps = BTreeMap::new();
    let digits = Pipeline::from_names(&["digits_only"], &maps).unwrap();
    assert_eq!(digits.apply("3201-1234 5678.9012"), "3201123456789012");
    let phone = Pipeline::from_names(&["phone_id"], &maps).unwrap();
    assert_eq!(phone.apply("+62 812-3456-7890"), "081234567890");
    let sorted = Pipeline::from_names(&["lowercase", "sort_tokens"], &maps).unwrap();
    assert_eq!(sorted.apply("Santoso Budi"), "budi santoso");
    let mut region = BTreeMap::new();
    region.insert(
        "r".to_string(),
        BTreeMap::from([("kab".to_string(), String::new())]),
    );
    let p = Pipeline::from_names(
        &[
            "lowercase",
            "strip_punctuation",
            "map_tokens(r)",
            "collapse_whitespace",
        ],
        &region,
    )
    .unwrap();
    assert_eq!(p.apply("Kab. Lombok Timur"), "lombok timur");
    assert!(Pipeline::from_names(&["nonsense"], &maps).is_err());
}

// --------------------------------------------------------------------------- comparisons --

#[test]
fn text_levels() {
    let linker = one_field_config(
        "text",
        &[
            "exact",
            "jaro_winkler >= 0.95",
            "jaro_winkler >= 0.85",
            "damerau_levenshtein <= 3",
        ],
    );
    let got = labels(
        &linker,
        &[
            ("budi santoso", "budi santoso"),
            ("budi santoso", "budi santosa"),
            ("jellyfish", "smellyfish"),
            ("abcdefgh", "hgfedcba"),
            ("budi", "zzzzzzzzzzzz"),
            ("budi", ""),
        ],
    );
    assert_eq!(
        got,
        [
            "exact",
            "jaro_winkler >= 0.95",
            "jaro_winkler >= 0.85",
            "else",
            "else",
            "null"
        ]
    );
    let dl = one_field_config(
        "text",
        &["damerau_levenshtein <= 1", "damerau_levenshtein <= 2"],
    );
    assert_eq!(
        labels(&dl, &[("abcd", "abdc"), ("abcd", "badc"), ("abcd", "wxyz")]),
        [
            "damerau_levenshtein <= 1",
            "damerau_levenshtein <= 2",
            "else"
        ]
    );
}

#[test]
fn nik_levels() {
    let linker = one_field_config(
        "text",
        &[
            "exact",
            "one_transposition",
            "one_substitution",
            "damerau_levenshtein <= 2",
        ],
    );
    let nik = "3203014507900123";
    let got = labels(
        &linker,
        &[
            (nik, nik),
            (nik, "3203014507901023"), // adjacent swap
            (nik, "3203014507900128"), // one wrong digit
            (nik, "3203014507901032"), // two swaps
            (nik, "5271016612850001"), // someone else
        ],
    );
    assert_eq!(
        got,
        [
            "exact",
            "one_transposition",
            "one_substitution",
            "damerau_levenshtein <= 2",
            "else"
        ]
    );
    let combined = one_field_config("text", &["exact", "nik_one_edit"]);
    assert_eq!(
        labels(
            &combined,
            &[
                (nik, "3203014507901023"),
                (nik, "3203014507900128"),
                (nik, "3203")
            ]
        ),
        ["nik_one_edit", "nik_one_edit", "else"]
    );
    let aware = one_field_config("text", &["exact", "nik_typo"]);
    assert_eq!(
        labels(
            &aware,
            &[
                (nik, "3203014507800123"), // wrong birth-year digit
                (nik, "3203104507900123"), // swapped district digits
                (nik, "3203014507900128"), // serial only: maybe another person
                (nik, "3203014507900213"), // serial only
            ]
        ),
        ["nik_typo", "nik_typo", "else", "else"]
    );
    assert!(nik_one_edit(nik.as_bytes(), b"3203014507900124"));
    assert!(!nik_one_edit(nik.as_bytes(), b"3203014507900142"));
}

#[test]
fn date_levels() {
    let linker = one_field_config(
        "date",
        &[
            "exact",
            "date_swap",
            "date_within <= 1",
            "same_month",
            "same_year",
        ],
    );
    let got = labels(
        &linker,
        &[
            ("1990-05-17", "17/05/1990"),
            ("1990-05-07", "1990-07-05"),
            ("1990-05-17", "1990-05-18"),
            ("1990-05-31", "01-06-1990"),
            ("1990-05-17", "1990-05-25"),
            ("1990-05-17", "1990-11-02"),
            ("1990-05-17", "1991-05-17"),
            ("1990-05-17", "not a date"),
        ],
    );
    assert_eq!(
        got,
        [
            "exact",
            "date_swap",
            "date_within <= 1",
            "date_within <= 1",
            "same_month",
            "same_year",
            "else",
            "null"
        ]
    );
}

// ------------------------------------------------------------------------- model + link --

struct PlainRun {
    linker: Linker,
    left: Dataset,
    right: Dataset,
    result: LinkResult,
}

/// The example config run on [`lists`], once.
fn plain_run() -> &'static PlainRun {
    static R: OnceLock<PlainRun> = OnceLock::new();
    R.get_or_init(|| {
        let linker = Linker::new(example_config()).unwrap();
        let l = lists();
        let left = linker.load_bytes(Side::Left, &l.left).unwrap();
        let right = linker.load_bytes(Side::Right, &l.right).unwrap();
        let result = linker.link(&left, &right).unwrap();
        PlainRun {
            linker,
            left,
            right,
            result,
        }
    })
}

#[test]
fn em_recovers_sensible_m_and_u() {
    let model = &plain_run().result.model;
    let comp = |name: &str| model.comparisons.iter().find(|c| c.name == name).unwrap();
    let nik = comp("nik");
    assert!(nik.trained);
    assert!(nik.levels[0].m > 0.8, "m(nik exact) = {}", nik.levels[0].m);
    assert!(nik.levels[0].u < 1e-3, "u(nik exact) = {}", nik.levels[0].u);
    assert!(nik.levels.last().unwrap().u > 0.99);
    assert!(nik.levels[0].log2_bayes_factor() > 10.0);
    let name = comp("name");
    assert!(
        name.levels[0].m > 0.6,
        "m(name exact) = {}",
        name.levels[0].m
    );
    let dob = comp("birth_date");
    assert!(dob.levels[0].m > 0.8, "m(dob exact) = {}", dob.levels[0].m);
    assert!(dob.levels[1].m > 0.005, "m(dob swap) = {}", dob.levels[1].m);
    let sex = comp("sex");
    assert!(
        (sex.levels[0].u - 0.5).abs() < 0.05,
        "u(sex exact) = {}",
        sex.levels[0].u
    );
    // Expected about 1,600 matches among 4e7 pairs.
    let expected = model.prior * 2_000.0 * 20_000.0;
    assert!(
        (800.0..3200.0).contains(&expected),
        "prior implies {expected} matches"
    );
    assert!(!model.training.is_empty());
}

#[test]
fn plain_link_f1_and_explanations() {
    let PlainRun {
        linker,
        left,
        right,
        result: res,
    } = plain_run();
    let (linker, left, right) = (linker, left, right);
    assert_eq!((left.len(), right.len()), (2_000, 20_000));
    let eval = evaluate_link(res, left, right).unwrap();
    println!("plain: {eval}; {}", res.timings);
    assert!(eval.f1 >= 0.95, "plain F1 {eval}");
    assert!(eval.blocking_recall.unwrap() > 0.97);

    // One-to-one.
    let mut seen_l = std::collections::HashSet::new();
    let mut seen_r = std::collections::HashSet::new();
    for p in &res.pairs {
        assert!(seen_l.insert(p.left) && seen_r.insert(p.right));
        assert!(p.probability >= linker.config().link.threshold);
    }

    // Explanations add up to the pair's weight.
    let p = res.pairs[res.pairs.len() / 2];
    let ex = linker.explain(res, left, p.left as usize, right, p.right as usize);
    let sum: f64 = ex.prior_weight + ex.fields.iter().map(|f| f.log2_bayes_factor).sum::<f64>();
    assert!((sum - p.weight).abs() < 1e-6, "{sum} vs {}", p.weight);
    assert!((ex.weight - p.weight).abs() < 1e-6);
    assert_eq!(ex.fields.len(), 6);
    for (k, f) in ex.fields.iter().enumerate() {
        assert_eq!(f.level, p.vector.level(k));
    }
    assert!(ex.to_string().contains("nik"));

    // CSV output.
    let mut out = Vec::new();
    linker
        .write_pairs_csv(&res.pairs, &res.model, left, right, &mut out)
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with(
        "left_id,right_id,match_weight,match_probability,nik,name,birth_date,sex,region,phone\n"
    ));
    assert_eq!(text.lines().count(), res.pairs.len() + 1);

    // A saved model reproduces the result without training.
    let json = serde_json::to_string(&res.model).unwrap();
    let model: linkage::FsModel = serde_json::from_str(&json).unwrap();
    let again = linker.link_with_model(left, right, &model).unwrap();
    assert_eq!(again.pairs.len(), res.pairs.len());
    assert_eq!(again.timings.u_estimation, std::time::Duration::ZERO);
}

#[test]
fn encoded_link_runs_end_to_end() {
    let config = example_config();
    let l = lists();
    let encoder = Encoder::new(&config, b"a shared secret of 32 bytes.....").unwrap();
    let mut le = Vec::new();
    let mut re = Vec::new();
    encoder.encode_bytes(Side::Left, &l.left, &mut le).unwrap();
    encoder
        .encode_bytes(Side::Right, &l.right, &mut re)
        .unwrap();

    // No plaintext identifiers in the encoded files.
    let plain_left = String::from_utf8(l.left.clone()).unwrap();
    let enc_left = String::from_utf8(le.clone()).unwrap();
    let first = plain_left.lines().nth(1).unwrap();
    let nik = first.split(',').nth(2).unwrap();
    assert!(!enc_left.contains(nik));
    let header = enc_left.lines().next().unwrap();
    assert!(header.contains("nik__h") && header.contains("name__bf") && header.contains("bk0"));
    assert!(!header.contains("nama"));

    let enc_config = encoder.encoded_config();
    // The derived config is itself valid TOML config.
    let toml = enc_config.to_toml_string().unwrap();
    let linker = Linker::new(LinkConfig::from_toml_str(&toml).unwrap()).unwrap();
    let left = linker.load_bytes(Side::Left, &le).unwrap();
    let right = linker.load_bytes(Side::Right, &re).unwrap();
    let res = linker.link(&left, &right).unwrap();
    let eval = evaluate_link(&res, &left, &right).unwrap();
    println!("encoded: {eval}; {}", res.timings);
    assert!(eval.f1 >= 0.9, "encoded F1 {eval}");

    // Hardened variant (balanced filters + bit flips) still links (smaller lists: debug builds
    // are slow).
    let mut hard = config.clone();
    if let Some(e) = hard.encoding.as_mut() {
        e.balance = true;
        e.flip_probability = 0.02;
    }
    let small = Generator::new(GeneratorConfig {
        seed: 12,
        left_rows: 600,
        right_rows: 4_000,
        overlap: 0.1,
        ..GeneratorConfig::default()
    });
    let encoder = Encoder::new(&hard, b"a shared secret of 32 bytes.....").unwrap();
    assert_eq!(encoder.bloom_bits(), 2048);
    let (mut le, mut re) = (Vec::new(), Vec::new());
    encoder
        .encode_bytes(Side::Left, &small.left_csv().unwrap(), &mut le)
        .unwrap();
    encoder
        .encode_bytes(Side::Right, &small.right_csv().unwrap(), &mut re)
        .unwrap();
    let linker = Linker::new(encoder.encoded_config()).unwrap();
    let left = linker.load_bytes(Side::Left, &le).unwrap();
    let right = linker.load_bytes(Side::Right, &re).unwrap();
    let res = linker.link(&left, &right).unwrap();
    let eval = evaluate_link(&res, &left, &right).unwrap();
    println!("encoded (balanced, 2% flips): {eval}");
    assert!(eval.f1 >= 0.85, "hardened encoded F1 {eval}");

    // A different key gives unrelated encodings.
    let other = Encoder::new(&config, b"another secret of 32 bytes......").unwrap();
    let mut oe = Vec::new();
    other.encode_bytes(Side::Left, &l.left, &mut oe).unwrap();
    let a = String::from_utf8(le).unwrap();
    let b = String::from_utf8(oe).unwrap();
    let cell = |s: &str| {
        s.lines()
            .nth(1)
            .unwrap()
            .split(',')
            .nth(2)
            .unwrap()
            .to_string()
    };
    assert_ne!(cell(&a), cell(&b));
    assert!(matches!(
        Encoder::new(&config, b"short"),
        Err(LinkageError::Config(ConfigError::BadSetting { .. }))
    ));
}

#[test]
fn dedupe_clusters_duplicates() {
    let g = Generator::new(GeneratorConfig {
        seed: 5,
        ..GeneratorConfig::default()
    });
    let mut csv = Vec::new();
    g.write_dedupe(&mut csv, 4_000, 0.2).unwrap();
    let linker = Linker::new(example_config()).unwrap();
    let data = linker.load_bytes(Side::Left, &csv).unwrap();
    let res = linker.dedupe(&data).unwrap();
    let eval = evaluate_dedupe(&res, &data).unwrap();
    println!("dedupe: {eval}; {} clusters", res.n_clusters);
    assert!(eval.f1 >= 0.9, "dedupe {eval}");
    assert!(res.n_clusters < 4_000 && res.n_clusters > 3_000);
    let mut out = Vec::new();
    linker.write_clusters_csv(&res, &data, &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), 4_001);
}

#[test]
fn dedupe_cluster_limits_hold_and_cost_little_quality() {
    let g = Generator::new(GeneratorConfig {
        seed: 5,
        ..GeneratorConfig::default()
    });
    let mut csv = Vec::new();
    g.write_dedupe(&mut csv, 2_000, 0.7).unwrap(); // ~3 records per person
    let mut c = LinkConfig::from_toml_str(EXAMPLE_DEDUPE_CONFIG).unwrap();
    c.model.u_sample_pairs = 100_000;
    c.input.truth = Some("truth_id".into());
    c.link.max_cluster_size = 2;
    let linker = Linker::new(c).unwrap();
    let data = linker.load_bytes(Side::Left, &csv).unwrap();
    let res = linker.dedupe(&data).unwrap();
    let mut sizes = BTreeMap::new();
    for &k in &res.clusters {
        *sizes.entry(k).or_insert(0) += 1;
    }
    assert!(sizes.values().all(|&n| n <= 2));
    assert!(res.refused_pairs > 0);
    let eval = evaluate_dedupe(&res, &data).unwrap();
    assert!(eval.precision >= 0.95, "{eval}");
    // Every pair inside a cluster scores at least the floor.
    let mut c = linker.config().clone();
    c.link.max_cluster_size = 0;
    c.link.cluster_floor = 0.5;
    c.link.threshold = 0.9;
    let floored = Linker::new(c.clone()).unwrap().dedupe(&data).unwrap();
    c.link.threshold = 0.5;
    c.link.cluster_floor = 0.0;
    let all = Linker::new(c).unwrap().dedupe(&data).unwrap();
    let vouched: std::collections::HashSet<(u32, u32)> =
        all.pairs.iter().map(|p| (p.left, p.right)).collect();
    let mut members: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (i, &k) in floored.clusters.iter().enumerate() {
        members.entry(k).or_default().push(i as u32);
    }
    for m in members.values() {
        for (i, &a) in m.iter().enumerate() {
            for &b in &m[i + 1..] {
                assert!(vouched.contains(&(a.min(b), a.max(b))), "{a}, {b}");
            }
        }
    }
}

#[test]
fn a_missing_truth_column_is_an_error_and_dedupe_says_input() {
    let linker = Linker::new(example_config()).unwrap();
    let csv = "id,nik,nama,jenis_kelamin,tanggal_lahir,kabupaten,telepon\n1,,Siti,P,,,\n";
    let err = linker.load_bytes(Side::Right, csv.as_bytes()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("right input: column `truth_id` (for the ground-truth id) not found"),
        "{err}"
    );
    let err = err.of_single_input();
    assert!(
        err.to_string().starts_with("input: column `truth_id`"),
        "{err}"
    );
}

#[test]
fn readme_walks_through_a_dedupe() {
    let readme = include_str!("../README.md");
    assert!(readme.contains(EXAMPLE_DEDUPE_CONFIG));
    assert!(readme.contains("loket link example-config --dedupe"));
    let c = LinkConfig::from_toml_str(EXAMPLE_DEDUPE_CONFIG).unwrap();
    c.validate().unwrap();
    let mut bad = c.clone();
    bad.link.cluster_floor = 1.5;
    assert!(bad
        .validate()
        .unwrap_err()
        .to_string()
        .contains("link.cluster_floor"));
}

#[test]
fn generator_is_deterministic_and_streams() {
    let cfg = GeneratorConfig {
        seed: 99,
        left_rows: 500,
        right_rows: 3_000,
        overlap: 0.1,
        ..GeneratorConfig::default()
    };
    let a = Generator::new(cfg.clone());
    let b = Generator::new(cfg.clone());
    assert_eq!(a.left_csv().unwrap(), b.left_csv().unwrap());
    assert_eq!(a.right_csv().unwrap(), b.right_csv().unwrap());
    let other = Generator::new(GeneratorConfig { seed: 100, ..cfg });
    assert_ne!(a.right_csv().unwrap(), other.right_csv().unwrap());
    assert_eq!(a.overlap_count(), 300);
    let right = String::from_utf8(a.right_csv().unwrap()).unwrap();
    assert_eq!(right.lines().count(), 3_001);
    // The overlap share of right rows point to left people (truth ids T0..T499).
    let shared = right
        .lines()
        .skip(1)
        .filter(|l| {
            let t: usize = l.split(',').nth(1).unwrap()[1..].parse().unwrap();
            t < 500
        })
        .count();
    assert_eq!(shared, 300);
}

// --------------------------------------------------------------------------- bad configs --

#[test]
fn bad_configs_name_the_problem() {
    let base = |fields: &str, comparisons: &str, blocking: &str| {
        format!("{fields}\n{comparisons}\n{blocking}")
    };
    let fields = r#"
        [[fields]]
        name = "nik"
        normalise = ["digits_only"]
        [[fields]]
        name = "name"
    "#;
    let ok_cmp = "[[comparisons]]\nfield = \"nik\"\nlevels = [\"exact\"]\n";
    let ok_blk = "[[blocking]]\nkeys = [\"nik\"]\n";

    // Unknown field in a comparison.
    let text = base(
        fields,
        "[[comparisons]]\nfield = \"nmae\"\nlevels = [\"exact\"]\n",
        ok_blk,
    );
    let err = Linker::from_toml_str(&text).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("`nmae`") && msg.contains("comparison"),
        "{msg}"
    );
    assert!(matches!(
        err,
        LinkageError::Config(ConfigError::UnknownField { .. })
    ));

    // Unknown normaliser.
    let text = base(
        "[[fields]]\nname = \"name\"\nnormalise = [\"lowercase\", \"strip_tittles\"]\n",
        "[[comparisons]]\nfield = \"name\"\nlevels = [\"exact\"]\n",
        "",
    );
    let msg = Linker::from_toml_str(&text).unwrap_err().to_string();
    assert!(
        msg.contains("field `name`") && msg.contains("strip_tittles"),
        "{msg}"
    );

    // Bad level.
    let text = base(
        fields,
        "[[comparisons]]\nfield = \"name\"\nlevels = [\"exact\", \"jaro_winkler > 0.9\"]\n",
        ok_blk,
    );
    let msg = Linker::from_toml_str(&text).unwrap_err().to_string();
    assert!(
        msg.contains("comparison `name`") && msg.contains("level 2"),
        "{msg}"
    );

    // Date level on a text field.
    let text = base(
        fields,
        "[[comparisons]]\nfield = \"name\"\nlevels = [\"date_swap\"]\n",
        ok_blk,
    );
    let msg = Linker::from_toml_str(&text).unwrap_err().to_string();
    assert!(msg.contains("field `name`"), "{msg}");

    // Unknown field in a blocking key, and an unknown key function.
    let text = base(
        fields,
        ok_cmp,
        "[[blocking]]\nkeys = [\"substr(nikk,0,6)\"]\n",
    );
    let msg = Linker::from_toml_str(&text).unwrap_err().to_string();
    assert!(
        msg.contains("`nikk`") && msg.contains("blocking rule"),
        "{msg}"
    );
    let text = base(
        fields,
        ok_cmp,
        "[[blocking]]\nkeys = [\"metaphone(name)\"]\n",
    );
    let msg = Linker::from_toml_str(&text).unwrap_err().to_string();
    assert!(msg.contains("metaphone"), "{msg}");

    // Unknown TOML key and out-of-range threshold.
    let text = format!("{fields}\n{ok_cmp}\n[link]\nthreshhold = 0.5\n");
    let msg = Linker::from_toml_str(&text).unwrap_err().to_string();
    assert!(msg.contains("threshhold"), "{msg}");
    let text = format!("{fields}\n{ok_cmp}\n[link]\nthreshold = 1.5\n");
    let msg = Linker::from_toml_str(&text).unwrap_err().to_string();
    assert!(msg.contains("link.threshold"), "{msg}");

    // A column missing from the CSV names the column and the field.
    let linker = Linker::from_toml_str(&base(fields, ok_cmp, ok_blk)).unwrap();
    let err = linker
        .load_bytes(Side::Left, b"nik,nama\n1,x\n")
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`name`") && msg.contains("field"), "{msg}");
    let err = linker.load_bytes(Side::Right, b"").unwrap_err();
    assert!(matches!(err, LinkageError::EmptyInput { side: "right" }));
}

#[test]
fn empty_and_tiny_inputs_do_not_panic() {
    let linker = Linker::new(example_config()).unwrap();
    let header = GENERATED_HEADER.join(",") + "\n";
    let empty = linker.load_bytes(Side::Left, header.as_bytes()).unwrap();
    assert!(empty.is_empty());
    let one_row = format!("{header}L0,T0,3201010101900001,Budi,L,1990-01-01,Kab. Bogor,\n");
    let one = linker.load_bytes(Side::Right, one_row.as_bytes()).unwrap();
    let res = linker.link(&empty, &one).unwrap();
    assert!(res.pairs.is_empty());
    // One record against itself: nothing to learn from, but no panic either.
    let res = linker.link(&one, &one).unwrap();
    assert!(res.pairs.len() <= 1);
    let d = linker.dedupe(&one).unwrap();
    assert_eq!(d.n_clusters, 1);
    let d = linker.dedupe(&empty).unwrap();
    assert_eq!(d.n_clusters, 0);
    // A config without blocking rules is rejected.
    let mut c = example_config();
    c.blocking.clear();
    assert!(Linker::new(c).unwrap_err().to_string().contains("blocking"));
}

#[test]
fn readme_shows_the_example_config() {
    assert!(include_str!("../README.md").contains(EXAMPLE_CONFIG));
}

#[test]
fn config_round_trips_through_toml() {
    let c = LinkConfig::from_toml_str(EXAMPLE_CONFIG).unwrap();
    let text = c.to_toml_string().unwrap();
    assert_eq!(LinkConfig::from_toml_str(&text).unwrap(), c);
}

#[test]
fn quoted_fields_and_bom_are_read() {
    let linker = one_field_config("text", &["exact"]);
    let csv = "\u{feff}id,v\n1,\"Santoso, Budi\"\n2,\"multi\nline\"\n3,plain\n";
    let d = linker.load_bytes(Side::Left, csv.as_bytes()).unwrap();
    assert_eq!(d.len(), 3);
    assert_eq!(d.value(0, 0), "Santoso, Budi");
    assert_eq!(d.value(0, 1), "multi\nline");
    assert_eq!(d.id(2), "3");
}

#[test]
fn large_input_is_read_in_blocks() {
    // More than one 8 MiB block, with quoted fields spanning lines.
    let linker = one_field_config("text", &["exact"]);
    let mut csv = String::from("id,v\n");
    let n = 200_000;
    for i in 0..n {
        if i % 1000 == 0 {
            csv.push_str(&format!("{i},\"line one {i}\nline two, with comma\"\n"));
        } else {
            csv.push_str(&format!("{i},value number {i} padded with some text\n"));
        }
    }
    assert!(csv.len() > 8 << 20);
    let d = linker.load_bytes(Side::Left, csv.as_bytes()).unwrap();
    assert_eq!(d.len(), n);
    assert_eq!(d.id(n - 1), (n - 1).to_string());
    assert_eq!(d.value(0, 1000), "line one 1000\nline two, with comma");
    assert_eq!(
        d.value(0, 123_457),
        "value number 123457 padded with some text"
    );
}

// ------------------------------------------------------------------------------ proptest --

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn damerau_levenshtein_is_symmetric(a in "[a-e]{0,12}", b in "[a-e]{0,12}") {
        prop_assert_eq!(osa_distance(&a, &b), osa_distance(&b, &a));
    }

    #[test]
    fn fast_osa_matches_strsim(a in "[a-d0-3 ]{0,70}", b in "[a-d0-3 ]{0,70}") {
        prop_assert_eq!(osa_distance(&a, &b), strsim::osa_distance(&a, &b));
    }

    #[test]
    fn bounded_osa_is_capped_distance(a in "[a-c0-2]{0,20}", b in "[a-c0-2]{0,20}", k in 0usize..6) {
        let mut s = linkage::similarity::Scratch::new();
        prop_assert_eq!(
            linkage::similarity::osa_bounded(&mut s, &a, &b, k),
            strsim::osa_distance(&a, &b).min(k + 1)
        );
    }

    #[test]
    fn fast_jaro_winkler_matches_strsim(a in "[a-f]{0,20}", b in "[a-f]{0,20}") {
        let fast = jaro_winkler(&a, &b);
        let reference = strsim::jaro_winkler(&a, &b);
        prop_assert!((fast - reference).abs() < 1e-12, "{} vs {}", fast, reference);
    }

    #[test]
    fn name_normaliser_is_idempotent(s in "[A-Za-z .,'-]{0,40}") {
        let p = name_pipeline();
        let once = p.apply(&s);
        prop_assert_eq!(p.apply(&once), once.clone());
    }

    #[test]
    fn titles_never_survive(first in prop::sample::select(vec!["Siti", "Budi", "Agus", "Dewi", "Joko", "Rina", "Wahyu", "Nurul", "Kadek", "Yohana"]),
                            last in prop::sample::select(vec!["Aminah", "Santoso", "Rahayu", "Lestari", "Hidayat", "Saputra", "Wulandari", "Nugroho"]),
                            pre in prop::sample::select(vec!["H.", "Hj.", "Drs.", "Ir.", "Dr."]),
                            post in prop::sample::select(vec!["S.Pd.", "S.Kom", "M.M.", "A.Md."])) {
        let p = name_pipeline();
        // Real names: a random word can itself be a title ("Mpd" = M.Pd.).
        let name = format!("{first} {last}");
        let titled = format!("{pre} {name}, {post}");
        prop_assert_eq!(p.apply(&titled), p.apply(&name));
    }
}
