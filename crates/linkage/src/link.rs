//! The linking pipeline: [`Linker`], results, timings, assignment and clustering.

use std::fmt;
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::blocking::{dedupe_candidates, link_candidates, BlockingStats, Candidates};
use crate::compare::{code_of, Access, Compact, Comparer, RULE_SHIFT};
use crate::config::{LinkConfig, Plan};
use crate::data::{Dataset, Side};
use crate::error::{LinkageError, Result};
use crate::model::{
    assemble, count_patterns, estimate_prior, estimate_u, probability_from_weight, train_m,
    FsModel, Sampling, Scorer,
};
use crate::similarity::Scratch;

/// Wall-clock time spent in each stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Reading, parsing and normalising the inputs (only set by the `*_paths` helpers).
    pub read_normalise: Duration,
    /// Building the blocking index and generating candidate pairs.
    pub blocking: Duration,
    /// Computing comparison levels of all candidate pairs.
    pub comparing: Duration,
    /// Sampling random pairs for u-probabilities.
    pub u_estimation: Duration,
    /// Counting patterns, EM and prior estimation.
    pub em: Duration,
    /// Scoring candidate pairs (weights, term frequencies, threshold).
    pub scoring: Duration,
    /// One-to-one assignment (link) or clustering (dedupe).
    pub assignment: Duration,
    /// Everything above.
    pub total: Duration,
}

impl fmt::Display for Timings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        write!(
            f,
            "read+normalise {:.0} ms, blocking {:.0} ms, comparing {:.0} ms, u-sampling {:.0} ms, \
             EM {:.0} ms, scoring {:.0} ms, assignment {:.0} ms, total {:.0} ms",
            ms(self.read_normalise),
            ms(self.blocking),
            ms(self.comparing),
            ms(self.u_estimation),
            ms(self.em),
            ms(self.scoring),
            ms(self.assignment),
            ms(self.total)
        )
    }
}

/// The packed comparison vector of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ComparisonVector(pub u64);

impl ComparisonVector {
    /// Level of comparison `k`: `None` for null (a value missing), else the index into the
    /// model's levels for that comparison (the last index is `else`).
    pub fn level(&self, k: usize) -> Option<usize> {
        match code_of(self.0, k) {
            0 => None,
            c => Some(c - 1),
        }
    }

    /// Mask of blocking rules (bit r = rule r) that the pair satisfies.
    pub fn rules(&self) -> u16 {
        (self.0 >> RULE_SHIFT) as u16
    }
}

/// One scored record pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MatchPair {
    /// Row of the left record (dedupe: the first record).
    pub left: u32,
    /// Row of the right record (dedupe: the second record).
    pub right: u32,
    /// Match weight: log2 prior odds + sum of log2 Bayes factors (+ TF adjustments).
    pub weight: f64,
    /// Match probability from the weight.
    pub probability: f64,
    /// Comparison levels.
    pub vector: ComparisonVector,
}

/// Counters of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LinkStats {
    /// Records on the left (dedupe: records).
    pub left_records: usize,
    /// Records on the right (dedupe: same as left).
    pub right_records: usize,
    /// Blocking counters.
    pub blocking: BlockingStats,
    /// Distinct comparison patterns (levels + rule mask) among candidates.
    pub patterns: usize,
    /// Candidate pairs at or above the threshold.
    pub pairs_above_threshold: usize,
    /// Accepted matches (link) or pairs inside clusters used (dedupe).
    pub matches: usize,
    /// Candidate pairs that are true matches (when both inputs carry truth ids).
    pub candidate_true_pairs: Option<u64>,
}

/// Term-frequency tables: per comparison with TF, the field and value hash → relative frequency.
#[derive(Debug, Clone, Default)]
struct TfTables {
    tables: Vec<Option<(usize, FxHashMap<u64, f64>)>>,
}

/// Result of linking two datasets.
#[derive(Debug, Clone)]
pub struct LinkResult {
    /// Accepted pairs (one-to-one unless disabled), by descending weight.
    pub pairs: Vec<MatchPair>,
    /// The model used.
    pub model: FsModel,
    /// Stage timings.
    pub timings: Timings,
    /// Counters.
    pub stats: LinkStats,
    tf: TfTables,
}

