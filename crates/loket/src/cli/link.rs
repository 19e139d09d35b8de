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
    GeneratorConfig, LinkConfig, LinkResult, Linker, Side, EXAMPLE_CONFIG, MIN_SECRET_LEN,
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
    ExampleConfig,
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
    /// Linkage config (TOML); the left-side columns are used.
    #[arg(long)]
    pub config: PathBuf,
    /// The list to de-duplicate.
    pub file: PathBuf,
    /// Where the clusters go (CSV: id, cluster_id).
    #[arg(long)]
    pub out: PathBuf,
    /// Override `link.threshold`.
    #[arg(long)]
    pub threshold: Option<f64>,
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
    #[arg(long)]
    pub left_rows: usize,
    /// Rows of the right list (e.g. BP2MI returned migrant workers).
    #[arg(long)]
    pub right_rows: usize,
    /// Share of right rows that are (re-recorded, noisy) left people.
    #[arg(long, default_value_t = 0.08)]
    pub overlap: f64,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file of the left list.
    #[arg(long)]
    pub left: PathBuf,
    /// Output file of the right list.
    #[arg(long)]
    pub right: PathBuf,
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
        LinkCommand::ExampleConfig => {
            print!("{EXAMPLE_CONFIG}");
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
    let mut config = load_config(&inputs.config)?;
    if let Some(t) = inputs.threshold {
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
        "pairs compared: {} ({rules}); blocks skipped as too large: {}",
        r.stats.blocking.candidate_pairs, r.stats.blocking.skipped_blocks
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

fn run_dedupe(args: DedupeArgs) -> anyhow::Result<()> {
    let mut config = load_config(&args.config)?;
    if let Some(t) = args.threshold {
        config.link.threshold = t;
    }
    let linker =
        Linker::new(config).with_context(|| format!("config {}", args.config.display()))?;
    let bar = spinner();
    bar.set_message(format!("de-duplicating {}", args.file.display()));
    let start = Instant::now();
    let (data, result) = linker
        .dedupe_path(&args.file)
        .with_context(|| format!("input {}", args.file.display()))?;
    bar.set_message(format!("writing {}", args.out.display()));
    let file =
        File::create(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    linker
        .write_clusters_csv(&result, &data, BufWriter::new(file))
        .with_context(|| format!("writing {}", args.out.display()))?;
    let wall = start.elapsed();
    bar.finish_and_clear();
    println!("rows read: {}", data.len());
    println!(
        "pairs compared: {}; blocks skipped as too large: {}",
        result.stats.blocking.candidate_pairs, result.stats.blocking.skipped_blocks
    );
    println!(
        "pairs at or above threshold {}: {}; clusters: {} (of {} records)",
        linker.config().link.threshold,
        result.pairs.len(),
        result.n_clusters,
        data.len()
    );
    print_model(&result.model);
    println!("timings: {}", result.timings);
    println!("wall time: {}", secs(wall));
    if data.has_truth() {
        if let Ok(e) = evaluate_dedupe(&result, &data) {
            print_evaluation(&e);
        }
    }
    println!("clusters written to {}", args.out.display());
    Ok(())
}

// ---------------------------------------------------------------------------- generate --

fn run_generate(args: GenerateArgs) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&args.overlap) {
        bail!("--overlap must be between 0 and 1, got {}", args.overlap);
    }
    let start = Instant::now();
    let generator = Generator::new(GeneratorConfig {
        seed: args.seed,
        left_rows: args.left_rows,
        right_rows: args.right_rows,
        overlap: args.overlap,
        ..GeneratorConfig::default()
    });
    let bar = spinner();
    for (path, side) in [(&args.left, Side::Left), (&args.right, Side::Right)] {
        bar.set_message(format!("writing {}", path.display()));
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        match side {
            Side::Left => generator.write_left(&mut out),
            Side::Right => generator.write_right(&mut out),
        }
        .with_context(|| format!("writing {}", path.display()))?;
        out.flush()
            .with_context(|| format!("writing {}", path.display()))?;
    }
    bar.finish_and_clear();
    println!(
        "{} left rows → {}, {} right rows → {} ({} right rows are left people), seed {}, {}",
        args.left_rows,
        args.left.display(),
        args.right_rows,
        args.right.display(),
        generator.overlap_count(),
        args.seed,
        secs(start.elapsed())
    );
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
