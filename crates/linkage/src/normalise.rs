//! Normalisers: small text transformations applied, in order, to a raw field value.
//!
//! All normalisers are pure functions of their input, and every pipeline built from them is
//! idempotent (applying it twice gives the same result as applying it once), which the tests
//! check with proptest.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

/// One normalisation step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Normaliser {
    /// Trim leading and trailing whitespace.
    Trim,
    /// Lowercase (Unicode aware).
    Lowercase,
    /// Uppercase (Unicode aware).
    Uppercase,
    /// Remove `.`, `'` and `` ` `` (so `S.Pd.` becomes `SPd`, `Ma'ruf` becomes `Maruf`);
    /// replace every other non-alphanumeric, non-space character with a space.
    StripPunctuation,
    /// Trim and collapse runs of whitespace into a single space.
    CollapseWhitespace,
    /// Drop Indonesian honorifics and academic titles (`H.`, `Hj.`, `Drs.`, `Ir.`, `Dr.`,
    /// `Prof.`, `KH`, `TGH`, `S.Pd.`, `S.Kom`, `S.E.`, `M.M.`, `A.Md.` ...). Prefix titles are
    /// dropped anywhere; degree titles (which could collide with short names) are dropped unless
    /// they are the first token. Matching ignores case and dots.
    StripTitles,
    /// Replace common Indonesian name variants with one canonical spelling, token by token
    /// (`Moh.`/`Muh`/`Mochammad`/`M.` → `muhammad`, `Sitti` → `siti`, `Nurul` → `nur`,
    /// `Achmad` → `ahmad`, `Abd.` → `abdul`, ...). Output tokens are lowercase.
    CanonicalNames,
    /// Map pre-1972 (van Ophuijsen / Soewandi) spellings to modern spelling, token by token:
    /// `dj`→`j`, `tj`→`c`, `oe`→`u`, `sj`→`sy`, `nj`→`ny`, `ch`→`kh` (`Soekarno` → `sukarno`,
    /// `Djoko` → `joko`). Expects lowercase input.
    OldSpelling,
    /// Keep only ASCII digits.
    DigitsOnly,
    /// Keep only letters and spaces (then collapse whitespace).
    LettersOnly,
    /// Indonesian phone number: digits only, `+62`/`62`/`8...` prefixes become `08...`.
    PhoneId,
    /// Sort whitespace-separated tokens alphabetically.
    SortTokens,
    /// Map tokens through a user-defined table (`[token_maps.NAME]` in the config); a token
    /// mapped to `""` is dropped. The index refers to the pipeline's table list.
    MapTokens(usize),
}

/// Names accepted by [`Normaliser::parse`] (for error messages and docs).
pub const NORMALISER_NAMES: &str = "trim, lowercase, uppercase, strip_punctuation, \
collapse_whitespace, strip_titles, canonical_names, old_spelling, digits_only, letters_only, \
phone_id, sort_tokens, map_tokens(NAME)";

impl Normaliser {
    /// Parse a normaliser name as written in the config. `map_tokens(NAME)` needs the list of
    /// token-map names (its index in that list is stored).
    pub fn parse(text: &str, token_map_names: &[String]) -> Option<Normaliser> {
        let t = text.trim();
        Some(match t {
            "trim" => Normaliser::Trim,
            "lowercase" | "lower" => Normaliser::Lowercase,
            "uppercase" | "upper" => Normaliser::Uppercase,
            "strip_punctuation" => Normaliser::StripPunctuation,
            "collapse_whitespace" => Normaliser::CollapseWhitespace,
            "strip_titles" => Normaliser::StripTitles,
            "canonical_names" => Normaliser::CanonicalNames,
            "old_spelling" => Normaliser::OldSpelling,
            "digits_only" => Normaliser::DigitsOnly,
            "letters_only" => Normaliser::LettersOnly,
            "phone_id" => Normaliser::PhoneId,
            "sort_tokens" => Normaliser::SortTokens,
            _ => {
                let inner = t.strip_prefix("map_tokens(")?.strip_suffix(')')?.trim();
                let idx = token_map_names.iter().position(|n| n == inner)?;
                Normaliser::MapTokens(idx)
            }
        })
    }
}

/// An ordered list of normalisers plus the token maps they may refer to.
#[derive(Debug, Clone, Default)]
pub struct Pipeline {
    steps: Vec<Normaliser>,
    maps: Arc<Vec<FxHashMap<String, String>>>,
}

