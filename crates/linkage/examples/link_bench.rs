//! Generate (or read) two lists, link them, print timings and quality.
//!
//! ```text
//! cargo run --release -p linkage --example link_bench -- [LEFT_ROWS] [RIGHT_ROWS] [options]
//!   --overlap F        share of right rows that are left people (default 0.08)
//!   --seed N           generator seed (default 7)
//!   --config PATH      linkage config (default: examples/indonesia.toml)
//!   --left PATH --right PATH   link these CSV files instead of generating
//!   --dir PATH         where generated CSVs are written (default: system temp dir)
//!   --encoded          also encode both lists and link the encodings
//!   --threshold P      override link.threshold
//!   --json             print one JSON object with all figures at the end
//!   --show-errors N    explain N false positives and N missed matches
//! ```

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Instant;

use linkage::{
    evaluate_link, Encoder, Generator, GeneratorConfig, LinkConfig, Linker, Side, EXAMPLE_CONFIG,
};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Args {
    left_rows: usize,
    right_rows: usize,
    overlap: f64,
    seed: u64,
    config: Option<PathBuf>,
    left: Option<PathBuf>,
    right: Option<PathBuf>,
    dir: PathBuf,
    encoded: bool,
    threshold: Option<f64>,
    json: bool,
    show_errors: usize,
}

fn parse_args() -> Res<Args> {
    let mut a = Args {
        left_rows: 100_000,
        right_rows: 1_000_000,
        overlap: 0.08,
        seed: 7,
        config: None,
        left: None,
        right: None,
        dir: std::env::temp_dir(),
        encoded: false,
        threshold: None,
        json: false,
        show_errors: 0,
    };
    let mut positional = 0;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--overlap" => a.overlap = val()?.parse()?,
            "--seed" => a.seed = val()?.parse()?,
            "--config" => a.config = Some(val()?.into()),
            "--left" => a.left = Some(val()?.into()),
            "--right" => a.right = Some(val()?.into()),
            "--dir" => a.dir = val()?.into(),
            "--threshold" => a.threshold = Some(val()?.parse()?),
            "--encoded" => a.encoded = true,
            "--json" => a.json = true,
            "--show-errors" => a.show_errors = val()?.parse()?,
            s if !s.starts_with("--") => {
                let n: f64 = s.replace('_', "").parse()?;
                if positional == 0 {
                    a.left_rows = n as usize;
                } else {
                    a.right_rows = n as usize;
                }
                positional += 1;
            }
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(a)
}

/// Print explanations of some false positives and missed true matches.
fn show_errors(linker: &Linker, run: &linkage::LinkRun, n: usize) {
    let (l, r, res) = (&run.left, &run.right, &run.result);
    let fps: Vec<_> = res
        .pairs
        .iter()
        .filter(|p| l.truth_id(p.left as usize) != r.truth_id(p.right as usize))
        .take(n)
        .collect();
    for p in fps {
        println!(
            "--- false positive {} / {}",
            l.id(p.left as usize),
            r.id(p.right as usize)
        );
        println!(
            "{}",
            linker.explain(res, l, p.left as usize, r, p.right as usize)
        );
    }
    let matched: std::collections::HashSet<u32> = res.pairs.iter().map(|p| p.left).collect();
    let mut by_truth = std::collections::HashMap::new();
    for i in 0..r.len() {
        if let Some(t) = r.truth_id(i) {
            by_truth.insert(t.to_string(), i);
        }
    }
    let mut shown = 0;
    for i in 0..l.len() {
        if shown >= n {
            break;
        }
        if matched.contains(&(i as u32)) {
            continue;
        }
        if let Some(&j) = l.truth_id(i).and_then(|t| by_truth.get(t)) {
            println!("--- missed {} / {}", l.id(i), r.id(j));
            println!("{}", linker.explain(res, l, i, r, j));
            shown += 1;
        }
    }
}

