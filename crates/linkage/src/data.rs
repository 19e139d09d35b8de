//! Reading CSV inputs into compact, normalised, column-oriented [`Dataset`]s.
//!
//! Each input is read into memory once, split into chunks at record boundaries, and the chunks
//! are parsed, normalised and keyed in parallel. Every field becomes a contiguous text arena plus
//! a 64-bit value hash (plus parsed dates / Bloom-filter bits where applicable); every blocking
//! rule becomes one 64-bit key hash per record. All later stages work on these arrays.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

use base64::Engine;
use rayon::prelude::*;

use crate::config::{FieldKind, FieldPlan, KeyExpr, KeyFn, Plan};
use crate::error::{LinkageError, Result};
use crate::normalise::{parse_date_auto, parse_date_format, soundex};

/// Which input a dataset is (selects `left_*` / `right_*` column names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The left input (also used for dedupe).
    Left,
    /// The right input.
    Right,
}

impl Side {
    /// `"left"` / `"right"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }
}

/// Fixed-seed hasher for values and keys (same results for both sides within a process).
///
/// Hash equality is never trusted alone where it matters: `exact` levels compare the text too,
/// and a collision in a blocking key only adds a candidate pair.
pub(crate) fn hasher() -> ahash::RandomState {
    ahash::RandomState::with_seeds(
        0x243f_6a88_85a3_08d3,
        0x1319_8a2e_0370_7344,
        0xa409_3822_299f_31d0,
        0x082e_fa98_ec4e_6c89,
    )
}

/// Cheap hasher for the per-piece value memo (hits are verified byte for byte).
fn memo_hash(b: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(b)
}

pub(crate) fn hash_bytes(h: &ahash::RandomState, b: &[u8]) -> u64 {
    let v = h.hash_one(b);
    if v == 0 {
        1
    } else {
        v
    }
}

/// Contiguous UTF-8 text arena with offsets.
#[derive(Debug, Clone, Default)]
pub(crate) struct TextColumn {
    text: String,
    offsets: Vec<u32>,
}

impl TextColumn {
    fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        TextColumn {
            text: String::with_capacity(bytes),
            offsets,
        }
    }

    fn push(&mut self, s: &str) -> Result<()> {
        self.text.push_str(s);
        let end = u32::try_from(self.text.len())
            .map_err(|_| LinkageError::TooLarge("a column holds more than 4 GiB of text".into()))?;
        self.offsets.push(end);
        Ok(())
    }

    fn clear(&mut self) {
        self.text.clear();
        self.offsets.clear();
        self.offsets.push(0);
    }

    #[inline]
    pub(crate) fn get(&self, i: usize) -> &str {
        let (a, b) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        self.text.get(a..b).unwrap_or("")
    }

    fn append(&mut self, other: &TextColumn) -> Result<()> {
        let base = u32::try_from(self.text.len())
            .map_err(|_| LinkageError::TooLarge("a column holds more than 4 GiB of text".into()))?;
        if (self.text.len() + other.text.len()) > u32::MAX as usize {
            return Err(LinkageError::TooLarge(
                "a column holds more than 4 GiB of text".into(),
            ));
        }
        self.text.push_str(&other.text);
        self.offsets
            .extend(other.offsets.iter().skip(1).map(|o| o + base));
        Ok(())
    }
}

/// A parsed date: days since CE (i32::MIN when missing) and its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateVal {
    pub days: i32,
    pub year: i16,
    pub month: u8,
    pub day: u8,
}

impl DateVal {
    pub(crate) const MISSING: DateVal = DateVal {
        days: i32::MIN,
        year: 0,
        month: 0,
        day: 0,
    };

    pub(crate) fn is_missing(&self) -> bool {
        self.days == i32::MIN
    }
}

/// Bloom-filter bits of a field, fixed number of words per record.
#[derive(Debug, Clone, Default)]
pub(crate) struct BloomColumn {
    pub words_per: usize,
    pub words: Vec<u64>,
    pub pop: Vec<u32>,
}

impl BloomColumn {
    #[inline]
    pub(crate) fn get(&self, i: usize) -> &[u64] {
        &self.words[i * self.words_per..(i + 1) * self.words_per]
    }
}

/// One field of a dataset.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldData {
    /// Normalised text (ISO form for dates, empty for Bloom fields).
    pub text: TextColumn,
    /// 64-bit hash of the normalised value (of the bits for Bloom fields); 0 = missing.
    pub hash: Vec<u64>,
    /// Parsed dates (date fields only).
    pub dates: Vec<DateVal>,
    /// Bloom-filter bits (Bloom fields only).
    pub bloom: BloomColumn,
}