/// Result of de-duplicating one dataset.
#[derive(Debug, Clone)]
pub struct DedupeResult {
    /// Cluster id per record: the row number of the cluster's first record.
    pub clusters: Vec<u32>,
    /// Number of clusters (singletons included).
    pub n_clusters: usize,
    /// Pairs at or above the threshold (the edges that formed the clusters, strongest first).
    pub pairs: Vec<MatchPair>,
    /// Pairs at or above the threshold left out of clustering by `link.max_cluster_size` or
    /// `link.cluster_floor` (their two records stayed in different clusters).
    pub refused_pairs: usize,
    /// The model used.
    pub model: FsModel,
    /// Stage timings.
    pub timings: Timings,
    /// Counters.
    pub stats: LinkStats,
    tf: TfTables,
}

/// A link run started from files: the loaded inputs and the result.
#[derive(Debug, Clone)]
pub struct LinkRun {
    /// Left dataset.
    pub left: Dataset,
    /// Right dataset.
    pub right: Dataset,
    /// Result (its `timings.read_normalise` includes reading both files).
    pub result: LinkResult,
}

/// One comparison's part of an [`Explanation`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldExplanation {
    /// Comparison name.
    pub comparison: String,
    /// Level index (`None` = null: a value is missing).
    pub level: Option<usize>,
    /// Level label (`null`, a configured level, or `else`).
    pub label: String,
    /// Normalised left value.
    pub left_value: String,
    /// Normalised right value.
    pub right_value: String,
    /// m of the level (1 for null).
    pub m: f64,
    /// u of the level (1 for null).
    pub u: f64,
    /// log2(m/u) including the term-frequency adjustment.
    pub log2_bayes_factor: f64,
    /// The part of `log2_bayes_factor` due to term frequency.
    pub tf_adjustment: f64,
}

/// Why a pair scored as it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// log2 prior odds.
    pub prior_weight: f64,
    /// Per comparison contributions.
    pub fields: Vec<FieldExplanation>,
    /// Total weight.
    pub weight: f64,
    /// Match probability.
    pub probability: f64,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "prior {:+.2}", self.prior_weight)?;
        for x in &self.fields {
            writeln!(
                f,
                "{:<14} {:<28} {:+7.2}  ({:?} vs {:?})",
                x.comparison, x.label, x.log2_bayes_factor, x.left_value, x.right_value
            )?;
        }
        write!(
            f,
            "weight {:+.2} -> probability {:.6}",
            self.weight, self.probability
        )
    }
}

/// Runs linkage according to a validated config.
#[derive(Debug, Clone)]
pub struct Linker {
    config: LinkConfig,
    plan: Plan,
}

impl Linker {
    /// Validate the config and build a linker.
    pub fn new(config: LinkConfig) -> Result<Linker> {
        let plan = Plan::compile(&config)?;
        Ok(Linker { config, plan })
    }

    /// Parse, validate and build from TOML text.
    pub fn from_toml_str(text: &str) -> Result<Linker> {
        Linker::new(LinkConfig::from_toml_str(text)?)
    }

    /// The configuration.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// Names of the fields, in config order (index = field index of [`Dataset::value`]).
    pub fn field_names(&self) -> Vec<&str> {
        self.plan.fields.iter().map(|f| f.name.as_str()).collect()
    }

    /// Names of the comparisons, in config order.
    pub fn comparison_names(&self) -> Vec<&str> {
        self.plan
            .comparisons
            .iter()
            .map(|c| c.name.as_str())
            .collect()
    }

    /// Load a CSV file (whole file read into memory, parsed in parallel).
    pub fn load_path(&self, side: Side, path: &Path) -> Result<Dataset> {
        Dataset::load_path(&self.plan, side, path)
    }

    /// Load CSV from a reader.
    pub fn load_reader<R: Read>(&self, side: Side, reader: R) -> Result<Dataset> {
        Dataset::load_reader(&self.plan, side, reader)
    }