impl Pipeline {
    /// Build a pipeline from steps. `maps` holds the tables referred to by
    /// [`Normaliser::MapTokens`] (keys are matched lowercase).
    pub(crate) fn new(steps: Vec<Normaliser>, maps: Arc<Vec<FxHashMap<String, String>>>) -> Self {
        Pipeline { steps, maps }
    }

    /// Build a pipeline from config-style names (convenience for tools and tests).
    ///
    /// Returns the first name that is not understood as the error.
    pub fn from_names(
        names: &[&str],
        token_maps: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<Self, String> {
        let map_names: Vec<String> = token_maps.keys().cloned().collect();
        let mut steps = Vec::with_capacity(names.len());
        for n in names {
            steps.push(Normaliser::parse(n, &map_names).ok_or_else(|| (*n).to_string())?);
        }
        Ok(Pipeline::new(steps, Arc::new(build_token_maps(token_maps))))
    }

    /// The steps of this pipeline.
    pub fn steps(&self) -> &[Normaliser] {
        &self.steps
    }

    /// Apply the pipeline.
    pub fn apply(&self, input: &str) -> String {
        let mut out = String::new();
        let mut scratch = String::new();
        self.apply_into(input, &mut out, &mut scratch);
        out
    }

    /// Apply the pipeline writing into `out` (cleared first); `scratch` is a reusable buffer.
    /// Does not allocate once the buffers are large enough.
    pub fn apply_into(&self, input: &str, out: &mut String, scratch: &mut String) {
        out.clear();
        out.push_str(input);
        for step in &self.steps {
            scratch.clear();
            apply_step(step, out, scratch, &self.maps);
            std::mem::swap(out, scratch);
        }
    }
}

/// Convert config token maps into lookup tables with lowercase keys.
pub(crate) fn build_token_maps(
    maps: &BTreeMap<String, BTreeMap<String, String>>,
) -> Vec<FxHashMap<String, String>> {
    maps.values()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_lowercase()))
                .collect()
        })
        .collect()
}

/// Whitespace-separated tokens (ASCII fast path).
#[inline]
fn for_each_token<'a>(input: &'a str, mut f: impl FnMut(&'a str)) {
    if input.is_ascii() {
        input.split_ascii_whitespace().for_each(&mut f);
    } else {
        input.split_whitespace().for_each(&mut f);
    }
}