/// Counters collected while loading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Data rows read.
    pub rows: usize,
    /// Per field: values present (non-empty after normalisation).
    pub present: Vec<usize>,
    /// Per field: non-empty values that could not be parsed as a date.
    pub bad_dates: Vec<usize>,
}

/// A prepared (normalised, keyed) record list.
#[derive(Debug, Clone)]
pub struct Dataset {
    side: Side,
    len: usize,
    ids: Option<TextColumn>,
    truth: Option<Vec<u64>>,
    truth_text: Option<TextColumn>,
    pub(crate) fields: Vec<FieldData>,
    /// Per blocking rule: key hash per record (0 = no key).
    pub(crate) keys: Vec<Vec<u64>>,
    stats: LoadStats,
}

impl Dataset {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no records.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Which side's columns were used.
    pub fn side(&self) -> Side {
        self.side
    }

    /// Record id (the id column, or the 0-based row number when there is none).
    pub fn id(&self, row: usize) -> Cow<'_, str> {
        match &self.ids {
            Some(c) => Cow::Borrowed(c.get(row)),
            None => Cow::Owned(row.to_string()),
        }
    }

    /// True when a truth column was loaded.
    pub fn has_truth(&self) -> bool {
        self.truth.is_some()
    }

    /// Hash of the truth id of a row (0 = missing), if truth was loaded.
    pub(crate) fn truth(&self) -> Option<&[u64]> {
        self.truth.as_deref()
    }

    /// Truth id text of a row, if truth was loaded.
    pub fn truth_id(&self, row: usize) -> Option<&str> {
        self.truth_text.as_ref().map(|t| t.get(row))
    }

    /// Raw id text of a row when an id column was loaded.
    pub(crate) fn id_text(&self, row: usize) -> Option<&str> {
        self.ids.as_ref().map(|c| c.get(row))
    }

    /// Normalised value of field `field` (index in config order) for a row. Dates are shown
    /// in ISO form; Bloom fields as an empty string.
    pub fn value(&self, field: usize, row: usize) -> &str {
        self.fields.get(field).map_or("", |f| f.text.get(row))
    }

    /// Loading counters.
    pub fn stats(&self) -> &LoadStats {
        &self.stats
    }

    /// A compact copy of some rows' field data (no ids, truth or keys), used to make random
    /// pair sampling cache friendly.
    pub(crate) fn subset(&self, rows: &[usize]) -> Dataset {
        let fields = self
            .fields
            .iter()
            .map(|f| {
                let mut text = TextColumn::with_capacity(rows.len(), rows.len() * 16);
                let mut hash = Vec::with_capacity(rows.len());
                let mut dates = Vec::new();
                let mut bloom = BloomColumn {
                    words_per: f.bloom.words_per,
                    words: Vec::new(),
                    pop: Vec::new(),
                };
                for &r in rows {
                    // Cannot overflow: a subset is never larger than its source column.
                    let _ = text.push(f.text.get(r));
                    hash.push(f.hash[r]);
                    if !f.dates.is_empty() {
                        dates.push(f.dates[r]);
                    }
                    if f.bloom.words_per > 0 {
                        bloom.words.extend_from_slice(f.bloom.get(r));
                        bloom.pop.push(f.bloom.pop[r]);
                    }
                }
                FieldData {
                    text,
                    hash,
                    dates,
                    bloom,
                }
            })
            .collect();
        Dataset {
            side: self.side,
            len: rows.len(),
            ids: None,
            truth: None,
            truth_text: None,
            fields,
            keys: Vec::new(),
            stats: LoadStats::default(),
        }
    }

    pub(crate) fn load_bytes(plan: &Plan, side: Side, data: &[u8]) -> Result<Dataset> {
        load_stream(plan, side, data)
    }

    pub(crate) fn load_reader<R: Read>(plan: &Plan, side: Side, r: R) -> Result<Dataset> {
        load_stream(plan, side, r)
    }

    pub(crate) fn load_path(plan: &Plan, side: Side, path: &Path) -> Result<Dataset> {
        let file = std::fs::File::open(path)?;
        load_stream(plan, side, file)
    }
}

struct Columns {
    fields: Vec<usize>,
    id: Option<usize>,
    truth: Option<usize>,
}

