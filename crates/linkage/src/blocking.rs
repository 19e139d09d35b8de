//! Blocking: candidate pairs are the union over rules of pairs with equal key hashes.
//!
//! The smaller dataset is indexed (per rule: key hash → slice of row numbers); the larger one
//! probes the index in parallel. A pair found by rule `r` is emitted only if no earlier rule
//! also holds for it, so every candidate pair is produced exactly once without a global set.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::compare::Access;
use crate::data::Dataset;

/// Per-rule index of one dataset.
struct RuleIndex {
    map: FxHashMap<u64, (u32, u32)>,
    rows: Vec<u32>,
    /// One-hash bit filter of the keys (8 bits per key): most probes of keys that are not in
    /// the index stop here, in cache, instead of missing in the much larger hash table.
    filter: Vec<u64>,
    filter_shift: u32,
}

impl RuleIndex {
    #[inline]
    fn get(&self, key: u64) -> Option<(u32, u32)> {
        let bit = key >> self.filter_shift;
        if self.filter[(bit / 64) as usize] & (1u64 << (bit % 64)) == 0 {
            return None;
        }
        self.map.get(&key).copied()
    }
}

fn build_index(keys: &[u64]) -> RuleIndex {
    let mut v: Vec<(u64, u32)> = keys
        .iter()
        .enumerate()
        .filter(|(_, &k)| k != 0)
        .map(|(i, &k)| (k, i as u32))
        .collect();
    v.par_sort_unstable();
    let mut map = FxHashMap::with_capacity_and_hasher(v.len(), Default::default());
    let mut rows = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        let k = v[i].0;
        let start = rows.len() as u32;
        while i < v.len() && v[i].0 == k {
            rows.push(v[i].1);
            i += 1;
        }
        map.insert(k, (start, rows.len() as u32));
    }
    let bits = (map.len().max(1) * 8).next_power_of_two().max(64);
    let filter_shift = 64 - bits.trailing_zeros();
    let mut filter = vec![0u64; bits / 64];
    for &k in map.keys() {
        let bit = k >> filter_shift;
        filter[(bit / 64) as usize] |= 1u64 << (bit % 64);
    }
    RuleIndex {
        map,
        rows,
        filter,
        filter_shift,
    }
}

/// Blocking counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BlockingStats {
    /// Candidate pairs produced (after de-duplication across rules).
    pub candidate_pairs: usize,
    /// Pairs first found by each rule.
    pub pairs_per_rule: Vec<usize>,
    /// Blocks (one key value of one rule) skipped because they exceeded
    /// `link.max_block_size`.
    pub skipped_blocks: usize,
    /// Records whose comparisons within a skipped block were skipped (a record counts once per
    /// rule whose block was skipped).
    pub skipped_records: usize,
}

const PROBE_CHUNK: usize = 8192;

/// Pairs, their rule masks, pairs per rule, and the (rule, key) of each skipped block hit by a
/// record of one probe chunk.
type Part = (Vec<(u32, u32)>, Vec<u16>, Vec<usize>, Vec<(usize, u64)>);

/// Candidate pairs with, for each, the mask of blocking rules it satisfies.
pub(crate) struct Candidates {
    pub pairs: Vec<(u32, u32)>,
    pub masks: Vec<u16>,
}

