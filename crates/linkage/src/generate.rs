//! Deterministic generator of realistic Indonesian test lists with known ground truth.
//!
//! The left list holds `left_rows` people (think: Kartu Prakerja recipients). The right list
//! (think: BP2MI returned migrant workers) holds `right_rows` rows, of which a share `overlap` are
//! people from the left list re-recorded with realistic errors (NIK typos, name variants, titles,
//! typos, abbreviations, day/month swaps, ±1 day, moves, missing values); the rest are new people.
//! Every row carries `truth_id`. Person `p` and right row `j` are generated from independent
//! ChaCha8 streams, so lists of any size are produced in parallel blocks and streamed to a
//! writer in order, with constant memory.

use std::io::Write;

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// Probabilities of each kind of error in a re-recorded (overlapping or duplicate) row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ErrorRates {
    /// One NIK digit replaced.
    pub nik_substitution: f64,
    /// Two adjacent NIK digits swapped.
    pub nik_transposition: f64,
    /// NIK missing.
    pub nik_missing: f64,
    /// A name token written as a common variant (Muhammad → Moh., Siti → Sitti, old spelling).
    pub name_variant: f64,
    /// One character typo in the name.
    pub name_typo: f64,
    /// An honorific or academic title added.
    pub name_title: f64,
    /// Last name token abbreviated to its initial.
    pub name_abbreviation: f64,
    /// A name token dropped.
    pub name_drop_token: f64,
    /// Day and month swapped (when the day is ≤ 12).
    pub date_swap: f64,
    /// Birth date one day off.
    pub date_off_by_one: f64,
    /// Birth date missing.
    pub date_missing: f64,
    /// Moved to another regency.
    pub moved: f64,
    /// Different phone number.
    pub phone_changed: f64,
    /// Phone missing.
    pub phone_missing: f64,
}

impl Default for ErrorRates {
    fn default() -> Self {
        ErrorRates {
            nik_substitution: 0.06,
            nik_transposition: 0.04,
            nik_missing: 0.03,
            name_variant: 0.25,
            name_typo: 0.12,
            name_title: 0.10,
            name_abbreviation: 0.05,
            name_drop_token: 0.04,
            date_swap: 0.05,
            date_off_by_one: 0.05,
            date_missing: 0.02,
            moved: 0.12,
            phone_changed: 0.35,
            phone_missing: 0.25,
        }
    }
}

/// Generator settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct GeneratorConfig {
    /// Seed: the same seed gives byte-identical output.
    pub seed: u64,
    /// Rows of the left list (people `0..left_rows`).
    pub left_rows: usize,
    /// Rows of the right list.
    pub right_rows: usize,
    /// Share of right rows that are people of the left list (capped by `left_rows`).
    pub overlap: f64,
    /// Error probabilities for re-recorded rows.
    pub errors: ErrorRates,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            seed: 1,
            left_rows: 1000,
            right_rows: 10_000,
            overlap: 0.08,
            errors: ErrorRates::default(),
        }
    }
}

/// The CSV header written by the generator (matches `examples/indonesia.toml`).
pub const GENERATED_HEADER: [&str; 8] = [
    "id",
    "truth_id",
    "nik",
    "nama",
    "jenis_kelamin",
    "tanggal_lahir",
    "kabupaten",
    "telepon",
];

