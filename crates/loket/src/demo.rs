//! Deterministic synthetic data for trying loket: BP2MI offices, 92 counters, Purna PMI with
//! valid NIKs that agree with their birth date, sex and region, and demo accounts.

use chrono::{Duration, NaiveDate, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::audit;
use crate::auth::Role;
use crate::auth::{self as users, NewUser};
use crate::codes::Country;
use crate::counters::{self, OfficeKind};
use crate::db::Db;
use crate::error::Result;
use crate::participants::file::seal_all;
use crate::participants::model::*;
use crate::participants::{self, Registration};
use crate::vault::Vault;

/// (office code, name, province code, counters): the 92 counters lean to the main sending
/// provinces (Jawa Timur, Jawa Tengah, Jawa Barat, NTB, NTT, Lampung) and transit points.
pub(crate) const OFFICES: &[(&str, &str, &str, usize)] = &[
    ("UPT-JATIM", "BP3MI Jawa Timur (Surabaya)", "35", 12),
    ("UPT-JATENG", "BP3MI Jawa Tengah (Semarang)", "33", 10),
    ("UPT-JABAR", "BP3MI Jawa Barat (Bandung)", "32", 10),
    ("UPT-NTB", "BP3MI Nusa Tenggara Barat (Mataram)", "52", 8),
    ("UPT-NTT", "BP3MI Nusa Tenggara Timur (Kupang)", "53", 6),
    ("UPT-LAMPUNG", "BP3MI Lampung (Bandar Lampung)", "18", 6),
    ("UPT-BALI", "BP3MI Bali (Denpasar)", "51", 4),
    ("UPT-SUMUT", "BP3MI Sumatera Utara (Medan)", "12", 5),
    (
        "UPT-KEPRI",
        "BP3MI Kepulauan Riau (Tanjung Pinang)",
        "21",
        5,
    ),
    ("UPT-KALBAR", "BP3MI Kalimantan Barat (Pontianak)", "61", 4),
    ("UPT-KALTARA", "BP3MI Kalimantan Utara (Nunukan)", "65", 4),
    ("UPT-SULSEL", "BP3MI Sulawesi Selatan (Makassar)", "73", 4),
    ("UPT-BANTEN", "BP3MI Banten (Serang)", "36", 4),
    ("UPT-DKI", "BP3MI DKI Jakarta", "31", 4),
    ("UPT-ACEH", "BP3MI Aceh (Banda Aceh)", "11", 2),
    ("UPT-RIAU", "BP3MI Riau (Pekanbaru)", "14", 2),
    ("UPT-SUMSEL", "BP3MI Sumatera Selatan (Palembang)", "16", 2),
];

const FEMALE_NAMES: &[&str] = &[
    "Siti",
    "Sri",
    "Nur",
    "Dewi",
    "Ani",
    "Rina",
    "Wati",
    "Yuli",
    "Lestari",
    "Eka",
    "Ratna",
    "Sumiati",
    "Suminah",
    "Tuti",
    "Endang",
    "Kartini",
    "Nurhayati",
    "Fatimah",
    "Aminah",
    "Rukmini",
    "Suparti",
    "Iis",
    "Neneng",
    "Ni Made",
    "Ni Ketut",
    "Maria",
    "Yohana",
];
const MALE_NAMES: &[&str] = &[
    "Muhammad",
    "Ahmad",
    "Agus",
    "Budi",
    "Joko",
    "Slamet",
    "Eko",
    "Hendra",
    "Rudi",
    "Dedi",
    "Bambang",
    "Supriyadi",
    "Wahyu",
    "Imam",
    "Asep",
    "Iwan",
    "I Made",
    "I Ketut",
    "Yohanes",
    "Fransiskus",
    "Abdul",
    "Rahmat",
    "Syamsul",
];
const SECOND_NAMES: &[&str] = &[
    "Rahayu",
    "Lestari",
    "Wahyuni",
    "Susanti",
    "Handayani",
    "Kurniawan",
    "Setiawan",
    "Hidayat",
    "Saputra",
    "Santoso",
    "Purnomo",
    "Aminah",
    "Hasanah",
    "Maulida",
    "Fitriani",
    "Suryani",
    "Wulandari",
    "Pratama",
    "Nugroho",
    "Sulistyo",
    "Ramadhan",
    "Anggraini",
];
const INTERESTS: &[&str] = &[
    "menjahit",
    "tata boga",
    "usaha kuliner",
    "perawat lansia",
    "pengasuh anak",
    "bahasa Inggris",
    "bahasa Jepang",
    "pemasaran digital",
    "budidaya ikan",
    "pertanian hidroponik",
    "salon kecantikan",
    "barista",
    "montir sepeda motor",
    "las listrik",
    "akuntansi UMKM",
];

/// Destination, weight, and the job sectors typical there for women and for men.
const DESTINATIONS: &[(&str, u32, &[JobSector], &[JobSector])] = &[
    (
        "MY",
        30,
        &[
            JobSector::DomesticWorker,
            JobSector::Manufacturing,
            JobSector::Plantation,
        ],
        &[
            JobSector::Plantation,
            JobSector::Construction,
            JobSector::Manufacturing,
        ],
    ),
    (
        "TW",
        22,
        &[
            JobSector::Caregiver,
            JobSector::DomesticWorker,
            JobSector::Manufacturing,
        ],
        &[JobSector::Manufacturing, JobSector::Fishing],
    ),
    (
        "HK",
        20,
        &[JobSector::DomesticWorker, JobSector::Caregiver],
        &[JobSector::Hospitality],
    ),
    (
        "SA",
        8,
        &[JobSector::DomesticWorker],
        &[JobSector::Construction, JobSector::Hospitality],
    ),
    (
        "SG",
        7,
        &[JobSector::DomesticWorker, JobSector::Caregiver],
        &[JobSector::Construction, JobSector::Fishing],
    ),
    (
        "KR",
        6,
        &[JobSector::Manufacturing],
        &[JobSector::Manufacturing, JobSector::Fishing],
    ),
    (
        "JP",
        4,
        &[JobSector::Caregiver, JobSector::Manufacturing],
        &[JobSector::Manufacturing, JobSector::Construction],
    ),
    (
        "BN",
        3,
        &[JobSector::DomesticWorker, JobSector::Hospitality],
        &[JobSector::Construction, JobSector::Plantation],
    ),
];

pub struct DemoLogin {
    pub username: String,
    pub password: String,
    pub role: Role,
    /// An API token, for the partner system (which uses the API, not the pages).
    pub token: Option<String>,
}

pub struct DemoSummary {
    pub offices: usize,
    pub counters: usize,
    pub participants: usize,
    pub logins: Vec<DemoLogin>,
}

fn pick_weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
    let total: u32 = items.iter().map(&weight).sum();
    let mut roll = rng.gen_range(0..total.max(1));
    for item in items {
        let w = weight(item);
        if roll < w {
            return item;
        }
        roll -= w;
    }
    &items[0]
}

