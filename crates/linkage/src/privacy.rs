//! Privacy-preserving encodings (see `docs/linkage-privacy.md` at the repository root).
//!
//! [`Encoder`] turns a plain record list into an encoded CSV:
//! * `FIELD__h`: keyed HMAC-SHA256 (truncated to 128 bits, hex) of the normalised value, for
//!   exact matching;
//! * `FIELD__hs` (dates): keyed HMAC of the date with day and month sorted, so a day/month swap
//!   still matches;
//! * `FIELD__bf`: a keyed Bloom filter (cryptographic long-term key style, per field) of the
//!   value's padded q-grams, base64; compared with the Dice coefficient;
//! * `bkN`: keyed HMAC of blocking rule N's derived key.
//!
//! [`Encoder::encoded_config`] derives the config that links two encoded files with the normal
//! [`crate::Linker`] pipeline.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use hmac::{Hmac, Mac};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use sha2::Sha256;

use crate::config::{
    BlockingRuleConfig, ComparisonConfig, EncodingConfig, FieldConfig, FieldKind, InputConfig,
    LinkConfig, Plan,
};
use crate::data::{derive_key, hash_bytes, hasher, Dataset, Side};
use crate::error::{ConfigError, LinkageError, Result};

type HmacSha256 = Hmac<Sha256>;

/// Minimum secret length in bytes.
pub const MIN_SECRET_LEN: usize = 16;

#[derive(Debug, Clone)]
struct FieldSpec {
    field: usize,
    name: String,
    hmac: bool,
    swap: bool,
    bloom: bool,
    hashes: usize,
    dice: Vec<f64>,
    key_h: HmacSha256,
    key_hs: HmacSha256,
    key_bf: HmacSha256,
    /// Keyed permutation for balanced filters.
    perm: Vec<u32>,
}

/// Encodes record lists with a secret key.
#[derive(Debug, Clone)]
pub struct Encoder {
    config: LinkConfig,
    plan: Plan,
    enc: EncodingConfig,
    specs: Vec<FieldSpec>,
    block_keys: Vec<HmacSha256>,
    flip_seed: [u8; 32],
}

/// Counters of an encoding run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EncodeStats {
    /// Records written.
    pub rows: usize,
    /// Bloom-filter length in bits after folding/balancing.
    pub bloom_bits: usize,
}

fn keyed(secret: &[u8], label: &str) -> Result<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret).map_err(|_| {
        LinkageError::Config(ConfigError::BadSetting {
            setting: "secret".into(),
            message: "unusable HMAC key".into(),
        })
    })?;
    mac.update(label.as_bytes());
    let sub = mac.finalize().into_bytes();
    HmacSha256::new_from_slice(&sub).map_err(|_| {
        LinkageError::Config(ConfigError::BadSetting {
            setting: "secret".into(),
            message: "unusable HMAC key".into(),
        })
    })
}

fn mac_bytes(key: &HmacSha256, data: &[u8]) -> [u8; 32] {
    let mut m = key.clone();
    m.update(data);
    let out = m.finalize().into_bytes();
    let mut a = [0u8; 32];
    a.copy_from_slice(&out);
    a
}

fn hex16(b: &[u8; 32]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(32);
    for &x in &b[..16] {
        s.push(char::from(HEX[(x >> 4) as usize]));
        s.push(char::from(HEX[(x & 15) as usize]));
    }
    s
}