fn apply_step(
    step: &Normaliser,
    input: &str,
    out: &mut String,
    maps: &[FxHashMap<String, String>],
) {
    match step {
        Normaliser::Trim => out.push_str(input.trim()),
        Normaliser::Lowercase => {
            if input.is_ascii() {
                out.push_str(input);
                out.make_ascii_lowercase();
            } else {
                out.extend(input.chars().flat_map(char::to_lowercase));
            }
        }
        Normaliser::Uppercase => {
            if input.is_ascii() {
                out.push_str(input);
                out.make_ascii_uppercase();
            } else {
                out.extend(input.chars().flat_map(char::to_uppercase));
            }
        }
        Normaliser::StripPunctuation if input.is_ascii() => {
            out.extend(input.bytes().filter_map(|b| {
                if b.is_ascii_alphanumeric() || b == b' ' {
                    Some(char::from(b))
                } else if b == b'.' || b == b'\'' || b == b'`' {
                    None // joined: S.Pd. -> SPd
                } else {
                    Some(' ')
                }
            }));
        }
        Normaliser::StripPunctuation => {
            for c in input.chars() {
                if c.is_alphanumeric() || c == ' ' {
                    out.push(c);
                } else if c == '.' || c == '\'' || c == '`' || c == '\u{2019}' {
                    // joined: S.Pd. -> SPd
                } else {
                    out.push(' ');
                }
            }
        }
        Normaliser::CollapseWhitespace if input.is_ascii() => {
            for tok in input.split_ascii_whitespace() {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(tok);
            }
        }
        Normaliser::CollapseWhitespace => {
            for tok in input.split_whitespace() {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(tok);
            }
        }
        Normaliser::StripTitles => strip_titles(input, out),
        Normaliser::CanonicalNames => for_each_token(input, |tok| {
            let mut key = [0u8; 24];
            let canon = lookup_key(tok, &mut key).and_then(canonical_name);
            if !out.is_empty() {
                out.push(' ');
            }
            match canon {
                Some(c) => out.push_str(c),
                None => out.push_str(tok),
            }
        }),
        Normaliser::OldSpelling if !has_old_spelling(input.as_bytes()) => {
            for_each_token(input, |tok| {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(tok);
            });
        }
        Normaliser::OldSpelling => {
            let mut buf = String::new();
            for tok in input.split_whitespace() {
                if !out.is_empty() {
                    out.push(' ');
                }
                if !has_old_spelling(tok.as_bytes()) {
                    out.push_str(tok);
                    continue;
                }
                let mut cur = tok.to_string();
                // Iterate to a fixed point so the step is idempotent.
                for _ in 0..8 {
                    buf.clear();
                    old_spelling_once(&cur, &mut buf);
                    if buf == cur {
                        break;
                    }
                    std::mem::swap(&mut cur, &mut buf);
                }
                out.push_str(&cur);
            }
        }
        Normaliser::DigitsOnly => {
            out.extend(input.bytes().filter(u8::is_ascii_digit).map(char::from));
        }
        Normaliser::LettersOnly => {
            let mut pending_space = false;
            for c in input.chars() {
                if c.is_alphabetic() {
                    if pending_space && !out.is_empty() {
                        out.push(' ');
                    }
                    pending_space = false;
                    out.push(c);
                } else if c.is_whitespace() {
                    pending_space = true;
                }
            }
        }
        Normaliser::PhoneId => {
            let digits = input.bytes().filter(u8::is_ascii_digit);
            let mut all = [0u8; 32];
            let mut n = 0;
            for d in digits {
                if n == all.len() {
                    break;
                }
                all[n] = d;
                n += 1;
            }
            let d = &all[..n];
            let rest = if let Some(r) = d.strip_prefix(b"62") {
                r
            } else if let Some(r) = d.strip_prefix(b"0") {
                r
            } else {
                d
            };
            let skip = rest.iter().take_while(|&&b| b == b'0').count();
            let rest = &rest[skip..];
            if !rest.is_empty() {
                out.push('0');
                out.extend(rest.iter().map(|&b| char::from(b)));
            }
        }
        Normaliser::SortTokens => {
            let mut toks: Vec<&str> = input.split_whitespace().collect();
            toks.sort_unstable();
            for t in toks {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(t);
            }
        }
        Normaliser::MapTokens(idx) => {
            let map = maps.get(*idx);
            let mut lower = String::new();
            for tok in input.split_whitespace() {
                lower.clear();
                if tok.is_ascii() {
                    lower.push_str(tok);
                    lower.make_ascii_lowercase();
                } else {
                    lower.extend(tok.chars().flat_map(char::to_lowercase));
                }
                let mapped = map.and_then(|m| m.get(lower.as_str())).map(String::as_str);
                let t = mapped.unwrap_or(tok);
                if t.is_empty() {
                    continue;
                }
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(t);
            }
        }
    }
}

/// Lowercase ASCII `tok` without punctuation into `buf`; `None` if too long or non-ASCII.
fn lookup_key<'a>(tok: &str, buf: &'a mut [u8; 24]) -> Option<&'a str> {
    let mut n = 0;
    for &b in tok.as_bytes() {
        if b.is_ascii_punctuation() {
            continue;
        }
        if !b.is_ascii() || n >= buf.len() {
            return None;
        }
        buf[n] = b.to_ascii_lowercase();
        n += 1;
    }
    std::str::from_utf8(&buf[..n]).ok()
}

/// Word kinds for the name normalisers, looked up in one hash table.
#[derive(Clone, Copy)]
enum Word {
    PrefixTitle,
    DegreeTitle,
    /// A degree title that is also a name variant (`st` = S.T. or Siti).
    DegreeOrName(&'static str),
    Name(&'static str),
}

fn word_table() -> &'static FxHashMap<&'static str, Word> {
    static TABLE: std::sync::OnceLock<FxHashMap<&'static str, Word>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut m = FxHashMap::default();
        for w in PREFIX_TITLES {
            m.insert(*w, Word::PrefixTitle);
        }
        for w in DEGREE_TITLES {
            m.insert(*w, Word::DegreeTitle);
        }
        for (canon, variants) in NAME_VARIANTS {
            for v in *variants {
                let kind = match m.get(v) {
                    Some(Word::DegreeTitle) => Word::DegreeOrName(canon),
                    _ => Word::Name(canon),
                };
                m.insert(*v, kind);
            }
        }
        m
    })
}

