//! A deterministic demo catalogue shaped like the 2021 ecosystem: 1,561 trainings from 179
//! institutions on the eight platforms, with Indonesian titles and descriptions drawn from
//! [`super::topics`]. The same generator makes the 50,000-training catalogue of the benchmark.

use std::collections::HashSet;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::model::*;
use super::topics::{Topic, GROUPS, TOPICS};
use crate::db::Db;
use crate::error::Result;

pub const DEMO_TRAININGS: usize = 1_561;
pub const DEMO_INSTITUTIONS: usize = 179;
/// The counters opened in June 2021.
const SEED: u64 = 20_210_630;

const NAMES: &[&str] = &[
    "Mandiri",
    "Bina Insani",
    "Cipta Karya",
    "Mitra Prima",
    "Karya Utama",
    "Harapan Bangsa",
    "Nusantara",
    "Cahaya Ilmu",
    "Bintang Timur",
    "Sinar Jaya",
    "Maju Bersama",
    "Tunas Muda",
    "Persada",
    "Garuda",
    "Kartika",
    "Melati",
    "Cendana",
    "Kenanga",
    "Pelita",
    "Insan Mulia",
    "Sejahtera",
    "Berkah",
    "Amanah",
    "Lentera",
    "Samudra",
    "Mutiara",
    "Permata",
    "Dharma",
    "Widya",
    "Gemilang",
    "Cemerlang",
    "Citra",
    "Arunika",
    "Anugerah",
    "Prestasi",
    "Adhi Karya",
    "Kencana",
    "Puspita",
    "Wijaya",
    "Handayani",
    "Abadi",
    "Sentosa",
    "Makmur",
    "Lestari",
    "Bahagia",
    "Sakinah",
    "Barokah",
    "Indah",
    "Jaya Abadi",
    "Putra Bangsa",
    "Putri Mandiri",
    "Sumber Ilmu",
    "Rumpun",
    "Nawasena",
    "Kirana",
    "Sekar",
    "Tirta",
    "Bumi",
    "Angkasa",
    "Merdeka",
    "Pertiwi",
    "Rahayu",
    "Utama Karya",
    "Insan Cendekia",
    "Taruna",
    "Harmoni",
    "Prima Karsa",
    "Cakrawala",
    "Pancaran",
    "Kasih Ibu",
];

const CITIES: &[&str] = &[
    "Jakarta",
    "Surabaya",
    "Bandung",
    "Semarang",
    "Yogyakarta",
    "Malang",
    "Medan",
    "Makassar",
    "Denpasar",
    "Mataram",
    "Kupang",
    "Bandar Lampung",
    "Palembang",
    "Pontianak",
    "Batam",
    "Cirebon",
    "Indramayu",
    "Banyuwangi",
    "Blitar",
    "Ponorogo",
    "Cilacap",
    "Kendal",
    "Solo",
    "Tulungagung",
    "Lombok Timur",
    "Nunukan",
    "Serang",
    "Bogor",
];

const SUFFIXES: &[&str] = &[
    "",
    "",
    "",
    "",
    " untuk Pemula",
    " bagi Purna PMI",
    " Siap Kerja",
    " Tingkat Dasar",
    " Tingkat Lanjut",
    " (Bersertifikat)",
    " Kelas Praktik",
    " Intensif",
];

const INTRO_ONLINE: &[&str] = &[
    "Kelas daring dengan video pembelajaran yang bisa diputar ulang.",
    "Pelatihan online lewat webinar bersama instruktur.",
    "Belajar mandiri secara daring melalui video, modul, dan kuis.",
];
const INTRO_OFFLINE: &[&str] = &[
    "Pelatihan tatap muka di tempat pelatihan dengan praktik langsung.",
    "Kelas luring di ruang praktik dengan pendampingan instruktur.",
];
const INTRO_BLENDED: &[&str] = &[
    "Gabungan materi daring dan praktik tatap muka.",
    "Kelas campuran: teori secara online, praktik langsung bersama instruktur.",
];
const CLOSINGS: &[&str] = &[
    "Peserta yang lulus ujian akhir mendapat sertifikat.",
    "Instruktur berpengalaman di bidangnya.",
    "Dilengkapi modul yang bisa diunduh dan forum tanya jawab.",
    "Ada sesi konsultasi dengan instruktur setiap pekan.",
    "Materi disusun untuk peserta tanpa pengalaman.",
];