fn resolve_columns(plan: &Plan, side: Side, header: &csv::ByteRecord) -> Result<Columns> {
    let names: Vec<String> = header
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{feff}')
                .trim()
                .to_string()
        })
        .collect();
    let find = |col: &str, purpose: String| -> Result<usize> {
        names
            .iter()
            .position(|n| n == col)
            .ok_or_else(|| LinkageError::MissingColumn {
                side: side.as_str(),
                column: col.to_string(),
                purpose,
                header: names.join(", "),
            })
    };
    let mut fields = Vec::with_capacity(plan.fields.len());
    for f in &plan.fields {
        let col = match side {
            Side::Left => &f.left_column,
            Side::Right => &f.right_column,
        };
        fields.push(find(col, format!("field `{}`", f.name))?);
    }
    let (id_col, truth_col) = match side {
        Side::Left => (&plan.left_id, &plan.left_truth),
        Side::Right => (&plan.right_id, &plan.right_truth),
    };
    let id = match id_col {
        Some(c) => Some(find(c, "the record id".into())?),
        None => None,
    };
    // A truth column named in the config must exist, like any other column: a misspelt one
    // would otherwise silently turn the evaluation off.
    let truth = match truth_col {
        Some(c) => Some(find(c, "the ground-truth id".into())?),
        None => None,
    };
    Ok(Columns { fields, id, truth })
}

/// Split `body` into about `n` pieces at record boundaries (newlines outside quotes).
fn split_chunks(body: &[u8], n: usize) -> Vec<&[u8]> {
    let len = body.len();
    let mut chunks = Vec::with_capacity(n);
    let mut start = 0usize;
    let mut qpos = 0usize;
    let mut in_quotes = false;
    for k in 1..n {
        let target = (k * len / n).max(start);
        if target >= len {
            break;
        }
        if target > qpos {
            let q = body[qpos..target].iter().filter(|&&b| b == b'"').count();
            in_quotes ^= q % 2 == 1;
            qpos = target;
        }
        let mut boundary = len;
        while let Some(off) = body[qpos..].iter().position(|&b| b == b'\n' || b == b'"') {
            let idx = qpos + off;
            qpos = idx + 1;
            if body[idx] == b'"' {
                in_quotes = !in_quotes;
            } else if !in_quotes {
                boundary = idx + 1;
                break;
            }
        }
        if boundary >= len {
            break;
        }
        chunks.push(&body[start..boundary]);
        start = boundary;
    }
    chunks.push(&body[start..]);
    chunks
}

/// Reusable per-thread parse buffers for one piece of input.
struct Chunk {
    rows: usize,
    ids: Option<TextColumn>,
    truth: Option<Vec<u64>>,
    truth_text: Option<TextColumn>,
    fields: Vec<FieldData>,
    keys: Vec<Vec<u64>>,
    present: Vec<usize>,
    bad_dates: Vec<usize>,
    caches: Vec<ValueCache>,
}

impl Chunk {
    fn new(plan: &Plan, cols: &Columns) -> Chunk {
        let nf = plan.fields.len();
        Chunk {
            rows: 0,
            ids: cols.id.map(|_| TextColumn::with_capacity(0, 0)),
            truth: cols.truth.map(|_| Vec::new()),
            truth_text: cols.truth.map(|_| TextColumn::with_capacity(0, 0)),
            fields: (0..nf).map(|_| FieldData::empty()).collect(),
            keys: (0..plan.rules.len()).map(|_| Vec::new()).collect(),
            present: vec![0; nf],
            bad_dates: vec![0; nf],
            caches: (0..nf).map(|_| ValueCache::new()).collect(),
        }
    }

    /// Empty the buffers, keeping their capacity (no new page faults on reuse).
    fn clear(&mut self) {
        self.rows = 0;
        if let Some(t) = self.ids.as_mut() {
            t.clear();
        }
        if let Some(t) = self.truth.as_mut() {
            t.clear();
        }
        if let Some(t) = self.truth_text.as_mut() {
            t.clear();
        }
        for f in &mut self.fields {
            f.text.clear();
            f.hash.clear();
            f.dates.clear();
            f.bloom.words.clear();
            f.bloom.pop.clear();
            f.bloom.words_per = 0;
        }
        for k in &mut self.keys {
            k.clear();
        }
        self.present.iter_mut().for_each(|v| *v = 0);
        self.bad_dates.iter_mut().for_each(|v| *v = 0);
    }
}

/// An error in a chunk: local row (1-based) and the error.
type ChunkError = (usize, LinkageError);

