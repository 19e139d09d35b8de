//! The linkage configuration (TOML, serde) and its validation into an executable [`Plan`].
//!
//! See the crate README for the format.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, LinkageError};
use crate::normalise::{build_token_maps, Normaliser, Pipeline, NORMALISER_NAMES};

/// Complete linkage configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LinkConfig {
    /// Id / truth columns and CSV options.
    #[serde(default)]
    pub input: InputConfig,
    /// Fields read from the inputs (column mapping, kind, normalisers).
    #[serde(default)]
    pub fields: Vec<FieldConfig>,
    /// Comparisons (one per compared field) with ordered similarity levels.
    #[serde(default)]
    pub comparisons: Vec<ComparisonConfig>,
    /// Blocking rules; candidate pairs are the union over rules.
    #[serde(default)]
    pub blocking: Vec<BlockingRuleConfig>,
    /// Fellegi-Sunter model estimation settings.
    #[serde(default)]
    pub model: ModelConfig,
    /// Linking / clustering settings.
    #[serde(default)]
    pub link: LinkSettings,
    /// User-defined token tables for the `map_tokens(NAME)` normaliser.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub token_maps: BTreeMap<String, BTreeMap<String, String>>,
    /// Privacy-preserving encoding settings (used by [`crate::Encoder`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<EncodingConfig>,
}

/// Input options.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// Record id column (both sides) unless `left_id` / `right_id` are given. Without an id
    /// column the 0-based data row number is the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Record id column of the left input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_id: Option<String>,
    /// Record id column of the right input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_id: Option<String>,
    /// Ground-truth entity id column (both sides), for evaluation only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truth: Option<String>,
    /// Ground-truth column of the left input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_truth: Option<String>,
    /// Ground-truth column of the right input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_truth: Option<String>,
    /// Field delimiter (one ASCII character, default `,`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
}

/// Kind of a field's values.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Free text (after normalisation).
    #[default]
    Text,
    /// A calendar date; parsed after normalisation (see `date_format`).
    Date,
    /// A base64-encoded Bloom filter (from [`crate::Encoder`]); compared with `dice`.
    Bloom,
}

/// One input field.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldConfig {
    /// Field name used by comparisons and blocking keys.
    pub name: String,
    /// Column name on both sides (default: the field name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Column name on the left side (overrides `column`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_column: Option<String>,
    /// Column name on the right side (overrides `column`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_column: Option<String>,
    /// Value kind.
    #[serde(default)]
    pub kind: FieldKind,
    /// Normalisers applied in order (see README for the list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub normalise: Vec<String>,
    /// For `kind = "date"`: a chrono format such as `%d/%m/%Y`. Default: lenient auto-detection
    /// of ISO, day-first and compact forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_format: Option<String>,
}

/// One comparison: an ordered list of levels, most similar first. A pair gets the first level it
/// satisfies, `else` when none, and `null` (no evidence) when the field is empty on either side.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ComparisonConfig {
    /// Comparison name (default: the field name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Field compared.
    pub field: String,
    /// Levels, e.g. `["exact", "jaro_winkler >= 0.92", "damerau_levenshtein <= 1"]`.
    pub levels: Vec<String>,
    /// Term-frequency adjustment of the first `exact` level (common values weigh less).
    #[serde(default)]
    pub term_frequency: bool,
}

impl ComparisonConfig {
    /// The effective name.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.field)
    }
}

/// One blocking rule: candidate pairs agree on all key expressions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BlockingRuleConfig {
    /// Rule name (default: the keys joined with ` & `).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Key expressions, e.g. `["substr(nik,0,6)", "birth_date"]`.
    pub keys: Vec<String>,
    /// Comparisons not trained by EM on this rule's pairs. Default: every comparison whose
    /// field is used by a key of this rule (such comparisons are biased within the block).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_exclude: Option<Vec<String>>,
}

