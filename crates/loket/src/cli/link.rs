//! `loket link …`: record linkage from the command line (issue 7).
//!
//! Thin layer over the `linkage` crate: reads the config, shows progress on stderr, writes the
//! pairs / clusters / encodings and prints a summary (rows, candidate pairs, matches, the
//! estimated m and u of every comparison level, timings). Everything field-specific is in the
//! TOML config (`loket link example-config` prints a complete one).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use linkage::{
    evaluate_dedupe, evaluate_link, Dataset, Encoder, Evaluation, FsModel, Generator,
    GeneratorConfig, LinkConfig, LinkResult, LinkageError, Linker, Side, EXAMPLE_CONFIG,
    EXAMPLE_DEDUPE_CONFIG, MIN_SECRET_LEN,
};

/// `loket link` subcommands.
#[derive(Debug, Subcommand)]
pub enum LinkCommand {
    /// Link two CSV lists (plain or encoded) and write the accepted pairs.
    Run(RunArgs),
    /// De-duplicate one CSV list and write a cluster id per record.
    Dedupe(DedupeArgs),
    /// Link two lists that carry a ground-truth id and print precision, recall and F1.
    Evaluate(EvaluateArgs),
    /// Write two realistic Indonesian test lists with ground truth (`truth_id`).
    Generate(GenerateArgs),
    /// Turn a list into keyed encodings (HMAC tokens, Bloom filters) for privacy-preserving
    /// linkage; both agencies encode with the same key file and exchange only the encodings.
    Encode(EncodeArgs),
    /// Print a complete example config (NIK, name, birth date, sex, region, phone).
    ExampleConfig(ExampleConfigArgs),
}

/// `loket link example-config`.
#[derive(Debug, Args)]
pub struct ExampleConfigArgs {
    /// Print the starting point for `link dedupe` (one list; cluster limits) instead.
    #[arg(long)]
    pub dedupe: bool,
}

/// Options shared by the commands that link.
#[derive(Debug, Args)]
pub struct LinkInputs {
    /// Linkage config (TOML); see `loket link example-config`.
    #[arg(long)]
    pub config: PathBuf,
    /// Left list (CSV with a header row).
    pub left: PathBuf,
    /// Right list (CSV with a header row).
    pub right: PathBuf,
    /// Override `link.threshold` (minimum match probability).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// The inputs are encoded files written by `loket link encode` with this config (detected
    /// from the header when not given). Linking encodings needs no key.
    #[arg(long)]
    pub encoded: bool,
}

/// `loket link run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub inputs: LinkInputs,
    /// Where the accepted pairs go (CSV: left_id, right_id, weight, probability, levels).
    #[arg(long, required_unless_present = "read_only")]
    pub out: Option<PathBuf>,
    /// Only read and CSV-parse both files, then stop: the floor a linker cannot beat.
    #[arg(long)]
    pub read_only: bool,
}

/// `loket link dedupe`.
#[derive(Debug, Args)]
pub struct DedupeArgs {
    /// Linkage config (TOML); see `loket link example-config --dedupe`.
    #[arg(long)]
    pub config: PathBuf,
    /// The list to de-duplicate (CSV with a header row).
    pub file: PathBuf,
    /// Where the result goes: with `--output clusters`, `<id>,cluster_id,cluster_size`; with
    /// `--output pairs`, `<id>_1,<id>_2,match_weight,match_probability,<one column per
    /// comparison>,clustered` (`<id>` is the input's id column, `row` without one).
    #[arg(long)]
    pub out: PathBuf,
    /// What `--out` holds.
    #[arg(long, value_enum, default_value_t = DedupeOutput::Clusters)]
    pub output: DedupeOutput,
    /// The summary on standard output: text for people, or one JSON object for scripts.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
    /// Override `link.threshold` (minimum match probability of a pair that joins clusters).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Override `link.max_cluster_size` (0 = no limit).
    #[arg(long)]
    pub max_cluster_size: Option<usize>,
    /// Override `link.cluster_floor` (every pair in a cluster scores at least this; 0 = off).
    #[arg(long)]
    pub cluster_floor: Option<f64>,
    /// Ground-truth id column, to print precision, recall and F1 (default: `input.truth`).
    #[arg(long)]
    pub truth: Option<String>,
}