    /// Load CSV from bytes.
    pub fn load_bytes(&self, side: Side, bytes: &[u8]) -> Result<Dataset> {
        Dataset::load_bytes(&self.plan, side, bytes)
    }

    /// Load two files and link them; timings include reading.
    pub fn link_paths(&self, left: &Path, right: &Path) -> Result<LinkRun> {
        let t = Instant::now();
        let (l, r) = rayon::join(
            || self.load_path(Side::Left, left),
            || self.load_path(Side::Right, right),
        );
        let (left, right) = (l?, r?);
        let read = t.elapsed();
        let mut result = self.link(&left, &right)?;
        result.timings.read_normalise = read;
        result.timings.total += read;
        Ok(LinkRun {
            left,
            right,
            result,
        })
    }

    /// Train a model on the two datasets and link them.
    pub fn link(&self, left: &Dataset, right: &Dataset) -> Result<LinkResult> {
        self.link_inner(left, right, None)
    }

    /// Link with a previously trained model (no u-sampling or EM).
    pub fn link_with_model(
        &self,
        left: &Dataset,
        right: &Dataset,
        model: &FsModel,
    ) -> Result<LinkResult> {
        model.check(&self.plan)?;
        self.link_inner(left, right, Some(model))
    }

    fn link_inner(
        &self,
        left: &Dataset,
        right: &Dataset,
        model: Option<&FsModel>,
    ) -> Result<LinkResult> {
        let start = Instant::now();
        let mut timings = Timings::default();
        let plan = &self.plan;

        // The smaller side is indexed and read in random order: give it a row-major copy.
        let t = Instant::now();
        let left_is_index = left.len() <= right.len();
        let (index_ds, probe_ds) = if left_is_index {
            (left, right)
        } else {
            (right, left)
        };
        let compact = (Compact::bytes_for(plan, index_ds.len()) <= COMPACT_LIMIT)
            .then(|| Compact::new(plan, index_ds));
        let max_block = self.config.link.max_block_size;
        let n_rules = plan.rules.len();
        let (cands, bstats) = match &compact {
            Some(c) => link_candidates(index_ds, c, probe_ds, left_is_index, n_rules, max_block),
            None => link_candidates(
                index_ds,
                index_ds,
                probe_ds,
                left_is_index,
                n_rules,
                max_block,
            ),
        };
        timings.blocking = t.elapsed();

        let t = Instant::now();
        let patterns = match (&compact, left_is_index) {
            (Some(c), true) => compute_patterns(plan, c, right, &cands),
            (Some(c), false) => compute_patterns(plan, left, c, &cands),
            (None, _) => compute_patterns(plan, left, right, &cands),
        };
        let pairs = cands.pairs;
        drop(compact);
        let candidate_true_pairs = count_true_candidates(left, right, &pairs);
        timings.comparing = t.elapsed();

        let total_pairs = left.len() as f64 * right.len() as f64;
        let sampling = Sampling::Link {
            left: left.len(),
            right: right.len(),
        };
        let (model, n_patterns) = self.fit(
            model,
            (left, right),
            sampling,
            &patterns,
            total_pairs,
            left.len().min(right.len()) as f64,
            &mut timings,
        );

        let t = Instant::now();
        let tf = build_tf(plan, left, Some(right), self.config.model.tf_minimum);
        let scorer = Scorer::new(plan, &model);
        let threshold_w = threshold_weight(self.config.link.threshold);
        let mut scored = score_pairs(&scorer, &tf, left, &pairs, &patterns, threshold_w);
        let above = scored.len();
        timings.scoring = t.elapsed();

        let t = Instant::now();
        scored.par_sort_unstable_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then(a.left.cmp(&b.left))
                .then(a.right.cmp(&b.right))
        });
        let accepted = if self.config.link.one_to_one {
            let mut used_l = vec![false; left.len()];
            let mut used_r = vec![false; right.len()];
            let mut out = Vec::new();
            for p in scored {
                let (l, r) = (p.left as usize, p.right as usize);
                if !used_l[l] && !used_r[r] {
                    used_l[l] = true;
                    used_r[r] = true;
                    out.push(p);
                }
            }
            out
        } else {
            scored
        };
        timings.assignment = t.elapsed();
        timings.total = start.elapsed();
        let stats = LinkStats {
            left_records: left.len(),
            right_records: right.len(),
            blocking: bstats,
            patterns: n_patterns,
            pairs_above_threshold: above,
            matches: accepted.len(),
            candidate_true_pairs,
        };
        Ok(LinkResult {
            pairs: accepted,
            model,
            timings,
            stats,
            tf,
        })
    }

    /// Load a file and de-duplicate it.
    /// Errors speak of "input", not "left input".
    pub fn dedupe_path(&self, path: &Path) -> Result<(Dataset, DedupeResult)> {
        let t = Instant::now();
        let data = self
            .load_path(Side::Left, path)
            .map_err(LinkageError::of_single_input)?;
        let read = t.elapsed();
        let mut result = self.dedupe(&data)?;
        result.timings.read_normalise = read;
        result.timings.total += read;
        Ok((data, result))
    }

    /// Train a model on one dataset and cluster its duplicates.
    pub fn dedupe(&self, data: &Dataset) -> Result<DedupeResult> {
        self.dedupe_inner(data, None)
    }

    /// De-duplicate with a previously trained model.
    pub fn dedupe_with_model(&self, data: &Dataset, model: &FsModel) -> Result<DedupeResult> {
        model.check(&self.plan)?;
        self.dedupe_inner(data, Some(model))
    }

    fn dedupe_inner(&self, data: &Dataset, model: Option<&FsModel>) -> Result<DedupeResult> {
        let start = Instant::now();
        let mut timings = Timings::default();
        let plan = &self.plan;
        let t = Instant::now();
        let compact = (Compact::bytes_for(plan, data.len()) <= COMPACT_LIMIT)
            .then(|| Compact::new(plan, data));
        let (n_rules, max_block) = (plan.rules.len(), self.config.link.max_block_size);
        let (cands, bstats) = match &compact {
            Some(c) => dedupe_candidates(data, c, n_rules, max_block),
            None => dedupe_candidates(data, data, n_rules, max_block),
        };
        timings.blocking = t.elapsed();

        let t = Instant::now();
        let patterns = match &compact {
            Some(c) => compute_patterns(plan, data, c, &cands),
            None => compute_patterns(plan, data, data, &cands),
        };
        let pairs = cands.pairs;
        drop(compact);
        let candidate_true_pairs = count_true_candidates(data, data, &pairs);
        timings.comparing = t.elapsed();

        let n = data.len() as f64;
        let total_pairs = n * (n - 1.0) / 2.0;
        let (model, n_patterns) = self.fit(
            model,
            (data, data),
            Sampling::Dedupe { n: data.len() },
            &patterns,
            total_pairs,
            n * 0.1,
            &mut timings,
        );

        let t = Instant::now();
        let tf = build_tf(plan, data, None, self.config.model.tf_minimum);
        let scorer = Scorer::new(plan, &model);
        let settings = &self.config.link;
        let threshold_w = threshold_weight(settings.threshold);
        let floor_w =
            (settings.cluster_floor > 0.0).then(|| threshold_weight(settings.cluster_floor));
        let min_w = floor_w.map_or(threshold_w, |f| f.min(threshold_w));
        let mut scored = score_pairs(&scorer, &tf, data, &pairs, &patterns, min_w);
        timings.scoring = t.elapsed();

        let t = Instant::now();
        scored.par_sort_unstable_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then(a.left.cmp(&b.left))
                .then(a.right.cmp(&b.right))
        });
        // Pairs between the floor and the threshold only vouch for cluster members; they do
        // not join clusters.
        let floor_pairs: Option<rustc_hash::FxHashSet<(u32, u32)>> = floor_w.map(|f| {
            scored
                .iter()
                .filter(|p| p.weight >= f)
                .map(|p| (p.left, p.right))
                .collect()
        });
        scored.retain(|p| p.weight >= threshold_w);
        let mut uf = UnionFind::new(data.len());
        let mut refused_pairs = 0;
        for p in &scored {
            let joined = uf.union_within(
                p.left as usize,
                p.right as usize,
                settings.max_cluster_size,
                floor_pairs.as_ref(),
            );
            if !joined {
                refused_pairs += 1;
            }
        }
        let (clusters, n_clusters) = uf.labels();
        timings.assignment = t.elapsed();
        timings.total = start.elapsed();
        let stats = LinkStats {
            left_records: data.len(),
            right_records: data.len(),
            blocking: bstats,
            patterns: n_patterns,
            pairs_above_threshold: scored.len(),
            matches: scored.len() - refused_pairs,
            candidate_true_pairs,
        };
        Ok(DedupeResult {
            clusters,
            n_clusters,
            pairs: scored,
            refused_pairs,
            model,
            timings,
            stats,
            tf,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn fit(
        &self,
        model: Option<&FsModel>,
        data: (&Dataset, &Dataset),
        sampling: Sampling,
        patterns: &[u64],
        total_pairs: f64,
        start_matches: f64,
        timings: &mut Timings,
    ) -> (FsModel, usize) {
        let plan = &self.plan;
        let mc = &self.config.model;
        let t = Instant::now();
        let counts = count_patterns(patterns);
        let count_time = t.elapsed();
        if let Some(m) = model {
            timings.em = count_time;
            return (m.clone(), counts.len());
        }
        let t = Instant::now();
        let u = estimate_u(plan, data.0, data.1, sampling, mc.u_sample_pairs, mc.seed);
        timings.u_estimation = t.elapsed();
        let t = Instant::now();
        let (m, trained, sessions) = train_m(plan, &counts, &u, mc);
        let prior = match mc.prior {
            Some(p) => p,
            None => estimate_prior(&counts, &m, &u, total_pairs, start_matches),
        };
        let samples = match sampling {
            Sampling::Link { left, right } => (left as u128 * right as u128) as f64,
            Sampling::Dedupe { n } => (n as f64) * (n as f64 - 1.0) / 2.0,
        };
        let used = (mc.u_sample_pairs as f64).min(samples) as usize;
        let model = assemble(plan, m, u, trained, prior, sessions, used);
        timings.em = count_time + t.elapsed();
        (model, counts.len())
    }

    /// Explain the score of any pair of records (`left` row `l`, `right` row `r`) under the
    /// model and term-frequency tables of `result`.
    pub fn explain(
        &self,
        result: &LinkResult,
        left: &Dataset,
        l: usize,
        right: &Dataset,
        r: usize,
    ) -> Explanation {
        explain_pair(&self.plan, &result.model, &result.tf, left, l, right, r)
    }

    /// Explain a pair within a de-duplicated dataset.
    pub fn explain_dedupe(
        &self,
        result: &DedupeResult,
        data: &Dataset,
        a: usize,
        b: usize,
    ) -> Explanation {
        explain_pair(&self.plan, &result.model, &result.tf, data, a, data, b)
    }

    /// Write accepted link pairs as CSV: `left_id,right_id,match_weight,match_probability`,
    /// then one column per comparison with the level label.
    pub fn write_pairs_csv<W: Write>(
        &self,
        pairs: &[MatchPair],
        model: &FsModel,
        left: &Dataset,
        right: &Dataset,
        out: W,
    ) -> Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec![
            "left_id".to_string(),
            "right_id".to_string(),
            "match_weight".to_string(),
            "match_probability".to_string(),
        ];
        header.extend(model.comparisons.iter().map(|c| c.name.clone()));
        w.write_record(&header)?;
        let mut row: Vec<String> = Vec::with_capacity(header.len());
        for p in pairs {
            row.clear();
            row.push(left.id(p.left as usize).into_owned());
            row.push(right.id(p.right as usize).into_owned());
            row.push(format!("{:.4}", p.weight));
            row.push(format!("{:.6}", p.probability));
            row.extend(level_labels(model, p));
            w.write_record(&row)?;
        }
        w.flush()?;
        Ok(())
    }

    /// The name of the record id column of the one input of a dedupe: the configured id
    /// column, or `row` (0-based data row number) when there is none.
    pub fn dedupe_id_column(&self) -> &str {
        self.plan.left_id.as_deref().unwrap_or("row")
    }

    /// Write de-duplication clusters as CSV: `<id>,cluster_id,cluster_size`, where `<id>` is
    /// the input's id column name ([`Linker::dedupe_id_column`]), the cluster id is the id of
    /// the cluster's first record and the size counts its records (1: no duplicate found).
    pub fn write_clusters_csv<W: Write>(
        &self,
        result: &DedupeResult,
        data: &Dataset,
        out: W,
    ) -> Result<()> {
        let mut sizes = vec![0u32; result.clusters.len()];
        for &c in &result.clusters {
            sizes[c as usize] += 1;
        }
        let mut w = csv::Writer::from_writer(out);
        w.write_record([self.dedupe_id_column(), "cluster_id", "cluster_size"])?;
        for (i, &c) in result.clusters.iter().enumerate() {
            let size = sizes[c as usize].to_string();
            w.write_record([data.id(i).as_ref(), data.id(c as usize).as_ref(), &size])?;
        }
        w.flush()?;
        Ok(())
    }

    /// Write the pairs of a dedupe as CSV: `<id>_1,<id>_2,match_weight,match_probability`, then
    /// one column per comparison with the level label (as [`Linker::write_pairs_csv`]), then
    /// `clustered` (`true` when the pair joined its records' clusters, `false` when the cluster
    /// limits left it out).
    pub fn write_dedupe_pairs_csv<W: Write>(
        &self,
        result: &DedupeResult,
        data: &Dataset,
        out: W,
    ) -> Result<()> {
        let id = self.dedupe_id_column();
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec![
            format!("{id}_1"),
            format!("{id}_2"),
            "match_weight".to_string(),
            "match_probability".to_string(),
        ];
        header.extend(result.model.comparisons.iter().map(|c| c.name.clone()));
        header.push("clustered".to_string());
        w.write_record(&header)?;
        let mut row: Vec<String> = Vec::with_capacity(header.len());
        for p in &result.pairs {
            row.clear();
            row.push(data.id(p.left as usize).into_owned());
            row.push(data.id(p.right as usize).into_owned());
            row.push(format!("{:.4}", p.weight));
            row.push(format!("{:.6}", p.probability));
            row.extend(level_labels(&result.model, p));
            let together = result.clusters[p.left as usize] == result.clusters[p.right as usize];
            row.push(together.to_string());
            w.write_record(&row)?;
        }
        w.flush()?;
        Ok(())
    }
}