fn main() -> Res<()> {
    let args = parse_args()?;
    let mut config = match &args.config {
        Some(p) => LinkConfig::from_path(p)?,
        None => LinkConfig::from_toml_str(EXAMPLE_CONFIG)?,
    };
    if let Some(t) = args.threshold {
        config.link.threshold = t;
    }
    let (left_path, right_path) = match (&args.left, &args.right) {
        (Some(l), Some(r)) => (l.clone(), r.clone()),
        _ => {
            let t = Instant::now();
            let gen = Generator::new(GeneratorConfig {
                seed: args.seed,
                left_rows: args.left_rows,
                right_rows: args.right_rows,
                overlap: args.overlap,
                ..GeneratorConfig::default()
            });
            let l = args
                .dir
                .join(format!("linkage_left_{}_{}.csv", args.left_rows, args.seed));
            let r = args.dir.join(format!(
                "linkage_right_{}_{}.csv",
                args.right_rows, args.seed
            ));
            gen.write_left(BufWriter::new(File::create(&l)?))?;
            gen.write_right(BufWriter::new(File::create(&r)?))?;
            eprintln!(
                "generated {} + {} rows ({} overlapping) in {:.2} s",
                args.left_rows,
                args.right_rows,
                gen.overlap_count(),
                t.elapsed().as_secs_f64()
            );
            (l, r)
        }
    };

    let linker = Linker::new(config.clone())?;
    let t = Instant::now();
    let run = linker.link_paths(&left_path, &right_path)?;
    let wall = t.elapsed();
    let res = &run.result;
    println!("plain: {} x {} records", run.left.len(), run.right.len());
    println!("  wall time        {:.3} s", wall.as_secs_f64());
    println!("  timings          {}", res.timings);
    println!(
        "  candidate pairs  {} (per rule {:?}, skipped blocks {})",
        res.stats.blocking.candidate_pairs,
        res.stats.blocking.pairs_per_rule,
        res.stats.blocking.skipped_blocks
    );
    println!("  patterns         {}", res.stats.patterns);
    println!("  matches          {}", res.pairs.len());
    println!("  prior (lambda)   {:.3e}", res.model.prior);
    let eval = evaluate_link(res, &run.left, &run.right).ok();
    if let Some(e) = &eval {
        println!("  quality          {e}");
    }
    if args.show_errors > 0 {
        show_errors(&linker, &run, args.show_errors);
    }
    for s in &res.model.training {
        let nik_m =
            s.m.iter()
                .zip(&res.model.comparisons)
                .filter_map(|(m, c)| m.as_ref().map(|m| format!("{}={:.3?}", c.name, m)))
                .collect::<Vec<_>>()
                .join(" ");
        println!(
            "  EM {:<28} pairs {:>9} share {:.3} iter {:>2} {}",
            s.rule, s.pairs, s.match_share, s.iterations, nik_m
        );
    }
    for c in &res.model.comparisons {
        let lv: Vec<String> = c
            .levels
            .iter()
            .map(|l| format!("{}: m={:.3} u={:.2e}", l.label, l.m, l.u))
            .collect();
        println!("  {:<11} {}", c.name, lv.join(" | "));
    }

    let mut enc_eval = None;
    let mut enc_secs = None;
    if args.encoded {
        let secret = b"linkage-bench-secret-key-0123456789";
        let encoder = Encoder::new(&config, secret)?;
        let t = Instant::now();
        let le = left_path.with_extension("enc.csv");
        let re = right_path.with_extension("enc.csv");
        encoder.encode_dataset(&run.left, BufWriter::new(File::create(&le)?))?;
        encoder.encode_dataset(&run.right, BufWriter::new(File::create(&re)?))?;
        println!("encoded both lists in {:.2} s", t.elapsed().as_secs_f64());
        let elinker = Linker::new(encoder.encoded_config())?;
        let t = Instant::now();
        let erun = elinker.link_paths(&le, &re)?;
        enc_secs = Some(t.elapsed().as_secs_f64());
        println!(
            "encoded: wall {:.3} s; {}",
            t.elapsed().as_secs_f64(),
            erun.result.timings
        );
        println!(
            "  candidate pairs  {}; matches {}",
            erun.result.stats.blocking.candidate_pairs,
            erun.result.pairs.len()
        );
        enc_eval = evaluate_link(&erun.result, &erun.left, &erun.right).ok();
        if let Some(e) = &enc_eval {
            println!("  quality          {e}");
        }
        let _ = Side::Left;
    }
    if args.json {
        let j = serde_json::json!({
            "left_rows": run.left.len(),
            "right_rows": run.right.len(),
            "wall_seconds": wall.as_secs_f64(),
            "timings": res.timings,
            "candidate_pairs": res.stats.blocking.candidate_pairs,
            "matches": res.pairs.len(),
            "evaluation": eval,
            "encoded_evaluation": enc_eval,
            "encoded_wall_seconds": enc_secs,
        });
        println!("{j}");
    }
    Ok(())
}
