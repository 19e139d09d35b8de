//! String and bit-set similarity functions used by comparison levels.
//!
//! The hot paths (`jaro_winkler`, `osa_distance`) have allocation-free fast paths for ASCII
//! strings of up to 64 bytes, and fall back to `strsim` otherwise; the tests check that both give
//! identical results.

/// Reusable per-thread scratch space for the bit-parallel string algorithms (a table of
/// character position masks, kept all-zero between calls).
#[derive(Debug, Clone)]
pub struct Scratch {
    masks: [u64; 128],
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch { masks: [0; 128] }
    }
}

impl Scratch {
    /// New, zeroed scratch space.
    pub fn new() -> Self {
        Scratch::default()
    }

    #[inline]
    fn load(&mut self, s: &[u8]) {
        for (j, &c) in s.iter().enumerate() {
            self.masks[usize::from(c & 0x7f)] |= 1u64 << j;
        }
    }

    #[inline]
    fn clear(&mut self, s: &[u8]) {
        for &c in s {
            self.masks[usize::from(c & 0x7f)] = 0;
        }
    }

    #[inline]
    fn get(&self, c: u8) -> u64 {
        self.masks[usize::from(c & 0x7f)]
    }
}

/// Jaro-Winkler similarity (prefix scale 0.1, prefix up to 4, boost only when Jaro > 0.7), the
/// same definition as `strsim::jaro_winkler`.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    jaro_winkler_with(&mut Scratch::new(), a, b)
}

/// [`jaro_winkler`] with caller-provided scratch space (no allocation, bit-parallel for ASCII
/// strings of up to 64 bytes).
pub fn jaro_winkler_with(scratch: &mut Scratch, a: &str, b: &str) -> f64 {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    if ab.len() <= 64 && bb.len() <= 64 && a.is_ascii() && b.is_ascii() {
        let sim = jaro_ascii(scratch, ab, bb);
        if sim > 0.7 {
            let prefix = ab
                .iter()
                .take(4)
                .zip(bb)
                .take_while(|(x, y)| x == y)
                .count();
            sim + 0.1 * prefix as f64 * (1.0 - sim)
        } else {
            sim
        }
    } else {
        strsim::jaro_winkler(a, b)
    }
}

fn jaro_ascii(scratch: &mut Scratch, a: &[u8], b: &[u8]) -> f64 {
    let (al, bl) = (a.len(), b.len());
    if al == 0 && bl == 0 {
        return 1.0;
    }
    if al == 0 || bl == 0 {
        return 0.0;
    }
    let range = (al.max(bl) / 2).saturating_sub(1);
    scratch.load(b);
    let mut aflags: u64 = 0;
    let mut bflags: u64 = 0;
    let mut matches = 0usize;
    for (i, &ac) in a.iter().enumerate() {
        let lo = i.saturating_sub(range);
        let hi = (i + range + 1).min(bl);
        if lo >= hi {
            continue;
        }
        let window = (u64::MAX >> (64 - (hi - lo))) << lo;
        let cand = scratch.get(ac) & !bflags & window;
        if cand != 0 {
            bflags |= cand & cand.wrapping_neg();
            aflags |= 1u64 << i;
            matches += 1;
        }
    }
    scratch.clear(b);
    if matches == 0 {
        return 0.0;
    }
    let mut trans = 0usize;
    let mut bf = bflags;
    let mut af = aflags;
    while af != 0 {
        let i = af.trailing_zeros() as usize;
        af &= af - 1;
        let j = bf.trailing_zeros() as usize;
        bf &= bf.wrapping_sub(1);
        if a[i] != b[j] {
            trans += 1;
        }
    }
    let trans = trans / 2;
    let m = matches as f64;
    ((m / al as f64) + (m / bl as f64) + ((matches - trans) as f64 / m)) / 3.0
}

/// Optimal-string-alignment distance (the "restricted" Damerau-Levenshtein distance: insertions,
/// deletions, substitutions and transpositions of adjacent characters), as `strsim::osa_distance`.
pub fn osa_distance(a: &str, b: &str) -> usize {
    osa_distance_with(&mut Scratch::new(), a, b)
}

