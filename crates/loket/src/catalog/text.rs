//! Indonesian text for search: tokens, a dictionary-checked affix stripper, everyday and
//! regional synonyms, and one-typo matching.
//!
//! The stemmer follows Nazief–Adriani / Enhanced Confix Stripping: strip particles (-lah, -kah,
//! -pun), possessives (-ku, -mu, -nya), a derivational suffix (-kan, -an, -i) and up to three
//! prefixes (di-, ke-, se-, ber-, ter-, per-, me(N)-, pe(N)- with their sound changes:
//! menyapu → sapu, memasak → pasak|masak, pengasuh → asuh), and accept a candidate only when it is
//! a known root. Checking against roots is what keeps "pelatihan" → "latih" from also turning
//! "perawat" into "awat". A word with no known root stays as written, so an unknown word (a
//! brand, an English term) is never mangled. Colloquial and regional forms the standard rules
//! miss (ngelas, nyablon, masakin) get a second, informal pass.
//!
//! The root list (`roots.txt`) is built from the catalogue's own vocabulary: the roots of the
//! words that occur in the demo titles and descriptions and in officers' queries. A catalogue
//! import with new words still works: unknown words are indexed as written, and a test reports
//! which catalogue words have neither a root nor an entry.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

static ROOTS_TEXT: &str = include_str!("roots.txt");

fn roots() -> &'static HashSet<&'static str> {
    static ROOTS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        ROOTS_TEXT
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter(|l| !l.is_empty())
            .flat_map(|l| l.split_whitespace())
            .collect()
    })
}

pub fn is_root(word: &str) -> bool {
    roots().contains(word)
}

/// Words that carry no topic. Generic course words ("pelatihan", "kursus") are *not* here: BM25
/// gives them little weight because they are everywhere, and "kelas" can still be asked for.
const STOPWORDS: &[&str] = &[
    "dan",
    "atau",
    "yang",
    "di",
    "ke",
    "dari",
    "untuk",
    "bagi",
    "dengan",
    "pada",
    "dalam",
    "ini",
    "itu",
    "juga",
    "agar",
    "supaya",
    "serta",
    "secara",
    "para",
    "sang",
    "si",
    "the",
    "and",
    "of",
    "for",
    "to",
    "in",
    "a",
    "an",
    "saya",
    "aku",
    "mau",
    "ingin",
    "pengen",
    "pingin",
    "pgn",
    "bisa",
    "yg",
    "dgn",
    "utk",
    "sdh",
    "sudah",
    "akan",
    "ada",
    "adalah",
    "tentang",
    "cara",
    "gimana",
    "bagaimana",
    "apa",
    "jadi",
    "menjadi",
    "buat",
    "kak",
    "bu",
    "pak",
    "mbak",
    "mas",
    "nya",
    "lah",
];

pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

/// Lower-case words of letters and digits; hyphens split ("masak-masak" → masak, masak).
pub fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
}

fn strip_suffix_any<'a>(word: &'a str, suffixes: &[&str]) -> Option<&'a str> {
    suffixes
        .iter()
        .find_map(|s| word.strip_suffix(s))
        .filter(|rest| rest.chars().count() >= 3)
}

/// Candidate words after removing one prefix, with the sound changes of me(N)-/pe(N)-.
fn one_prefix(word: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |s: String| {
        if s.chars().count() >= 2 {
            out.push(s);
        }
    };
    let vowel_start = |s: &str| s.starts_with(['a', 'e', 'i', 'o', 'u']);
    for (prefix, nasal) in [("me", true), ("pe", true)] {
        let Some(rest) = word.strip_prefix(prefix) else {
            continue;
        };
        if let Some(r) = rest.strip_prefix("nge") {
            push(r.to_string()); // mengecat → cat
        }
        if let Some(r) = rest.strip_prefix("ng") {
            push(r.to_string()); // mengajar → ajar
            if vowel_start(r) {
                push(format!("k{r}")); // mengirim → kirim
            }
        }
        if let Some(r) = rest.strip_prefix("ny") {
            push(format!("s{r}")); // menyapu → sapu
        }
        if let Some(r) = rest.strip_prefix('m') {
            push(r.to_string()); // membuat → buat
            push(format!("p{r}")); // memasar → pasar, pemrograman → program
        }
        if let Some(r) = rest.strip_prefix('n') {
            push(r.to_string()); // menjahit → jahit
            if vowel_start(r) {
                push(format!("t{r}")); // menulis → tulis
            }
        }
        if nasal && prefix == "pe" {
            if let Some(r) = rest.strip_prefix('r') {
                push(r.to_string()); // perikanan → ikan
            }
            if let Some(r) = rest.strip_prefix('l') {
                push(r.to_string()); // pelajar → ajar
            }
        }
        push(rest.to_string()); // melatih → latih, perawat → rawat
    }
    for prefix in ["di", "ke", "se", "ter", "ber", "be", "te"] {
        if let Some(rest) = word.strip_prefix(prefix) {
            push(rest.to_string());
        }
    }
    if let Some(rest) = word.strip_prefix("bel") {
        push(rest.to_string()); // belajar → ajar
    }
    out
}