/// Input is processed in blocks of about this many bytes, each split into pieces parsed in
/// parallel into reused buffers and then appended to the dataset's columns.
const BLOCK_BYTES: usize = 8 << 20;

fn read_more<R: Read>(r: &mut R, buf: &mut Vec<u8>, want: usize) -> Result<bool> {
    // Returns true at end of input.
    let start = buf.len();
    buf.resize(start + want, 0);
    let mut filled = start;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => {
                buf.truncate(filled);
                return Ok(true);
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(filled);
                return Err(e.into());
            }
        }
    }
    Ok(false)
}

/// Position just after the last newline outside quotes (0 if none). `buf` starts outside quotes.
fn last_record_end(buf: &[u8]) -> usize {
    let Some(mut nl) = buf.iter().rposition(|&b| b == b'\n') else {
        return 0;
    };
    if !buf.contains(&b'"') {
        return nl + 1;
    }
    // A newline is a record boundary when an even number of quotes precede it.
    let mut quotes = buf[..nl].iter().filter(|&&b| b == b'"').count();
    loop {
        if quotes % 2 == 0 {
            return nl + 1;
        }
        let Some(prev) = buf[..nl].iter().rposition(|&b| b == b'\n') else {
            return 0;
        };
        quotes -= buf[prev..nl].iter().filter(|&&b| b == b'"').count();
        nl = prev;
    }
}

fn load_stream<R: Read>(plan: &Plan, side: Side, mut input: R) -> Result<Dataset> {
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK_BYTES + (1 << 16));
    let mut eof = read_more(&mut input, &mut buf, 1 << 16)?;
    // Header: the first record.
    let (header, header_end) = loop {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(plan.delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(buf.as_slice());
        let mut header = csv::ByteRecord::new();
        if !rdr.read_byte_record(&mut header)? {
            return Err(LinkageError::EmptyInput {
                side: side.as_str(),
            });
        }
        let end = usize::try_from(rdr.position().byte()).unwrap_or(buf.len());
        // Complete when the record ended before the end of the buffer (or input ended).
        if end < buf.len() || eof {
            break (header, end);
        }
        eof = read_more(&mut input, &mut buf, 1 << 16)?;
    };
    let cols = resolve_columns(plan, side, &header)?;
    buf.drain(..header_end.min(buf.len()));

    let threads = rayon::current_num_threads().max(1);
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut ds = Dataset::empty(plan, side, &cols);
    loop {
        if !eof && buf.len() < BLOCK_BYTES {
            let want = BLOCK_BYTES - buf.len();
            eof = read_more(&mut input, &mut buf, want)?;
        }
        let cut = if eof {
            buf.len()
        } else {
            match last_record_end(&buf) {
                0 => {
                    // One record longer than a block: read more.
                    eof = read_more(&mut input, &mut buf, BLOCK_BYTES)?;
                    continue;
                }
                c => c,
            }
        };
        let body = &buf[..cut];
        if !body.is_empty() {
            let n = if body.len() < 1 << 16 {
                1
            } else {
                (threads * 8).min(body.len() / (1 << 15)).max(1)
            };
            let pieces = split_chunks(body, n);
            while chunks.len() < pieces.len() {
                chunks.push(Chunk::new(plan, &cols));
            }
            let results: Vec<std::result::Result<(), ChunkError>> = pieces
                .par_iter()
                .zip(chunks.par_iter_mut())
                .map(|(piece, chunk)| parse_chunk(plan, side, &cols, piece, chunk))
                .collect();
            let mut rows_before = ds.len;
            for (r, c) in results.into_iter().zip(&chunks) {
                if let Err((local_row, err)) = r {
                    return Err(match err {
                        LinkageError::BadValue {
                            side,
                            field,
                            message,
                            ..
                        } => LinkageError::BadValue {
                            side,
                            row: rows_before + local_row,
                            field,
                            message,
                        },
                        other => other,
                    });
                }
                rows_before += c.rows;
            }
            ds.append(plan, side, &chunks[..pieces.len()])?;
        }
        buf.drain(..cut);
        if eof && buf.is_empty() {
            break;
        }
        if eof && cut == 0 {
            break;
        }
    }
    Ok(ds)
}