#[inline]
fn lookup_word(k: &str) -> Option<Word> {
    word_table().get(k).copied()
}

/// Honorifics and titles that precede a name (dropped anywhere in the name).
fn is_prefix_title(k: &str) -> bool {
    matches!(lookup_word(k), Some(Word::PrefixTitle))
}

/// Academic degrees and similar suffixes (dropped unless first token).
fn is_degree_title(k: &str) -> bool {
    matches!(
        lookup_word(k),
        Some(Word::DegreeTitle | Word::DegreeOrName(_))
    )
}

/// Canonical spelling of common Indonesian given-name variants (lowercase ASCII key).
pub fn canonical_name(k: &str) -> Option<&'static str> {
    match lookup_word(k)? {
        Word::Name(c) | Word::DegreeOrName(c) => Some(c),
        _ => None,
    }
}

const PREFIX_TITLES: &[&str] = &[
    "h",
    "hj",
    "haji",
    "hajjah",
    "hajah",
    "drs",
    "dra",
    "dr",
    "ir",
    "prof",
    "kh",
    "tgh",
    "ust",
    "ustadz",
    "ustaz",
    "ustadzah",
    "bpk",
    "bapak",
    "ibu",
    "sdr",
    "sdri",
    "ny",
    "nn",
    "tn",
    "alm",
    "almh",
    "almarhum",
    "almarhumah",
];

const DEGREE_TITLES: &[&str] = &[
    "spd", "spdi", "skom", "se", "sh", "shi", "st", "ssi", "sag", "ssos", "sos", "sip", "sked",
    "skep", "sfarm", "sp", "spt", "sth", "ssy", "sst", "sak", "ssn", "sikom", "sgz", "sdown", "mm",
    "mpd", "msi", "mkom", "mt", "mh", "mag", "mkes", "mba", "msc", "phd", "amd", "ama", "amdkeb",
    "amdkep", "amk", "ak", "bsc", "ba",
];

fn strip_titles(input: &str, out: &mut String) {
    // Split where `strip_punctuation` would put a space, so that the result does not depend on
    // the order of the two steps.
    for (i, tok) in input
        .split(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '\'' | '`' | '\u{2019}')))
        .filter(|t| t.bytes().any(|b| !b.is_ascii_punctuation()))
        .enumerate()
    {
        let mut buf = [0u8; 24];
        if let Some(k) = lookup_key(tok, &mut buf) {
            let is_title = |k: &str| is_prefix_title(k) || (i > 0 && is_degree_title(k));
            // Also test the modern spelling, so that `old_spelling` cannot turn a kept token
            // into a title later (`nj` -> `ny`, `ch` -> `kh`).
            let modern = if has_old_spelling(k.as_bytes()) {
                let mut m = String::new();
                apply_step(&Normaliser::OldSpelling, k, &mut m, &[]);
                Some(m)
            } else {
                None
            };
            if is_title(k) || modern.as_deref().is_some_and(is_title) {
                continue;
            }
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(tok);
    }
}

/// Name variants: canonical form and the spellings mapped to it (lowercase, no dots).
const NAME_VARIANTS: &[(&str, &[&str])] = &[
    (
        "muhammad",
        &[
            "muhammad",
            "muhamad",
            "muhammat",
            "muhamat",
            "mohammad",
            "mohamad",
            "mohammed",
            "mohamed",
            "mohamat",
            "mochammad",
            "mochamad",
            "mokhammad",
            "mokhamad",
            "muchammad",
            "muchamad",
            "mukhammad",
            "mukhamad",
            "muhammed",
            "mohd",
            "moh",
            "moch",
            "mokh",
            "mok",
            "much",
            "mukh",
            "muh",
            "mhd",
            "md",
            "m",
        ],
    ),
    (
        "ahmad",
        &[
            "ahmad", "achmad", "akhmad", "ahmat", "achmat", "akhmat", "ahmed", "amad",
        ],
    ),
    ("abdul", &["abd", "abdul", "abdoel"]),
    ("siti", &["siti", "sitti", "sity", "st"]),
    ("nur", &["nur", "nurul", "noor", "nor", "nuur"]),
    ("sri", &["sri", "sr"]),
    ("yusuf", &["yusuf", "yusup", "jusuf", "yoesoef"]),
    (
        "saiful",
        &["saiful", "syaiful", "syaeful", "saeful", "syaifull"],
    ),
    (
        "rahmat",
        &[
            "rahmat", "rachmat", "rakhmat", "rahmad", "rachmad", "rakhmad",
        ],
    ),
    ("zainal", &["zainal", "zaenal", "zainul"]),
    ("sulaiman", &["sulaiman", "sulaeman", "suleman"]),
    ("fatimah", &["fatimah", "fatima", "fatimmah"]),
    ("khadijah", &["khadijah", "khodijah", "kadijah", "hadijah"]),
    ("aisyah", &["aisyah", "aisah", "aisya", "aishah", "aisyiah"]),
    ("hidayat", &["hidayat", "hidajat"]),
    ("hidayah", &["hidayah", "hidajah"]),
    ("joko", &["joko", "djoko"]),
    ("yanti", &["yanti", "janti"]),
    (
        "abdurrahman",
        &["abdurrahman", "abdurahman", "abdulrahman", "abdurrakhman"],
    ),
    ("rahman", &["rahman", "rachman", "rakhman"]),
    ("fauzi", &["fauzi", "fauzy"]),
    (
        "rizki",
        &["rizki", "rizky", "rizqi", "rizqy", "risky", "riski"],
    ),
    ("dewi", &["dewi", "dewie"]),
    ("wahyu", &["wahyu", "wahju"]),
    ("nyoman", &["nyoman", "njoman"]),
];