/// Four words from 32 and three digits: about 10^9 choices, easy to read out at a counter.
fn random_password() -> String {
    use rand::Rng;
    const WORDS: &[&str] = &[
        "kopi", "sawah", "gunung", "pantai", "nasi", "merah", "biru", "angin", "pelangi", "kelapa",
        "durian", "rumah", "sungai", "bambu", "melati", "kancil", "garuda", "rendang", "sate",
        "batik", "wayang", "gamelan", "nanas", "mangga", "hujan", "bintang", "bulan", "pasar",
        "perahu", "jembatan", "kebun", "danau",
    ];
    let mut rng = rand::rngs::OsRng;
    let mut words: Vec<String> = (0..4)
        .map(|_| WORDS[rng.gen_range(0..WORDS.len())].to_string())
        .collect();
    words.push(format!("{:03}", rng.gen_range(0..1000)));
    words.join("-")
}

/// The seeder's provinces and synthetic people, for the exchange's sample recipients file.
pub fn stranger_maker() -> crate::exchange::demo::StrangerMaker {
    crate::exchange::demo::StrangerMaker {
        provinces: OFFICES.iter().map(|o| o.2).collect(),
        person,
    }
}

// The helpers of `person` each draw from `rng` in a fixed order, and `person` calls them in a
// fixed order: a seed must keep giving the same people, so do not reorder draws, nor move a
// `?` across one (a `None` stops the draws early and leaves `rng` where it was).

