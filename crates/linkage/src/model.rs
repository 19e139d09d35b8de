//! The Fellegi-Sunter model: u-probabilities from random pairs, m-probabilities by EM over
//! comparison-pattern counts, the prior, match weights and explanations.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::compare::{code_of, rules_of, Comparer, LEVEL_MASK};
use crate::config::{ModelConfig, Plan};
use crate::data::Dataset;
use crate::error::{LinkageError, Result};
use crate::similarity::Scratch;

/// m and u of one level, with its label.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LevelModel {
    /// Level text from the config (`else` for the catch-all level).
    pub label: String,
    /// P(level | match).
    pub m: f64,
    /// P(level | non-match).
    pub u: f64,
}

impl LevelModel {
    /// log2(m / u).
    pub fn log2_bayes_factor(&self) -> f64 {
        (self.m / self.u).log2()
    }
}

/// Parameters of one comparison.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComparisonModel {
    /// Comparison name.
    pub name: String,
    /// Configured levels in order, then `else`.
    pub levels: Vec<LevelModel>,
    /// False when no EM session could estimate the m-probabilities (priors are used).
    pub trained: bool,
}

/// Diagnostics of one EM training session (one per blocking rule).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainingSession {
    /// Blocking rule whose pairs were used.
    pub rule: String,
    /// Pairs in the session.
    pub pairs: u64,
    /// Distinct comparison patterns in the session.
    pub patterns: usize,
    /// Comparisons not trained in this session.
    pub excluded: Vec<String>,
    /// EM iterations run.
    pub iterations: usize,
    /// Converged before the iteration limit.
    pub converged: bool,
    /// Estimated share of matches among the session's pairs.
    pub match_share: f64,
    /// The session's m estimates per comparison (`None` when excluded).
    pub m: Vec<Option<Vec<f64>>>,
}

/// A fitted Fellegi-Sunter model. Serialisable, so a model trained once can be saved (JSON)
/// and reused with [`crate::Linker::link_with_model`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FsModel {
    /// λ: probability that two random records match.
    pub prior: f64,
    /// Per comparison parameters.
    pub comparisons: Vec<ComparisonModel>,
    /// EM sessions (diagnostics).
    pub training: Vec<TrainingSession>,
    /// Random pairs used for u estimation.
    pub u_sample_pairs: usize,
}

impl FsModel {
    /// log2 prior odds λ/(1-λ).
    pub fn prior_weight(&self) -> f64 {
        (self.prior / (1.0 - self.prior)).log2()
    }

    /// Check that the model fits a compiled plan.
    pub(crate) fn check(&self, plan: &Plan) -> Result<()> {
        if self.comparisons.len() != plan.comparisons.len() {
            return Err(LinkageError::ModelMismatch(format!(
                "model has {} comparisons, config has {}",
                self.comparisons.len(),
                plan.comparisons.len()
            )));
        }
        for (m, c) in self.comparisons.iter().zip(&plan.comparisons) {
            if m.name != c.name || m.levels.len() != c.levels.len() + 1 {
                return Err(LinkageError::ModelMismatch(format!(
                    "comparison `{}` ({} levels) does not fit config comparison `{}` ({} levels + else)",
                    m.name,
                    m.levels.len(),
                    c.name,
                    c.levels.len()
                )));
            }
        }
        if !(self.prior > 0.0 && self.prior < 1.0) {
            return Err(LinkageError::ModelMismatch(format!(
                "prior {} is not in (0, 1)",
                self.prior
            )));
        }
        Ok(())
    }
}

/// Default m-probabilities for `n` configured levels plus else.
pub(crate) fn default_m(n: usize) -> Vec<f64> {
    let mut m = vec![0.0; n + 1];
    m[0] = 0.8;
    for (i, v) in m.iter_mut().enumerate().take(n).skip(1) {
        *v = 0.2 * 0.5f64.powi(i as i32);
    }
    m[n] = if n == 1 {
        0.2
    } else {
        0.2 * 0.5f64.powi(n as i32 - 1)
    };
    m
}

/// How random pairs are drawn.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sampling {
    Link { left: usize, right: usize },
    Dedupe { n: usize },
}

#[inline]
fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    // Lemire's multiply-shift; the tiny bias is irrelevant for sampling.
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// Size of the record pools random pairs are drawn from (small enough to stay in cache).
const POOL: usize = 8192;