/// Roots reachable by removing up to three prefixes, nearest first.
fn strip_prefixes(word: &str) -> Option<String> {
    let mut layer = vec![word.to_string()];
    for _ in 0..3 {
        let mut next = Vec::new();
        for w in &layer {
            for candidate in one_prefix(w) {
                if is_root(&candidate) {
                    return Some(candidate);
                }
                next.push(candidate);
            }
        }
        if next.is_empty() {
            break;
        }
        layer = next;
    }
    None
}

/// The formal Nazief–Adriani pass.
fn formal_stem(word: &str) -> Option<String> {
    if is_root(word) {
        return Some(word.to_string());
    }
    let mut bases = vec![word];
    let no_particle = strip_suffix_any(word, &["lah", "kah", "tah", "pun"]);
    let after_particle = no_particle.unwrap_or(word);
    if no_particle.is_some() {
        bases.push(after_particle);
    }
    let after_possessive = strip_suffix_any(after_particle, &["nya", "ku", "mu"]);
    if let Some(w) = after_possessive {
        bases.push(w);
    }
    for base in bases {
        if is_root(base) {
            return Some(base.to_string());
        }
        let mut forms = vec![base];
        for suffix in ["kan", "an", "i", "wan", "wati"] {
            if let Some(rest) = strip_suffix_any(base, &[suffix]) {
                forms.push(rest);
            }
        }
        for form in &forms {
            if is_root(form) {
                return Some(form.to_string());
            }
        }
        for form in &forms {
            if let Some(root) = strip_prefixes(form) {
                return Some(root);
            }
        }
    }
    None
}

/// Jakarta/Javanese/Sundanese everyday forms: ng-/nge-/ny-/m-/n- prefixes and -in suffix.
fn informal_stem(word: &str) -> Option<String> {
    let bases: Vec<&str> = std::iter::once(word)
        .chain(strip_suffix_any(word, &["in", "an"]))
        .collect();
    for base in bases {
        if is_root(base) {
            return Some(base.to_string());
        }
        let mut candidates = Vec::new();
        if let Some(r) = base.strip_prefix("nge") {
            candidates.push(r.to_string());
        }
        if let Some(r) = base.strip_prefix("ng") {
            candidates.push(r.to_string());
            candidates.push(format!("k{r}"));
        }
        if let Some(r) = base.strip_prefix("ny") {
            candidates.push(format!("s{r}"));
            candidates.push(format!("c{r}"));
        }
        if let Some(r) = base.strip_prefix('m') {
            candidates.push(r.to_string());
            candidates.push(format!("p{r}"));
        }
        if let Some(r) = base.strip_prefix('n') {
            candidates.push(r.to_string());
            candidates.push(format!("t{r}"));
        }
        if let Some(c) = candidates.into_iter().find(|c| is_root(c)) {
            return Some(c);
        }
        if let Some(root) = formal_stem(base) {
            return Some(root);
        }
    }
    None
}

/// The root of a lower-case word, or the word itself when no root is known.
pub fn stem(word: &str) -> String {
    if word.chars().count() <= 3 || word.bytes().any(|b| b.is_ascii_digit()) {
        return word.to_string();
    }
    formal_stem(word)
        .or_else(|| informal_stem(word))
        .unwrap_or_else(|| word.to_string())
}

