//! # linkage
//!
//! Config-driven, fast record linkage for loket: link two CSV record lists (or de-duplicate
//! one) with a Fellegi–Sunter model whose u-probabilities come from random pairs and whose
//! m-probabilities are estimated by EM without labels.
//!
//! Pipeline ([`Linker`]):
//! 1. **load**: CSV → normalised, column-oriented [`Dataset`] (parallel; values hashed once,
//!    dates parsed once, blocking keys hashed once);
//! 2. **block**: union of equality rules over (derived) keys, via hash indexes;
//! 3. **compare**: each candidate pair → a packed vector of small level codes;
//! 4. **train**: u from random pairs, m by EM over *pattern counts* (one session per blocking
//!    rule, excluding the comparisons that rule blocks on), λ by a fixed point;
//! 5. **score**: weight = log2 prior odds + Σ log2 Bayes factors (+ term-frequency adjustment);
//! 6. **assign**: greedy one-to-one (link) or union-find clusters (dedupe).
//!
//! Also: [`evaluate_link`] / [`evaluate_dedupe`] against truth ids, a deterministic test-data
//! [`Generator`], and privacy-preserving encodings ([`Encoder`]: keyed HMACs and keyed Bloom
//! filters) that the same linker links.
//!
//! ```no_run
//! use linkage::{Linker, LinkConfig, evaluate_link};
//! use std::path::Path;
//!
//! let config = LinkConfig::from_path(Path::new("link.toml"))?;
//! let linker = Linker::new(config)?;
//! let run = linker.link_paths(Path::new("prakerja.csv"), Path::new("bp2mi.csv"))?;
//! println!("{} matches; {}", run.result.pairs.len(), run.result.timings);
//! linker.write_pairs_csv(&run.result.pairs, &run.result.model, &run.left, &run.right,
//!     std::io::stdout())?;
//! if let Ok(eval) = evaluate_link(&run.result, &run.left, &run.right) {
//!     println!("{eval}");
//! }
//! # Ok::<(), linkage::LinkageError>(())
//! ```

mod blocking;
mod compare;
mod config;
mod data;
mod error;
mod eval;
mod generate;
mod link;
mod model;
pub mod normalise;
mod privacy;
pub mod similarity;

pub use blocking::BlockingStats;
pub use config::settings_ignored_by_dedupe;
pub use config::{
    BlockingRuleConfig, ComparisonConfig, EncodedFieldConfig, EncodingConfig, FieldConfig,
    FieldKind, InputConfig, LinkConfig, LinkSettings, ModelConfig, EXAMPLE_CONFIG,
    EXAMPLE_DEDUPE_CONFIG,
};
pub use data::{Dataset, LoadStats, Side};
pub use error::{ConfigError, LinkageError, Result};
pub use eval::{evaluate_dedupe, evaluate_link, Evaluation};
pub use generate::{ErrorRates, Generator, GeneratorConfig, GENERATED_HEADER};
pub use link::{
    ComparisonVector, DedupeResult, Explanation, FieldExplanation, LinkResult, LinkRun, LinkStats,
    Linker, MatchPair, Timings,
};
pub use model::{probability_from_weight, ComparisonModel, FsModel, LevelModel, TrainingSession};
pub use privacy::{EncodeStats, Encoder, MIN_SECRET_LEN};