fn pool(rng: &mut ChaCha8Rng, n: usize) -> Vec<usize> {
    if n <= POOL {
        return (0..n).collect();
    }
    let mut v: Vec<usize> = (0..POOL).map(|_| below(rng, n)).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Estimate u-probabilities from random pairs: `u[k][level]` (levels then else).
///
/// Pairs are drawn uniformly from random pools of up to 8192 records per side, copied into
/// compact arrays, so that sampling does not wait on cache misses across millions of rows.
pub(crate) fn estimate_u(
    plan: &Plan,
    left: &Dataset,
    right: &Dataset,
    sampling: Sampling,
    samples: usize,
    seed: u64,
) -> Vec<Vec<f64>> {
    let nc = plan.comparisons.len();
    let mut setup = ChaCha8Rng::seed_from_u64(seed);
    let (lp, rp, possible) = match sampling {
        Sampling::Link { left: a, right: b } => {
            let lp = left.subset(&pool(&mut setup, a));
            let rp = right.subset(&pool(&mut setup, b));
            let possible = (lp.len() as u128) * (rp.len() as u128);
            (lp, Some(rp), possible)
        }
        Sampling::Dedupe { n } => {
            let lp = left.subset(&pool(&mut setup, n));
            let k = lp.len() as u128;
            (lp, None, k * k.saturating_sub(1) / 2)
        }
    };
    let rp_ref = rp.as_ref().unwrap_or(&lp);
    let comparer = Comparer::new(plan, &lp, rp_ref);
    let (a, b) = (lp.len(), rp_ref.len());
    let dedupe = rp.is_none();
    let samples = if possible == 0 {
        0
    } else {
        (samples as u128).min(possible.saturating_mul(4)) as usize
    };
    const CHUNK: usize = 1 << 15;
    let chunks = samples.div_ceil(CHUNK);
    let counts: Vec<[u64; 16]> = (0..chunks)
        .into_par_iter()
        .map(|ci| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(ci as u64 + 1);
            let mut local = vec![[0u64; 16]; nc];
            let mut scratch = Scratch::new();
            let n = CHUNK.min(samples - ci * CHUNK);
            for _ in 0..n {
                let (l, r) = if dedupe {
                    let i = below(&mut rng, a);
                    let mut j = below(&mut rng, a - 1);
                    if j >= i {
                        j += 1;
                    }
                    (i, j)
                } else {
                    (below(&mut rng, a), below(&mut rng, b))
                };
                let p = comparer.pattern(l, r, &mut scratch);
                for (k, c) in local.iter_mut().enumerate() {
                    c[code_of(p, k)] += 1;
                }
            }
            local
        })
        .reduce(
            || vec![[0u64; 16]; nc],
            |mut x, y| {
                for (a, b) in x.iter_mut().zip(y) {
                    for (p, q) in a.iter_mut().zip(b) {
                        *p += q;
                    }
                }
                x
            },
        );
    plan.comparisons
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let nl = c.levels.len() + 1;
            let row = &counts.get(k).copied().unwrap_or([0; 16]);
            let total: u64 = row[1..=nl].iter().sum();
            // Pseudo-count of one half per level keeps u > 0 for levels never seen at random.
            (1..=nl)
                .map(|code| (row[code] as f64 + 0.5) / (total as f64 + 0.5 * nl as f64))
                .collect()
        })
        .collect()
}

/// Count distinct patterns (levels + rule mask).
pub(crate) fn count_patterns(patterns: &[u64]) -> Vec<(u64, u64)> {
    let map = patterns
        .par_chunks(1 << 16)
        .map(|chunk| {
            let mut m: FxHashMap<u64, u64> = FxHashMap::default();
            for &p in chunk {
                *m.entry(p).or_insert(0) += 1;
            }
            m
        })
        .reduce(FxHashMap::default, |mut a, b| {
            for (k, v) in b {
                *a.entry(k).or_insert(0) += v;
            }
            a
        });
    let mut v: Vec<(u64, u64)> = map.into_iter().collect();
    v.sort_unstable();
    v
}

/// log2 likelihood ratio of a pattern over the included comparisons.
fn log2_ratio(pattern: u64, m: &[Vec<f64>], u: &[Vec<f64>], include: &[bool]) -> f64 {
    let mut s = 0.0;
    for k in 0..m.len() {
        if !include[k] {
            continue;
        }
        let code = code_of(pattern, k);
        if code == 0 {
            continue;
        }
        s += (m[k][code - 1] / u[k][code - 1]).log2();
    }
    s
}

#[inline]
fn posterior(lambda: f64, log2_k: f64) -> f64 {
    // λK / (λK + 1 - λ), computed stably.
    let log_odds = (lambda / (1.0 - lambda)).log2() + log2_k;
    if log_odds > 60.0 {
        1.0
    } else if log_odds < -60.0 {
        0.0
    } else {
        let o = log_odds.exp2();
        o / (1.0 + o)
    }
}

