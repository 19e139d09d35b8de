//! Evaluation against ground-truth entity ids.

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::data::Dataset;
use crate::error::{LinkageError, Result};
use crate::link::{DedupeResult, LinkResult};

/// Pairwise precision / recall / F1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evaluation {
    /// Predicted pairs that are true matches.
    pub true_positives: u64,
    /// Predicted pairs that are not.
    pub false_positives: u64,
    /// True matching pairs not predicted.
    pub false_negatives: u64,
    /// TP / (TP + FP).
    pub precision: f64,
    /// TP / (TP + FN).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Share of true matching pairs that blocking produced as candidates, when known.
    pub blocking_recall: Option<f64>,
}

impl Evaluation {
    fn new(tp: u64, predicted: u64, truth: u64, candidates_true: Option<u64>) -> Evaluation {
        let fp = predicted.saturating_sub(tp);
        let fneg = truth.saturating_sub(tp);
        let precision = if predicted == 0 {
            1.0
        } else {
            tp as f64 / predicted as f64
        };
        let recall = if truth == 0 {
            1.0
        } else {
            tp as f64 / truth as f64
        };
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Evaluation {
            true_positives: tp,
            false_positives: fp,
            false_negatives: fneg,
            precision,
            recall,
            f1,
            blocking_recall: candidates_true.map(|c| {
                if truth == 0 {
                    1.0
                } else {
                    c as f64 / truth as f64
                }
            }),
        }
    }
}

impl std::fmt::Display for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "precision {:.4}, recall {:.4}, F1 {:.4} (TP {}, FP {}, FN {})",
            self.precision,
            self.recall,
            self.f1,
            self.true_positives,
            self.false_positives,
            self.false_negatives
        )?;
        if let Some(b) = self.blocking_recall {
            write!(f, ", blocking recall {b:.4}")?;
        }
        Ok(())
    }
}

fn truth_of<'a>(d: &'a Dataset, what: &str) -> Result<&'a [u64]> {
    d.truth().ok_or_else(|| {
        LinkageError::NoTruth(format!(
            "the {what} input has no truth column (set `input.truth` or `input.{}_truth`)",
            d.side().as_str()
        ))
    })
}

fn single_truth(d: &Dataset) -> Result<&[u64]> {
    d.truth().ok_or_else(|| {
        LinkageError::NoTruth("the input has no truth column (set `input.truth`)".into())
    })
}

/// Pairwise evaluation of a link result: a predicted pair is correct when both records carry
/// the same (non-empty) truth id; the true pairs are all left×right pairs sharing a truth id.
pub fn evaluate_link(result: &LinkResult, left: &Dataset, right: &Dataset) -> Result<Evaluation> {
    let (lt, rt) = (truth_of(left, "left")?, truth_of(right, "right")?);
    let tp = result
        .pairs
        .iter()
        .filter(|p| {
            let a = lt[p.left as usize];
            a != 0 && a == rt[p.right as usize]
        })
        .count() as u64;
    let mut counts: FxHashMap<u64, u64> = FxHashMap::default();
    for &t in lt {
        if t != 0 {
            *counts.entry(t).or_insert(0) += 1;
        }
    }
    let truth: u64 = rt
        .iter()
        .filter(|&&t| t != 0)
        .map(|t| counts.get(t).copied().unwrap_or(0))
        .sum();
    Ok(Evaluation::new(
        tp,
        result.pairs.len() as u64,
        truth,
        result.stats.candidate_true_pairs,
    ))
}

/// Pairwise evaluation of a de-duplication: predicted pairs are all pairs within a predicted
/// cluster, true pairs all pairs sharing a truth id.
pub fn evaluate_dedupe(result: &DedupeResult, data: &Dataset) -> Result<Evaluation> {
    let t = single_truth(data)?;
    let pairs_in = |n: u64| n * n.saturating_sub(1) / 2;
    let mut cluster_sizes: FxHashMap<u32, u64> = FxHashMap::default();
    let mut cluster_truth: FxHashMap<(u32, u64), u64> = FxHashMap::default();
    let mut truth_sizes: FxHashMap<u64, u64> = FxHashMap::default();
    for (i, &c) in result.clusters.iter().enumerate() {
        *cluster_sizes.entry(c).or_insert(0) += 1;
        let tv = t[i];
        if tv != 0 {
            *cluster_truth.entry((c, tv)).or_insert(0) += 1;
            *truth_sizes.entry(tv).or_insert(0) += 1;
        }
    }
    let predicted: u64 = cluster_sizes.values().map(|&n| pairs_in(n)).sum();
    let tp: u64 = cluster_truth.values().map(|&n| pairs_in(n)).sum();
    let truth: u64 = truth_sizes.values().map(|&n| pairs_in(n)).sum();
    Ok(Evaluation::new(
        tp,
        predicted,
        truth,
        result.stats.candidate_true_pairs,
    ))
}