impl BlockingRuleConfig {
    /// The effective name.
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.keys.join(" & "))
    }
}

/// Model estimation settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Random record pairs sampled to estimate u-probabilities.
    pub u_sample_pairs: usize,
    /// Maximum EM iterations per training session.
    pub max_em_iterations: usize,
    /// EM stops when no m-probability moves by more than this.
    pub em_tolerance: f64,
    /// Strength (pseudo-count of matches) of the Dirichlet prior on m-probabilities.
    pub m_prior_strength: f64,
    /// Probability that two random records match (λ). Default: estimated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prior: Option<f64>,
    /// Floor for term frequencies (limits the weight of very rare values).
    pub tf_minimum: f64,
    /// Seed for sampling.
    pub seed: u64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            u_sample_pairs: 1_000_000,
            max_em_iterations: 40,
            em_tolerance: 1e-5,
            m_prior_strength: 10.0,
            prior: None,
            tf_minimum: 1e-7,
            seed: 0x5eed,
        }
    }
}

/// Link / dedupe settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LinkSettings {
    /// Minimum match probability for a pair to be accepted.
    pub threshold: f64,
    /// Link mode: each record is matched at most once (greedy by descending weight).
    pub one_to_one: bool,
    /// Blocks (sets of records sharing a key) larger than this on the indexed side are skipped,
    /// protecting against explosive keys. 0 = no limit.
    pub max_block_size: usize,
    /// Dedupe: a cluster never grows beyond this many records (0 = no limit). Pairs are joined
    /// strongest first, so a weak link that would make a cluster too big is left out.
    pub max_cluster_size: usize,
    /// Dedupe: every pair of records in one cluster must be a candidate pair with at least
    /// this match probability (0 = off), so a chain of weak links (A~B, B~C) does not put two
    /// different people (A, C) together.
    pub cluster_floor: f64,
}

impl Default for LinkSettings {
    fn default() -> Self {
        LinkSettings {
            threshold: 0.9,
            one_to_one: true,
            max_block_size: 5_000,
            max_cluster_size: 0,
            cluster_floor: 0.0,
        }
    }
}

/// Privacy-preserving encoding settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EncodingConfig {
    /// Bloom filter length in bits (multiple of 64).
    pub bloom_bits: usize,
    /// Hash functions per q-gram (default for fields that do not set `hashes`).
    pub hashes: usize,
    /// q-gram length.
    pub ngram: usize,
    /// Balanced Bloom filters: append the complement and permute with a keyed permutation, so
    /// that every filter has the same Hamming weight.
    pub balance: bool,
    /// XOR-fold the filter once (halves its length).
    pub xor_fold: bool,
    /// Probability of flipping each bit (randomised response, "BLIP").
    pub flip_probability: f64,
    /// Copy the truth column (for evaluation on test data only: it identifies records).
    pub include_truth: bool,
    /// Per-field settings; fields not listed get a keyed hash only (exact match).
    pub fields: Vec<EncodedFieldConfig>,
}

impl Default for EncodingConfig {
    fn default() -> Self {
        EncodingConfig {
            bloom_bits: 1024,
            hashes: 20,
            ngram: 2,
            balance: false,
            xor_fold: false,
            flip_probability: 0.0,
            include_truth: true,
            fields: Vec::new(),
        }
    }
}

/// How one field is encoded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EncodedFieldConfig {
    /// Field name (plain config).
    pub field: String,
    /// Emit a keyed HMAC for exact matching.
    #[serde(default = "yes")]
    pub hmac: bool,
    /// Emit a keyed HMAC that ignores a day/month swap (date fields).
    #[serde(default)]
    pub swap_hmac: bool,
    /// Emit a keyed Bloom filter (CLK-style) for approximate matching.
    #[serde(default)]
    pub bloom: bool,
    /// Hash functions per q-gram for this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<usize>,
    /// Dice-coefficient thresholds for the approximate levels (descending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dice_thresholds: Option<Vec<f64>>,
}