/// One generated training and the topic it is about (the ground truth of relevance).
pub struct DemoTraining {
    pub topic: &'static str,
    pub data: TrainingData,
}

struct DemoInstitution {
    external_id: String,
    name: String,
    city: String,
    topics: &'static [&'static str],
    weight: u32,
}

fn institutions(rng: &mut ChaCha8Rng, count: usize) -> Vec<DemoInstitution> {
    let total: u32 = GROUPS.iter().map(|g| g.weight).sum();
    let mut names = HashSet::new();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let mut roll = rng.gen_range(0..total);
        let group = GROUPS
            .iter()
            .find(|g| {
                if roll < g.weight {
                    return true;
                }
                roll -= g.weight;
                false
            })
            .unwrap_or(&GROUPS[0]);
        let city = CITIES.choose(rng).copied().unwrap_or("Jakarta");
        let word = group.name_words.choose(rng).copied().unwrap_or("LPK");
        let base = format!("{word} {}", NAMES.choose(rng).copied().unwrap_or("Mandiri"));
        // Same name taken: providers add their city, and failing that a branch number.
        let name = [base.clone(), format!("{base} {city}")]
            .into_iter()
            .find(|n| !names.contains(n))
            .unwrap_or_else(|| format!("{base} {city} {}", i + 1));
        names.insert(name.clone());
        // A few large providers and many small ones, as in the ecosystem.
        let weight = 1 + rng.gen_range(0u32..6).pow(2);
        out.push(DemoInstitution {
            external_id: format!("LP-{:04}", i + 1),
            name,
            city: city.to_string(),
            topics: group.topics,
            weight,
        });
    }
    out
}

fn pick_mode(rng: &mut ChaCha8Rng, topic: &Topic) -> Mode {
    let [on, off, bl] = topic.modes;
    let roll = rng.gen_range(0..on + off + bl);
    if roll < on {
        Mode::Online
    } else if roll < on + off {
        Mode::Offline
    } else {
        Mode::Blended
    }
}

fn description(rng: &mut ChaCha8Rng, topic: &Topic, mode: Mode) -> String {
    let intro = match mode {
        Mode::Online => INTRO_ONLINE,
        Mode::Offline => INTRO_OFFLINE,
        Mode::Blended => INTRO_BLENDED,
    };
    let mut about: Vec<&str> = topic.about.to_vec();
    about.shuffle(rng);
    let keep = rng.gen_range(2..=about.len());
    about.truncate(keep);
    let mut parts = vec![intro.choose(rng).copied().unwrap_or("")];
    parts.extend(about);
    parts.push(CLOSINGS.choose(rng).copied().unwrap_or(""));
    parts.join(" ")
}

/// Prices the way providers set them: round thousands, often ending in 9.000 or 50.000.
fn price(rng: &mut ChaCha8Rng, topic: &Topic, mode: Mode) -> i64 {
    let (lo, hi) = topic.price_k;
    let base = rng.gen_range(lo..=hi);
    let factor = match mode {
        Mode::Online => 1,
        Mode::Blended => 2,
        Mode::Offline => 3,
    };
    let k = (base * factor / 50 * 50).max(50);
    let k = if rng.gen_bool(0.5) { k - 1 } else { k };
    k * 1000
}

fn offers(rng: &mut ChaCha8Rng, base: i64, mode: Mode) -> Vec<Offer> {
    let count = *[1, 1, 2, 2, 3].choose(rng).unwrap_or(&1);
    let mut platforms: Vec<Platform> = Platform::all().collect();
    platforms.shuffle(rng);
    if mode != Mode::Online {
        // Sisnaker (the Ministry of Manpower's system) lists most in-person LPK training.
        if let Some(pos) = platforms.iter().position(|p| p.code() == "sisnaker") {
            if rng.gen_bool(0.6) {
                platforms.swap(0, pos);
            }
        }
    }
    let mut chosen: Vec<Offer> = platforms
        .into_iter()
        .take(count)
        .map(|platform| Offer {
            platform,
            price: (base + rng.gen_range(-2i64..=3) * 5_000).max(50_000),
        })
        .collect();
    chosen.sort_by_key(|o| o.platform);
    chosen
}

