//! Computing comparison levels for record pairs.
//!
//! A pair's comparison vector is packed into a `u64` *pattern*: 4 bits per comparison (code 0 =
//! null, 1..=n = the configured levels in order, n+1 = else) in the low 48 bits, and the mask of
//! blocking rules the pair satisfies in the high 16 bits.

use rayon::prelude::*;

use crate::config::{ComparisonPlan, FieldKind, LevelKind, Plan};
use crate::data::{Dataset, DateVal};
use crate::similarity::{
    dice, jaro_winkler_with, nik_one_edit, nik_typo, one_substitution, one_transposition,
    osa_bounded, Scratch,
};

/// Bits of a pattern holding the blocking-rule mask.
pub(crate) const RULE_SHIFT: u32 = 48;
/// Mask of the level bits of a pattern.
pub(crate) const LEVEL_MASK: u64 = (1u64 << RULE_SHIFT) - 1;

/// Level code of comparison `k` in a packed pattern.
#[inline]
pub(crate) fn code_of(pattern: u64, k: usize) -> usize {
    ((pattern >> (4 * k)) & 0xF) as usize
}

/// Blocking-rule mask of a pattern.
#[inline]
pub(crate) fn rules_of(pattern: u64) -> u16 {
    (pattern >> RULE_SHIFT) as u16
}

/// Read access to the compared values of one side's records.
pub(crate) trait Access: Sync {
    /// Value hash of field `f` (0 = missing).
    fn hash(&self, f: usize, row: usize) -> u64;
    /// Normalised text of field `f`.
    fn text(&self, f: usize, row: usize) -> &str;
    /// Parsed date of date field `f`.
    fn date(&self, f: usize, row: usize) -> DateVal;
    /// Bloom field `f`: words (empty when the field has none) and popcount.
    fn bloom(&self, f: usize, row: usize) -> (&[u64], u32);
    /// Key hash of blocking rule `r` (0 = no key).
    fn key(&self, r: usize, row: usize) -> u64;
}

impl Access for Dataset {
    #[inline]
    fn hash(&self, f: usize, row: usize) -> u64 {
        self.fields[f].hash[row]
    }
    #[inline]
    fn text(&self, f: usize, row: usize) -> &str {
        self.fields[f].text.get(row)
    }
    #[inline]
    fn date(&self, f: usize, row: usize) -> DateVal {
        self.fields[f]
            .dates
            .get(row)
            .copied()
            .unwrap_or(DateVal::MISSING)
    }
    #[inline]
    fn bloom(&self, f: usize, row: usize) -> (&[u64], u32) {
        let b = &self.fields[f].bloom;
        if b.words_per == 0 {
            (&[], 0)
        } else {
            (b.get(row), b.pop[row])
        }
    }
    #[inline]
    fn key(&self, r: usize, row: usize) -> u64 {
        self.keys[r][row]
    }
}

/// Bytes of inline text per field slot (first byte: length, or `NOT_INLINE`).
const SLOT: usize = 32;
const NOT_INLINE: u8 = u8::MAX;

/// A row-major copy of what comparisons and blocking read of one dataset: per row, the rule
/// keys, value hashes and dates in one run of words and short ASCII texts in one run of bytes.
///
/// Used for the side that is accessed in random order (the indexed side), so that a pair costs
/// two or three cache misses instead of one per field and array.
pub(crate) struct Compact<'a> {
    ds: &'a Dataset,
    n_rules: usize,
    words_per_row: usize,
    words: Vec<u64>,
    texts: Vec<u8>,
    texts_per_row: usize,
    /// Per field: (position among compact fields, position among date fields).
    slot: Vec<Option<(usize, Option<usize>)>>,
    n_fields: usize,
}