/// [`osa_distance`] with caller-provided scratch space: bit-parallel (Hyyrö 2003) for ASCII
/// strings of up to 64 bytes, `strsim` otherwise.
pub fn osa_distance_with(scratch: &mut Scratch, a: &str, b: &str) -> usize {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    if ab.len() <= 64 && bb.len() <= 64 && a.is_ascii() && b.is_ascii() {
        osa_hyyro(scratch, ab, bb)
    } else {
        strsim::osa_distance(a, b)
    }
}

fn osa_hyyro(scratch: &mut Scratch, a: &[u8], b: &[u8]) -> usize {
    let m = a.len();
    if m == 0 {
        return b.len();
    }
    if b.is_empty() {
        return m;
    }
    scratch.load(a);
    let full = if m == 64 { u64::MAX } else { (1u64 << m) - 1 };
    let last = 1u64 << (m - 1);
    let mut vp = full;
    let mut vn = 0u64;
    let mut d0 = 0u64;
    let mut pm_old = 0u64;
    let mut dist = m;
    for &c in b {
        let pm = scratch.get(c);
        let tr = (((!d0) & pm) << 1) & pm_old;
        d0 = ((((pm & vp).wrapping_add(vp)) ^ vp) | pm | vn | tr) & full;
        let mut hp = vn | !(d0 | vp);
        let mut hn = d0 & vp;
        if hp & last != 0 {
            dist += 1;
        } else if hn & last != 0 {
            dist -= 1;
        }
        hp = (hp << 1) | 1;
        hn <<= 1;
        vp = (hn | !(d0 | hp)) & full;
        vn = hp & d0;
        pm_old = pm;
    }
    scratch.clear(a);
    dist
}

/// OSA distance capped at `k + 1`: the exact distance when it is at most `k`, else `k + 1`.
/// Rejects on length difference first.
pub fn osa_bounded(scratch: &mut Scratch, a: &str, b: &str, k: usize) -> usize {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    if ab.len() <= 64 && bb.len() <= 64 && a.is_ascii() && b.is_ascii() {
        if ab.len().abs_diff(bb.len()) > k {
            return k.saturating_add(1);
        }
        osa_hyyro_bounded(scratch, ab, bb, k)
    } else {
        strsim::osa_distance(a, b).min(k.saturating_add(1))
    }
}

/// Bit-parallel OSA that stops as soon as the distance must exceed `k` (returns `k + 1`).
fn osa_hyyro_bounded(scratch: &mut Scratch, a: &[u8], b: &[u8], k: usize) -> usize {
    let m = a.len();
    let n = b.len();
    if m == 0 || n == 0 {
        return m.max(n).min(k + 1);
    }
    scratch.load(a);
    let full = if m == 64 { u64::MAX } else { (1u64 << m) - 1 };
    let last = 1u64 << (m - 1);
    let mut vp = full;
    let mut vn = 0u64;
    let mut d0 = 0u64;
    let mut pm_old = 0u64;
    let mut dist = m;
    for (j, &c) in b.iter().enumerate() {
        let pm = scratch.get(c);
        let tr = (((!d0) & pm) << 1) & pm_old;
        d0 = ((((pm & vp).wrapping_add(vp)) ^ vp) | pm | vn | tr) & full;
        let mut hp = vn | !(d0 | vp);
        let mut hn = d0 & vp;
        if hp & last != 0 {
            dist += 1;
        } else if hn & last != 0 {
            dist -= 1;
        }
        // The last column can fall by at most one per remaining character of `b`.
        if dist > k + (n - j - 1) {
            scratch.clear(a);
            return k + 1;
        }
        hp = (hp << 1) | 1;
        hn <<= 1;
        vp = (hn | !(d0 | hp)) & full;
        vn = hp & d0;
        pm_old = pm;
    }
    scratch.clear(a);
    dist.min(k + 1)
}

/// True when `a` and `b` have the same length and differ in exactly one position.
pub fn one_substitution(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).filter(|(x, y)| x != y).count() == 1
}