/// Regencies: BPS code, name, number of districts (kecamatan), province weight group.
const REGIONS: &[(u16, &str, u8)] = &[
    (3201, "Kab. Bogor", 40),
    (3202, "Kab. Sukabumi", 47),
    (3203, "Kab. Cianjur", 32),
    (3204, "Kab. Bandung", 31),
    (3205, "Kab. Garut", 42),
    (3206, "Kab. Tasikmalaya", 39),
    (3207, "Kab. Ciamis", 27),
    (3208, "Kab. Kuningan", 32),
    (3209, "Kab. Cirebon", 40),
    (3210, "Kab. Majalengka", 26),
    (3211, "Kab. Sumedang", 26),
    (3212, "Kab. Indramayu", 31),
    (3213, "Kab. Subang", 30),
    (3214, "Kab. Purwakarta", 17),
    (3215, "Kab. Karawang", 30),
    (3216, "Kab. Bekasi", 23),
    (3217, "Kab. Bandung Barat", 16),
    (3273, "Kota Bandung", 30),
    (3275, "Kota Bekasi", 12),
    (3301, "Kab. Cilacap", 24),
    (3302, "Kab. Banyumas", 27),
    (3303, "Kab. Purbalingga", 18),
    (3304, "Kab. Banjarnegara", 20),
    (3305, "Kab. Kebumen", 26),
    (3310, "Kab. Klaten", 26),
    (3315, "Kab. Grobogan", 19),
    (3318, "Kab. Pati", 21),
    (3319, "Kab. Kudus", 9),
    (3320, "Kab. Jepara", 16),
    (3324, "Kab. Kendal", 20),
    (3328, "Kab. Tegal", 18),
    (3329, "Kab. Brebes", 17),
    (3374, "Kota Semarang", 16),
    (3501, "Kab. Pacitan", 12),
    (3502, "Kab. Ponorogo", 21),
    (3503, "Kab. Trenggalek", 14),
    (3504, "Kab. Tulungagung", 19),
    (3505, "Kab. Blitar", 22),
    (3506, "Kab. Kediri", 26),
    (3507, "Kab. Malang", 33),
    (3508, "Kab. Lumajang", 21),
    (3509, "Kab. Jember", 31),
    (3510, "Kab. Banyuwangi", 25),
    (3513, "Kab. Probolinggo", 24),
    (3522, "Kab. Bojonegoro", 28),
    (3524, "Kab. Lamongan", 27),
    (3526, "Kab. Bangkalan", 18),
    (3527, "Kab. Sampang", 14),
    (3528, "Kab. Pamekasan", 13),
    (3529, "Kab. Sumenep", 27),
    (3578, "Kota Surabaya", 31),
    (5201, "Kab. Lombok Barat", 10),
    (5202, "Kab. Lombok Tengah", 12),
    (5203, "Kab. Lombok Timur", 21),
    (5204, "Kab. Sumbawa", 24),
    (5205, "Kab. Dompu", 8),
    (5206, "Kab. Bima", 18),
    (5208, "Kab. Lombok Utara", 5),
    (5271, "Kota Mataram", 6),
    (5301, "Kab. Sumba Barat", 6),
    (5302, "Kab. Sumba Timur", 22),
    (5303, "Kab. Kupang", 24),
    (5304, "Kab. Timor Tengah Selatan", 32),
    (5305, "Kab. Timor Tengah Utara", 24),
    (5306, "Kab. Belu", 12),
    (5307, "Kab. Alor", 17),
    (5309, "Kab. Flores Timur", 19),
    (5310, "Kab. Sikka", 21),
    (5313, "Kab. Manggarai", 12),
    (5371, "Kota Kupang", 6),
    (1801, "Kab. Lampung Barat", 15),
    (1802, "Kab. Tanggamus", 20),
    (1803, "Kab. Lampung Selatan", 17),
    (1804, "Kab. Lampung Timur", 24),
    (1805, "Kab. Lampung Tengah", 28),
    (1806, "Kab. Lampung Utara", 23),
    (1871, "Kota Bandar Lampung", 20),
    (5101, "Kab. Jembrana", 5),
    (5102, "Kab. Tabanan", 10),
    (5103, "Kab. Badung", 6),
    (5104, "Kab. Gianyar", 7),
    (5105, "Kab. Klungkung", 4),
    (5106, "Kab. Bangli", 4),
    (5107, "Kab. Karangasem", 8),
    (5108, "Kab. Buleleng", 9),
    (5171, "Kota Denpasar", 4),
    (1207, "Kab. Deli Serdang", 22),
    (1271, "Kota Medan", 21),
];

/// Province weights (share of migrant workers), by the first two code digits.
const PROVINCE_WEIGHTS: &[(u16, u32)] = &[
    (35, 28),
    (33, 22),
    (32, 22),
    (52, 12),
    (53, 5),
    (18, 5),
    (51, 3),
    (12, 3),
];

const MALE: &[&str] = &[
    "Muhammad",
    "Ahmad",
    "Abdul",
    "Agus",
    "Budi",
    "Eko",
    "Joko",
    "Dedi",
    "Andi",
    "Rudi",
    "Hendra",
    "Wahyu",
    "Bambang",
    "Slamet",
    "Sugeng",
    "Heru",
    "Adi",
    "Rizki",
    "Fajar",
    "Dimas",
    "Yusuf",
    "Ilham",
    "Arif",
    "Hadi",
    "Teguh",
    "Iwan",
    "Dwi",
    "Tri",
    "Irfan",
    "Fauzi",
    "Hasan",
    "Imam",
    "Ridwan",
    "Nanang",
    "Wawan",
    "Dani",
    "Asep",
    "Ujang",
    "Dadang",
    "Cecep",
    "Yanto",
    "Sutrisno",
    "Supriyadi",
    "Sugiyono",
    "Suparman",
    "Sukardi",
    "Mulyadi",
    "Rahmat",
    "Saiful",
    "Zainal",
    "Taufik",
    "Syamsul",
    "Samsudin",
    "Kusnadi",
    "Nurhadi",
    "Anwar",
    "Ali",
    "Umar",
    "Usman",
    "Rohman",
    "Ridho",
    "Bayu",
    "Galih",
    "Guntur",
    "Aris",
    "Yogi",
    "Ade",
    "Edi",
    "Hari",
    "Indra",
    "Jaka",
    "Kurnia",
    "Lukman",
    "Misbah",
    "Nasrul",
    "Oki",
    "Pandu",
    "Rafi",
    "Sandi",
    "Toni",
    "Wahid",
    "Yudi",
    "Zulkifli",
    "Sulaiman",
    "Abdurrahman",
    "Sukarno",
    "Junaedi",
    "Mahfud",
    "Khoirul",
    "Nur",
    "Syaiful",
    "Hamdan",
    "Sodikin",
    "Tarmizi",
    "Supardi",
    "Warsito",
];