/// One synthetic Purna PMI registered in `province`.
pub(crate) fn person(rng: &mut ChaCha8Rng, province: &str, serial: u16) -> Option<ParticipantData> {
    let (regency, district) = home_district(rng, province)?;
    let female = rng.gen_bool(0.7);
    let sex = if female {
        nik::Sex::Female
    } else {
        nik::Sex::Male
    };
    let birth = birth_date(rng)?;
    let nik = nik::Nik::compose(district.code, birth, sex, serial).ok()?;
    let name = full_name(rng, female)?;
    let migration = migration(rng, female)?;
    let (phone, kk) = phone_and_kk(rng, district.code)?;
    let literacy = *[
        DigitalLiteracy::NeedsFullHelp,
        DigitalLiteracy::NeedsSomeHelp,
        DigitalLiteracy::NeedsSomeHelp,
        DigitalLiteracy::Independent,
    ]
    .choose(rng)?;
    let education = *[
        Education::Primary,
        Education::JuniorSecondary,
        Education::JuniorSecondary,
        Education::SeniorSecondary,
        Education::SeniorSecondary,
        Education::Diploma,
    ]
    .choose(rng)?;
    let how_many = rng.gen_range(1..=3);
    let interests: Vec<&str> = INTERESTS.choose_multiple(rng, how_many).copied().collect();
    Some(ParticipantData {
        nik,
        full_name: FullName::parse(&name).ok()?,
        sex,
        birth_date: birth,
        kk: Some(kk),
        phone: Some(phone),
        email: None,
        address: Address {
            province_code: Some(province.to_string()),
            regency_code: Some(regency.code.to_string()),
            district_code: Some(district.code.to_string()),
            street: Some(street(rng)?),
        },
        education: Some(education),
        marital_status: Some(marital_status(rng)?),
        migration,
        training_interests: Some(interests.join(", ")),
        digital_literacy: Some(literacy),
        has_smartphone: Some(rng.gen_bool(0.8)),
        consent: consent(rng),
    })
}

/// A regency of `province` and a district of it, both still in use (a new NIK needs a
/// current district code).
fn home_district(
    rng: &mut ChaCha8Rng,
    province: &str,
) -> Option<(&'static nik::regions::Region, &'static nik::regions::Region)> {
    let regencies: Vec<_> = nik::regions::regencies_of(province)
        .into_iter()
        .filter(|r| r.last_seen >= 2025)
        .collect();
    let regency = *regencies.choose(rng)?;
    let districts: Vec<_> = nik::regions::districts_of(regency.code)
        .into_iter()
        .filter(|d| d.last_seen >= 2025)
        .collect();
    let district = *districts.choose(rng)?;
    Some((regency, district))
}

/// Born 1972–2002; day 28 at most so every month has it.
fn birth_date(rng: &mut ChaCha8Rng) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        rng.gen_range(1972..=2002),
        rng.gen_range(1..=12),
        rng.gen_range(1..=28),
    )
}

fn full_name(rng: &mut ChaCha8Rng, female: bool) -> Option<String> {
    let first = if female {
        FEMALE_NAMES.choose(rng)?
    } else {
        MALE_NAMES.choose(rng)?
    };
    Some(format!("{first} {}", SECOND_NAMES.choose(rng)?))
}