/// Candidate pairs `(left_row, right_row)` for linking two datasets. The index side is
/// `index_ds` (its keys are read through `index` during probing, which may be a row-major copy);
/// the probe side is `probe_ds`.
pub(crate) fn link_candidates<I: Access>(
    index_ds: &Dataset,
    index: &I,
    probe_ds: &Dataset,
    left_is_index: bool,
    n_rules: usize,
    max_block: usize,
) -> (Candidates, BlockingStats) {
    let indexes: Vec<RuleIndex> = (0..n_rules)
        .into_par_iter()
        .map(|r| build_index(&index_ds.keys[r]))
        .collect();
    let max_block = if max_block == 0 {
        usize::MAX
    } else {
        max_block
    };
    let n = probe_ds.len();
    let starts: Vec<usize> = (0..n).step_by(PROBE_CHUNK).collect();
    let parts: Vec<Part> = starts
        .par_iter()
        .map(|&s| {
            let e = (s + PROBE_CHUNK).min(n);
            let mut out = Vec::new();
            let mut masks = Vec::new();
            let mut per_rule = vec![0usize; n_rules];
            let mut skipped = Vec::new();
            let mut pk = [0u64; 16];
            for p in s..e {
                for (r, k) in pk.iter_mut().enumerate().take(n_rules) {
                    *k = probe_ds.keys[r][p];
                }
                for (r, idx) in indexes.iter().enumerate() {
                    let k = pk[r];
                    if k == 0 {
                        continue;
                    }
                    let Some((a, b)) = idx.get(k) else {
                        continue;
                    };
                    if (b - a) as usize > max_block {
                        skipped.push((r, k));
                        continue;
                    }
                    'cand: for &q in &idx.rows[a as usize..b as usize] {
                        for (r2, &k2) in pk.iter().enumerate().take(r) {
                            if k2 != 0 && k2 == index.key(r2, q as usize) {
                                continue 'cand;
                            }
                        }
                        let mut mask = 1u16 << r;
                        for (r3, &k3) in pk.iter().enumerate().take(n_rules).skip(r + 1) {
                            if k3 != 0 && k3 == index.key(r3, q as usize) {
                                mask |= 1 << r3;
                            }
                        }
                        per_rule[r] += 1;
                        masks.push(mask);
                        if left_is_index {
                            out.push((q, p as u32));
                        } else {
                            out.push((p as u32, q));
                        }
                    }
                }
            }
            (out, masks, per_rule, skipped)
        })
        .collect();
    collect_parts(parts, n_rules)
}

/// Candidate pairs `(row, row)` with `a < b` for de-duplicating one dataset.
pub(crate) fn dedupe_candidates<I: Access>(
    data: &Dataset,
    index: &I,
    n_rules: usize,
    max_block: usize,
) -> (Candidates, BlockingStats) {
    let indexes: Vec<RuleIndex> = (0..n_rules)
        .into_par_iter()
        .map(|r| build_index(&data.keys[r]))
        .collect();
    let max_block = if max_block == 0 {
        usize::MAX
    } else {
        max_block
    };
    let n = data.len();
    let starts: Vec<usize> = (0..n).step_by(PROBE_CHUNK).collect();
    let parts: Vec<Part> = starts
        .par_iter()
        .map(|&s| {
            let e = (s + PROBE_CHUNK).min(n);
            let mut out = Vec::new();
            let mut masks = Vec::new();
            let mut per_rule = vec![0usize; n_rules];
            let mut skipped = Vec::new();
            let mut pk = [0u64; 16];
            for p in s..e {
                for (r, k) in pk.iter_mut().enumerate().take(n_rules) {
                    *k = data.keys[r][p];
                }
                for (r, idx) in indexes.iter().enumerate() {
                    let k = pk[r];
                    if k == 0 {
                        continue;
                    }
                    let Some((a, b)) = idx.get(k) else {
                        continue;
                    };
                    if (b - a) as usize > max_block {
                        skipped.push((r, k));
                        continue;
                    }
                    'cand: for &q in &idx.rows[a as usize..b as usize] {
                        if q as usize <= p {
                            continue;
                        }
                        for (r2, &k2) in pk.iter().enumerate().take(r) {
                            if k2 != 0 && k2 == index.key(r2, q as usize) {
                                continue 'cand;
                            }
                        }
                        let mut mask = 1u16 << r;
                        for (r3, &k3) in pk.iter().enumerate().take(n_rules).skip(r + 1) {
                            if k3 != 0 && k3 == index.key(r3, q as usize) {
                                mask |= 1 << r3;
                            }
                        }
                        per_rule[r] += 1;
                        masks.push(mask);
                        out.push((p as u32, q));
                    }
                }
            }
            (out, masks, per_rule, skipped)
        })
        .collect();
    collect_parts(parts, n_rules)
}

fn collect_parts(parts: Vec<Part>, n_rules: usize) -> (Candidates, BlockingStats) {
    let total: usize = parts.iter().map(|p| p.0.len()).sum();
    let mut pairs = Vec::with_capacity(total);
    let mut masks = Vec::with_capacity(total);
    let mut stats = BlockingStats {
        candidate_pairs: total,
        pairs_per_rule: vec![0; n_rules],
        skipped_blocks: 0,
        skipped_records: 0,
    };
    let mut blocks = rustc_hash::FxHashSet::default();
    for (v, m, per_rule, skipped) in parts {
        pairs.extend_from_slice(&v);
        masks.extend_from_slice(&m);
        for (a, b) in stats.pairs_per_rule.iter_mut().zip(per_rule) {
            *a += b;
        }
        stats.skipped_records += skipped.len();
        blocks.extend(skipped);
    }
    stats.skipped_blocks = blocks.len();
    (Candidates { pairs, masks }, stats)
}