impl<'a> Compact<'a> {
    /// Copy the compared fields (and all rule keys) of `ds` into row-major arrays.
    pub(crate) fn new(plan: &Plan, ds: &'a Dataset) -> Compact<'a> {
        let mut fields: Vec<usize> = Vec::new();
        for c in &plan.comparisons {
            for f in std::iter::once(c.field).chain(c.levels.iter().map(|l| l.field)) {
                if !fields.contains(&f) && plan.fields[f].kind != FieldKind::Bloom {
                    fields.push(f);
                }
            }
        }
        fields.sort_unstable();
        let mut slot = vec![None; plan.fields.len()];
        let mut n_dates = 0;
        for (i, &f) in fields.iter().enumerate() {
            let d = (plan.fields[f].kind == FieldKind::Date).then(|| {
                n_dates += 1;
                n_dates - 1
            });
            slot[f] = Some((i, d));
        }
        let n_rules = plan.rules.len();
        let n_fields = fields.len();
        // At least one word / byte per row keeps the chunked fill below well-formed.
        let words_per_row = (n_rules + n_fields + n_dates).max(1);
        let texts_per_row = (n_fields * SLOT).max(1);
        let rows = ds.len();
        let mut words = vec![0u64; rows * words_per_row];
        let mut texts = vec![0u8; rows * texts_per_row];
        const CH: usize = 4096;
        let date_fields: Vec<usize> = fields
            .iter()
            .copied()
            .filter(|&f| plan.fields[f].kind == FieldKind::Date)
            .collect();
        words
            .par_chunks_mut(words_per_row * CH)
            .zip(texts.par_chunks_mut(texts_per_row * CH))
            .enumerate()
            .for_each(|(ci, (wch, tch))| {
                let first = ci * CH;
                for (i, w) in wch.chunks_mut(words_per_row).enumerate() {
                    let row = first + i;
                    for (r, slot) in w.iter_mut().enumerate().take(n_rules) {
                        *slot = ds.keys[r][row];
                    }
                    for (j, &f) in fields.iter().enumerate() {
                        w[n_rules + j] = ds.fields[f].hash[row];
                    }
                    for (d, &f) in date_fields.iter().enumerate() {
                        w[n_rules + n_fields + d] = pack_date(ds.date(f, row));
                    }
                    if n_fields == 0 {
                        continue;
                    }
                    let base = i * texts_per_row;
                    for (j, &f) in fields.iter().enumerate() {
                        let t = ds.fields[f].text.get(row).as_bytes();
                        let s = &mut tch[base + j * SLOT..base + (j + 1) * SLOT];
                        if t.len() < SLOT && t.is_ascii() {
                            s[0] = t.len() as u8;
                            s[1..=t.len()].copy_from_slice(t);
                        } else {
                            s[0] = NOT_INLINE;
                        }
                    }
                }
            });
        Compact {
            ds,
            n_rules,
            words_per_row,
            words,
            texts,
            texts_per_row,
            slot,
            n_fields,
        }
    }

    /// Approximate memory needed for `rows` rows.
    pub(crate) fn bytes_for(plan: &Plan, rows: usize) -> usize {
        rows * (plan.rules.len() * 8 + plan.fields.len() * (16 + SLOT))
    }
}

fn pack_date(d: DateVal) -> u64 {
    u64::from(d.days as u32)
        | (u64::from(d.year as u16) << 32)
        | (u64::from(d.month) << 48)
        | (u64::from(d.day) << 56)
}

fn unpack_date(w: u64) -> DateVal {
    DateVal {
        days: w as u32 as i32,
        year: (w >> 32) as u16 as i16,
        month: (w >> 48) as u8,
        day: (w >> 56) as u8,
    }
}

impl Access for Compact<'_> {
    #[inline]
    fn hash(&self, f: usize, row: usize) -> u64 {
        match self.slot[f] {
            Some((i, _)) => self.words[row * self.words_per_row + self.n_rules + i],
            None => self.ds.hash(f, row),
        }
    }
    #[inline]
    fn text(&self, f: usize, row: usize) -> &str {
        if let Some((i, _)) = self.slot[f] {
            let base = row * self.texts_per_row + i * SLOT;
            let len = self.texts[base];
            if len != NOT_INLINE {
                let bytes = &self.texts[base + 1..base + 1 + len as usize];
                if let Ok(s) = std::str::from_utf8(bytes) {
                    return s;
                }
            }
        }
        self.ds.text(f, row)
    }
    #[inline]
    fn date(&self, f: usize, row: usize) -> DateVal {
        match self.slot[f] {
            Some((_, Some(d))) => {
                unpack_date(self.words[row * self.words_per_row + self.n_rules + self.n_fields + d])
            }
            _ => self.ds.date(f, row),
        }
    }
    #[inline]
    fn bloom(&self, f: usize, row: usize) -> (&[u64], u32) {
        self.ds.bloom(f, row)
    }
    #[inline]
    fn key(&self, r: usize, row: usize) -> u64 {
        self.words[row * self.words_per_row + r]
    }
}

/// Compares records of two sides (or one dataset with itself).
pub(crate) struct Comparer<'a, L: Access, R: Access> {
    plan: &'a Plan,
    left: &'a L,
    right: &'a R,
}

/// Lazily computed similarity values for one field of one pair.
#[derive(Default)]
struct Memo {
    field: usize,
    jw: Option<f64>,
    /// (bound, osa distance capped at bound + 1)
    osa: Option<(usize, usize)>,
    dice: Option<f64>,
}

impl<'a, L: Access, R: Access> Comparer<'a, L, R> {
    pub(crate) fn new(plan: &'a Plan, left: &'a L, right: &'a R) -> Self {
        Comparer { plan, left, right }
    }