/// Train m-probabilities by EM with u fixed, jointly over one session per blocking rule.
///
/// Session `s` holds the candidate pairs that satisfy rule `s` (as pattern counts) and has its
/// own match share λ_s; the comparisons on the rule's own fields are left out of its
/// likelihood (inside the block they agree by construction). The m-probabilities are shared by
/// all sessions, so a block in which only weak comparisons remain cannot drift to its own
/// degenerate solution: the clearly separated blocks pin m down.
pub(crate) fn train_m(
    plan: &Plan,
    counts: &[(u64, u64)],
    u: &[Vec<f64>],
    cfg: &ModelConfig,
) -> (Vec<Vec<f64>>, Vec<bool>, Vec<TrainingSession>) {
    struct Session {
        sel: Vec<(u64, u64)>,
        pairs: u64,
        include: Vec<bool>,
        lambda: f64,
        num: Vec<Vec<f64>>,
    }
    let nc = plan.comparisons.len();
    let priors: Vec<Vec<f64>> = plan
        .comparisons
        .iter()
        .map(|c| default_m(c.levels.len()))
        .collect();
    let mut reports = Vec::new();
    let mut sessions: Vec<Option<Session>> = Vec::new();
    for (r, rule) in plan.rules.iter().enumerate() {
        let bit = 1u16 << r;
        let sel: Vec<(u64, u64)> = counts
            .iter()
            .filter(|(p, _)| rules_of(*p) & bit != 0)
            .map(|&(p, c)| (p & LEVEL_MASK, c))
            .collect();
        let pairs: u64 = sel.iter().map(|s| s.1).sum();
        let include: Vec<bool> = (0..nc).map(|k| !rule.train_exclude.contains(&k)).collect();
        reports.push(TrainingSession {
            rule: rule.name.clone(),
            pairs,
            patterns: sel.len(),
            excluded: (0..nc)
                .filter(|&k| !include[k])
                .map(|k| plan.comparisons[k].name.clone())
                .collect(),
            iterations: 0,
            converged: false,
            match_share: 0.0,
            m: vec![None; nc],
        });
        sessions.push((pairs > 0 && include.iter().any(|&i| i)).then(|| Session {
            num: priors.iter().map(|p| vec![0.0; p.len()]).collect(),
            sel,
            pairs,
            include,
            lambda: 0.3,
        }));
    }
    let trained: Vec<bool> = (0..nc)
        .map(|k| sessions.iter().flatten().any(|s| s.include[k]))
        .collect();
    let mut m = priors.clone();
    let alpha = cfg.m_prior_strength;
    let mut iterations = 0;
    let mut converged = false;
    for it in 0..cfg.max_em_iterations.max(1) {
        let mut num: Vec<Vec<f64>> = priors.iter().map(|p| vec![0.0; p.len()]).collect();
        for s in sessions.iter_mut().flatten() {
            for row in &mut s.num {
                row.iter_mut().for_each(|v| *v = 0.0);
            }
            let mut tot_w = 0.0;
            for &(p, c) in &s.sel {
                let post = posterior(s.lambda, log2_ratio(p, &m, u, &s.include));
                let w = c as f64 * post;
                tot_w += w;
                for k in 0..nc {
                    if s.include[k] {
                        let code = code_of(p, k);
                        if code != 0 {
                            s.num[k][code - 1] += w;
                        }
                    }
                }
            }
            s.lambda = (tot_w / s.pairs as f64).clamp(1e-9, 1.0 - 1e-9);
            for ((acc, own), &inc) in num.iter_mut().zip(&s.num).zip(&s.include) {
                if inc {
                    for (a, b) in acc.iter_mut().zip(own) {
                        *a += b;
                    }
                }
            }
        }
        let mut delta = 0.0f64;
        for k in 0..nc {
            if !trained[k] {
                continue;
            }
            let total: f64 = num[k].iter().sum();
            for j in 0..m[k].len() {
                let v = ((num[k][j] + alpha * priors[k][j]) / (total + alpha)).clamp(1e-12, 1.0);
                delta = delta.max((v - m[k][j]).abs());
                m[k][j] = v;
            }
        }
        iterations = it + 1;
        if delta < cfg.em_tolerance {
            converged = true;
            break;
        }
    }
    for (report, s) in reports.iter_mut().zip(&sessions) {
        report.iterations = iterations;
        report.converged = converged;
        if let Some(s) = s {
            report.match_share = s.lambda;
            // The session's own evidence (normalised posterior-weighted level counts).
            report.m = (0..nc)
                .map(|k| {
                    s.include[k].then(|| {
                        let t: f64 = s.num[k].iter().sum();
                        s.num[k]
                            .iter()
                            .map(|v| if t > 0.0 { v / t } else { 0.0 })
                            .collect()
                    })
                })
                .collect();
        }
    }
    (m, trained, reports)
}