fn yes() -> bool {
    true
}

impl LinkConfig {
    /// Parse a TOML config (not yet validated; [`crate::Linker::new`] validates).
    pub fn from_toml_str(text: &str) -> Result<LinkConfig, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))
    }

    /// Read and parse a TOML config file.
    pub fn from_path(path: &Path) -> Result<LinkConfig, LinkageError> {
        let text = std::fs::read_to_string(path)?;
        Ok(LinkConfig::from_toml_str(&text)?)
    }

    /// Serialise to TOML.
    pub fn to_toml_string(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(self).map_err(|e| ConfigError::Toml(e.to_string()))
    }

    /// Validate the config, returning the first problem found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        Plan::compile(self).map(|_| ())
    }
}

/// The example config for NIK / name / birth date / region / phone data (the one documented in
/// the README and used by the generator's CSV layout).
pub const EXAMPLE_CONFIG: &str = include_str!("../examples/indonesia.toml");

/// Settings that mean nothing to a dedupe: `(table, key)` (key `None`: the whole table), and
/// why.
const NOT_FOR_DEDUPE: [(&str, Option<&str>, &str); 4] = [
    (
        "link",
        Some("one_to_one"),
        "a record may be in many pairs; clusters are what comes out",
    ),
    ("input", Some("right_id"), "there is one input"),
    ("input", Some("right_truth"), "there is one input"),
    ("encoding", None, "it is read by `link encode` only"),
];

/// The settings a config text sets that a dedupe ignores, each named as a person would look
/// for it (`` `link.one_to_one` ``, `[encoding]`) with the reason. Unparseable text gives none
/// (parsing the config reports it).
pub fn settings_ignored_by_dedupe(text: &str) -> Vec<(String, &'static str)> {
    let Ok(table) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    NOT_FOR_DEDUPE
        .iter()
        .filter(|(section, key, _)| match (table.get(*section), key) {
            (Some(_), None) => true,
            (Some(toml::Value::Table(t)), Some(k)) => t.contains_key(*k),
            _ => false,
        })
        .map(|(section, key, why)| {
            let name = key.map_or_else(|| format!("[{section}]"), |k| format!("`{section}.{k}`"));
            (name, *why)
        })
        .collect()
}

/// The example config for de-duplicating one list (`loket link example-config --dedupe`): the
/// same fields, comparisons and blocking as [`EXAMPLE_CONFIG`], with the cluster limits and
/// without the settings that only linking two lists uses.
pub const EXAMPLE_DEDUPE_CONFIG: &str = include_str!("../examples/dedupe.toml");

// ---------------------------------------------------------------------------------------------
// Compiled plan
// ---------------------------------------------------------------------------------------------

/// A comparison level, compiled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum LevelKind {
    Exact,
    JaroWinkler(f64),
    DamerauLevenshtein(usize),
    OneSubstitution,
    OneTransposition,
    NikOneEdit,
    NikTypo,
    DateSwap,
    DateWithin(i32),
    SameYear,
    SameMonth,
    Dice(f64),
}

#[derive(Debug, Clone)]
pub(crate) struct LevelPlan {
    pub kind: LevelKind,
    pub field: usize,
    pub label: String,
}

#[derive(Debug, Clone)]
pub(crate) struct ComparisonPlan {
    pub name: String,
    pub field: usize,
    pub levels: Vec<LevelPlan>,
    /// Index (into `levels`) of the level that gets the TF adjustment, with its field.
    pub tf_level: Option<(usize, usize)>,
}

/// A derived blocking-key function.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum KeyFn {
    Value,
    Substr(usize, usize),
    Suffix(usize),
    Year,
    Month,
    FirstToken,
    LastToken,
    SortedTokens,
    Soundex,
    Initials,
    DateUnordered,
}