/// Where and in which sector the person worked, and how the stay ended; the destinations are
/// weighted and their usual jobs differ for women and men.
fn migration(rng: &mut ChaCha8Rng, female: bool) -> Option<MigrationHistory> {
    let (country, _, women_jobs, men_jobs) = pick_weighted(rng, DESTINATIONS, |d| d.1);
    let job = if female {
        women_jobs.choose(rng)?
    } else {
        men_jobs.choose(rng)?
    };
    let return_date = NaiveDate::from_ymd_opt(2020, 3, 1)? + Duration::days(rng.gen_range(0..600));
    let departure = return_date - Duration::days(rng.gen_range(700..2600));
    let reason = match rng.gen_range(0..100) {
        0..=59 => ReturnReason::ContractEnded,
        60..=89 => ReturnReason::Repatriated,
        90..=94 => ReturnReason::Deported,
        _ => ReturnReason::Other,
    };
    Some(MigrationHistory {
        destination_country: Country::parse(country),
        job_sector: Some(*job),
        departure_date: Some(departure),
        return_date: Some(return_date),
        return_reason: Some(reason),
    })
}

/// A mobile number and a family card number (KK) issued in `district_code`.
fn phone_and_kk(rng: &mut ChaCha8Rng, district_code: &str) -> Option<(Phone, Kk)> {
    let phone = Phone::parse(&format!(
        "08{}{:09}",
        rng.gen_range(11..=59),
        rng.gen_range(0..1_000_000_000u32)
    ))
    .ok()?;
    let kk = Kk::parse(&format!(
        "{district_code}{:010}",
        rng.gen_range(1..10_000_000_000u64)
    ))
    .ok()?;
    Some((phone, kk))
}

fn street(rng: &mut ChaCha8Rng) -> Option<String> {
    Some(format!(
        "Dusun {} RT 0{}/RW 0{}",
        SECOND_NAMES.choose(rng)?,
        rng.gen_range(1..10),
        rng.gen_range(1..10)
    ))
}

fn marital_status(rng: &mut ChaCha8Rng) -> Option<MaritalStatus> {
    [
        MaritalStatus::Married,
        MaritalStatus::Married,
        MaritalStatus::Single,
        MaritalStatus::Divorced,
    ]
    .choose(rng)
    .copied()
}

/// Everyone consents to processing (they could not be registered otherwise); sharing varies.
fn consent(rng: &mut ChaCha8Rng) -> Consent {
    Consent {
        processing: true,
        sharing: rng.gen_bool(0.85),
        method: if rng.gen_bool(0.7) {
            ConsentMethod::PaperForm
        } else {
            ConsentMethod::Verbal
        },
    }
}

/// Creates the demo offices and their counters; returns (counter id, province code) pairs.
pub async fn seed_network(db: &Db) -> Result<Vec<(i64, &'static str)>> {
    let mut made = Vec::new();
    for (code, name, province, n) in OFFICES {
        let office_id = counters::create_office(db, code, name, OfficeKind::Upt, province).await?;
        for i in 1..=*n {
            let place = match i {
                1 => "Kantor UPT".to_string(),
                2 if ["UPT-KEPRI", "UPT-KALTARA", "UPT-DKI", "UPT-JATIM"].contains(code) => {
                    "Debarkasi/Bandara".to_string()
                }
                _ => format!("Pos {i}"),
            };
            let status = if i <= 2 {
                "operating"
            } else if i <= 4 {
                "preparing"
            } else {
                "planned"
            };
            let label = format!(
                "Loket Prakerja {} – {place}",
                name.strip_prefix("BP3MI ").unwrap_or(name)
            );
            let id =
                counters::create_counter(db, office_id, &format!("{code}-{i:02}"), &label, status)
                    .await?;
            made.push((id, *province));
        }
    }
    Ok(made)
}