/// Estimate λ (probability two random records match) by a fixed point over candidate pairs,
/// treating pairs outside the candidate set as non-matches.
pub(crate) fn estimate_prior(
    counts: &[(u64, u64)],
    m: &[Vec<f64>],
    u: &[Vec<f64>],
    total_pairs: f64,
    start_matches: f64,
) -> f64 {
    let include = vec![true; m.len()];
    let agg: Vec<(f64, f64)> = counts
        .iter()
        .map(|&(p, c)| (log2_ratio(p & LEVEL_MASK, m, u, &include), c as f64))
        .collect();
    let total_pairs = total_pairs.max(1.0);
    let mut lambda = (start_matches.max(1.0) / total_pairs).clamp(1e-15, 0.5);
    for _ in 0..100 {
        let expected: f64 = agg.iter().map(|&(s, c)| c * posterior(lambda, s)).sum();
        let next = (expected.max(1.0) / total_pairs).clamp(1e-15, 0.5);
        if (next - lambda).abs() <= 1e-6 * lambda {
            lambda = next;
            break;
        }
        lambda = next;
    }
    lambda
}

/// Assemble a model from its parts.
pub(crate) fn assemble(
    plan: &Plan,
    m: Vec<Vec<f64>>,
    u: Vec<Vec<f64>>,
    trained: Vec<bool>,
    prior: f64,
    training: Vec<TrainingSession>,
    u_sample_pairs: usize,
) -> FsModel {
    let comparisons = plan
        .comparisons
        .iter()
        .enumerate()
        .map(|(k, c)| ComparisonModel {
            name: c.name.clone(),
            levels: (0..=c.levels.len())
                .map(|j| LevelModel {
                    label: c
                        .levels
                        .get(j)
                        .map_or_else(|| "else".to_string(), |l| l.label.clone()),
                    m: m[k][j],
                    u: u[k][j],
                })
                .collect(),
            trained: trained[k],
        })
        .collect();
    FsModel {
        prior,
        comparisons,
        training,
        u_sample_pairs,
    }
}

/// Precomputed per-code log2 Bayes factors for fast scoring.
pub(crate) struct Scorer {
    pub prior_weight: f64,
    /// `bf[k][code]`, 0 for the null code.
    pub bf: Vec<[f64; 16]>,
    /// Per comparison with TF: (code of the TF level, log2 m of that level).
    pub tf: Vec<Option<(usize, f64)>>,
}

impl Scorer {
    pub(crate) fn new(plan: &Plan, model: &FsModel) -> Scorer {
        let bf = model
            .comparisons
            .iter()
            .map(|c| {
                let mut row = [0.0; 16];
                for (j, l) in c.levels.iter().enumerate() {
                    row[j + 1] = l.log2_bayes_factor();
                }
                row
            })
            .collect();
        let tf = plan
            .comparisons
            .iter()
            .zip(&model.comparisons)
            .map(|(c, mc)| {
                c.tf_level
                    .map(|(lvl, _)| (lvl + 1, mc.levels[lvl].m.log2()))
            })
            .collect();
        Scorer {
            prior_weight: model.prior_weight(),
            bf,
            tf,
        }
    }

    /// Weight of a pattern without TF adjustments.
    #[inline]
    pub(crate) fn pattern_weight(&self, pattern: u64) -> f64 {
        let mut w = self.prior_weight;
        for (k, row) in self.bf.iter().enumerate() {
            w += row[code_of(pattern, k)];
        }
        w
    }
}

/// Probability from a match weight (log2 posterior odds).
pub fn probability_from_weight(weight: f64) -> f64 {
    if weight > 60.0 {
        1.0
    } else if weight < -60.0 {
        0.0
    } else {
        let o = weight.exp2();
        o / (1.0 + o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_m_sums_to_one() {
        for n in 1..10 {
            let m = default_m(n);
            assert_eq!(m.len(), n + 1);
            assert!((m.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{n}: {m:?}");
            assert!(m.iter().all(|&v| v > 0.0));
        }
    }

    #[test]
    fn probability_monotone() {
        assert!((probability_from_weight(0.0) - 0.5).abs() < 1e-12);
        assert!(probability_from_weight(10.0) > 0.999);
        assert!(probability_from_weight(-10.0) < 0.001);
    }
}