impl Encoder {
    /// Build an encoder for a plain config and a secret key shared by the data holders
    /// (at least [`MIN_SECRET_LEN`] bytes). Uses `config.encoding` or the defaults.
    pub fn new(config: &LinkConfig, secret: &[u8]) -> Result<Encoder> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(ConfigError::BadSetting {
                setting: "secret".into(),
                message: format!(
                    "the secret key must have at least {MIN_SECRET_LEN} bytes, got {}",
                    secret.len()
                ),
            }
            .into());
        }
        let plan = Plan::compile(config)?;
        let enc = config.encoding.clone().unwrap_or_default();
        // Every field used by a comparison is encoded.
        let mut used: Vec<usize> = Vec::new();
        for c in &plan.comparisons {
            for f in std::iter::once(c.field).chain(c.levels.iter().map(|l| l.field)) {
                if !used.contains(&f) {
                    used.push(f);
                }
            }
        }
        used.sort_unstable();
        let mut specs = Vec::with_capacity(used.len());
        for f in used {
            let fp = &plan.fields[f];
            if fp.kind == FieldKind::Bloom {
                return Err(ConfigError::BadField {
                    field: fp.name.clone(),
                    message: "already an encoded (Bloom) field; encode plain data".into(),
                }
                .into());
            }
            let fc = enc.fields.iter().find(|e| e.field == fp.name);
            let (hmac, swap, bloom) = match fc {
                Some(c) => (c.hmac, c.swap_hmac, c.bloom),
                None => (true, false, false),
            };
            if swap && fp.kind != FieldKind::Date {
                return Err(ConfigError::BadField {
                    field: fp.name.clone(),
                    message: "`swap_hmac` needs a date field".into(),
                }
                .into());
            }
            if !hmac && !bloom {
                return Err(ConfigError::BadField {
                    field: fp.name.clone(),
                    message: "encoding needs `hmac` or `bloom` (the field is compared)".into(),
                }
                .into());
            }
            let hashes = fc.and_then(|c| c.hashes).unwrap_or(enc.hashes);
            if hashes == 0 {
                return Err(ConfigError::BadField {
                    field: fp.name.clone(),
                    message: "`hashes` must be > 0".into(),
                }
                .into());
            }
            let dice = fc
                .and_then(|c| c.dice_thresholds.clone())
                .unwrap_or_else(|| {
                    if fp.kind == FieldKind::Date {
                        vec![0.75]
                    } else {
                        vec![0.9, 0.8, 0.7]
                    }
                });
            if dice.iter().any(|t| !(0.0..=1.0).contains(t)) {
                return Err(ConfigError::BadField {
                    field: fp.name.clone(),
                    message: "dice thresholds must be within [0, 1]".into(),
                }
                .into());
            }
            let out_bits = encoded_bits(&enc);
            let perm = if enc.balance {
                let seed = mac_bytes(&keyed(secret, &format!("perm:{}", fp.name))?, b"");
                let mut rng = ChaCha8Rng::from_seed(seed);
                let mut p: Vec<u32> = (0..out_bits as u32).collect();
                for i in (1..p.len()).rev() {
                    let j = ((u128::from(rng.next_u64()) * (i as u128 + 1)) >> 64) as usize;
                    p.swap(i, j);
                }
                p
            } else {
                Vec::new()
            };
            specs.push(FieldSpec {
                field: f,
                name: fp.name.clone(),
                hmac,
                swap,
                bloom,
                hashes,
                dice,
                key_h: keyed(secret, &format!("hmac:{}", fp.name))?,
                key_hs: keyed(secret, &format!("hmac-swap:{}", fp.name))?,
                key_bf: keyed(secret, &format!("bloom:{}", fp.name))?,
                perm,
            });
        }
        let block_keys = plan
            .rules
            .iter()
            .enumerate()
            .map(|(i, _)| keyed(secret, &format!("block:{i}")))
            .collect::<Result<Vec<_>>>()?;
        let flip_seed = mac_bytes(&keyed(secret, "flip")?, b"");
        Ok(Encoder {
            config: config.clone(),
            plan,
            enc,
            specs,
            block_keys,
            flip_seed,
        })
    }

    /// Encode a CSV file.
    pub fn encode_path<W: Write>(&self, side: Side, path: &Path, out: W) -> Result<EncodeStats> {
        let data = Dataset::load_path(&self.plan, side, path)?;
        self.encode_dataset(&data, out)
    }

    /// Encode CSV bytes.
    pub fn encode_bytes<W: Write>(&self, side: Side, input: &[u8], out: W) -> Result<EncodeStats> {
        let data = Dataset::load_bytes(&self.plan, side, input)?;
        self.encode_dataset(&data, out)
    }

    /// Encode a dataset loaded with the plain config (e.g. by a [`crate::Linker`] built from
    /// the same config).
    pub fn encode_dataset<W: Write>(&self, data: &Dataset, mut out: W) -> Result<EncodeStats> {
        let header = self.header(data);
        {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(&header)?;
            w.flush()?;
        }
        const BLOCK: usize = 1 << 13;
        let n = data.len();
        let blocks = n.div_ceil(BLOCK);
        let batch = (rayon::current_num_threads() * 2).max(1);
        let mut b0 = 0;
        while b0 < blocks {
            let b1 = (b0 + batch).min(blocks);
            let bufs: Vec<Result<Vec<u8>>> = (b0..b1)
                .into_par_iter()
                .map(|b| {
                    let mut w = csv::WriterBuilder::new()
                        .has_headers(false)
                        .from_writer(Vec::new());
                    let mut cache = EncodeCache::default();
                    let mut rec: Vec<String> = Vec::with_capacity(header.len());
                    for row in b * BLOCK..((b + 1) * BLOCK).min(n) {
                        self.encode_row(data, row, &mut cache, &mut rec);
                        w.write_record(&rec)?;
                    }
                    w.into_inner().map_err(|e| LinkageError::Io(e.into_error()))
                })
                .collect();
            for buf in bufs {
                out.write_all(&buf?)?;
            }
            b0 = b1;
        }
        out.flush()?;
        Ok(EncodeStats {
            rows: n,
            bloom_bits: encoded_bits(&self.enc),
        })
    }

    fn header(&self, data: &Dataset) -> Vec<String> {
        let mut h = vec![self.id_column()];
        if self.enc.include_truth && data.has_truth() {
            h.push(self.truth_column());
        }
        for s in &self.specs {
            if s.hmac {
                h.push(format!("{}__h", s.name));
            }
            if s.swap {
                h.push(format!("{}__hs", s.name));
            }
            if s.bloom {
                h.push(format!("{}__bf", s.name));
            }
        }
        for i in 0..self.plan.rules.len() {
            h.push(format!("bk{i}"));
        }
        h
    }

    fn id_column(&self) -> String {
        "id".to_string()
    }

    fn truth_column(&self) -> String {
        "truth_id".to_string()
    }

    fn encode_row(
        &self,
        data: &Dataset,
        row: usize,
        cache: &mut EncodeCache,
        rec: &mut Vec<String>,
    ) {
        rec.clear();
        rec.push(
            data.id_text(row)
                .map_or_else(|| row.to_string(), str::to_string),
        );
        if self.enc.include_truth && data.has_truth() {
            rec.push(data.truth_id(row).unwrap_or("").to_string());
        }
        let mut flip_rng = if self.enc.flip_probability > 0.0 {
            let mut r = ChaCha8Rng::from_seed(self.flip_seed);
            let side = match data.side() {
                Side::Left => 0u64,
                Side::Right => 1u64 << 62,
            };
            r.set_stream(side | row as u64);
            Some(r)
        } else {
            None
        };
        for s in &self.specs {
            let fd = &data.fields[s.field];
            let missing = fd.hash[row] == 0;
            let value = fd.text.get(row);
            if s.hmac {
                rec.push(if missing {
                    String::new()
                } else {
                    cache.mac(&s.key_h, 2 * s.field, fd.hash[row], value.as_bytes())
                });
            }
            if s.swap {
                let d = fd.dates.get(row).copied();
                rec.push(match d {
                    Some(d) if !missing && !d.is_missing() => {
                        let (a, b) = (d.month.min(d.day), d.month.max(d.day));
                        let canon = format!("{:04}|{a:02}|{b:02}", d.year);
                        let key = u64::from(d.year as u16) << 16 | u64::from(a) << 8 | u64::from(b);
                        cache.mac(&s.key_hs, 2 * s.field + 1, key, canon.as_bytes())
                    }
                    _ => String::new(),
                });
            }
            if s.bloom {
                rec.push(if missing {
                    String::new()
                } else {
                    let bits = self.bloom(s, value, cache, flip_rng.as_mut());
                    let mut bytes = Vec::with_capacity(bits.len() * 8);
                    for w in &bits {
                        bytes.extend_from_slice(&w.to_le_bytes());
                    }
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                });
            }
        }
        let mut buf = Vec::with_capacity(64);
        let h = hasher();
        for (ri, (rule, key)) in self.plan.rules.iter().zip(&self.block_keys).enumerate() {
            buf.clear();
            let mut ok = true;
            for k in &rule.keys {
                if !derive_key(k, &data.fields, row, &mut buf) {
                    ok = false;
                    break;
                }
                buf.push(0x1f);
            }
            rec.push(if ok {
                let slot = 2 * self.plan.fields.len() + ri;
                cache.mac(key, slot, hash_bytes(&h, &buf), &buf)
            } else {
                String::new()
            });
        }
    }

    /// The Bloom filter of one value (after folding, balancing and flips).
    fn bloom(
        &self,
        s: &FieldSpec,
        value: &str,
        cache: &mut EncodeCache,
        flip: Option<&mut ChaCha8Rng>,
    ) -> Vec<u64> {
        let l = self.enc.bloom_bits;
        let mut bits = vec![0u64; l / 64];
        let q = self.enc.ngram;
        let padded: Vec<char> = std::iter::once('_')
            .chain(value.chars())
            .chain(std::iter::once('_'))
            .collect();
        let h = hasher();
        let mut gram = String::new();
        let n_grams = padded.len().saturating_sub(q - 1).max(1);
        for i in 0..n_grams {
            gram.clear();
            gram.extend(padded.iter().skip(i).take(q));
            let gk = hash_bytes(&h, gram.as_bytes());
            let (h1, h2) = *cache.grams.entry((s.field, gk)).or_insert_with(|| {
                let d = mac_bytes(&s.key_bf, gram.as_bytes());
                let mut a = [0u8; 8];
                let mut b = [0u8; 8];
                a.copy_from_slice(&d[0..8]);
                b.copy_from_slice(&d[8..16]);
                (u64::from_le_bytes(a), u64::from_le_bytes(b) | 1)
            });
            let mut pos = h1 % l as u64;
            let step = h2 % l as u64;
            for _ in 0..s.hashes {
                bits[(pos / 64) as usize] |= 1u64 << (pos % 64);
                pos += step;
                if pos >= l as u64 {
                    pos -= l as u64;
                }
            }
        }
        if self.enc.xor_fold {
            let half = bits.len() / 2;
            let folded: Vec<u64> = (0..half).map(|i| bits[i] ^ bits[i + half]).collect();
            bits = folded;
        }
        if self.enc.balance {
            let n = bits.len() * 64;
            let mut out = vec![0u64; bits.len() * 2];
            for i in 0..2 * n {
                let bit = if i < n {
                    bits[i / 64] >> (i % 64) & 1
                } else {
                    !(bits[(i - n) / 64] >> ((i - n) % 64)) & 1
                };
                if bit == 1 {
                    let p = s.perm.get(i).copied().unwrap_or(i as u32) as usize;
                    out[p / 64] |= 1u64 << (p % 64);
                }
            }
            bits = out;
        }
        if let Some(rng) = flip {
            // Flip each bit independently with probability p, jumping from flip to flip with
            // geometrically distributed gaps (one random draw per flipped bit).
            let p = self.enc.flip_probability;
            let n = bits.len() * 64;
            let log_q = (1.0 - p).ln();
            let mut pos = 0usize;
            loop {
                let u = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
                let gap = (u.ln() / log_q).floor();
                if !gap.is_finite() || gap >= (n - pos) as f64 {
                    break;
                }
                pos += gap as usize;
                bits[pos / 64] ^= 1u64 << (pos % 64);
                pos += 1;
                if pos >= n {
                    break;
                }
            }
        }
        bits
    }

    /// The config that links two files written by this encoder (same comparisons, blocking and
    /// model settings, over the encoded columns).
    pub fn encoded_config(&self) -> LinkConfig {
        let mut fields = Vec::new();
        for s in &self.specs {
            if s.hmac {
                fields.push(text_field(&format!("{}__h", s.name)));
            }
            if s.swap {
                fields.push(text_field(&format!("{}__hs", s.name)));
            }
            if s.bloom {
                fields.push(FieldConfig {
                    kind: FieldKind::Bloom,
                    ..text_field(&format!("{}__bf", s.name))
                });
            }
        }
        for i in 0..self.plan.rules.len() {
            fields.push(text_field(&format!("bk{i}")));
        }
        let mut comparisons = Vec::new();
        for (c, cc) in self.plan.comparisons.iter().zip(&self.config.comparisons) {
            let Some(s) = self.specs.iter().find(|s| s.field == c.field) else {
                continue;
            };
            let main = if s.bloom {
                format!("{}__bf", s.name)
            } else {
                format!("{}__h", s.name)
            };
            let mut levels = Vec::new();
            if s.hmac {
                levels.push(format!("exact({}__h)", s.name));
            }
            if s.swap {
                levels.push(format!("exact({}__hs)", s.name));
            }
            if s.bloom {
                for t in &s.dice {
                    levels.push(format!("dice({}__bf) >= {t}", s.name));
                }
            }
            comparisons.push(ComparisonConfig {
                name: Some(c.name.clone()),
                field: main,
                levels,
                term_frequency: cc.term_frequency && s.hmac,
            });
        }
        let blocking = self
            .plan
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| BlockingRuleConfig {
                name: Some(r.name.clone()),
                keys: vec![format!("bk{i}")],
                train_exclude: Some(
                    r.train_exclude
                        .iter()
                        .map(|&k| self.plan.comparisons[k].name.clone())
                        .collect(),
                ),
            })
            .collect();
        let truth = if self.enc.include_truth
            && (self.plan.left_truth.is_some() || self.plan.right_truth.is_some())
        {
            Some(self.truth_column())
        } else {
            None
        };
        LinkConfig {
            input: InputConfig {
                id: Some(self.id_column()),
                truth,
                delimiter: None,
                ..InputConfig::default()
            },
            fields,
            comparisons,
            blocking,
            model: self.config.model.clone(),
            link: self.config.link.clone(),
            token_maps: Default::default(),
            encoding: None,
        }
    }

    /// Length of the written Bloom filters in bits.
    pub fn bloom_bits(&self) -> usize {
        encoded_bits(&self.enc)
    }
}

/// Per-thread memo of keyed hashes (q-gram hash pairs, HMAC tokens of repeated values).
#[derive(Default)]
struct EncodeCache {
    grams: FxHashMap<(usize, u64), (u64, u64)>,
    macs: FxHashMap<(usize, u64), String>,
}

impl EncodeCache {
    fn mac(&mut self, key: &HmacSha256, slot: usize, value_hash: u64, data: &[u8]) -> String {
        if self.macs.len() > 1 << 16 {
            self.macs.clear();
        }
        self.macs
            .entry((slot, value_hash))
            .or_insert_with(|| hex16(&mac_bytes(key, data)))
            .clone()
    }
}

fn encoded_bits(enc: &EncodingConfig) -> usize {
    let mut l = enc.bloom_bits;
    if enc.xor_fold {
        l /= 2;
    }
    if enc.balance {
        l *= 2;
    }
    l
}

fn text_field(name: &str) -> FieldConfig {
    FieldConfig {
        name: name.to_string(),
        column: None,
        left_column: None,
        right_column: None,
        kind: FieldKind::Text,
        normalise: Vec::new(),
        date_format: None,
    }
}