/// Everyday, regional and borrowed words an officer types, with the catalogue words they mean
/// (as stems). Applied to queries only; the catalogue is indexed as written.
const SYNONYMS: &[(&str, &[&str])] = &[
    ("momong", &["asuh", "anak"]),
    ("ngemong", &["asuh", "anak"]),
    ("emong", &["asuh", "anak"]),
    ("babysitter", &["asuh", "anak", "baby", "sitter"]),
    ("babysiter", &["asuh", "anak", "baby", "sitter"]),
    ("nanny", &["asuh", "anak"]),
    ("balita", &["bayi", "anak"]),
    ("jompo", &["lansia"]),
    ("manula", &["lansia"]),
    ("lansia", &["lansia", "caregiver"]),
    ("caregiver", &["caregiver", "lansia"]),
    ("kaigo", &["caregiver", "lansia", "jepang"]),
    ("sepuh", &["lansia"]),
    ("cs", &["customer", "service", "langgan"]),
    ("olshop", &["toko", "online", "jual"]),
    ("onlen", &["online"]),
    ("daring", &["online", "daring"]),
    ("dodolan", &["jual"]),
    ("bakulan", &["jual"]),
    ("dagang", &["jual", "dagang"]),
    ("jualan", &["jual"]),
    ("warung", &["usaha", "warung"]),
    ("nyetir", &["kemudi", "sopir"]),
    ("setir", &["kemudi", "sopir"]),
    ("supir", &["sopir", "kemudi"]),
    ("driver", &["sopir", "kemudi"]),
    ("ojol", &["ojek", "online"]),
    ("motor", &["motor"]),
    ("bengkel", &["bengkel", "montir", "servis"]),
    ("mekanik", &["montir", "mekanik"]),
    ("montir", &["montir", "mekanik"]),
    ("barber", &["pangkas", "barber", "barbershop"]),
    ("cukur", &["pangkas", "cukur"]),
    ("makeup", &["rias", "make", "up"]),
    ("dandan", &["rias"]),
    ("mua", &["rias"]),
    ("masak", &["masak", "boga"]),
    ("boga", &["boga", "masak"]),
    ("katering", &["katering", "boga"]),
    ("catering", &["katering", "boga"]),
    ("bikin", &["buat"]),
    ("kue", &["kue", "baking"]),
    ("baking", &["kue", "baking", "roti"]),
    ("bakery", &["roti", "kue"]),
    ("ngopi", &["kopi"]),
    ("kopi", &["kopi", "barista"]),
    ("lele", &["lele", "ikan"]),
    ("tambak", &["udang", "ikan", "kolam"]),
    ("empang", &["kolam", "ikan"]),
    ("nandur", &["tanam", "tani"]),
    ("tandur", &["tanam", "tani"]),
    ("kebun", &["kebun", "tani"]),
    ("cabe", &["cabai"]),
    ("sawah", &["tani"]),
    ("ingris", &["inggris"]),
    ("english", &["inggris", "english"]),
    ("japan", &["jepang"]),
    ("nihongo", &["jepang"]),
    ("hanguk", &["korea"]),
    ("eps", &["eps", "korea"]),
    ("china", &["mandarin"]),
    ("cina", &["mandarin"]),
    ("tionghoa", &["mandarin"]),
    ("hp", &["ponsel", "hp", "handphone"]),
    ("handphone", &["ponsel", "hp", "handphone"]),
    ("smartphone", &["ponsel", "smartphone"]),
    ("ponsel", &["ponsel", "hp"]),
    ("compi", &["komputer"]),
    ("laptop", &["komputer"]),
    ("excel", &["excel"]),
    ("admin", &["admin", "administrasi"]),
    ("ms", &["microsoft"]),
    ("pembukuan", &["buku", "akuntansi"]),
    ("keuangan", &["uang", "akuntansi"]),
    ("duit", &["uang"]),
    ("pinjol", &["pinjam", "online"]),
    ("modal", &["modal", "usaha"]),
    ("bisnis", &["usaha", "bisnis"]),
    ("usaha", &["usaha", "bisnis"]),
    ("umkm", &["umkm", "usaha"]),
    ("wirausaha", &["wirausaha", "usaha"]),
    ("entrepreneur", &["wirausaha", "usaha"]),
    ("marketing", &["pasar", "marketing"]),
    ("promosi", &["promosi", "pasar"]),
    ("iklan", &["iklan", "ads"]),
    ("ads", &["iklan", "ads"]),
    ("sosmed", &["media", "sosial"]),
    ("medsos", &["media", "sosial"]),
    ("ig", &["instagram"]),
    ("fb", &["facebook"]),
    ("wa", &["whatsapp"]),
    ("konten", &["konten"]),
    ("ngonten", &["konten"]),
    ("foto", &["foto", "fotografi"]),
    ("fotografi", &["foto", "fotografi"]),
    ("video", &["video"]),
    ("sablon", &["sablon"]),
    ("kaos", &["kaos"]),
    ("kaus", &["kaos"]),
    ("konveksi", &["konveksi", "jahit"]),
    ("permak", &["permak", "jahit"]),
    ("vermak", &["permak", "jahit"]),
    ("obras", &["jahit"]),
    ("tukang", &["tukang"]),
    ("bangunan", &["bangun"]),
    ("ngecor", &["beton", "cor"]),
    ("keramik", &["keramik"]),
    ("ac", &["ac"]),
    ("kulkas", &["kulkas"]),
    ("pijet", &["pijat"]),
    ("urut", &["pijat"]),
    ("spa", &["spa", "pijat"]),
    ("hotel", &["hotel"]),
    ("resto", &["restoran"]),
    ("waiter", &["pramusaji", "waiter"]),
    ("pelayan", &["pramusaji", "layan"]),
    ("resepsionis", &["resepsionis", "front", "office"]),
    ("kebersihan", &["bersih", "housekeeping"]),
    ("bersih", &["bersih", "housekeeping"]),
    ("housekeeping", &["housekeeping", "bersih"]),
    ("laundry", &["laundry", "cuci"]),
    ("londri", &["laundry", "cuci"]),
    ("binatu", &["laundry", "binatu"]),
    ("k3", &["k3", "selamat"]),
    ("p3k", &["p3k", "tolong"]),
    ("forklift", &["forklift"]),
    ("pabrik", &["pabrik", "produksi"]),
    ("operator", &["operator"]),
    ("cv", &["cv", "lamar"]),
    ("interview", &["wawancara"]),
    ("ngomong", &["bicara"]),
    ("pede", &["percaya", "diri"]),
    ("website", &["website", "web"]),
    ("web", &["web", "website"]),
    ("coding", &["program"]),
    ("ngoding", &["program"]),
    ("desain", &["desain"]),
    ("design", &["desain"]),
    ("logo", &["logo"]),
    ("batik", &["batik"]),
    ("mbatik", &["batik"]),
    ("anyaman", &["anyam"]),
    ("kerajinan", &["rajin", "kerajinan"]),
    ("ekspor", &["ekspor"]),
    ("export", &["ekspor"]),
    ("ternak", &["ternak"]),
    ("ayam", &["ayam"]),
    ("kambing", &["kambing"]),
    ("hidroponik", &["hidroponik"]),
    ("organik", &["organik"]),
];