const FEMALE: &[&str] = &[
    "Siti",
    "Sri",
    "Dewi",
    "Nur",
    "Rina",
    "Wati",
    "Ani",
    "Yuni",
    "Ratna",
    "Endang",
    "Sari",
    "Fitri",
    "Indah",
    "Putri",
    "Ayu",
    "Nurul",
    "Dian",
    "Eka",
    "Ika",
    "Mega",
    "Novi",
    "Wulan",
    "Rahma",
    "Aisyah",
    "Fatimah",
    "Khadijah",
    "Suryani",
    "Rini",
    "Tuti",
    "Yanti",
    "Lina",
    "Maria",
    "Agustina",
    "Susi",
    "Neneng",
    "Euis",
    "Iis",
    "Lilis",
    "Atik",
    "Umi",
    "Mariam",
    "Nining",
    "Nunung",
    "Sumiati",
    "Suparti",
    "Sulastri",
    "Sukaesih",
    "Rohmah",
    "Lailatul",
    "Nurhayati",
    "Mulyani",
    "Kartini",
    "Tini",
    "Winarti",
    "Siska",
    "Anisa",
    "Dinda",
    "Laras",
    "Yulia",
    "Erna",
    "Heni",
    "Ida",
    "Juju",
    "Kokom",
    "Lia",
    "Mimin",
    "Nia",
    "Oom",
    "Popon",
    "Rika",
    "Santi",
    "Tati",
    "Uum",
    "Vina",
    "Wiwin",
    "Yeni",
    "Zahra",
    "Sumarni",
    "Karsih",
    "Darsih",
    "Tarsini",
    "Warsini",
];

const SECOND_MALE: &[&str] = &[
    "Santoso",
    "Wijaya",
    "Hidayat",
    "Saputra",
    "Setiawan",
    "Susanto",
    "Pratama",
    "Kurniawan",
    "Wibowo",
    "Nugroho",
    "Purnomo",
    "Hartono",
    "Gunawan",
    "Hakim",
    "Rahman",
    "Firmansyah",
    "Ramadhan",
    "Syahputra",
    "Maulana",
    "Hamid",
    "Abdullah",
    "Ismail",
    "Salim",
    "Yahya",
    "Sudirman",
    "Kusuma",
    "Permana",
    "Prasetyo",
    "Utomo",
    "Suryadi",
    "Sanjaya",
    "Setiadi",
    "Hermawan",
    "Fauzan",
    "Hasanudin",
    "Mukhlis",
    "Rosyid",
    "Effendi",
    "Iskandar",
    "Munandar",
    "Sobari",
    "Sholeh",
    "Mahmud",
    "Sutanto",
    "Wahyudi",
    "Yulianto",
    "Riyadi",
    "Purwanto",
    "Suharto",
    "Suryana",
    "Ashari",
    "Fathoni",
    "Arifin",
    "Syahrial",
    "Zulfikar",
    "Hafiz",
];

const SECOND_FEMALE: &[&str] = &[
    "Lestari",
    "Rahayu",
    "Handayani",
    "Hasanah",
    "Hidayah",
    "Anggraini",
    "Fitriani",
    "Wulandari",
    "Safitri",
    "Yulianti",
    "Puspita",
    "Purwanti",
    "Susanti",
    "Kurniasih",
    "Maharani",
    "Permatasari",
    "Rahmawati",
    "Setyaningsih",
    "Nuraini",
    "Sulistyowati",
    "Ningsih",
    "Astuti",
    "Utami",
    "Pertiwi",
    "Oktaviani",
    "Marlina",
    "Novitasari",
    "Kusumawati",
    "Fauziah",
    "Aminah",
    "Zubaidah",
    "Maesaroh",
    "Mardiyah",
    "Khasanah",
    "Munawaroh",
    "Rohimah",
    "Sholihah",
];