/// Registers `participants` synthetic people over the counters that opened, each on a day
/// between the counter's opening and today, more of them later as word spreads (so reach over
/// time tells a story and the newest journeys are under way). Counters that never opened
/// register nobody.
pub async fn seed_people(
    db: &Db,
    vault: &Vault,
    network: &[(i64, &str)],
    participants: usize,
) -> Result<()> {
    let empty = audit::Batch::new(db)?;
    let mut rng = ChaCha8Rng::seed_from_u64(20_210_630);
    let opened = counters::demo::opened_on(db).await?;
    let end = crate::clock::today();
    // Without a rollout (opened empty) every counter registers from the programme's start.
    let first_day = NaiveDate::from_ymd_opt(2021, 6, 15).unwrap_or(end);
    let open: Vec<(i64, &str, NaiveDate)> = network
        .iter()
        .filter(|(id, _)| opened.is_empty() || opened.contains_key(id))
        .map(|(id, p)| (*id, *p, opened.get(id).copied().unwrap_or(first_day)))
        .collect();
    let per_counter = participants.div_ceil(open.len().max(1));
    let mut serial: u16 = 1;
    let mut made = 0;
    for (counter_id, province, opened_on) in open {
        let mut by_day: std::collections::BTreeMap<NaiveDate, Vec<ParticipantData>> =
            std::collections::BTreeMap::new();
        let mut in_counter = 0;
        while in_counter < per_counter && made < participants {
            serial = if serial >= 9999 { 1 } else { serial + 1 };
            if let Some(p) = person(&mut rng, province, serial) {
                // sqrt of a uniform draw: density grows linearly from the opening day.
                let span = (end - opened_on).num_days().max(0) as f64;
                let day = opened_on + Duration::days((span * rng.gen::<f64>().sqrt()) as i64);
                by_day.entry(day).or_default().push(p);
                made += 1;
                in_counter += 1;
            }
        }
        for (day, batch) in by_day {
            // Office hours in WIB (UTC+7): 02:00–09:00 UTC.
            let at = day
                .and_hms_opt(rng.gen_range(2..9), rng.gen_range(0..60), 0)
                .map_or_else(Utc::now, |t| t.and_utc());
            let reg = Registration {
                counter_id: Some(counter_id),
                officer_id: None,
                at,
            };
            let audited = |ids: &[i64]| {
                let mut entries = empty.clone();
                for id in ids {
                    let entry = audit::Entry::new("participant.create", "participant", id);
                    entries.add(None, Some("system/demo"), entry.reason("demo"));
                }
                entries
            };
            let people = dedupe(seal_all(vault, batch), db).await?;
            participants::insert_many(db, &people, reg, audited, |_| {}).await?;
        }
    }
    Ok(())
}