/// What the query word also means, as stems (the word's own stem is not included).
pub fn synonyms(word: &str) -> &'static [&'static str] {
    SYNONYMS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, s)| *s)
        .unwrap_or(&[])
}

/// Every (word, stems) pair of the synonym table, for matching a misspelt synonym.
pub fn synonym_words() -> impl Iterator<Item = (&'static str, &'static [&'static str])> {
    SYNONYMS.iter().copied()
}

/// True when `a` and `b` differ by at most one insertion, deletion, substitution or swap of
/// neighbours (optimal string alignment distance ≤ 1).
pub fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    let suffix = ra
        .iter()
        .rev()
        .zip(rb.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&ra[..ra.len() - suffix], &rb[..rb.len() - suffix]);
    match (ma.len(), mb.len()) {
        (0 | 1, 0 | 1) => true,
        (2, 2) => ma[0] == mb[1] && ma[1] == mb[0],
        _ => false,
    }
}

/// The word with each one character left out: the keys of a one-typo lookup table (a word and
/// its misspelling share a key when they are one edit apart — the SymSpell idea).
pub fn deletions(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    (0..chars.len())
        .map(|i| {
            chars
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, c)| *c)
                .collect()
        })
        .collect()
}

/// A table from deletion keys to the words that produce them.
#[derive(Default)]
pub struct TypoTable {
    keys: HashMap<String, Vec<u32>>,
}