const BALI_PREFIX_M: &[&str] = &[
    "I Wayan", "I Made", "I Nyoman", "I Ketut", "I Putu", "I Kadek", "I Komang", "I Gede",
];
const BALI_PREFIX_F: &[&str] = &[
    "Ni Wayan",
    "Ni Made",
    "Ni Luh",
    "Ni Nyoman",
    "Ni Ketut",
    "Ni Putu",
    "Ni Kadek",
    "Ni Komang",
];
const BALI_NAMES: &[&str] = &[
    "Sudarsana",
    "Suardana",
    "Artawan",
    "Wirawan",
    "Sukadana",
    "Mahendra",
    "Astawa",
    "Budiarta",
    "Sutama",
    "Ariani",
    "Sriasih",
    "Suartini",
    "Widiastuti",
    "Kartika",
    "Sukerti",
    "Darmayanti",
];
const NTT_FIRST_M: &[&str] = &[
    "Yohanes",
    "Fransiskus",
    "Markus",
    "Stefanus",
    "Yosef",
    "Petrus",
    "Paulus",
    "Agustinus",
    "Dominikus",
    "Yakobus",
    "Aloysius",
    "Benediktus",
];
const NTT_FIRST_F: &[&str] = &[
    "Maria",
    "Yuliana",
    "Theresia",
    "Magdalena",
    "Elisabeth",
    "Margaretha",
    "Katarina",
    "Veronika",
    "Agnes",
    "Yasinta",
];
const NTT_SURNAMES: &[&str] = &[
    "Manafe",
    "Ndun",
    "Bria",
    "Tefa",
    "Fanggidae",
    "Lango",
    "Laka",
    "Seran",
    "Bere",
    "Nahak",
    "Lake",
    "Tanone",
    "Benu",
    "Kolo",
    "Tallo",
    "Nenobais",
];
const BATAK_SURNAMES: &[&str] = &[
    "Siregar",
    "Harahap",
    "Nasution",
    "Lubis",
    "Sinaga",
    "Simanjuntak",
    "Pardede",
    "Manurung",
    "Tambunan",
    "Ginting",
    "Sembiring",
    "Tarigan",
    "Hutapea",
    "Situmorang",
    "Panjaitan",
];

const OPERATORS: &[&str] = &[
    "11", "12", "13", "21", "22", "23", "51", "52", "53", "14", "15", "16", "55", "56", "57", "58",
    "17", "18", "19", "59", "77", "78", "31", "32", "33", "38", "95", "96", "97", "98", "99", "81",
    "82", "83", "87", "88", "89",
];

const TITLES_PRE_M: &[&str] = &["H.", "Drs.", "Ir.", "KH.", "Bpk."];
const TITLES_PRE_F: &[&str] = &["Hj.", "Dra.", "Ibu", "Ny."];
const TITLES_POST: &[&str] = &[
    ", S.Pd.", ", S.Kom", ", S.E.", ", A.Md.", ", S.H.", " S.Pd", ", S.Ag.",
];

/// Spelling variants as written by clerks (canonical lowercase → variants).
const VARIANTS: &[(&str, &[&str])] = &[
    (
        "muhammad",
        &[
            "Moh.",
            "Muh.",
            "M.",
            "Mochammad",
            "Mohamad",
            "Muhamad",
            "Mohammad",
            "Moch.",
        ],
    ),
    ("ahmad", &["Achmad", "Akhmad", "Ahmat"]),
    ("abdul", &["Abd.", "Abdoel"]),
    ("siti", &["Sitti", "St."]),
    ("nur", &["Nurul", "Noor"]),
    ("nurul", &["Nur"]),
    ("yusuf", &["Yusup", "Jusuf"]),
    ("saiful", &["Syaiful", "Syaeful"]),
    ("syaiful", &["Saiful"]),
    ("rahmat", &["Rachmat", "Rakhmat"]),
    ("zainal", &["Zaenal"]),
    ("sulaiman", &["Sulaeman"]),
    ("rizki", &["Rizky", "Rizqi"]),
    ("fauzi", &["Fauzy"]),
    ("joko", &["Djoko"]),
    ("sukarno", &["Soekarno"]),
    ("fatimah", &["Fatimmah"]),
    ("khadijah", &["Khodijah"]),
    ("aisyah", &["Aisah"]),
    ("wahyu", &["Wahju"]),
    ("yanti", &["Janti"]),
    ("hidayat", &["Hidajat"]),
];

/// A generated person (the true values).
#[derive(Debug, Clone)]
struct Person {
    nik: String,
    name: Vec<String>,
    female: bool,
    year: i32,
    month: u32,
    day: u32,
    region: usize,
    phone: String,
}

trait RngExt {
    fn below(&mut self, n: usize) -> usize;
    fn chance(&mut self, p: f64) -> bool;
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T;
}