fn parse_chunk(
    plan: &Plan,
    side: Side,
    cols: &Columns,
    piece: &[u8],
    chunk: &mut Chunk,
) -> std::result::Result<(), ChunkError> {
    chunk.clear();
    let Chunk {
        rows: chunk_rows,
        ids,
        truth,
        truth_text,
        fields,
        keys,
        present,
        bad_dates,
        caches,
    } = chunk;
    let h = hasher();
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(plan.delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(piece);
    let mut rec = csv::ByteRecord::new();
    let mut out = String::new();
    let mut scratch = String::new();
    let mut bits: Vec<u8> = Vec::new();
    let mut rows = 0usize;
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err((rows + 1, LinkageError::Csv(e))),
        }
        rows += 1;
        let err = |e: LinkageError| (rows, e);
        if let (Some(c), Some(col)) = (cols.id, ids.as_mut()) {
            let raw = String::from_utf8_lossy(rec.get(c).unwrap_or(b""));
            col.push(raw.trim()).map_err(err)?;
        }
        if let (Some(c), Some(t)) = (cols.truth, truth.as_mut()) {
            let raw = String::from_utf8_lossy(rec.get(c).unwrap_or(b""));
            let raw = raw.trim();
            t.push(if raw.is_empty() {
                0
            } else {
                hash_bytes(&h, raw.as_bytes())
            });
            if let Some(tt) = truth_text.as_mut() {
                tt.push(raw).map_err(err)?;
            }
        }
        for (fi, (fp, fd)) in plan.fields.iter().zip(fields.iter_mut()).enumerate() {
            match fp.kind {
                FieldKind::Text | FieldKind::Date => {
                    let cache = &mut caches[fi];
                    let raw_bytes = rec.get(cols.fields[fi]).unwrap_or(b"");
                    if let Some(e) = cache.lookup(raw_bytes) {
                        let (v, hv, d) = (cache.value(e), e.hash, e.date);
                        fd.text.push(v).map_err(err)?;
                        fd.hash.push(hv);
                        if fp.kind == FieldKind::Date {
                            fd.dates.push(d);
                        }
                        if hv != 0 {
                            present[fi] += 1;
                        } else if e.bad_date {
                            bad_dates[fi] += 1;
                        }
                        continue;
                    }
                    let raw = String::from_utf8_lossy(raw_bytes);
                    fp.pipeline.apply_into(&raw, &mut out, &mut scratch);
                    let v = out.trim();
                    let (hv, date, bad) = if fp.kind == FieldKind::Text {
                        (
                            if v.is_empty() {
                                0
                            } else {
                                hash_bytes(&h, v.as_bytes())
                            },
                            DateVal::MISSING,
                            false,
                        )
                    } else {
                        let parsed = if v.is_empty() {
                            None
                        } else {
                            match &fp.date_format {
                                Some(f) => parse_date_format(v, f),
                                None => parse_date_auto(v),
                            }
                        };
                        match parsed.and_then(|d| d.days().map(|days| (d, days))) {
                            Some((d, days)) => {
                                out.clear();
                                out.push_str(&d.iso());
                                (
                                    hash_bytes(&h, out.as_bytes()),
                                    DateVal {
                                        days,
                                        year: i16::try_from(d.year).unwrap_or(i16::MAX),
                                        month: d.month as u8,
                                        day: d.day as u8,
                                    },
                                    false,
                                )
                            }
                            None => {
                                let bad = !v.is_empty();
                                out.clear();
                                (0, DateVal::MISSING, bad)
                            }
                        }
                    };
                    let v = out.trim();
                    if hv != 0 {
                        present[fi] += 1;
                    } else if bad {
                        bad_dates[fi] += 1;
                    }
                    fd.text.push(v).map_err(err)?;
                    fd.hash.push(hv);
                    if fp.kind == FieldKind::Date {
                        fd.dates.push(date);
                    }
                    cache.insert(raw_bytes, v, hv, date, bad);
                }
                FieldKind::Bloom => {
                    let raw = String::from_utf8_lossy(rec.get(cols.fields[fi]).unwrap_or(b""));
                    let v = raw.trim();
                    if v.is_empty() {
                        push_bloom_missing(fd);
                    } else {
                        bits.clear();
                        base64::engine::general_purpose::STANDARD
                            .decode_vec(v.as_bytes(), &mut bits)
                            .map_err(|e| {
                                err(bad_value(side, fp, format!("not valid base64: {e}")))
                            })?;
                        push_bloom(fd, &bits, &h).map_err(|m| err(bad_value(side, fp, m)))?;
                        present[fi] += 1;
                    }
                    fd.text.push("").map_err(err)?;
                }
            }
        }
    }
    compute_keys(plan, fields, rows, keys);
    *chunk_rows = rows;
    Ok(())
}