impl TypoTable {
    pub fn insert(&mut self, word: &str, id: u32) {
        self.keys.entry(word.to_string()).or_default().push(id);
        for key in deletions(word) {
            self.keys.entry(key).or_default().push(id);
        }
    }

    /// Ids of the words possibly one edit from `word` (verify with [`within_one_edit`]).
    pub fn candidates(&self, word: &str) -> Vec<u32> {
        let mut out: Vec<u32> = std::iter::once(word.to_string())
            .chain(deletions(word))
            .filter_map(|k| self.keys.get(&k))
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affixed_forms_share_their_root() {
        for (word, root) in [
            ("menjahit", "jahit"),
            ("penjahit", "jahit"),
            ("jahitan", "jahit"),
            ("pelatihan", "latih"),
            ("berlatih", "latih"),
            ("latihan", "latih"),
            ("pengasuh", "asuh"),
            ("mengasuh", "asuh"),
            ("pengasuhan", "asuh"),
            ("perawat", "rawat"),
            ("perawatan", "rawat"),
            ("merawat", "rawat"),
            ("memasak", "masak"),
            ("masakan", "masak"),
            ("pemasaran", "pasar"),
            ("penjualan", "jual"),
            ("berjualan", "jual"),
            ("jualan", "jual"),
            ("pembukuan", "buku"),
            ("keuangan", "uang"),
            ("kewirausahaan", "wirausaha"),
            ("wirausahawan", "wirausaha"),
            ("pengemudi", "kemudi"),
            ("mengemudi", "kemudi"),
            ("perikanan", "ikan"),
            ("pertanian", "tani"),
            ("peternakan", "ternak"),
            ("beternak", "ternak"),
            ("pengelasan", "las"),
            ("penyablonan", "sablon"),
            ("kecantikan", "cantik"),
            ("pelayanan", "layan"),
            ("pelanggan", "langgan"),
            ("perhotelan", "hotel"),
            ("belajar", "ajar"),
            ("pemrograman", "program"),
        ] {
            assert_eq!(stem(word), root, "{word}");
        }
    }

    #[test]
    fn everyday_and_regional_forms_are_stemmed() {
        for (word, root) in [
            ("ngelas", "las"),
            ("nyablon", "sablon"),
            ("nyetir", "setir"),
            ("ngasuh", "asuh"),
            ("masakin", "masak"),
            ("ngajar", "ajar"),
        ] {
            assert_eq!(stem(word), root, "{word}");
        }
    }

    #[test]
    fn unknown_words_and_roots_stay_as_written() {
        assert_eq!(stem("barista"), "barista");
        assert_eq!(stem("marketing"), "marketing");
        assert_eq!(stem("rawat"), "rawat");
        assert_eq!(stem("lansia"), "lansia");
        assert_eq!(stem("dasar"), "dasar");
    }

    #[test]
    fn one_edit_is_recognised_and_two_are_not() {
        assert!(within_one_edit("menjahit", "menjhait"));
        assert!(within_one_edit("barista", "barísta"));
        assert!(within_one_edit("lansia", "lansa"));
        assert!(within_one_edit("kue", "kuew"));
        assert!(within_one_edit("inggris", "ingris"));
        assert!(!within_one_edit("inggris", "ingrs"));
        assert!(!within_one_edit("jahit", "jait2"));
    }

    #[test]
    fn the_typo_table_finds_neighbours() {
        let mut table = TypoTable::default();
        table.insert("menjahit", 1);
        table.insert("memasak", 2);
        assert_eq!(table.candidates("menjhait"), [1]);
        assert_eq!(table.candidates("menjait"), [1]);
        assert_eq!(table.candidates("memasakk"), [2]);
    }
}