/// Seeds the demo network and people once; on a seeded database only resets the demo
/// passwords (and returns them to print). Every role has an account that can do its whole
/// day: the officer is certified, the partner has a token for the exchange.
pub async fn seed(db: &Db, vault: &Vault, participants: usize) -> Result<DemoSummary> {
    let mut refresher = None;
    if counters::counter_by_code(db, "UPT-JATIM-01")
        .await?
        .is_none()
    {
        let network = seed_network(db).await?;
        counters::demo::seed_rollout(db, &network).await?;
        refresher = Some(counters::demo::seed_refresher(db, crate::clock::today()).await?);
        seed_people(db, vault, &network, participants).await?;
        crate::journey::demo::seed(db).await?;
        crate::reminders::demo::seed(db, vault).await?;
    }
    crate::catalog::demo::seed(db).await?;
    let new_programmes = crate::programmes::demo::seed(db).await? > 0;
    let first_counter = counters::counter_by_code(db, "UPT-JATIM-01").await?;
    let office = first_counter.as_ref().map(|c| c.office_id);
    let accounts = [
        ("admin", Role::Admin, None, None),
        ("koordinator", Role::Koordinator, office, None),
        (
            "petugas",
            Role::Petugas,
            office,
            first_counter.as_ref().map(|c| c.id),
        ),
        ("auditor", Role::Auditor, None, None),
        ("mitra", Role::Mitra, None, None),
        ("lembaga", Role::Lembaga, None, None),
    ];
    let mut logins = Vec::new();
    for (username, role, office_id, counter_id) in accounts {
        let password = random_password();
        let user_id = match users::user_by_username(db, username).await? {
            Some(user) => {
                users::set_password(db, user.id, &password).await?;
                user.id
            }
            None => {
                let new = NewUser {
                    username,
                    password: &password,
                    role,
                    office_id,
                    counter_id,
                };
                let id = users::create_user(db, new).await?;
                if let (Role::Petugas, Some(certified)) = (role, refresher) {
                    counters::demo::enrol_officer(db, id, "Petugas Demo", certified).await?;
                }
                id
            }
        };
        let token = match role {
            Role::Mitra => {
                let grants = [crate::access::GRANT_EXCHANGE.to_string()];
                Some(users::create_token(db, user_id, "demo", &grants, None).await?)
            }
            Role::Lembaga => {
                crate::programmes::link_user_to_agency(
                    db,
                    user_id,
                    crate::programmes::demo::DEMO_AGENCY,
                )
                .await?;
                None
            }
            _ => None,
        };
        logins.push(DemoLogin {
            username: username.to_string(),
            password,
            role,
            token,
        });
    }
    // An access request from another counter waits at the demo officer's counter.
    let admin = users::user_by_username(db, "admin").await?;
    let first = first_counter.as_ref().map(|c| c.id);
    let other = counters::counters(db)
        .await?
        .into_iter()
        .find(|c| Some(c.id) != first && Some(c.office_id) != office);
    if let (Some(admin), Some(first), Some(other)) = (admin, first, other) {
        participants::requests::seed_demo(db, other.id, first, admin.id).await?;
    }
    seed_floor(db, office).await?;
    if new_programmes {
        let officer = users::user_by_username(db, "petugas").await?;
        let agency_user = users::user_by_username(db, "lembaga").await?;
        if let (Some(counter), Some(officer), Some(agency_user)) =
            (&first_counter, officer, agency_user)
        {
            crate::programmes::demo::seed_referrals(db, counter.id, officer.id, agency_user.id)
                .await?;
        }
    }
    Ok(DemoSummary {
        offices: counters::offices(db).await?.len(),
        counters: counters::counters(db).await?.len(),
        participants: participants::count(db).await? as usize,
        logins,
    })
}

/// A morning on the floor of the first office's counters, served by the demo officer.
async fn seed_floor(db: &Db, office: Option<i64>) -> Result<()> {
    let (Some(office), Some(officer)) = (office, users::user_by_username(db, "petugas").await?)
    else {
        return Ok(());
    };
    let counters: Vec<_> = counters::floor_counters(db)
        .await?
        .into_iter()
        .filter(|c| c.office_id == office)
        .collect();
    crate::floor::demo::seed(db, &counters, officer.id).await
}

/// Writes `rows` synthetic Purna PMI to a CSV file in loket's import format (for benchmarks
/// and trying the import); NIKs are unique within the file.
pub fn write_csv(path: &std::path::Path, rows: usize, seed: u64) -> anyhow::Result<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut writer = csv::Writer::from_path(path)?;
    writer.write_record(FIELD_NAMES)?;
    let mut seen = std::collections::HashSet::with_capacity(rows);
    let provinces: Vec<&str> = OFFICES.iter().map(|o| o.2).collect();
    let mut serial: u16 = 0;
    let mut written = 0;
    while written < rows {
        serial = if serial >= 9999 { 1 } else { serial + 1 };
        let Some(province) = provinces.choose(&mut rng) else {
            break;
        };
        let Some(person) = person(&mut rng, province, serial) else {
            continue;
        };
        if !seen.insert(person.nik) {
            continue;
        }
        writer.write_record(to_fields(&person).values())?;
        written += 1;
    }
    writer.flush()?;
    Ok(written)
}

/// Synthetic NIKs can collide (same district, date and serial); keep the first of each.
async fn dedupe(
    records: Vec<(ParticipantData, participants::Sealed)>,
    db: &Db,
) -> Result<Vec<(ParticipantData, participants::Sealed)>> {
    let indexes: Vec<Vec<u8>> = records.iter().map(|(_, s)| s.nik_index.clone()).collect();
    let mut taken = participants::existing_nik_indexes(db, &indexes).await?;
    Ok(records
        .into_iter()
        .filter(|(_, s)| taken.insert(s.nik_index.clone()))
        .collect())
}