/// What `link dedupe --out` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DedupeOutput {
    /// One row per record: its cluster and the cluster's size.
    Clusters,
    /// One row per pair at or above the threshold, with weight, probability and levels.
    Pairs,
}

/// How a summary is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    Text,
    Json,
}

/// `loket link evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub inputs: LinkInputs,
    /// Ground-truth id column present in both files (default: `input.truth` of the config).
    #[arg(long)]
    pub truth: Option<String>,
    /// Also write the accepted pairs here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `loket link generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Rows of the left list (e.g. programme-office recipients).
    #[arg(long, required_unless_present = "dedupe")]
    pub left_rows: Option<usize>,
    /// Rows of the right list (e.g. BP2MI returned migrant workers).
    #[arg(long, required_unless_present = "dedupe")]
    pub right_rows: Option<usize>,
    /// Share of right rows that are (re-recorded, noisy) left people; with `--dedupe`, the
    /// share of rows that are noisy copies of other rows' people.
    #[arg(long, default_value_t = 0.08)]
    pub overlap: f64,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file of the left list.
    #[arg(long, required_unless_present = "dedupe")]
    pub left: Option<PathBuf>,
    /// Output file of the right list.
    #[arg(long, required_unless_present = "dedupe")]
    pub right: Option<PathBuf>,
    /// Instead: write ONE list with duplicates (`--rows` rows) for `link dedupe`.
    #[arg(long, requires = "rows", conflicts_with_all = ["left", "right", "left_rows", "right_rows"])]
    pub dedupe: Option<PathBuf>,
    /// Rows of the `--dedupe` list.
    #[arg(long, requires = "dedupe")]
    pub rows: Option<usize>,
}

/// Which side's columns of the config an input uses.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SideArg {
    Left,
    Right,
}

/// `loket link encode`.
#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// Linkage config (TOML) with an optional `[encoding]` table.
    #[arg(long)]
    pub config: PathBuf,
    /// Secret key shared by the two agencies (never printed). At least 16 bytes; 64 hex
    /// characters as written by `--create-key`.
    #[arg(long)]
    pub key_file: PathBuf,
    /// Create the key file (32 random bytes, hex, mode 0600) if it does not exist.
    #[arg(long)]
    pub create_key: bool,
    /// Which side's columns of the config the input uses.
    #[arg(long, value_enum)]
    pub side: SideArg,
    /// The plain list.
    pub input: PathBuf,
    /// Where the encoded list goes.
    #[arg(long)]
    pub out: PathBuf,
}

/// Run a `loket link` command.
pub fn run(command: LinkCommand) -> anyhow::Result<()> {
    match command {
        LinkCommand::Run(args) => run_link(args),
        LinkCommand::Dedupe(args) => run_dedupe(args),
        LinkCommand::Evaluate(args) => run_evaluate(args),
        LinkCommand::Generate(args) => run_generate(args),
        LinkCommand::Encode(args) => run_encode(args),
        LinkCommand::ExampleConfig(args) => {
            if args.dedupe {
                print!("{EXAMPLE_DEDUPE_CONFIG}");
            } else {
                print!("{EXAMPLE_CONFIG}");
            }
            Ok(())
        }
    }
}

// ------------------------------------------------------------------------------ config --

/// Read and validate a config; errors name the file and the field at fault.
pub fn load_config(path: &Path) -> anyhow::Result<LinkConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config {}", path.display()))?;
    let config =
        LinkConfig::from_toml_str(&text).with_context(|| format!("config {}", path.display()))?;
    config
        .validate()
        .with_context(|| format!("config {}", path.display()))?;
    Ok(config)
}

/// A probability given on the command line: its error names the flag, not the config file.
fn probability_flag(flag: &str, value: Option<f64>) -> anyhow::Result<Option<f64>> {
    match value {
        Some(p) if !(0.0..=1.0).contains(&p) => {
            bail!("{flag} {p}: not a probability (give a number from 0 to 1)")
        }
        other => Ok(other),
    }
}