/// Per-chunk memo of raw value → normalised value, for fields whose values repeat (regions,
/// dates, common names). Switches itself off for (nearly) unique fields such as NIKs.
struct ValueCache {
    map: rustc_hash::FxHashMap<u64, u32>,
    entries: Vec<CacheEntry>,
    raw: Vec<u8>,
    norm: String,
    lookups: usize,
    hits: usize,
    enabled: bool,
}

#[derive(Clone, Copy)]
struct CacheEntry {
    raw: (u32, u32),
    norm: (u32, u32),
    hash: u64,
    date: DateVal,
    bad_date: bool,
}

impl ValueCache {
    const PROBE: usize = 4096;
    const MAX_ENTRIES: usize = 1 << 16;

    fn new() -> Self {
        ValueCache {
            map: rustc_hash::FxHashMap::default(),
            entries: Vec::new(),
            raw: Vec::new(),
            norm: String::new(),
            lookups: 0,
            hits: 0,
            enabled: true,
        }
    }

    #[inline]
    fn lookup(&mut self, raw: &[u8]) -> Option<CacheEntry> {
        if !self.enabled {
            return None;
        }
        self.lookups += 1;
        if self.lookups == Self::PROBE && self.hits * 4 < self.lookups {
            // Mostly unique values: caching costs more than it saves.
            self.enabled = false;
            self.map = Default::default();
            self.entries = Vec::new();
            self.raw = Vec::new();
            self.norm = String::new();
            return None;
        }
        let key = memo_hash(raw);
        let &idx = self.map.get(&key)?;
        let e = *self.entries.get(idx as usize)?;
        if self.raw.get(e.raw.0 as usize..e.raw.1 as usize) == Some(raw) {
            self.hits += 1;
            Some(e)
        } else {
            None
        }
    }

    fn value(&self, e: CacheEntry) -> &str {
        self.norm
            .get(e.norm.0 as usize..e.norm.1 as usize)
            .unwrap_or("")
    }

    fn insert(&mut self, raw: &[u8], norm: &str, hash: u64, date: DateVal, bad_date: bool) {
        if !self.enabled || self.entries.len() >= Self::MAX_ENTRIES {
            return;
        }
        let key = memo_hash(raw);
        let r0 = self.raw.len() as u32;
        self.raw.extend_from_slice(raw);
        let n0 = self.norm.len() as u32;
        self.norm.push_str(norm);
        self.map.insert(key, self.entries.len() as u32);
        self.entries.push(CacheEntry {
            raw: (r0, self.raw.len() as u32),
            norm: (n0, self.norm.len() as u32),
            hash,
            date,
            bad_date,
        });
    }
}

fn bad_value(side: Side, fp: &FieldPlan, message: String) -> LinkageError {
    LinkageError::BadValue {
        side: side.as_str(),
        row: 0,
        field: fp.name.clone(),
        message,
    }
}

fn push_bloom_missing(fd: &mut FieldData) {
    let wp = fd.bloom.words_per;
    fd.bloom.words.extend(std::iter::repeat_n(0u64, wp));
    fd.bloom.pop.push(0);
    fd.hash.push(0);
}

fn push_bloom(
    fd: &mut FieldData,
    bytes: &[u8],
    h: &ahash::RandomState,
) -> std::result::Result<(), String> {
    if bytes.is_empty() || bytes.len() % 8 != 0 {
        return Err(format!(
            "Bloom filter of {} bytes is not a whole number of 64-bit words",
            bytes.len()
        ));
    }
    let wp = bytes.len() / 8;
    if fd.bloom.words_per == 0 {
        // First value fixes the width; back-fill earlier missing rows.
        let missing_rows = fd.hash.len();
        fd.bloom.words_per = wp;
        fd.bloom.words = vec![0u64; missing_rows * wp];
    } else if fd.bloom.words_per != wp {
        return Err(format!(
            "Bloom filter has {} bits, earlier rows have {}",
            wp * 64,
            fd.bloom.words_per * 64
        ));
    }
    let mut pop = 0u32;
    for w in bytes.chunks_exact(8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        let v = u64::from_le_bytes(a);
        pop += v.count_ones();
        fd.bloom.words.push(v);
    }
    fd.bloom.pop.push(pop);
    fd.hash.push(hash_bytes(h, bytes));
    Ok(())
}