fn has_old_spelling(b: &[u8]) -> bool {
    (1..b.len()).any(|i| match b[i] {
        b'j' => matches!(b[i - 1], b'd' | b't' | b's' | b'n'),
        b'e' => b[i - 1] == b'o',
        b'h' => b[i - 1] == b'c',
        _ => false,
    })
}

fn old_spelling_once(tok: &str, out: &mut String) {
    let b = tok.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if i + 1 < b.len() {
            let pair = (b[i], b[i + 1]);
            let rep = match pair {
                (b'd', b'j') => Some("j"),
                (b't', b'j') => Some("c"),
                (b'o', b'e') => Some("u"),
                (b's', b'j') => Some("sy"),
                (b'n', b'j') => Some("ny"),
                (b'c', b'h') => Some("kh"),
                _ => None,
            };
            if let Some(r) = rep {
                out.push_str(r);
                i += 2;
                continue;
            }
        }
        // copy one UTF-8 character
        let ch_len = utf8_len(b[i]);
        let end = (i + ch_len).min(b.len());
        out.push_str(tok.get(i..end).unwrap_or(""));
        i = end;
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// A parsed calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ymd {
    /// Year.
    pub year: i32,
    /// Month 1..=12.
    pub month: u32,
    /// Day 1..=31.
    pub day: u32,
}

impl Ymd {
    /// Days since 0001-01-01 (proleptic Gregorian, chrono's `num_days_from_ce`).
    pub fn days(self) -> Option<i32> {
        use chrono::Datelike;
        chrono::NaiveDate::from_ymd_opt(self.year, self.month, self.day)
            .map(|d| d.num_days_from_ce())
    }

    /// ISO 8601 form `YYYY-MM-DD`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// Construct when valid.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Ymd> {
        let y = Ymd { year, month, day };
        y.days().map(|_| y)
    }
}