/// Placeholder secret for deriving the encoded config: the layout of the encoded columns
/// (names, levels, blocking) does not depend on the key, so linking encodings needs none.
const LAYOUT_ONLY_SECRET: &[u8] = b"layout-only, never used to encode";

/// The config that links files encoded with `config`.
fn encoded_config(config: &LinkConfig) -> anyhow::Result<LinkConfig> {
    let encoder =
        Encoder::new(config, LAYOUT_ONLY_SECRET).context("deriving the encoded config")?;
    Ok(encoder.encoded_config())
}

/// True when the CSV header looks like `loket link encode` output (`bk0` and `*__h` columns).
fn looks_encoded(path: &Path) -> anyhow::Result<bool> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let header = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header row", path.display()))?;
    let cols: Vec<&str> = header
        .iter()
        .map(|c| c.trim_start_matches('\u{feff}'))
        .collect();
    Ok(cols.contains(&"bk0")
        && cols
            .iter()
            .any(|c| c.ends_with("__h") || c.ends_with("__bf")))
}

/// The linker for two inputs: the config as given, or its encoded form for encoded inputs.
fn linker_for(inputs: &LinkInputs, truth: Option<&str>) -> anyhow::Result<(Linker, bool)> {
    let threshold = probability_flag("--threshold", inputs.threshold)?;
    let mut config = load_config(&inputs.config)?;
    if let Some(t) = threshold {
        config.link.threshold = t;
    }
    let encoded = inputs.encoded || looks_encoded(&inputs.left)?;
    if encoded {
        config = encoded_config(&config)?;
    }
    if let Some(col) = truth {
        config.input.truth = Some(col.to_string());
        config.input.left_truth = None;
        config.input.right_truth = None;
    }
    let linker =
        Linker::new(config).with_context(|| format!("config {}", inputs.config.display()))?;
    Ok((linker, encoded))
}

// ---------------------------------------------------------------------------- progress --

fn spinner() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

// -------------------------------------------------------------------------------- link --

struct Linked {
    left: Dataset,
    right: Dataset,
    result: LinkResult,
    wall: Duration,
}

fn link_files(linker: &Linker, inputs: &LinkInputs, bar: &ProgressBar) -> anyhow::Result<Linked> {
    let start = Instant::now();
    bar.set_message(format!(
        "reading {} and {}",
        inputs.left.display(),
        inputs.right.display()
    ));
    let (left, right) = std::thread::scope(|s| {
        let l = s.spawn(|| linker.load_path(Side::Left, &inputs.left));
        let right = linker.load_path(Side::Right, &inputs.right);
        let left = l
            .join()
            .map_err(|_| anyhow::anyhow!("reading the left input failed"));
        (left, right)
    });
    let left = left?.with_context(|| format!("left input {}", inputs.left.display()))?;
    let right = right.with_context(|| format!("right input {}", inputs.right.display()))?;
    let read = start.elapsed();
    bar.set_message(format!(
        "linking {} × {} records (blocking, comparing, u-sampling, EM, scoring)",
        left.len(),
        right.len()
    ));
    let mut result = linker.link(&left, &right)?;
    result.timings.read_normalise = read;
    result.timings.total += read;
    Ok(Linked {
        left,
        right,
        result,
        wall: start.elapsed(),
    })
}