impl RngExt for ChaCha8Rng {
    #[inline]
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
    #[inline]
    fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)) < p
    }
    #[inline]
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// An affine bijection of `0..n` (used to shuffle rows without storing a permutation).
#[derive(Debug, Clone, Copy)]
struct Affine {
    n: u64,
    a: u64,
    b: u64,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Affine {
    fn new(n: usize, rng: &mut ChaCha8Rng) -> Affine {
        let n = n.max(1) as u64;
        let mut a = (rng.next_u64() % n).max(1) | 1;
        while gcd(a, n) != 1 {
            a = (a + 2) % n.max(3);
            if a == 0 {
                a = 1;
            }
        }
        Affine {
            n,
            a,
            b: rng.next_u64() % n,
        }
    }
    fn map(&self, x: usize) -> usize {
        ((u128::from(self.a) * x as u128 + u128::from(self.b)) % u128::from(self.n)) as usize
    }
}

/// Deterministic generator of linked test lists.
#[derive(Debug, Clone)]
pub struct Generator {
    cfg: GeneratorConfig,
    base: ChaCha8Rng,
    region_cdf: Vec<u32>,
    overlap_count: usize,
    right_perm: Affine,
    person_perm: Affine,
}

const STREAM_PERSON: u64 = 0;
const STREAM_RIGHT: u64 = 1 << 40;
const STREAM_DEDUPE: u64 = 2 << 40;
const STREAM_NEW: u64 = 3 << 40;
const BLOCK: usize = 1 << 15;

impl Generator {
    /// Create a generator.
    pub fn new(cfg: GeneratorConfig) -> Generator {
        let base = ChaCha8Rng::seed_from_u64(cfg.seed);
        let mut setup = base.clone();
        setup.set_stream(u64::MAX);
        let mut region_cdf = Vec::with_capacity(REGIONS.len());
        let mut acc = 0u32;
        for &(code, _, _) in REGIONS {
            let prov = code / 100;
            let w = PROVINCE_WEIGHTS
                .iter()
                .find(|p| p.0 == prov)
                .map_or(1, |p| p.1);
            let n_in_prov = REGIONS.iter().filter(|r| r.0 / 100 == prov).count() as u32;
            // Weight per regency = province weight spread over its regencies (×1000 for integers).
            acc += (w * 1000 / n_in_prov.max(1)).max(1);
            region_cdf.push(acc);
        }
        let overlap_count = ((cfg.right_rows as f64 * cfg.overlap.clamp(0.0, 1.0)).round()
            as usize)
            .min(cfg.left_rows);
        let right_perm = Affine::new(cfg.right_rows, &mut setup);
        let person_perm = Affine::new(cfg.left_rows, &mut setup);
        Generator {
            cfg,
            base,
            region_cdf,
            overlap_count,
            right_perm,
            person_perm,
        }
    }

    /// The settings.
    pub fn config(&self) -> &GeneratorConfig {
        &self.cfg
    }

    /// Number of right rows that are people of the left list.
    pub fn overlap_count(&self) -> usize {
        self.overlap_count
    }

    fn rng(&self, stream: u64) -> ChaCha8Rng {
        let mut r = self.base.clone();
        r.set_stream(stream);
        r
    }

    fn pick_region(&self, rng: &mut ChaCha8Rng) -> usize {
        let total = self.region_cdf.last().copied().unwrap_or(1);
        let x = rng.below(total as usize) as u32;
        self.region_cdf
            .partition_point(|&c| c <= x)
            .min(REGIONS.len() - 1)
    }

    fn person(&self, p: u64) -> Person {
        let mut rng = self.rng(STREAM_PERSON + p);
        let female = rng.chance(0.55); // most migrant workers are women
        let region = self.pick_region(&mut rng);
        let (code, _, districts) = REGIONS[region];
        let district = 1 + rng.below(districts as usize);
        // Ages 18..55, mostly 20..40.
        let year = if rng.chance(0.75) {
            1985 + rng.below(18) as i32
        } else {
            1970 + rng.below(36) as i32
        };
        let month = 1 + rng.below(12) as u32;
        let day = 1 + rng.below(days_in_month(year, month) as usize) as u32;
        let serial = 1 + rng.below(999);
        let nik = format!(
            "{code:04}{district:02}{:02}{month:02}{:02}{serial:04}",
            day + if female { 40 } else { 0 },
            year.rem_euclid(100)
        );
        let name = self.name(&mut rng, female, code / 100);
        let phone = format!(
            "08{}{}",
            rng.pick(OPERATORS),
            (0..(7 + rng.below(2)))
                .map(|_| char::from(b'0' + rng.below(10) as u8))
                .collect::<String>()
        );
        Person {
            nik,
            name,
            female,
            year,
            month,
            day,
            region,
            phone,
        }
    }