    /// Packed level codes (without rule bits) for the pair.
    #[inline]
    pub(crate) fn pattern(&self, l: usize, r: usize, scratch: &mut Scratch) -> u64 {
        let mut p = 0u64;
        for (k, c) in self.plan.comparisons.iter().enumerate() {
            p |= u64::from(self.code(c, l, r, scratch)) << (4 * k);
        }
        p
    }

    /// Level code of one comparison: 0 = null, i+1 = level i, n+1 = else.
    pub(crate) fn code(&self, c: &ComparisonPlan, l: usize, r: usize, scratch: &mut Scratch) -> u8 {
        if self.left.hash(c.field, l) == 0 || self.right.hash(c.field, r) == 0 {
            return 0;
        }
        let mut memo = Memo {
            field: usize::MAX,
            ..Memo::default()
        };
        for (i, level) in c.levels.iter().enumerate() {
            if self.level_holds(level.kind, level.field, l, r, &mut memo, scratch) {
                return (i + 1) as u8;
            }
        }
        (c.levels.len() + 1) as u8
    }

    #[inline]
    fn level_holds(
        &self,
        kind: LevelKind,
        f: usize,
        l: usize,
        r: usize,
        memo: &mut Memo,
        scratch: &mut Scratch,
    ) -> bool {
        let (a, b) = (self.left, self.right);
        let (ha, hb) = (a.hash(f, l), b.hash(f, r));
        if ha == 0 || hb == 0 {
            return false;
        }
        if memo.field != f {
            *memo = Memo {
                field: f,
                ..Memo::default()
            };
        }
        match kind {
            LevelKind::Exact => ha == hb && a.text(f, l) == b.text(f, r),
            LevelKind::JaroWinkler(t) => {
                let v = *memo
                    .jw
                    .get_or_insert_with(|| jaro_winkler_with(scratch, a.text(f, l), b.text(f, r)));
                v >= t
            }
            LevelKind::DamerauLevenshtein(k) => {
                let v = match memo.osa {
                    Some((bound, v)) if v <= bound || k <= bound => v,
                    _ => {
                        let v = osa_bounded(scratch, a.text(f, l), b.text(f, r), k);
                        memo.osa = Some((k, v));
                        v
                    }
                };
                v <= k
            }
            LevelKind::OneSubstitution => {
                one_substitution(a.text(f, l).as_bytes(), b.text(f, r).as_bytes())
            }
            LevelKind::OneTransposition => {
                one_transposition(a.text(f, l).as_bytes(), b.text(f, r).as_bytes())
            }
            LevelKind::NikTypo => nik_typo(a.text(f, l).as_bytes(), b.text(f, r).as_bytes()),
            LevelKind::NikOneEdit => nik_one_edit(a.text(f, l).as_bytes(), b.text(f, r).as_bytes()),
            LevelKind::DateSwap => {
                let (x, y) = (a.date(f, l), b.date(f, r));
                x.year == y.year && x.day == y.month && x.month == y.day
            }
            LevelKind::DateWithin(d) => {
                let (x, y) = (a.date(f, l), b.date(f, r));
                (x.days - y.days).abs() <= d
            }
            LevelKind::SameYear => a.date(f, l).year == b.date(f, r).year,
            LevelKind::SameMonth => {
                let (x, y) = (a.date(f, l), b.date(f, r));
                x.year == y.year && x.month == y.month
            }
            LevelKind::Dice(t) => {
                let v = *memo.dice.get_or_insert_with(|| {
                    let ((wa, pa), (wb, pb)) = (a.bloom(f, l), b.bloom(f, r));
                    if wa.len() != wb.len() {
                        return 0.0;
                    }
                    dice(wa, wb, pa, pb)
                });
                v >= t
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LinkConfig;
    use crate::data::Side;
    use crate::generate::{Generator, GeneratorConfig};

    #[test]
    fn compact_rows_match_columns() {
        let cfg = LinkConfig::from_toml_str(crate::EXAMPLE_CONFIG).unwrap();
        let plan = Plan::compile(&cfg).unwrap();
        let g = Generator::new(GeneratorConfig {
            left_rows: 5_000,
            right_rows: 10,
            ..GeneratorConfig::default()
        });
        let ds = Dataset::load_bytes(&plan, Side::Left, &g.left_csv().unwrap()).unwrap();
        let c = Compact::new(&plan, &ds);
        for row in 0..ds.len() {
            for f in 0..plan.fields.len() {
                assert_eq!(c.hash(f, row), ds.hash(f, row));
                assert_eq!(c.text(f, row), ds.text(f, row));
                assert_eq!(c.date(f, row), ds.date(f, row));
            }
            for r in 0..plan.rules.len() {
                assert_eq!(c.key(r, row), ds.key(r, row));
            }
        }
    }
}