fn write_pairs(linker: &Linker, linked: &Linked, out: &Path) -> anyhow::Result<()> {
    let file = File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    linker
        .write_pairs_csv(
            &linked.result.pairs,
            &linked.result.model,
            &linked.left,
            &linked.right,
            BufWriter::new(file),
        )
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

fn print_model(model: &FsModel) {
    println!("estimated parameters (prior λ = {:.3e}):", model.prior);
    for c in &model.comparisons {
        let trained = if c.trained {
            ""
        } else {
            " (untrained: prior m)"
        };
        println!("  {}{trained}", c.name);
        for l in &c.levels {
            println!(
                "    {:<28} m={:<9.5} u={:<10.3e} log2(m/u)={:+.2}",
                l.label,
                l.m,
                l.u,
                l.log2_bayes_factor()
            );
        }
    }
}

fn print_link_summary(linker: &Linker, linked: &Linked, encoded: bool) {
    let r = &linked.result;
    let mode = if encoded { " (encoded inputs)" } else { "" };
    println!(
        "rows read: left {}, right {}{mode}",
        linked.left.len(),
        linked.right.len()
    );
    let rules = linker
        .config()
        .blocking
        .iter()
        .map(linkage::BlockingRuleConfig::name)
        .zip(&r.stats.blocking.pairs_per_rule)
        .map(|(n, c)| format!("{n}: {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "pairs compared: {} ({rules})",
        r.stats.blocking.candidate_pairs
    );
    println!(
        "blocks skipped as too large: {} blocks, {} records in them",
        r.stats.blocking.skipped_blocks, r.stats.blocking.skipped_records
    );
    println!(
        "matches: {} (pairs at or above threshold {}: {})",
        r.pairs.len(),
        linker.config().link.threshold,
        r.stats.pairs_above_threshold
    );
    print_model(&r.model);
    println!("timings: {}", r.timings);
    println!("wall time: {}", secs(linked.wall));
}

fn print_evaluation(e: &Evaluation) {
    println!(
        "precision {:.4}  recall {:.4}  F1 {:.4}",
        e.precision, e.recall, e.f1
    );
    println!("  {e}");
}

/// Links the two files with a spinner, writes the pairs to `out` when given and prints the
/// summary: the common part of `link run` and `link evaluate`.
fn link_and_summarise(
    linker: &Linker,
    inputs: &LinkInputs,
    out: Option<&Path>,
    encoded: bool,
) -> anyhow::Result<Linked> {
    let bar = spinner();
    let linked = link_files(linker, inputs, &bar)?;
    if let Some(out) = out {
        bar.set_message(format!("writing {}", out.display()));
        write_pairs(linker, &linked, out)?;
    }
    bar.finish_and_clear();
    print_link_summary(linker, &linked, encoded);
    Ok(linked)
}

fn run_link(args: RunArgs) -> anyhow::Result<()> {
    if args.read_only {
        return read_only(&args.inputs.left, &args.inputs.right);
    }
    let (linker, encoded) = linker_for(&args.inputs, None)?;
    let linked = link_and_summarise(&linker, &args.inputs, args.out.as_deref(), encoded)?;
    // Test data carries truth ids: show the quality too (cheap next to linking).
    if linked.left.has_truth() && linked.right.has_truth() {
        if let Ok(e) = evaluate_link(&linked.result, &linked.left, &linked.right) {
            print_evaluation(&e);
        }
    }
    if let Some(out) = &args.out {
        println!("pairs written to {}", out.display());
    }
    Ok(())
}

fn run_evaluate(args: EvaluateArgs) -> anyhow::Result<()> {
    let (linker, encoded) = linker_for(&args.inputs, args.truth.as_deref())?;
    let linked = link_and_summarise(&linker, &args.inputs, args.out.as_deref(), encoded)?;
    let eval = evaluate_link(&linked.result, &linked.left, &linked.right)
        .context("evaluate needs a ground-truth id column in both files (--truth COLUMN)")?;
    print_evaluation(&eval);
    Ok(())
}

/// Read both files and parse every CSV record (each in its own thread), nothing else.
fn read_only(left: &Path, right: &Path) -> anyhow::Result<()> {
    fn parse(path: &Path) -> anyhow::Result<(usize, usize, u64)> {
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(bytes.as_slice());
        let mut record = csv::ByteRecord::new();
        let (mut rows, mut fields) = (0usize, 0usize);
        while reader
            .read_byte_record(&mut record)
            .with_context(|| format!("{}: CSV error", path.display()))?
        {
            rows += 1;
            fields += record.len();
        }
        Ok((rows, fields, bytes.len() as u64))
    }
    let start = Instant::now();
    let (l, r) = std::thread::scope(|s| {
        let l = s.spawn(|| parse(left));
        let r = parse(right);
        (l.join(), r)
    });
    let l = l.map_err(|_| anyhow::anyhow!("reading the left input failed"))??;
    let r = r?;
    let wall = start.elapsed();
    println!(
        "read-only: left {} rows ({} fields, {} bytes), right {} rows ({} fields, {} bytes)",
        l.0, l.1, l.2, r.0, r.1, r.2
    );
    println!("wall time: {}", secs(wall));
    Ok(())
}

// ------------------------------------------------------------------------------ dedupe --

/// One warning line per setting of the config text that does nothing in a dedupe.
fn dedupe_warnings(config_path: &Path, text: &str) -> Vec<String> {
    linkage::settings_ignored_by_dedupe(text)
        .into_iter()
        .map(|(name, why)| {
            format!(
                "warning: config {}: {name} does nothing in dedupe ({why}); ignored",
                config_path.display()
            )
        })
        .collect()
}

/// The dedupe summary: what the console prints, and `--format json` prints as one object.
#[derive(Debug, serde::Serialize)]
struct DedupeSummary {
    rows: usize,
    candidate_pairs: usize,
    pairs_per_rule: std::collections::BTreeMap<String, usize>,
    skipped_blocks: usize,
    skipped_records: usize,
    threshold: f64,
    pairs_above_threshold: usize,
    refused_pairs: usize,
    clusters: usize,
    clusters_with_duplicates: usize,
    largest_cluster: usize,
    model: FsModel,
    timings_ms: std::collections::BTreeMap<&'static str, f64>,
    wall_ms: f64,
    evaluation: Option<Evaluation>,
    out: PathBuf,
    output: &'static str,
}

fn timings_ms(t: &linkage::Timings) -> std::collections::BTreeMap<&'static str, f64> {
    let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
    [
        ("read_normalise", t.read_normalise),
        ("blocking", t.blocking),
        ("comparing", t.comparing),
        ("u_estimation", t.u_estimation),
        ("em", t.em),
        ("scoring", t.scoring),
        ("assignment", t.assignment),
        ("total", t.total),
    ]
    .into_iter()
    .map(|(k, d)| (k, ms(d)))
    .collect()
}

/// Cluster counts: (clusters with more than one record, records in the largest).
fn cluster_sizes(clusters: &[u32]) -> (usize, usize) {
    let mut sizes = vec![0usize; clusters.len()];
    for &c in clusters {
        sizes[c as usize] += 1;
    }
    let with_dups = sizes.iter().filter(|&&n| n > 1).count();
    (with_dups, sizes.into_iter().max().unwrap_or(0))
}

fn print_dedupe_summary(s: &DedupeSummary) {
    println!("rows read: {}", s.rows);
    let rules = s
        .pairs_per_rule
        .iter()
        .map(|(n, c)| format!("{n}: {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!("pairs compared: {} ({rules})", s.candidate_pairs);
    println!(
        "blocks skipped as too large: {} blocks, {} records in them",
        s.skipped_blocks, s.skipped_records
    );
    println!(
        "pairs at or above threshold {}: {} ({} left out by the cluster limits)",
        s.threshold, s.pairs_above_threshold, s.refused_pairs
    );
    println!(
        "clusters: {} ({} with duplicates, the largest has {} records)",
        s.clusters, s.clusters_with_duplicates, s.largest_cluster
    );
    print_model(&s.model);
    let t = &s.timings_ms;
    let get = |k: &str| t.get(k).copied().unwrap_or(0.0);
    println!(
        "timings: read+normalise {:.0} ms, blocking {:.0} ms, comparing {:.0} ms, u-sampling {:.0} ms, EM {:.0} ms, scoring {:.0} ms, clustering {:.0} ms; wall time (with writing) {:.3} s",
        get("read_normalise"),
        get("blocking"),
        get("comparing"),
        get("u_estimation"),
        get("em"),
        get("scoring"),
        get("assignment"),
        s.wall_ms / 1000.0
    );
    if let Some(e) = &s.evaluation {
        println!("{e}");
    }
    println!("{} written to {}", s.output, s.out.display());
}

/// The dedupe linker: the config with the flags applied; flag errors name the flag.
fn dedupe_linker(args: &DedupeArgs) -> anyhow::Result<Linker> {
    let threshold = probability_flag("--threshold", args.threshold)?;
    let floor = probability_flag("--cluster-floor", args.cluster_floor)?;
    let mut config = load_config(&args.config)?;
    if let Ok(text) = std::fs::read_to_string(&args.config) {
        for warning in dedupe_warnings(&args.config, &text) {
            eprintln!("{warning}");
        }
    }
    if let Some(t) = threshold {
        config.link.threshold = t;
    }
    if let Some(f) = floor {
        config.link.cluster_floor = f;
    }
    if let Some(n) = args.max_cluster_size {
        config.link.max_cluster_size = n;
    }
    if let Some(col) = &args.truth {
        config.input.truth = Some(col.clone());
        config.input.left_truth = None;
    }
    Linker::new(config).with_context(|| format!("config {}", args.config.display()))
}

fn run_dedupe(args: DedupeArgs) -> anyhow::Result<()> {
    let linker = dedupe_linker(&args)?;
    let bar = spinner();
    bar.set_message(format!("de-duplicating {}", args.file.display()));
    let start = Instant::now();
    let (data, result) = match linker.dedupe_path(&args.file) {
        Ok(done) => done,
        Err(LinkageError::MissingColumn { column, header, .. })
            if args.truth.as_deref() == Some(column.as_str()) =>
        {
            bar.finish_and_clear();
            bail!(
                "--truth {column}: the input {} has no column `{column}` (its columns: {header})",
                args.file.display()
            );
        }
        Err(e) => return Err(e).with_context(|| format!("{}", args.file.display())),
    };
    bar.set_message(format!("writing {}", args.out.display()));
    let file =
        File::create(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    match args.output {
        DedupeOutput::Clusters => linker.write_clusters_csv(&result, &data, BufWriter::new(file)),
        DedupeOutput::Pairs => linker.write_dedupe_pairs_csv(&result, &data, BufWriter::new(file)),
    }
    .with_context(|| format!("writing {}", args.out.display()))?;
    let wall = start.elapsed();
    bar.finish_and_clear();
    let (clusters_with_duplicates, largest_cluster) = cluster_sizes(&result.clusters);
    let blocking = &result.stats.blocking;
    let summary = DedupeSummary {
        rows: data.len(),
        candidate_pairs: blocking.candidate_pairs,
        pairs_per_rule: linker
            .config()
            .blocking
            .iter()
            .map(linkage::BlockingRuleConfig::name)
            .zip(blocking.pairs_per_rule.iter().copied())
            .collect(),
        skipped_blocks: blocking.skipped_blocks,
        skipped_records: blocking.skipped_records,
        threshold: linker.config().link.threshold,
        pairs_above_threshold: result.pairs.len(),
        refused_pairs: result.refused_pairs,
        clusters: result.n_clusters,
        clusters_with_duplicates,
        largest_cluster,
        evaluation: data
            .has_truth()
            .then(|| evaluate_dedupe(&result, &data).ok())
            .flatten(),
        model: result.model,
        timings_ms: timings_ms(&result.timings),
        wall_ms: (wall.as_secs_f64() * 1e6).round() / 1e3,
        out: args.out.clone(),
        output: match args.output {
            DedupeOutput::Clusters => "clusters",
            DedupeOutput::Pairs => "pairs",
        },
    };
    match args.format {
        SummaryFormat::Text => print_dedupe_summary(&summary),
        SummaryFormat::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
    }
    Ok(())
}

// ---------------------------------------------------------------------------- generate --

fn run_generate(args: GenerateArgs) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&args.overlap) {
        bail!("--overlap must be between 0 and 1, got {}", args.overlap);
    }
    let start = Instant::now();
    let (left_rows, right_rows) = (args.left_rows.unwrap_or(0), args.right_rows.unwrap_or(0));
    let generator = Generator::new(GeneratorConfig {
        seed: args.seed,
        left_rows,
        right_rows,
        overlap: args.overlap,
        ..GeneratorConfig::default()
    });
    let bar = spinner();
    if let (Some(path), Some(rows)) = (&args.dedupe, args.rows) {
        bar.set_message(format!("writing {}", path.display()));
        write_generated(path, |out| generator.write_dedupe(out, rows, args.overlap))?;
        bar.finish_and_clear();
        println!(
            "{rows} rows with duplicates → {}, seed {}, {}",
            path.display(),
            args.seed,
            secs(start.elapsed())
        );
        return Ok(());
    }
    let (Some(left), Some(right)) = (&args.left, &args.right) else {
        bail!("--left and --right (or --dedupe) say where the lists go");
    };
    for (path, side) in [(left, Side::Left), (right, Side::Right)] {
        bar.set_message(format!("writing {}", path.display()));
        write_generated(path, |out| match side {
            Side::Left => generator.write_left(out),
            Side::Right => generator.write_right(out),
        })?;
    }
    bar.finish_and_clear();
    println!(
        "{left_rows} left rows → {}, {right_rows} right rows → {} ({} right rows are left people), seed {}, {}",
        left.display(),
        right.display(),
        generator.overlap_count(),
        args.seed,
        secs(start.elapsed())
    );
    Ok(())
}

/// Create `path` and let `write` fill it (buffered).
fn write_generated(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> linkage::Result<usize>,
) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    write(&mut out).with_context(|| format!("writing {}", path.display()))?;
    out.flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

// ------------------------------------------------------------------------------ encode --

/// Read the secret from a key file (created with mode 0600 when asked). The key is never
/// printed or logged.
fn read_key(path: &Path, create: bool) -> anyhow::Result<Vec<u8>> {
    if !path.exists() {
        if !create {
            bail!(
                "key file {} does not exist; pass --create-key to create one (then share it with the other agency over a secure channel)",
                path.display()
            );
        }
        create_key(path)?;
        eprintln!("created key file {} (mode 0600)", path.display());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                eprintln!(
                    "warning: key file {} is readable by other users (chmod 600 it)",
                    path.display()
                );
            }
        }
    }
    let raw =
        std::fs::read(path).with_context(|| format!("cannot read key file {}", path.display()))?;
    let text = raw.trim_ascii();
    let secret = match hex::decode(text) {
        Ok(bytes) if text.len() >= 2 * MIN_SECRET_LEN => bytes,
        _ => text.to_vec(),
    };
    if secret.len() < MIN_SECRET_LEN {
        bail!(
            "key file {}: the key must have at least {MIN_SECRET_LEN} bytes",
            path.display()
        );
    }
    Ok(secret)
}

fn create_key(path: &Path) -> anyhow::Result<()> {
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create key file {}", path.display()))?;
    file.write_all(format!("{}\n", hex::encode(key)).as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write key file {}", path.display()))?;
    Ok(())
}

fn run_encode(args: EncodeArgs) -> anyhow::Result<()> {
    let config = load_config(&args.config)?;
    let secret = read_key(&args.key_file, args.create_key)?;
    let encoder = Encoder::new(&config, &secret)
        .with_context(|| format!("config {}", args.config.display()))?;
    let side = match args.side {
        SideArg::Left => Side::Left,
        SideArg::Right => Side::Right,
    };
    let bar = spinner();
    bar.set_message(format!("encoding {}", args.input.display()));
    let start = Instant::now();
    let file =
        File::create(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let stats = encoder
        .encode_path(side, &args.input, &mut out)
        .with_context(|| format!("encoding {}", args.input.display()))?;
    out.flush()
        .with_context(|| format!("writing {}", args.out.display()))?;
    bar.finish_and_clear();
    println!(
        "{} rows encoded → {} (Bloom filters of {} bits), {}",
        stats.rows,
        args.out.display(),
        stats.bloom_bits,
        secs(start.elapsed())
    );
    Ok(())
}