/// The level label of each comparison of a pair (`null` when a value is missing).
fn level_labels<'a>(model: &'a FsModel, p: &'a MatchPair) -> impl Iterator<Item = String> + 'a {
    model
        .comparisons
        .iter()
        .enumerate()
        .map(|(k, c)| match p.vector.level(k) {
            None => "null".to_string(),
            Some(i) => c
                .levels
                .get(i)
                .map_or_else(String::new, |l| l.label.clone()),
        })
}

fn threshold_weight(p: f64) -> f64 {
    if p <= 0.0 {
        f64::NEG_INFINITY
    } else if p >= 1.0 {
        f64::INFINITY
    } else {
        (p / (1.0 - p)).log2()
    }
}

/// Row-major copies of the indexed side are made up to this size.
const COMPACT_LIMIT: usize = 6 << 30;

fn compute_patterns<L: Access, R: Access>(
    plan: &Plan,
    left: &L,
    right: &R,
    cands: &Candidates,
) -> Vec<u64> {
    let comparer = Comparer::new(plan, left, right);
    let mut patterns = vec![0u64; cands.pairs.len()];
    patterns
        .par_chunks_mut(4096)
        .zip(cands.pairs.par_chunks(4096))
        .zip(cands.masks.par_chunks(4096))
        .for_each(|((out, ps), ms)| {
            let mut scratch = Scratch::new();
            for ((o, &(l, r)), &mask) in out.iter_mut().zip(ps).zip(ms) {
                let p = comparer.pattern(l as usize, r as usize, &mut scratch);
                *o = p | (u64::from(mask) << RULE_SHIFT);
            }
        });
    patterns
}