/// Parse a date leniently: `YYYY-MM-DD`, `YYYY/MM/DD`, `DD-MM-YYYY`, `DD/MM/YYYY`,
/// `DD.MM.YYYY`, `YYYYMMDD`, `DDMMYYYY`, optionally followed by a time part. Returns `None` for
/// anything else or an impossible date.
pub fn parse_date_auto(s: &str) -> Option<Ymd> {
    let s = s.trim();
    let s = s.split(['T', ' ']).next().unwrap_or(s);
    let b = s.as_bytes();
    let mut parts = [0u32; 3];
    let mut lens = [0usize; 3];
    let mut n = 0;
    let mut in_num = false;
    for &c in b {
        if c.is_ascii_digit() {
            if !in_num {
                if n == 3 {
                    return None;
                }
                n += 1;
                in_num = true;
            }
            let idx = n - 1;
            if lens[idx] >= 8 {
                return None;
            }
            parts[idx] = parts[idx] * 10 + u32::from(c - b'0');
            lens[idx] += 1;
        } else if matches!(c, b'-' | b'/' | b'.') {
            in_num = false;
        } else {
            return None;
        }
    }
    match n {
        1 if lens[0] == 8 => {
            let v = parts[0];
            let (a, m, c) = (v / 10000, (v / 100) % 100, v % 100);
            // YYYYMMDD if the first four digits look like a year, else DDMMYYYY.
            if (1800..=2200).contains(&a) {
                Ymd::new(a as i32, m, c)
            } else {
                let d = v / 1_000_000;
                let mo = (v / 10_000) % 100;
                let y = v % 10_000;
                Ymd::new(y as i32, mo, d)
            }
        }
        3 => {
            if lens[0] == 4 {
                Ymd::new(parts[0] as i32, parts[1], parts[2])
            } else if lens[2] == 4 {
                Ymd::new(parts[2] as i32, parts[1], parts[0])
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Parse a date with an explicit chrono format string (e.g. `%d/%m/%Y`).
pub fn parse_date_format(s: &str, format: &str) -> Option<Ymd> {
    use chrono::Datelike;
    let d = chrono::NaiveDate::parse_from_str(s.trim(), format).ok()?;
    Some(Ymd {
        year: d.year(),
        month: d.month(),
        day: d.day(),
    })
}

/// American Soundex code of the first word (`R163` for `robert`), empty for no letters.
pub fn soundex(s: &str, out: &mut Vec<u8>) {
    let start = out.len();
    let mut last = 0u8;
    for c in s.bytes() {
        if c == b' ' && out.len() > start {
            break;
        }
        let c = c.to_ascii_lowercase();
        if !c.is_ascii_lowercase() {
            continue;
        }
        let code = match c {
            b'b' | b'f' | b'p' | b'v' => b'1',
            b'c' | b'g' | b'j' | b'k' | b'q' | b's' | b'x' | b'z' => b'2',
            b'd' | b't' => b'3',
            b'l' => b'4',
            b'm' | b'n' => b'5',
            b'r' => b'6',
            b'h' | b'w' => 0, // do not separate equal codes
            _ => b'0',        // vowels separate equal codes
        };
        if out.len() == start {
            out.push(c.to_ascii_uppercase());
            last = code;
            continue;
        }
        if code == 0 {
            continue;
        }
        if code != b'0' && code != last {
            out.push(code);
            if out.len() - start == 4 {
                return;
            }
        }
        last = code;
    }
    if out.len() > start {
        while out.len() - start < 4 {
            out.push(b'0');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_pipe() -> Pipeline {
        Pipeline::from_names(
            &[
                "lowercase",
                "strip_titles",
                "strip_punctuation",
                "collapse_whitespace",
                "old_spelling",
                "canonical_names",
            ],
            &BTreeMap::new(),
        )
        .unwrap()
    }

    #[test]
    fn names_normalise() {
        let p = name_pipe();
        assert_eq!(p.apply("Drs. H. Moh. Ali, S.Pd."), "muhammad ali");
        assert_eq!(p.apply("HJ. SITTI NURUL HIDAYAH"), "siti nur hidayah");
        assert_eq!(p.apply("M. Yusup"), "muhammad yusuf");
        assert_eq!(p.apply("Soekarno"), "sukarno");
        assert_eq!(p.apply("  Achmad   Djoko  "), "ahmad joko");
    }

    #[test]
    fn soundex_codes() {
        let mut v = Vec::new();
        soundex("robert", &mut v);
        assert_eq!(v, b"R163");
        v.clear();
        soundex("Ashcraft", &mut v);
        assert_eq!(v, b"A261");
        v.clear();
        soundex("tymczak", &mut v);
        assert_eq!(v, b"T522");
    }

    #[test]
    fn dates_parse() {
        let d = Ymd::new(1990, 5, 17).unwrap();
        for s in [
            "1990-05-17",
            "17/05/1990",
            "17-05-1990",
            "19900517",
            "17051990",
            "1990/5/17",
        ] {
            assert_eq!(parse_date_auto(s), Some(d), "{s}");
        }
        assert_eq!(parse_date_auto("1990-02-30"), None);
        assert_eq!(parse_date_auto("abc"), None);
        assert_eq!(parse_date_format("05/17/1990", "%m/%d/%Y"), Some(d));
    }

    #[test]
    fn phone() {
        let p = Pipeline::from_names(&["phone_id"], &BTreeMap::new()).unwrap();
        assert_eq!(p.apply("+62 812-3456-789"), "08123456789");
        assert_eq!(p.apply("0812 3456 789"), "08123456789");
        assert_eq!(p.apply("8123456789"), "08123456789");
    }
}