/// Append the derived value of `expr` for `row` to `out`; false when it is empty/missing.
pub(crate) fn derive_key(
    expr: &KeyExpr,
    fields: &[FieldData],
    row: usize,
    out: &mut Vec<u8>,
) -> bool {
    let Some(fd) = fields.get(expr.field) else {
        return false;
    };
    let start = out.len();
    let hv = fd.hash.get(row).copied().unwrap_or(0);
    if hv == 0 {
        return false;
    }
    let text = fd.text.get(row);
    match expr.func {
        KeyFn::Value => {
            if text.is_empty() {
                out.extend_from_slice(&hv.to_le_bytes());
            } else {
                out.extend_from_slice(text.as_bytes());
            }
        }
        KeyFn::Substr(s, l) => {
            if text.is_ascii() {
                let b = text.as_bytes();
                let a = s.min(b.len());
                let e = s.saturating_add(l).min(b.len());
                out.extend_from_slice(&b[a..e]);
            } else {
                for c in text.chars().skip(s).take(l) {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        KeyFn::Suffix(n) => {
            let count = text.chars().count();
            for c in text.chars().skip(count.saturating_sub(n)) {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        KeyFn::Year | KeyFn::Month | KeyFn::DateUnordered => {
            let Some(d) = fd.dates.get(row) else {
                return false;
            };
            if d.is_missing() {
                return false;
            }
            match expr.func {
                KeyFn::Year => out.extend_from_slice(&d.year.to_le_bytes()),
                KeyFn::Month => out.push(d.month),
                _ => {
                    out.extend_from_slice(&d.year.to_le_bytes());
                    out.push(d.month.min(d.day));
                    out.push(d.month.max(d.day));
                }
            }
        }
        KeyFn::FirstToken => {
            out.extend_from_slice(text.split_whitespace().next().unwrap_or("").as_bytes());
        }
        KeyFn::LastToken => {
            out.extend_from_slice(text.split_whitespace().next_back().unwrap_or("").as_bytes());
        }
        KeyFn::SortedTokens => {
            let mut arr = [""; 8];
            let mut n = 0;
            let mut overflow = false;
            for t in text.split_whitespace() {
                if n == arr.len() {
                    overflow = true;
                    break;
                }
                arr[n] = t;
                n += 1;
            }
            let mut spill: Vec<&str>;
            let toks: &mut [&str] = if overflow {
                spill = text.split_whitespace().collect();
                &mut spill
            } else {
                &mut arr[..n]
            };
            toks.sort_unstable();
            for (i, t) in toks.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(t.as_bytes());
            }
        }
        KeyFn::Soundex => soundex(text, out),
        KeyFn::Initials => {
            for t in text.split_whitespace() {
                if let Some(c) = t.chars().next() {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
    }
    out.len() > start
}

fn compute_keys(plan: &Plan, fields: &[FieldData], rows: usize, out: &mut [Vec<u64>]) {
    use std::hash::{BuildHasher, Hasher};
    // Derive each distinct key expression once per row, then hash each rule's parts.
    let mut exprs: Vec<&KeyExpr> = Vec::new();
    let rule_parts: Vec<Vec<usize>> = plan
        .rules
        .iter()
        .map(|rule| {
            rule.keys
                .iter()
                .map(|k| {
                    exprs
                        .iter()
                        .position(|e| e.field == k.field && e.func == k.func)
                        .unwrap_or_else(|| {
                            exprs.push(k);
                            exprs.len() - 1
                        })
                })
                .collect()
        })
        .collect();
    let h = hasher();
    let mut bufs: Vec<Vec<u8>> = exprs.iter().map(|_| Vec::with_capacity(32)).collect();
    let mut ok = vec![false; exprs.len()];
    for keys in out.iter_mut() {
        keys.clear();
        keys.reserve(rows);
    }
    for row in 0..rows {
        for (i, e) in exprs.iter().enumerate() {
            bufs[i].clear();
            ok[i] = derive_key(e, fields, row, &mut bufs[i]);
        }
        for (parts, keys) in rule_parts.iter().zip(out.iter_mut()) {
            if parts.iter().any(|&i| !ok[i]) {
                keys.push(0);
                continue;
            }
            let mut st = h.build_hasher();
            for &i in parts {
                st.write(&bufs[i]);
                st.write_u8(0x1f);
            }
            let v = st.finish();
            keys.push(if v == 0 { 1 } else { v });
        }
    }
}

impl FieldData {
    fn empty() -> FieldData {
        FieldData {
            text: TextColumn::with_capacity(0, 0),
            hash: Vec::new(),
            dates: Vec::new(),
            bloom: BloomColumn::default(),
        }
    }

    fn append(
        &mut self,
        src: &FieldData,
        src_rows: usize,
        dst_rows: usize,
    ) -> std::result::Result<(), String> {
        self.text.append(&src.text).map_err(|e| e.to_string())?;
        self.hash.extend_from_slice(&src.hash);
        self.dates.extend_from_slice(&src.dates);
        let (dw, sw) = (self.bloom.words_per, src.bloom.words_per);
        if sw > 0 || !src.bloom.pop.is_empty() {
            if dw == 0 && sw > 0 {
                self.bloom.words_per = sw;
                self.bloom.words = vec![0; dst_rows * sw];
            } else if sw == 0 {
                // A piece with only missing filters.
                self.bloom
                    .words
                    .extend(std::iter::repeat_n(0, src_rows * dw));
                self.bloom.pop.extend_from_slice(&src.bloom.pop);
                return Ok(());
            } else if dw != sw {
                return Err(format!(
                    "Bloom filters of different lengths ({} and {} bits)",
                    dw * 64,
                    sw * 64
                ));
            }
            self.bloom.words.extend_from_slice(&src.bloom.words);
            self.bloom.pop.extend_from_slice(&src.bloom.pop);
        }
        Ok(())
    }
}

impl Dataset {
    fn empty(plan: &Plan, side: Side, cols: &Columns) -> Dataset {
        let nf = plan.fields.len();
        Dataset {
            side,
            len: 0,
            ids: cols.id.map(|_| TextColumn::with_capacity(0, 0)),
            truth: cols.truth.map(|_| Vec::new()),
            truth_text: cols.truth.map(|_| TextColumn::with_capacity(0, 0)),
            fields: (0..nf).map(|_| FieldData::empty()).collect(),
            keys: (0..plan.rules.len()).map(|_| Vec::new()).collect(),
            stats: LoadStats {
                rows: 0,
                present: vec![0; nf],
                bad_dates: vec![0; nf],
            },
        }
    }

    /// Append parsed pieces (in order), column by column in parallel.
    fn append(&mut self, plan: &Plan, side: Side, chunks: &[Chunk]) -> Result<()> {
        let rows_before = self.len;
        let added: usize = chunks.iter().map(|c| c.rows).sum();
        let Dataset {
            ids,
            truth,
            truth_text,
            fields,
            keys,
            stats,
            ..
        } = self;
        let field_results: Vec<std::result::Result<(), String>> = fields
            .par_iter_mut()
            .enumerate()
            .map(|(fi, dst)| {
                let mut rows = rows_before;
                for c in chunks {
                    dst.append(&c.fields[fi], c.rows, rows)?;
                    rows += c.rows;
                }
                Ok(())
            })
            .collect();
        for (fi, r) in field_results.into_iter().enumerate() {
            r.map_err(|message| LinkageError::BadValue {
                side: side.as_str(),
                row: rows_before,
                field: plan.fields[fi].name.clone(),
                message,
            })?;
        }
        keys.par_iter_mut().enumerate().for_each(|(r, dst)| {
            for c in chunks {
                dst.extend_from_slice(&c.keys[r]);
            }
        });
        for c in chunks {
            if let (Some(d), Some(s)) = (ids.as_mut(), c.ids.as_ref()) {
                d.append(s)?;
            }
            if let (Some(d), Some(s)) = (truth.as_mut(), c.truth.as_ref()) {
                d.extend_from_slice(s);
            }
            if let (Some(d), Some(s)) = (truth_text.as_mut(), c.truth_text.as_ref()) {
                d.append(s)?;
            }
            for i in 0..stats.present.len() {
                stats.present[i] += c.present[i];
                stats.bad_dates[i] += c.bad_dates[i];
            }
        }
        self.len += added;
        self.stats.rows = self.len;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_respect_quotes() {
        let body = b"a,\"x\ny\",1\nb,c,2\nd,\"e\n\nf\",3\ng,h,4\n";
        for n in 1..8 {
            let parts = split_chunks(body, n);
            let joined: Vec<u8> = parts.concat();
            assert_eq!(joined, body.to_vec());
            for p in &parts {
                let q = p.iter().filter(|&&b| b == b'"').count();
                assert_eq!(q % 2, 0, "n={n} part={:?}", String::from_utf8_lossy(p));
            }
        }
    }
}