fn count_true_candidates(left: &Dataset, right: &Dataset, pairs: &[(u32, u32)]) -> Option<u64> {
    let (lt, rt) = (left.truth()?, right.truth()?);
    Some(
        pairs
            .par_iter()
            .filter(|&&(l, r)| {
                let a = lt[l as usize];
                a != 0 && a == rt[r as usize]
            })
            .count() as u64,
    )
}

fn build_tf(plan: &Plan, left: &Dataset, right: Option<&Dataset>, tf_min: f64) -> TfTables {
    let tables = plan
        .comparisons
        .iter()
        .map(|c| {
            let (_, f) = c.tf_level?;
            let lh = &left.fields[f].hash;
            let mut counts: FxHashMap<u64, u64> = FxHashMap::default();
            let mut total = 0u64;
            for &h in lh {
                if h != 0 {
                    *counts.entry(h).or_insert(0) += 1;
                    total += 1;
                }
            }
            if let Some(right) = right {
                // Only values seen on the left matter (an exact match shares the value).
                let rh = &right.fields[f].hash;
                let (extra, seen): (u64, Vec<u64>) = rh
                    .par_chunks(1 << 16)
                    .map(|chunk| {
                        let mut n = 0u64;
                        let mut hits = Vec::new();
                        for &h in chunk {
                            if h != 0 {
                                n += 1;
                                if counts.contains_key(&h) {
                                    hits.push(h);
                                }
                            }
                        }
                        (n, hits)
                    })
                    .reduce(
                        || (0, Vec::new()),
                        |mut a, b| {
                            a.0 += b.0;
                            a.1.extend(b.1);
                            a
                        },
                    );
                total += extra;
                for h in seen {
                    if let Some(v) = counts.get_mut(&h) {
                        *v += 1;
                    }
                }
            }
            let total = total.max(1) as f64;
            Some((
                f,
                counts
                    .into_iter()
                    .map(|(h, n)| (h, (n as f64 / total).max(tf_min)))
                    .collect(),
            ))
        })
        .collect();
    TfTables { tables }
}