    fn name(&self, rng: &mut ChaCha8Rng, female: bool, province: u16) -> Vec<String> {
        let mut toks: Vec<String> = Vec::with_capacity(4);
        let split = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        match province {
            51 if rng.chance(0.85) => {
                let pre = if female { BALI_PREFIX_F } else { BALI_PREFIX_M };
                let pre_name: &&str = rng.pick(pre);
                toks.extend(split(pre_name));
                toks.push(rng.pick(BALI_NAMES).to_string());
                if rng.chance(0.3) {
                    toks.push(rng.pick(BALI_NAMES).to_string());
                }
                return toks;
            }
            53 if rng.chance(0.7) => {
                let first = if female { NTT_FIRST_F } else { NTT_FIRST_M };
                toks.push(rng.pick(first).to_string());
                if rng.chance(0.3) {
                    toks.push(rng.pick(first).to_string());
                }
                toks.push(rng.pick(NTT_SURNAMES).to_string());
                return toks;
            }
            12 if rng.chance(0.6) => {
                let first = if female { FEMALE } else { MALE };
                toks.push(rng.pick(first).to_string());
                toks.push(rng.pick(BATAK_SURNAMES).to_string());
                return toks;
            }
            52 if rng.chance(0.15) => toks.push(if female { "Baiq" } else { "Lalu" }.to_string()),
            _ => {}
        }
        let (first, second) = if female {
            (FEMALE, SECOND_FEMALE)
        } else {
            (MALE, SECOND_MALE)
        };
        let shape = rng.below(100);
        toks.push(rng.pick(first).to_string());
        if shape < 12 {
            // mononym
        } else if shape < 65 {
            toks.push(rng.pick(second).to_string());
        } else if shape < 88 {
            toks.push(rng.pick(first).to_string());
            toks.push(rng.pick(second).to_string());
        } else {
            toks.push(rng.pick(first).to_string());
        }
        toks
    }

    /// A fresh person for right row `j` that is not in the left list.
    fn new_person(&self, j: u64) -> Person {
        self.person(STREAM_NEW + j)
    }

    fn left_row(&self, i: usize, rec: &mut Vec<String>) {
        let p = self.person(i as u64);
        let mut rng = self.rng(STREAM_RIGHT - 1 - i as u64);
        rec.clear();
        rec.push(format!("L{i}"));
        rec.push(format!("T{i}"));
        rec.push(p.nik.clone());
        rec.push(p.name.join(" "));
        rec.push(if p.female { "P" } else { "L" }.to_string());
        rec.push(format!("{:04}-{:02}-{:02}", p.year, p.month, p.day));
        rec.push(REGIONS[p.region].1.to_string());
        rec.push(if rng.chance(0.15) {
            String::new()
        } else {
            p.phone.clone()
        });
    }

    /// Right row `j`: (truth person id, row values).
    fn right_row(&self, j: usize, rec: &mut Vec<String>) {
        let k = self.right_perm.map(j);
        let mut rng = self.rng(STREAM_RIGHT + j as u64);
        let (truth, person, noisy) = if k < self.overlap_count {
            let p = self.person_perm.map(k);
            (p as u64, self.person(p as u64), true)
        } else {
            let id = self.cfg.left_rows as u64 + j as u64;
            (id, self.new_person(j as u64), false)
        };
        self.write_record(&format!("B{j}"), truth, &person, noisy, true, &mut rng, rec);
    }

