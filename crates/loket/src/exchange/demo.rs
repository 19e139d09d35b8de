//! Demo data for the exchange: a BP2MI master list of people who never came to a counter, and
//! a programme-office recipients file written to disk to try the upload with. The file has the
//! errors real files have: a wrong NIK digit, Moh./Muhammad and titles, day and month swapped,
//! a NIK on another person's line.

use chrono::{Duration, NaiveDate};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::store::{self, NewMasterPerson};
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::participants::model::ParticipantData;
use crate::vault::{IndexKind, Vault};
use crate::with_db;

/// Registry people the file names (those who have not joined a batch yet) and strangers.
const FROM_REGISTRY: usize = 150;
const STRANGERS: u16 = 40;
const TITLES: &[&str] = &[
    "Menjahit Busana Muslim",
    "Barista Kopi",
    "Digital Marketing UMKM",
    "Tata Rias Pengantin",
];

struct Recipient {
    nik: String,
    name: String,
    birth: NaiveDate,
    /// The day of the person's last recorded journey event: the file's steps come after it.
    last_event: Option<NaiveDate>,
    /// In the registry (the file names them) rather than a stranger.
    known: bool,
}

/// Makes the people in the file whom the registry does not know. The app-level demo seeder owns
/// the synthetic population (names, regions, offices); it is passed in so that the exchange does
/// not depend on the app's seeder (`loket::demo::stranger_maker()` gives the usual one).
pub struct StrangerMaker {
    /// Province codes the strangers are drawn from.
    pub provinces: Vec<&'static str>,
    /// One synthetic person of a province with the given NIK serial.
    pub person: fn(&mut ChaCha8Rng, &str, u16) -> Option<ParticipantData>,
}

/// Seeds the master list (once) and writes the sample recipients file; returns its rows.
pub async fn seed_and_write(
    db: &Db,
    vault: &Vault,
    path: &std::path::Path,
    maker: &StrangerMaker,
) -> Result<usize> {
    write_sample(db, vault, path, FROM_REGISTRY, STRANGERS, maker).await
}

/// Seeds the master list (once, half of the strangers) and writes a recipients file naming
/// `from_registry` registry people (with real files' errors) and `strangers` unknown people.
pub async fn write_sample(
    db: &Db,
    vault: &Vault,
    path: &std::path::Path,
    from_registry: usize,
    strangers: u16,
    maker: &StrangerMaker,
) -> Result<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(20_211_112);
    let strangers = make_strangers(&mut rng, strangers, maker);
    if store::master_count(db).await? == 0 {
        let people: Vec<NewMasterPerson> = strangers
            .iter()
            .step_by(2)
            .map(|p| NewMasterPerson {
                nik_enc: vault.seal(IndexKind::Nik, &p.nik),
                nik_index: vault.blind_index(IndexKind::Nik, &p.nik),
                full_name: p.name.clone(),
                birth_date: Some(p.birth),
                sex: None,
                district_code: p.nik.get(..6).unwrap_or_default().to_string(),
                phone_enc: None,
                destination_country: Some("MY".into()),
                return_date: None,
            })
            .collect();
        if let Some(admin) = crate::auth::user_by_username(db, "admin").await? {
            store::insert_master(db, "demo-siskop2mi.csv", &[0], admin.id, &people).await?;
        }
    }
    let mut recipients = registry_people(db, vault, from_registry).await?;
    for r in &mut recipients {
        noisy(&mut rng, r);
    }
    misplace_niks(&mut recipients);
    recipients.extend(strangers);
    write(db, &mut rng, &recipients, path, from_registry).await
}

fn make_strangers(rng: &mut ChaCha8Rng, count: u16, maker: &StrangerMaker) -> Vec<Recipient> {
    let mut out = Vec::new();
    for serial in 0..count {
        let Some(province) = maker.provinces.choose(rng) else {
            break;
        };
        if let Some(p) = (maker.person)(rng, province, 9999 - serial % 5000) {
            out.push(Recipient {
                nik: p.nik.as_str().to_string(),
                name: p.full_name.as_str().to_string(),
                birth: p.birth_date,
                last_event: None,
                known: false,
            });
        }
    }
    out
}

/// id, sealed NIK, name, birth date, day of the current stage.
type RegistryRow = (i64, Vec<u8>, String, NaiveDate, Option<i64>);

async fn registry_people(db: &Db, vault: &Vault, wanted: usize) -> Result<Vec<Recipient>> {
    let rows: Vec<RegistryRow> = with_db!(db, |pool| sqlx::query_as(
        "SELECT p.id, p.nik_enc, p.full_name, p.birth_date, j.stage_day FROM participants p \
         LEFT JOIN journey_progress j ON j.participant_id = p.id \
         WHERE j.participant_id IS NULL \
         OR j.stage IN ('not_registered', 'account_created', 'profile_verified', 'test_passed') \
         ORDER BY p.id LIMIT $1"
    )
    .bind(wanted as i64 * 6)
    .fetch_all(pool)
    .await?);
    rows.into_iter()
        .map(|(id, enc, name, birth, stage_day)| {
            let nik = vault
                .open(IndexKind::Nik, &enc)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("participant {id}: {e}")))?;
            Ok(Recipient {
                nik,
                name,
                birth,
                last_event: stage_day.map(crate::journey::from_day_number),
                known: true,
            })
        })
        .collect()
}