/// TF adjustment (added to the level's log2 BF) for comparison `k` at the left value.
fn tf_adjust(
    scorer: &Scorer,
    tf: &TfTables,
    k: usize,
    code: usize,
    value_hash: u64,
) -> Option<f64> {
    let (tf_code, log2_m) = scorer.tf.get(k).copied().flatten()?;
    if code != tf_code {
        return None;
    }
    let freq = tf.tables.get(k)?.as_ref()?.1.get(&value_hash)?;
    Some(log2_m - freq.log2() - scorer.bf[k][code])
}

fn score_pairs(
    scorer: &Scorer,
    tf: &TfTables,
    left: &Dataset,
    pairs: &[(u32, u32)],
    patterns: &[u64],
    threshold_w: f64,
) -> Vec<MatchPair> {
    let tf_fields: Vec<(usize, usize)> = tf
        .tables
        .iter()
        .enumerate()
        .filter_map(|(k, t)| t.as_ref().map(|(f, _)| (k, *f)))
        .collect();
    pairs
        .par_chunks(4096)
        .zip(patterns.par_chunks(4096))
        .flat_map_iter(|(ps, pats)| {
            let mut out = Vec::new();
            for (&(l, r), &pat) in ps.iter().zip(pats) {
                let mut w = scorer.pattern_weight(pat);
                for &(k, field) in &tf_fields {
                    let code = code_of(pat, k);
                    let h = left.fields[field].hash[l as usize];
                    if let Some(adj) = tf_adjust(scorer, tf, k, code, h) {
                        w += adj;
                    }
                }
                if w >= threshold_w {
                    out.push(MatchPair {
                        left: l,
                        right: r,
                        weight: w,
                        probability: probability_from_weight(w),
                        vector: ComparisonVector(pat),
                    });
                }
            }
            out
        })
        .collect()
}