/// `count` trainings from `institution_count` institutions, the same on every run.
pub fn generate(count: usize, institution_count: usize) -> Vec<DemoTraining> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let institutions = institutions(&mut rng, institution_count.max(1));
    let total_weight: u32 = institutions.iter().map(|i| i.weight).sum();
    let mut out = Vec::with_capacity(count);
    for n in 0..count {
        // Every institution offers at least one training; the rest follow their size.
        let institution = if n < institutions.len() {
            &institutions[n]
        } else {
            let mut roll = rng.gen_range(0..total_weight);
            institutions
                .iter()
                .find(|i| {
                    if roll < i.weight {
                        return true;
                    }
                    roll -= i.weight;
                    false
                })
                .unwrap_or(&institutions[0])
        };
        let code = institution
            .topics
            .choose(&mut rng)
            .copied()
            .unwrap_or("wirausaha");
        let Some(topic) = TOPICS.iter().find(|t| t.code == code) else {
            continue;
        };
        let base_title = topic
            .titles
            .choose(&mut rng)
            .copied()
            .unwrap_or("Pelatihan");
        let suffix = SUFFIXES.choose(&mut rng).copied().unwrap_or("");
        let title = if base_title.contains("Pemula") && suffix.contains("Pemula") {
            base_title.to_string()
        } else {
            format!("{base_title}{suffix}")
        };
        let mode = pick_mode(&mut rng, topic);
        let hours = match mode {
            Mode::Online => rng.gen_range(2..=24),
            Mode::Blended => rng.gen_range(8..=80),
            Mode::Offline => rng.gen_range(16..=160),
        };
        let base_price = price(&mut rng, topic, mode);
        let offers = offers(&mut rng, base_price, mode);
        let reviews = match mode {
            Mode::Online => rng.gen_range(0..4000),
            _ => rng.gen_range(0..300),
        };
        let description = description(&mut rng, topic, mode);
        out.push(DemoTraining {
            topic: topic.code,
            data: TrainingData {
                external_id: format!("PRK-{:05}", n + 1),
                institution_external_id: institution.external_id.clone(),
                institution_name: institution.name.clone(),
                institution_city: institution.city.clone(),
                language: if title.starts_with("English") {
                    TrainingLanguage::English
                } else {
                    TrainingLanguage::Indonesian
                },
                title,
                category: topic.category,
                occupations: topic.occupations.to_vec(),
                mode,
                hours,
                description,
                prerequisites: topic.prerequisites.join("; "),
                rating_tenths: (reviews > 0).then(|| rng.gen_range(38..=50)),
                review_count: reviews,
                status: if rng.gen_bool(0.025) {
                    Status::Withdrawn
                } else {
                    Status::Active
                },
                offers,
            },
        });
    }
    out
}

/// The demo catalogue of the 2021 ecosystem: 1,561 trainings, 179 institutions.
pub fn catalogue() -> Vec<DemoTraining> {
    generate(DEMO_TRAININGS, DEMO_INSTITUTIONS)
}

/// Loads the demo catalogue through the import path when the catalogue is empty.
pub async fn seed(db: &Db) -> Result<usize> {
    let (trainings, _) = super::store::counts(db).await?;
    if trainings > 0 {
        return Ok(0);
    }
    let records: Vec<TrainingData> = catalogue().into_iter().map(|t| t.data).collect();
    super::store::apply(db, &records).await?;
    Ok(records.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_catalogue_has_the_ecosystems_shape() {
        let all = catalogue();
        assert_eq!(all.len(), DEMO_TRAININGS);
        let institutions: HashSet<_> = all
            .iter()
            .map(|t| t.data.institution_external_id.as_str())
            .collect();
        assert_eq!(institutions.len(), DEMO_INSTITUTIONS);
        let names: HashSet<_> = all
            .iter()
            .map(|t| {
                (
                    t.data.institution_external_id.as_str(),
                    t.data.institution_name.as_str(),
                )
            })
            .collect();
        assert_eq!(names.len(), DEMO_INSTITUTIONS, "one name per institution");
        for p in Platform::all() {
            assert!(
                all.iter()
                    .any(|t| t.data.offers.iter().any(|o| o.platform == p)),
                "{}",
                p.name()
            );
        }
        for t in &all {
            assert!(!t.data.offers.is_empty());
            // Every generated row passes the import's own validation.
            let row = to_row(&t.data);
            let fields = TrainingFields(COLUMNS.iter().copied().zip(row).collect());
            assert_eq!(validate(&fields).as_ref(), Ok(&t.data));
        }
    }

    #[test]
    fn the_generator_is_deterministic() {
        let a = generate(50, 10);
        let b = generate(50, 10);
        assert!(a.iter().zip(&b).all(|(x, y)| x.data == y.data));
    }
}