/// The errors of real files, on about one row in four.
fn noisy(rng: &mut ChaCha8Rng, r: &mut Recipient) {
    match rng.gen_range(0..20) {
        0 | 1 => {
            // One wrong digit in the district part.
            let mut digits: Vec<u8> = r.nik.bytes().collect();
            if let Some(d) = digits.get_mut(5) {
                *d = if *d == b'9' { b'1' } else { *d + 1 };
            }
            r.nik = String::from_utf8(digits).unwrap_or_default();
        }
        2 => r.name = format!("Hj. {}", r.name),
        3 => r.name = r.name.replace("Muhammad", "M.").replace("Siti", "Sitti"),
        4 => r.name = r.name.to_uppercase(),
        5 => {
            // A wrong serial digit and the day and month swapped: for the review queue.
            let mut digits: Vec<u8> = r.nik.bytes().collect();
            if let Some(d) = digits.get_mut(14) {
                *d = if *d == b'9' { b'1' } else { *d + 1 };
            }
            r.nik = String::from_utf8(digits).unwrap_or_default();
            if let Some(swapped) = NaiveDate::from_ymd_opt(
                chrono::Datelike::year(&r.birth),
                chrono::Datelike::day(&r.birth),
                chrono::Datelike::month(&r.birth),
            ) {
                r.birth = swapped;
            }
        }
        _ => {}
    }
}

/// A NIK typed on another person's line, as a tired clerk does: every 25th registry person's
/// NIK comes with the next person's name and birth date (the review queue must catch it).
fn misplace_niks(recipients: &mut [Recipient]) {
    for i in (3..recipients.len()).step_by(25) {
        let Some((name, birth)) = recipients.get(i + 1).map(|r| (r.name.clone(), r.birth)) else {
            break;
        };
        if let Some(r) = recipients.get_mut(i) {
            r.name = name;
            r.birth = birth;
        }
    }
}

async fn write(
    db: &Db,
    rng: &mut ChaCha8Rng,
    recipients: &[Recipient],
    path: &std::path::Path,
    from_registry: usize,
) -> Result<usize> {
    let today = crate::clock::today();
    let batches = crate::journey::batches(db).await?;
    let open: Vec<_> = batches
        .iter()
        .filter(|b| b.opens_on <= today - Duration::days(30))
        .collect();
    let fail = |e: csv::Error| AppError::Internal(anyhow::anyhow!("sample file: {e}"));
    let mut out = csv::Writer::from_path(path).map_err(fail)?;
    out.write_record([
        "nik",
        "nama",
        "tanggal_lahir",
        "gelombang",
        "tanggal_diterima",
        "tanggal_beli_pelatihan",
        "judul_pelatihan",
        "tanggal_selesai_pelatihan",
        "insentif_1_tanggal",
        "insentif_1_jumlah",
    ])
    .map_err(fail)?;
    let (mut written, mut known) = (0, 0);
    let mut seen = std::collections::HashSet::new();
    for r in recipients {
        // A noisy NIK may land on another person's: a file names each NIK once.
        if (r.known && known >= from_registry) || !seen.insert(r.nik.clone()) {
            continue;
        }
        // A batch after the person's last step at the counter, as the real order would be.
        let later: Vec<_> = open
            .iter()
            .filter(|b| r.last_event.is_none_or(|d| b.opens_on > d))
            .rev()
            .take(3)
            .collect();
        let Some(batch) = later.choose(rng) else {
            continue;
        };
        written += 1;
        if r.known {
            known += 1;
        }
        let accepted = batch.opens_on + Duration::days(rng.gen_range(3..10));
        let bought = accepted + Duration::days(rng.gen_range(1..14));
        let completed = bought + Duration::days(rng.gen_range(5..30));
        let paid = completed + Duration::days(rng.gen_range(20..40));
        let stage = rng.gen_range(0..4);
        // Only what has happened by yesterday is in the file.
        let show = |d: NaiveDate, from: u32| {
            if stage >= from && d < today {
                d.to_string()
            } else {
                String::new()
            }
        };
        let (bought, completed, paid) = (show(bought, 1), show(completed, 2), show(paid, 3));
        let title = if bought.is_empty() {
            String::new()
        } else {
            TITLES
                .choose(rng)
                .map(std::string::ToString::to_string)
                .unwrap_or_default()
        };
        let amount = if paid.is_empty() { "" } else { "600000" };
        out.write_record([
            r.nik.clone(),
            r.name.clone(),
            r.birth.format("%d/%m/%Y").to_string(),
            batch.number.to_string(),
            accepted.to_string(),
            bought,
            title,
            completed,
            paid,
            amount.to_string(),
        ])
        .map_err(fail)?;
    }
    out.flush()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("sample file: {e}")))?;
    Ok(written)
}