#[derive(Debug, Clone)]
pub(crate) struct KeyExpr {
    pub func: KeyFn,
    pub field: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct RulePlan {
    pub name: String,
    pub keys: Vec<KeyExpr>,
    /// Comparisons excluded from EM training on this rule's pairs.
    pub train_exclude: Vec<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct FieldPlan {
    pub name: String,
    pub kind: FieldKind,
    pub left_column: String,
    pub right_column: String,
    pub pipeline: Pipeline,
    pub date_format: Option<String>,
}

/// Validated, compiled form of a [`LinkConfig`].
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub fields: Vec<FieldPlan>,
    pub comparisons: Vec<ComparisonPlan>,
    pub rules: Vec<RulePlan>,
    pub left_id: Option<String>,
    pub right_id: Option<String>,
    pub left_truth: Option<String>,
    pub right_truth: Option<String>,
    pub delimiter: u8,
}

/// Maximum number of comparisons (4 bits each in a 48-bit pattern).
pub(crate) const MAX_COMPARISONS: usize = 12;
/// Maximum number of levels per comparison (codes 0..=15 with null and else).
pub(crate) const MAX_LEVELS: usize = 14;
/// Maximum number of blocking rules (16-bit rule mask).
pub(crate) const MAX_RULES: usize = 16;

impl Plan {
    pub(crate) fn compile(cfg: &LinkConfig) -> Result<Plan, ConfigError> {
        if cfg.fields.is_empty() {
            return Err(ConfigError::NoFields);
        }
        if cfg.comparisons.is_empty() {
            return Err(ConfigError::NoComparisons);
        }
        let map_names: Vec<String> = cfg.token_maps.keys().cloned().collect();
        let maps = Arc::new(build_token_maps(&cfg.token_maps));
        let mut fields = Vec::with_capacity(cfg.fields.len());
        for f in &cfg.fields {
            if f.name.trim().is_empty() {
                return Err(ConfigError::BadField {
                    field: f.name.clone(),
                    message: "empty field name".into(),
                });
            }
            if fields.iter().any(|p: &FieldPlan| p.name == f.name) {
                return Err(ConfigError::DuplicateField(f.name.clone()));
            }
            let default_col = f.column.clone().unwrap_or_else(|| f.name.clone());
            let left_column = f.left_column.clone().unwrap_or_else(|| default_col.clone());
            let right_column = f.right_column.clone().unwrap_or(default_col);
            if left_column.is_empty() {
                return Err(ConfigError::MissingColumn {
                    field: f.name.clone(),
                    side: "left",
                });
            }
            if right_column.is_empty() {
                return Err(ConfigError::MissingColumn {
                    field: f.name.clone(),
                    side: "right",
                });
            }
            let mut steps = Vec::with_capacity(f.normalise.len());
            for n in &f.normalise {
                let step = Normaliser::parse(n, &map_names).ok_or_else(|| {
                    ConfigError::UnknownNormaliser {
                        field: f.name.clone(),
                        normaliser: n.clone(),
                        hint: format!(
                            "known: {NORMALISER_NAMES}; token maps: [{}]",
                            map_names.join(", ")
                        ),
                    }
                })?;
                steps.push(step);
            }
            if f.date_format.is_some() && f.kind != FieldKind::Date {
                return Err(ConfigError::BadField {
                    field: f.name.clone(),
                    message: "`date_format` needs `kind = \"date\"`".into(),
                });
            }
            fields.push(FieldPlan {
                name: f.name.clone(),
                kind: f.kind,
                left_column,
                right_column,
                pipeline: Pipeline::new(steps, Arc::clone(&maps)),
                date_format: f.date_format.clone(),
            });
        }
        let known = || {
            fields
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let find = |name: &str, context: &str| -> Result<usize, ConfigError> {
            fields
                .iter()
                .position(|f| f.name == name.trim())
                .ok_or_else(|| ConfigError::UnknownField {
                    context: context.to_string(),
                    field: name.to_string(),
                    known: known(),
                })
        };

        if cfg.comparisons.len() > MAX_COMPARISONS {
            return Err(ConfigError::BadSetting {
                setting: "comparisons".into(),
                message: format!("at most {MAX_COMPARISONS} comparisons are supported"),
            });
        }
        let mut comparisons: Vec<ComparisonPlan> = Vec::new();
        for c in &cfg.comparisons {
            let name = c.name().to_string();
            if comparisons.iter().any(|p| p.name == name) {
                return Err(ConfigError::DuplicateComparison(name));
            }
            let field = find(&c.field, &format!("comparison `{name}`"))?;
            if c.levels.is_empty() {
                return Err(ConfigError::BadComparison {
                    comparison: name,
                    message: "no levels (give at least one, e.g. `levels = [\"exact\"]`)".into(),
                });
            }
            if c.levels.len() > MAX_LEVELS {
                return Err(ConfigError::BadComparison {
                    comparison: name,
                    message: format!("at most {MAX_LEVELS} levels are supported"),
                });
            }
            let mut levels = Vec::with_capacity(c.levels.len());
            for (i, text) in c.levels.iter().enumerate() {
                let bad = |message: String| ConfigError::BadLevel {
                    comparison: name.clone(),
                    index: i + 1,
                    level: text.clone(),
                    message,
                };
                let (kind, field_name) = parse_level(text).map_err(bad)?;
                let lf = match field_name {
                    Some(fname) => find(&fname, &format!("comparison `{name}`, level {}", i + 1))?,
                    None => field,
                };
                let fk = fields[lf].kind;
                let ok = match kind {
                    LevelKind::Exact => true,
                    LevelKind::DateSwap
                    | LevelKind::DateWithin(_)
                    | LevelKind::SameYear
                    | LevelKind::SameMonth => fk == FieldKind::Date,
                    LevelKind::Dice(_) => fk == FieldKind::Bloom,
                    _ => fk != FieldKind::Bloom,
                };
                if !ok {
                    return Err(bad(format!(
                        "not applicable to field `{}` of kind {:?}",
                        fields[lf].name, fk
                    )));
                }
                levels.push(LevelPlan {
                    kind,
                    field: lf,
                    label: text.trim().to_string(),
                });
            }
            let tf_level = if c.term_frequency {
                let pos = levels
                    .iter()
                    .position(|l| l.kind == LevelKind::Exact)
                    .ok_or_else(|| ConfigError::BadComparison {
                        comparison: name.clone(),
                        message: "`term_frequency = true` needs an `exact` level".into(),
                    })?;
                Some((pos, levels[pos].field))
            } else {
                None
            };
            comparisons.push(ComparisonPlan {
                name,
                field,
                levels,
                tf_level,
            });
        }

        if cfg.blocking.len() > MAX_RULES {
            return Err(ConfigError::BadSetting {
                setting: "blocking".into(),
                message: format!("at most {MAX_RULES} blocking rules are supported"),
            });
        }
        let mut rules = Vec::with_capacity(cfg.blocking.len());
        for r in &cfg.blocking {
            let rname = r.name();
            if r.keys.is_empty() {
                return Err(ConfigError::BadBlockingKey {
                    rule: rname,
                    key: String::new(),
                    message: "no keys".into(),
                });
            }
            let mut keys = Vec::with_capacity(r.keys.len());
            for k in &r.keys {
                let bad = |message: String| ConfigError::BadBlockingKey {
                    rule: rname.clone(),
                    key: k.clone(),
                    message,
                };
                let (func, fname) = parse_key(k).map_err(bad)?;
                let field = find(&fname, &format!("blocking rule `{rname}`, key `{k}`"))?;
                let fk = fields[field].kind;
                let ok = match func {
                    KeyFn::Year | KeyFn::Month | KeyFn::DateUnordered => fk == FieldKind::Date,
                    KeyFn::Value => true,
                    _ => fk != FieldKind::Bloom,
                };
                if !ok {
                    return Err(bad(format!(
                        "not applicable to field `{}` of kind {:?}",
                        fields[field].name, fk
                    )));
                }
                keys.push(KeyExpr { func, field });
            }
            let train_exclude = match &r.train_exclude {
                Some(names) => {
                    let mut v = Vec::new();
                    for n in names {
                        let idx =
                            comparisons
                                .iter()
                                .position(|c| &c.name == n)
                                .ok_or_else(|| {
                                    bad_rule(
                                        &rname,
                                        format!("train_exclude: unknown comparison `{n}`"),
                                    )
                                })?;
                        v.push(idx);
                    }
                    v
                }
                None => comparisons
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| {
                        keys.iter().any(|k| {
                            k.field == c.field || c.levels.iter().any(|l| l.field == k.field)
                        })
                    })
                    .map(|(i, _)| i)
                    .collect(),
            };
            rules.push(RulePlan {
                name: rname,
                keys,
                train_exclude,
            });
        }

        let input = &cfg.input;
        let delimiter = match input.delimiter.as_deref() {
            None => b',',
            Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
            Some("\\t" | "\t") => b'\t',
            Some(d) => {
                return Err(ConfigError::BadSetting {
                    setting: "input.delimiter".into(),
                    message: format!("`{d}` is not a single ASCII character"),
                })
            }
        };
        let m = &cfg.model;
        let positive = |v: f64| v > 0.0 && v.is_finite();
        if !positive(m.em_tolerance)
            || !(positive(m.m_prior_strength) || m.m_prior_strength == 0.0)
            || !positive(m.tf_minimum)
        {
            return Err(ConfigError::BadSetting {
                setting: "model".into(),
                message: "em_tolerance and tf_minimum must be > 0, m_prior_strength >= 0".into(),
            });
        }
        if let Some(p) = m.prior {
            if !(p > 0.0 && p < 1.0) {
                return Err(ConfigError::BadSetting {
                    setting: "model.prior".into(),
                    message: format!("{p} is not a probability strictly between 0 and 1"),
                });
            }
        }
        if !(cfg.link.threshold >= 0.0 && cfg.link.threshold <= 1.0) {
            return Err(ConfigError::BadSetting {
                setting: "link.threshold".into(),
                message: format!("{} is not a probability in [0, 1]", cfg.link.threshold),
            });
        }
        if !(cfg.link.cluster_floor >= 0.0 && cfg.link.cluster_floor <= 1.0) {
            return Err(ConfigError::BadSetting {
                setting: "link.cluster_floor".into(),
                message: format!("{} is not a probability in [0, 1]", cfg.link.cluster_floor),
            });
        }
        if let Some(enc) = &cfg.encoding {
            if enc.bloom_bits == 0 || enc.bloom_bits % 128 != 0 {
                return Err(ConfigError::BadSetting {
                    setting: "encoding.bloom_bits".into(),
                    message: "must be a positive multiple of 128".into(),
                });
            }
            if enc.ngram == 0 || enc.hashes == 0 || !(0.0..0.5).contains(&enc.flip_probability) {
                return Err(ConfigError::BadSetting {
                    setting: "encoding".into(),
                    message: "ngram and hashes must be > 0, flip_probability in [0, 0.5)".into(),
                });
            }
            for f in &enc.fields {
                find(&f.field, "encoding.fields")?;
            }
        }
        if rules.is_empty() {
            return Err(ConfigError::BadSetting {
                setting: "blocking".into(),
                message: "no [[blocking]] rules: at least one is needed to find candidate pairs \
                          (e.g. `keys = [\"nik\"]`)"
                    .into(),
            });
        }
        Ok(Plan {
            fields,
            comparisons,
            rules,
            left_id: input.left_id.clone().or_else(|| input.id.clone()),
            right_id: input.right_id.clone().or_else(|| input.id.clone()),
            left_truth: input.left_truth.clone().or_else(|| input.truth.clone()),
            right_truth: input.right_truth.clone().or_else(|| input.truth.clone()),
            delimiter,
        })
    }
}

fn bad_rule(rule: &str, message: String) -> ConfigError {
    ConfigError::BadBlockingKey {
        rule: rule.to_string(),
        key: String::new(),
        message,
    }
}

/// Parse `name[(field)] [op number]`.
fn parse_level(text: &str) -> Result<(LevelKind, Option<String>), String> {
    let t = text.trim();
    let ident_end = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(t.len());
    let ident = &t[..ident_end];
    let mut rest = t[ident_end..].trim_start();
    let mut field = None;
    if let Some(r) = rest.strip_prefix('(') {
        let close = r.find(')').ok_or("missing `)`")?;
        field = Some(r[..close].trim().to_string());
        rest = r[close + 1..].trim_start();
    }
    let (op, num) = if rest.is_empty() {
        (None, None)
    } else {
        let op_len = rest
            .find(|c: char| !matches!(c, '<' | '>' | '='))
            .unwrap_or(rest.len());
        let op = &rest[..op_len];
        let num_text = rest[op_len..].trim();
        let num: f64 = num_text
            .parse()
            .map_err(|_| format!("`{num_text}` is not a number"))?;
        (Some(op), Some(num))
    };
    let need = |want: &str| -> Result<f64, String> {
        match (op, num) {
            (Some(o), Some(n)) if o == want => Ok(n),
            (Some(o), _) => Err(format!("expected `{want}`, found `{o}`")),
            _ => Err(format!("needs `{want} NUMBER`, e.g. `{ident} {want} 0.9`")),
        }
    };
    let none = || -> Result<(), String> {
        if op.is_some() {
            Err(format!("`{ident}` takes no threshold"))
        } else {
            Ok(())
        }
    };
    let kind = match ident {
        "exact" => {
            none()?;
            LevelKind::Exact
        }
        "jaro_winkler" | "jw" => {
            let v = need(">=")?;
            if !(0.0..=1.0).contains(&v) {
                return Err("threshold must be within [0, 1]".into());
            }
            LevelKind::JaroWinkler(v)
        }
        "damerau_levenshtein" | "dl" => {
            let v = need("<=")?;
            if v < 0.0 || v.fract() != 0.0 || v > 64.0 {
                return Err("distance must be a whole number in 0..=64".into());
            }
            LevelKind::DamerauLevenshtein(v as usize)
        }
        "one_substitution" => {
            none()?;
            LevelKind::OneSubstitution
        }
        "one_transposition" => {
            none()?;
            LevelKind::OneTransposition
        }
        "nik_one_edit" => {
            none()?;
            LevelKind::NikOneEdit
        }
        "nik_typo" => {
            none()?;
            LevelKind::NikTypo
        }
        "date_swap" => {
            none()?;
            LevelKind::DateSwap
        }
        "date_within" => {
            let v = need("<=")?;
            if v < 0.0 || v.fract() != 0.0 || v > 100_000.0 {
                return Err("days must be a whole number >= 0".into());
            }
            LevelKind::DateWithin(v as i32)
        }
        "same_year" => {
            none()?;
            LevelKind::SameYear
        }
        "same_month" => {
            none()?;
            LevelKind::SameMonth
        }
        "dice" => {
            let v = need(">=")?;
            if !(0.0..=1.0).contains(&v) {
                return Err("threshold must be within [0, 1]".into());
            }
            LevelKind::Dice(v)
        }
        "" => return Err("empty level".into()),
        other => {
            return Err(format!(
                "unknown level `{other}` (known: exact, jaro_winkler >= T, damerau_levenshtein <= K, \
                 one_substitution, one_transposition, nik_one_edit, nik_typo, date_swap, date_within <= DAYS, \
                 same_year, same_month, dice >= T; optional `(field)` after the name)"
            ))
        }
    };
    Ok((kind, field))
}

/// Parse a key expression `field` or `func(field[, args])`.
fn parse_key(text: &str) -> Result<(KeyFn, String), String> {
    let t = text.trim();
    let Some(open) = t.find('(') else {
        if t.is_empty() {
            return Err("empty key".into());
        }
        return Ok((KeyFn::Value, t.to_string()));
    };
    let func = t[..open].trim();
    let inner = t[open + 1..]
        .strip_suffix(')')
        .ok_or("missing closing `)`")?;
    let args: Vec<&str> = inner.split(',').map(str::trim).collect();
    let field = args.first().copied().unwrap_or("").to_string();
    if field.is_empty() {
        return Err("missing field name".into());
    }
    let num = |i: usize| -> Result<usize, String> {
        args.get(i)
            .ok_or_else(|| format!("`{func}` needs {} arguments", i + 1))?
            .parse::<usize>()
            .map_err(|_| format!("argument {} of `{func}` is not a whole number", i + 1))
    };
    let arity = |n: usize| -> Result<(), String> {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!(
                "`{func}` takes {n} argument(s), got {}",
                args.len()
            ))
        }
    };
    let f = match func {
        "substr" => {
            arity(3)?;
            KeyFn::Substr(num(1)?, num(2)?)
        }
        "prefix" => {
            arity(2)?;
            KeyFn::Substr(0, num(1)?)
        }
        "suffix" => {
            arity(2)?;
            KeyFn::Suffix(num(1)?)
        }
        "year" => {
            arity(1)?;
            KeyFn::Year
        }
        "month" => {
            arity(1)?;
            KeyFn::Month
        }
        "first_token" => {
            arity(1)?;
            KeyFn::FirstToken
        }
        "last_token" => {
            arity(1)?;
            KeyFn::LastToken
        }
        "sorted_tokens" => {
            arity(1)?;
            KeyFn::SortedTokens
        }
        "soundex" => {
            arity(1)?;
            KeyFn::Soundex
        }
        "initials" => {
            arity(1)?;
            KeyFn::Initials
        }
        "date_unordered" => {
            arity(1)?;
            KeyFn::DateUnordered
        }
        other => {
            return Err(format!(
                "unknown key function `{other}` (known: substr(f,start,len), prefix(f,n), \
                 suffix(f,n), year(f), month(f), first_token(f), last_token(f), \
                 sorted_tokens(f), soundex(f), initials(f), date_unordered(f))"
            ))
        }
    };
    Ok((f, field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse() {
        assert_eq!(parse_level("exact").unwrap().0, LevelKind::Exact);
        assert_eq!(
            parse_level("jaro_winkler >= 0.9").unwrap().0,
            LevelKind::JaroWinkler(0.9)
        );
        assert_eq!(
            parse_level("dice(name_bf)>=0.8").unwrap(),
            (LevelKind::Dice(0.8), Some("name_bf".to_string()))
        );
        assert!(parse_level("jaro_winkler > 0.9").is_err());
        assert!(parse_level("damerau_levenshtein <= 1.5").is_err());
        assert!(parse_level("exact >= 1").is_err());
    }

    #[test]
    fn keys_parse() {
        assert_eq!(
            parse_key("substr(nik, 0, 6)").unwrap(),
            (KeyFn::Substr(0, 6), "nik".to_string())
        );
        assert_eq!(parse_key("nik").unwrap(), (KeyFn::Value, "nik".to_string()));
        assert!(parse_key("substr(nik,0)").is_err());
        assert!(parse_key("foo(nik)").is_err());
    }

    #[test]
    fn example_config_valid() {
        let cfg = LinkConfig::from_toml_str(EXAMPLE_CONFIG).unwrap();
        cfg.validate().unwrap();
    }
}