fn explain_pair(
    plan: &Plan,
    model: &FsModel,
    tf: &TfTables,
    left: &Dataset,
    l: usize,
    right: &Dataset,
    r: usize,
) -> Explanation {
    let comparer = Comparer::new(plan, left, right);
    let pat = comparer.pattern(l, r, &mut Scratch::new());
    let scorer = Scorer::new(plan, model);
    let mut weight = scorer.prior_weight;
    let mut fields = Vec::with_capacity(plan.comparisons.len());
    for (k, (c, mc)) in plan.comparisons.iter().zip(&model.comparisons).enumerate() {
        let code = code_of(pat, k);
        let (label, m, u, bf) = if code == 0 {
            ("null".to_string(), 1.0, 1.0, 0.0)
        } else {
            let lv = &mc.levels[code - 1];
            (lv.label.clone(), lv.m, lv.u, lv.log2_bayes_factor())
        };
        let tf_adj = c
            .tf_level
            .and_then(|(_, f)| tf_adjust(&scorer, tf, k, code, left.fields[f].hash[l]))
            .unwrap_or(0.0);
        weight += bf + tf_adj;
        fields.push(FieldExplanation {
            comparison: c.name.clone(),
            level: if code == 0 { None } else { Some(code - 1) },
            label,
            left_value: left.value(c.field, l).to_string(),
            right_value: right.value(c.field, r).to_string(),
            m,
            u,
            log2_bayes_factor: bf + tf_adj,
            tf_adjustment: tf_adj,
        });
    }
    Explanation {
        prior_weight: scorer.prior_weight,
        fields,
        weight,
        probability: probability_from_weight(weight),
    }
}