    #[allow(clippy::too_many_arguments)]
    fn write_record(
        &self,
        id: &str,
        truth: u64,
        p: &Person,
        noisy: bool,
        right_style: bool,
        rng: &mut ChaCha8Rng,
        rec: &mut Vec<String>,
    ) {
        let e = &self.cfg.errors;
        let zero = ErrorRates {
            nik_substitution: 0.0,
            nik_transposition: 0.0,
            nik_missing: 0.0,
            name_variant: 0.0,
            name_typo: 0.0,
            name_title: 0.0,
            name_abbreviation: 0.0,
            name_drop_token: 0.0,
            date_swap: 0.0,
            date_off_by_one: 0.0,
            date_missing: 0.0,
            moved: 0.0,
            phone_changed: 0.0,
            phone_missing: 0.15,
        };
        let e = if noisy { e } else { &zero };
        // NIK
        let mut nik = p.nik.clone().into_bytes();
        let nik_missing = rng.chance(e.nik_missing);
        if rng.chance(e.nik_substitution) {
            let pos = rng.below(nik.len());
            let old = nik[pos];
            let mut d = b'0' + rng.below(9) as u8;
            if d >= old {
                d += 1;
            }
            nik[pos] = d.min(b'9');
        } else if rng.chance(e.nik_transposition) {
            let pos = rng.below(nik.len() - 1);
            nik.swap(pos, pos + 1);
        }
        let nik = if nik_missing {
            String::new()
        } else {
            String::from_utf8(nik).unwrap_or_default()
        };
        // Name
        let mut toks = p.name.clone();
        if rng.chance(e.name_variant) {
            let candidates: Vec<usize> = (0..toks.len())
                .filter(|&i| {
                    VARIANTS
                        .iter()
                        .any(|(c, _)| c.eq_ignore_ascii_case(&toks[i]))
                })
                .collect();
            if !candidates.is_empty() {
                let i = *rng.pick(&candidates);
                if let Some((_, vs)) = VARIANTS
                    .iter()
                    .find(|(c, _)| c.eq_ignore_ascii_case(&toks[i]))
                {
                    toks[i] = rng.pick(vs).to_string();
                }
            }
        }
        if toks.len() >= 3 && rng.chance(e.name_drop_token) {
            let i = 1 + rng.below(toks.len() - 1);
            toks.remove(i);
        }
        if toks.len() >= 2 && rng.chance(e.name_abbreviation) {
            if let Some(last) = toks.last_mut() {
                let initial: String = last.chars().take(1).collect();
                *last = format!("{initial}.");
            }
        }
        if rng.chance(e.name_typo) {
            let i = rng.below(toks.len());
            toks[i] = typo(&toks[i], rng);
        }
        let mut name = toks.join(" ");
        if rng.chance(e.name_title) {
            if rng.chance(0.5) {
                let pre = if p.female { TITLES_PRE_F } else { TITLES_PRE_M };
                name = format!("{} {name}", rng.pick(pre));
            } else {
                let post: &&str = rng.pick(TITLES_POST);
                name.push_str(post);
            }
        }
        if right_style && rng.chance(0.7) {
            name = name.to_uppercase();
        }
        // Birth date
        let (mut y, mut m, mut d) = (p.year, p.month, p.day);
        if d <= 12 && d != m && rng.chance(e.date_swap) {
            std::mem::swap(&mut d, &mut m);
        } else if rng.chance(e.date_off_by_one) {
            if rng.chance(0.5) {
                if d < days_in_month(y, m) {
                    d += 1;
                } else if m < 12 {
                    m += 1;
                    d = 1;
                } else {
                    y += 1;
                    m = 1;
                    d = 1;
                }
            } else if d > 1 {
                d -= 1;
            } else if m > 1 {
                m -= 1;
                d = days_in_month(y, m);
            } else {
                y -= 1;
                m = 12;
                d = 31;
            }
        }
        let date = if rng.chance(e.date_missing) {
            String::new()
        } else if right_style {
            format!("{d:02}-{m:02}-{y:04}")
        } else {
            format!("{y:04}-{m:02}-{d:02}")
        };
        // Region
        let mut region = p.region;
        if rng.chance(e.moved) {
            let prov = REGIONS[region].0 / 100;
            let same: Vec<usize> = (0..REGIONS.len())
                .filter(|&i| i != region && REGIONS[i].0 / 100 == prov)
                .collect();
            region = if !same.is_empty() && rng.chance(0.7) {
                *rng.pick(&same)
            } else {
                self.pick_region(rng)
            };
        }
        let region_text = if right_style {
            let r = REGIONS[region].1;
            match rng.below(3) {
                0 => r.to_uppercase(),
                1 => r.replace("Kab.", "Kabupaten"),
                _ => r.to_string(),
            }
        } else {
            REGIONS[region].1.to_string()
        };
        // Phone
        let phone = if rng.chance(e.phone_missing) {
            String::new()
        } else if rng.chance(e.phone_changed) {
            format!(
                "08{}{}",
                rng.pick(OPERATORS),
                (0..8)
                    .map(|_| char::from(b'0' + rng.below(10) as u8))
                    .collect::<String>()
            )
        } else {
            p.phone.clone()
        };
        let phone = if right_style && !phone.is_empty() && rng.chance(0.4) {
            format!("+62 {}", &phone[1..])
        } else {
            phone
        };
        rec.clear();
        rec.push(id.to_string());
        rec.push(format!("T{truth}"));
        rec.push(nik);
        rec.push(name);
        rec.push(if p.female { "P" } else { "L" }.to_string());
        rec.push(date);
        rec.push(region_text);
        rec.push(phone);
    }

    /// Dedupe row `j` of a list of `rows` rows with duplicate share `dup_share`.
    fn dedupe_row(
        &self,
        j: usize,
        rows: usize,
        dup_share: f64,
        perm: &Affine,
        rec: &mut Vec<String>,
    ) {
        let unique = ((rows as f64) * (1.0 - dup_share.clamp(0.0, 0.9)))
            .round()
            .max(1.0) as usize;
        let k = perm.map(j);
        let mut rng = self.rng(STREAM_DEDUPE + j as u64);
        if k < unique {
            let p = self.person(k as u64);
            self.write_record(&format!("D{j}"), k as u64, &p, false, false, &mut rng, rec);
        } else {
            // A duplicate of one of the unique people (skewed towards few people with several).
            let target = ((k - unique) * 7919) % unique;
            let p = self.person(target as u64);
            self.write_record(
                &format!("D{j}"),
                target as u64,
                &p,
                true,
                rng.chance(0.5),
                &mut rng,
                rec,
            );
        }
    }