/// True when `b` is `a` with exactly one pair of adjacent (different) characters swapped.
pub fn one_transposition(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut first = None;
    let mut count = 0;
    for i in 0..a.len() {
        if a[i] != b[i] {
            count += 1;
            if count > 2 {
                return false;
            }
            if first.is_none() {
                first = Some(i);
            }
        }
    }
    match first {
        Some(i) if count == 2 && i + 1 < a.len() => a[i] == b[i + 1] && a[i + 1] == b[i],
        _ => false,
    }
}

/// NIK-aware near match: same length and either one substitution or one adjacent transposition.
pub fn nik_one_edit(a: &[u8], b: &[u8]) -> bool {
    one_substitution(a, b) || one_transposition(a, b)
}

/// NIK-aware typo: one substitution or one adjacent transposition that touches the first
/// `len - 4` characters (for a NIK: the region code and the birth date), i.e. not confined to the
/// final 4-digit serial number.
///
/// Two *different* people registered in the same district on the same birth date have NIKs that
/// differ only in the serial, often by a single digit; such a difference is therefore weak
/// evidence (and is left to the `else` level), while a one-character difference in the region or
/// date part, with the birth date and region fields agreeing, is the signature of a typo.
pub fn nik_typo(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.len() < 5 {
        return false;
    }
    let serial = a.len() - 4;
    let first = a.iter().zip(b).position(|(x, y)| x != y);
    match first {
        Some(i) if i < serial => nik_one_edit(a, b),
        _ => false,
    }
}

/// Dice coefficient of two bit sets given as equal-length word slices and their popcounts.
pub fn dice(a: &[u64], b: &[u64], pop_a: u32, pop_b: u32) -> f64 {
    let total = pop_a + pop_b;
    if total == 0 {
        return 0.0;
    }
    let inter: u32 = a.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum();
    2.0 * f64::from(inter) / f64::from(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jw_known() {
        assert!((jaro_winkler("martha", "marhta") - 0.9611).abs() < 1e-3);
        assert!((jaro_winkler("dwayne", "duane") - 0.84).abs() < 1e-3);
        assert_eq!(jaro_winkler("", ""), 1.0);
        assert_eq!(jaro_winkler("abc", ""), 0.0);
    }

    #[test]
    fn osa_known() {
        assert_eq!(osa_distance("ab", "bca"), 3);
        assert_eq!(osa_distance("ca", "ac"), 1);
        assert_eq!(osa_distance("kitten", "sitting"), 3);
        assert_eq!(osa_distance("", "abc"), 3);
        let mut s = Scratch::new();
        assert_eq!(osa_bounded(&mut s, "kitten", "sitting", 3), 3);
        assert_eq!(osa_bounded(&mut s, "kitten", "sitting", 2), 3);
        assert_eq!(
            osa_bounded(&mut s, "3201234567890123", "3201234567890132", 2),
            1
        );
        assert_eq!(osa_bounded(&mut s, "ca", "abc", 5), 3);
        assert_eq!(osa_distance("abcd", "badc"), 2);
        assert_eq!(osa_distance("a", "b"), 1);
    }

    #[test]
    fn edits() {
        assert!(one_substitution(b"3201", b"3202"));
        assert!(!one_substitution(b"3201", b"3201"));
        assert!(one_transposition(b"3201", b"3210"));
        assert!(!one_transposition(b"3201", b"1203"));
        assert!(nik_one_edit(b"3201", b"2301"));
        let nik = b"3203014507900123";
        assert!(nik_typo(nik, b"3203014507800123"));
        assert!(nik_typo(nik, b"3203014570900123"));
        assert!(!nik_typo(nik, b"3203014507900128"));
        // A swap across the date/serial boundary touches the date part.
        assert!(nik_typo(b"3203014507901234", b"3203014507910234"));
        assert!(!nik_one_edit(b"3201", b"320"));
    }

    #[test]
    fn dice_bits() {
        let a = [0b1111u64];
        let b = [0b0011u64];
        assert!((dice(&a, &b, 4, 2) - 2.0 * 2.0 / 6.0).abs() < 1e-12);
    }
}