/// Union-find with path halving and union by size; with the members of each cluster when a
/// cluster floor needs them.
struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
    members: FxHashMap<u32, Vec<u32>>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
            members: FxHashMap::default(),
        }
    }

    /// Join the clusters of `a` and `b` unless the joined cluster would have more than
    /// `max_size` records (0: no limit) or, with `floor` (the pairs at or above the cluster
    /// floor, `(lower row, higher row)`), a pair across the two clusters is not in it.
    /// Returns whether the two are now in one cluster.
    fn union_within(
        &mut self,
        a: usize,
        b: usize,
        max_size: usize,
        floor: Option<&rustc_hash::FxHashSet<(u32, u32)>>,
    ) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return true;
        }
        if max_size > 0 && (self.size[ra] + self.size[rb]) as usize > max_size {
            return false;
        }
        let Some(floor) = floor else {
            self.union(a, b);
            return true;
        };
        let ma = self
            .members
            .remove(&(ra as u32))
            .unwrap_or_else(|| vec![ra as u32]);
        let mb = self
            .members
            .remove(&(rb as u32))
            .unwrap_or_else(|| vec![rb as u32]);
        let vouched = ma
            .iter()
            .all(|&x| mb.iter().all(|&y| floor.contains(&(x.min(y), x.max(y)))));
        if vouched {
            self.union(a, b);
        }
        let root = self.find(a) as u32;
        if vouched {
            let mut all = ma;
            all.extend(mb);
            self.members.insert(root, all);
        } else {
            self.members.insert(ra as u32, ma);
            self.members.insert(rb as u32, mb);
        }
        vouched
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] as usize != x {
            let p = self.parent[x] as usize;
            self.parent[x] = self.parent[p];
            x = self.parent[x] as usize;
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let (big, small) = if self.size[ra] >= self.size[rb] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small] = big as u32;
        self.size[big] += self.size[small];
    }

    /// Cluster label per element: the smallest member index; and the number of clusters.
    fn labels(&mut self) -> (Vec<u32>, usize) {
        let n = self.parent.len();
        let mut first = vec![u32::MAX; n];
        let mut out = vec![0u32; n];
        let mut count = 0;
        for (i, o) in out.iter_mut().enumerate() {
            let root = self.find(i);
            if first[root] == u32::MAX {
                first[root] = i as u32;
                count += 1;
            }
            *o = first[root];
        }
        (out, count)
    }
}