    /// Write the left list as CSV; returns the number of rows.
    pub fn write_left<W: Write>(&self, out: W) -> Result<usize> {
        self.write_rows(out, self.cfg.left_rows, |i, rec| self.left_row(i, rec))
    }

    /// Write the right list as CSV; returns the number of rows.
    pub fn write_right<W: Write>(&self, out: W) -> Result<usize> {
        self.write_rows(out, self.cfg.right_rows, |j, rec| self.right_row(j, rec))
    }

    /// Write a single list with duplicates for de-duplication tests: `rows` rows of which a
    /// share `duplicate_share` are re-recorded (noisy) copies of other rows' people.
    pub fn write_dedupe<W: Write>(
        &self,
        out: W,
        rows: usize,
        duplicate_share: f64,
    ) -> Result<usize> {
        let mut setup = self.rng(u64::MAX - 1);
        let perm = Affine::new(rows, &mut setup);
        self.write_rows(out, rows, |j, rec| {
            self.dedupe_row(j, rows, duplicate_share, &perm, rec);
        })
    }

    /// The left list as CSV bytes.
    pub fn left_csv(&self) -> Result<Vec<u8>> {
        let mut v = Vec::new();
        self.write_left(&mut v)?;
        Ok(v)
    }

    /// The right list as CSV bytes.
    pub fn right_csv(&self) -> Result<Vec<u8>> {
        let mut v = Vec::new();
        self.write_right(&mut v)?;
        Ok(v)
    }

    fn write_rows<W: Write, F>(&self, mut out: W, rows: usize, row: F) -> Result<usize>
    where
        F: Fn(usize, &mut Vec<String>) + Sync,
    {
        {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(GENERATED_HEADER)?;
            w.flush()?;
        }
        let blocks = rows.div_ceil(BLOCK);
        let batch = (rayon::current_num_threads() * 2).max(1);
        let mut b0 = 0;
        while b0 < blocks {
            let b1 = (b0 + batch).min(blocks);
            let bufs: Vec<Result<Vec<u8>>> = (b0..b1)
                .into_par_iter()
                .map(|b| {
                    let mut w = csv::WriterBuilder::new()
                        .has_headers(false)
                        .from_writer(Vec::with_capacity(BLOCK * 96));
                    let mut rec = Vec::with_capacity(8);
                    for i in b * BLOCK..((b + 1) * BLOCK).min(rows) {
                        row(i, &mut rec);
                        w.write_record(&rec)?;
                    }
                    w.into_inner()
                        .map_err(|e| crate::error::LinkageError::Io(e.into_error()))
                })
                .collect();
            for buf in bufs {
                out.write_all(&buf?)?;
            }
            b0 = b1;
        }
        out.flush()?;
        Ok(rows)
    }
}

fn typo(tok: &str, rng: &mut ChaCha8Rng) -> String {
    let mut c: Vec<char> = tok.chars().collect();
    if c.len() < 3 {
        return tok.to_string();
    }
    let upper = c.iter().skip(1).all(|ch| ch.is_uppercase());
    let letters = b"aeiounrstlmkgdhbpjy";
    let mut letter = char::from(*rng.pick(letters));
    if upper {
        letter = letter.to_ascii_uppercase();
    }
    let pos = 1 + rng.below(c.len() - 1);
    match rng.below(4) {
        0 => c[pos] = letter,
        1 => {
            c.remove(pos);
        }
        2 => c.insert(pos, letter),
        _ => {
            if pos + 1 < c.len() {
                c.swap(pos, pos + 1);
            } else {
                c.swap(pos - 1, pos);
            }
        }
    }
    c.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_valid() {
        let cfg = GeneratorConfig {
            left_rows: 300,
            right_rows: 700,
            ..GeneratorConfig::default()
        };
        let g = Generator::new(cfg.clone());
        let a = g.right_csv().unwrap();
        let b = Generator::new(cfg).right_csv().unwrap();
        assert_eq!(a, b);
        let left = g.left_csv().unwrap();
        let mut r = csv::Reader::from_reader(left.as_slice());
        let mut n = 0;
        for rec in r.records() {
            let rec = rec.unwrap();
            let nik = &rec[2];
            assert_eq!(nik.len(), 16);
            assert!(nik.bytes().all(|b| b.is_ascii_digit()));
            let day: u32 = nik[6..8].parse().unwrap();
            let female = &rec[4] == "P";
            assert_eq!(female, day > 40, "{nik}");
            n += 1;
        }
        assert_eq!(n, 300);
    }

    #[test]
    fn affine_is_bijection() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for n in [1usize, 2, 10, 97, 1000] {
            let a = Affine::new(n, &mut rng);
            let mut seen = vec![false; n];
            for x in 0..n {
                seen[a.map(x)] = true;
            }
            assert!(seen.iter().all(|&s| s), "n={n}");
        }
    }
}
