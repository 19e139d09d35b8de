//! Suggestions for one Purna PMI, each with the reasons an officer can read out: what they said
//! they want to learn, the work they did abroad, how much help they need with a phone, and what
//! their remaining balance buys.

use std::collections::HashMap;

use serde::Serialize;

use super::index::{Filters, Index};
use super::model::{Mode, Occupation, Offer, Training};
use crate::participants::model::{DigitalLiteracy, JobSector, ParticipantData};

/// The training balance of the 2023 scheme ("skema normal"), planned with only when no scheme
/// is known at all (the journey gives the person's own balance).
pub const DEFAULT_BALANCE: i64 = 3_500_000;
/// How many suggestions the printable list holds (it must fit on one page).
pub const LIMIT: usize = 8;
/// How deep each signal looks into the search results.
const DEPTH: usize = 30;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reason {
    /// In Bahasa Indonesia, as an officer says it.
    pub text: String,
    pub text_en: String,
}

impl Reason {
    fn new(text: impl Into<String>, text_en: impl Into<String>) -> Reason {
        Reason {
            text: text.into(),
            text_en: text_en.into(),
        }
    }
}

pub struct Recommendation<'a> {
    pub training: &'a Training,
    pub offer: Offer,
    pub reasons: Vec<Reason>,
    pub score: f32,
}

enum Ask {
    Words(String),
    Occupation(Occupation),
}

struct Signal {
    ask: Ask,
    weight: f32,
    reason: Reason,
    /// Signals of one group do not add up: a training for two of the jobs a sector leads to
    /// is not twice as suitable.
    group: usize,
}

/// (Indonesian, English) names of the usual destination countries.
fn country_name(code: &str) -> (String, String) {
    let known = [
        ("MY", "Malaysia", "Malaysia"),
        ("TW", "Taiwan", "Taiwan"),
        ("HK", "Hong Kong", "Hong Kong"),
        ("SA", "Arab Saudi", "Saudi Arabia"),
        ("SG", "Singapura", "Singapore"),
        ("KR", "Korea Selatan", "South Korea"),
        ("JP", "Jepang", "Japan"),
        ("BN", "Brunei Darussalam", "Brunei"),
        ("AE", "Uni Emirat Arab", "the United Arab Emirates"),
        ("QA", "Qatar", "Qatar"),
        ("KW", "Kuwait", "Kuwait"),
        ("OM", "Oman", "Oman"),
        ("PL", "Polandia", "Poland"),
        ("TR", "Turki", "Turkey"),
    ];
    known
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, id, en)| (id.to_string(), en.to_string()))
        .unwrap_or_else(|| (code.to_string(), code.to_string()))
}

/// How the work abroad is said in a sentence, and the jobs at home it leads to.
fn sector(job: JobSector) -> (&'static str, &'static str, &'static [Occupation]) {
    use Occupation::*;
    match job {
        JobSector::DomesticWorker => (
            "pekerja rumah tangga",
            "a domestic worker",
            &[Childcare, Housekeeping, Cook, Baker],
        ),
        JobSector::Caregiver => (
            "perawat/pengasuh",
            "a caregiver",
            &[CaregiverElderly, Childcare],
        ),
        JobSector::Manufacturing => (
            "pekerja pabrik",
            "a factory worker",
            &[FactoryOperator, Welder, Electrician],
        ),
        JobSector::Plantation => (
            "pekerja perkebunan",
            "a plantation worker",
            &[Farmer, Livestock],
        ),
        JobSector::Construction => (
            "pekerja konstruksi",
            "a construction worker",
            &[Construction, Welder, Electrician],
        ),
        JobSector::Fishing => (
            "anak buah kapal/nelayan",
            "a fisher or seafarer",
            &[FishFarmer, Mechanic],
        ),
        JobSector::Hospitality => (
            "pekerja hotel/restoran",
            "a hotel or restaurant worker",
            &[HotelStaff, Cook, Barista, CustomerService],
        ),
        JobSector::Other => ("", "", &[]),
    }
}

/// The language of the country worked in, which a returning worker may build on.
fn country_language(code: &str) -> Option<(&'static str, &'static str, &'static str)> {
    match code {
        "JP" => Some(("bahasa jepang", "bahasa Jepang", "Japanese")),
        "KR" => Some(("bahasa korea", "bahasa Korea", "Korean")),
        "TW" | "HK" | "SG" => Some(("bahasa mandarin", "bahasa Mandarin", "Mandarin")),
        _ => None,
    }
}

/// Interests as typed by an officer: "menjahit, tata boga / usaha kue".
fn interests(text: &str) -> Vec<String> {
    text.split([',', ';', '/', '\n'])
        .flat_map(|part| part.split(" dan "))
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| s.chars().count() >= 2)
        .take(5)
        .collect()
}

fn signals(p: &ParticipantData) -> Vec<Signal> {
    let mut out = Vec::new();
    for (group, interest) in p
        .training_interests
        .as_deref()
        .map(interests)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        out.push(Signal {
            group,
            reason: Reason::new(
                format!("karena berminat pada {interest}"),
                format!("because they are interested in {interest}"),
            ),
            ask: Ask::Words(interest),
            // What the person asks for comes first.
            weight: 1.2,
        });
    }
    let country = p
        .migration
        .destination_country
        .map(|c| c.as_str().to_string());
    let (country_id, country_en) = country.as_deref().map(country_name).unwrap_or_default();
    let place_id = if country_id.is_empty() {
        String::new()
    } else {
        format!(" di {country_id}")
    };
    let place_en = if country_en.is_empty() {
        String::new()
    } else {
        format!(" in {country_en}")
    };
    if let Some(job) = p.migration.job_sector {
        let (as_id, as_en, occupations) = sector(job);
        for occupation in occupations {
            out.push(Signal {
                group: 100,
                ask: Ask::Occupation(*occupation),
                weight: 0.8,
                reason: Reason::new(
                    format!(
                        "karena pernah bekerja sebagai {as_id}{place_id}; pengalamannya berguna untuk menjadi {}",
                        occupation.labels().0.to_lowercase()
                    ),
                    format!(
                        "because they worked as {as_en}{place_en}; that experience helps to become a {}",
                        occupation.labels().1.to_lowercase()
                    ),
                ),
            });
        }
    }
    if let Some((query, name_id, name_en)) = country.as_deref().and_then(country_language) {
        out.push(Signal {
            group: 200,
            ask: Ask::Words(query.to_string()),
            weight: 0.25,
            reason: Reason::new(
                format!(
                    "karena pernah bekerja{place_id}: {name_id} yang sudah dikenal bisa diperdalam"
                ),
                format!(
                    "because they worked{place_en}: the {name_en} they picked up can be deepened"
                ),
            ),
        });
    }
    out
}

/// How well the way a training is given suits the person's digital literacy and phone.
fn format_fit(p: &ParticipantData, mode: Mode) -> (f32, Option<Reason>) {
    let no_phone = p.has_smartphone == Some(false);
    match (p.digital_literacy, mode) {
        (Some(DigitalLiteracy::NeedsFullHelp), Mode::Offline) => (0.35, Some(Reason::new(
            "kelas tatap muka: cocok karena masih perlu dibantu sepenuhnya memakai ponsel dan internet",
            "in person: suits someone who still needs full help with a phone and the internet",
        ))),
        (Some(DigitalLiteracy::NeedsFullHelp), Mode::Blended) => (0.25, Some(Reason::new(
            "kelas campuran dengan praktik tatap muka: ada pendamping untuk bagian daringnya",
            "blended with in-person practice: someone helps with the online part",
        ))),
        (Some(DigitalLiteracy::NeedsFullHelp), Mode::Online) => (-0.3, None),
        (Some(DigitalLiteracy::NeedsSomeHelp), Mode::Blended) => (0.15, Some(Reason::new(
            "kelas campuran: sebagian tatap muka, jadi ada yang membantu bila bingung",
            "blended: partly in person, so there is help when stuck",
        ))),
        (Some(DigitalLiteracy::NeedsSomeHelp), Mode::Offline) => (0.1, None),
        (_, Mode::Online) if no_phone => (-0.2, None),
        (_, Mode::Offline) if no_phone => (0.1, Some(Reason::new(
            "kelas tatap muka: tidak memerlukan ponsel pintar",
            "in person: no smartphone needed",
        ))),
        _ => (0.0, None),
    }
}

/// Up to [`LIMIT`] trainings the person can buy with `balance`, best first, with reasons.
pub fn recommend<'a>(
    index: &'a Index,
    p: &ParticipantData,
    balance: i64,
) -> Vec<Recommendation<'a>> {
    let filters = Filters {
        max_price: Some(balance),
        ..Filters::default()
    };
    let signals = signals_or_popular(p);
    let found = trainings_found(index, &signals, &filters);
    let mut scored: Vec<Recommendation> = found
        .into_iter()
        .filter_map(|(id, (score, why))| {
            let training = index.get(id)?;
            let offer = super::index::affordable_offer(training, &filters)?;
            Some(recommendation(
                p, &signals, balance, training, offer, score, why,
            ))
        })
        .collect();
    scored.sort_by(best_first);
    with_variety(scored)
}

/// The person's signals; with none recorded, a plain search so the list is not empty.
fn signals_or_popular(p: &ParticipantData) -> Vec<Signal> {
    let mut signals = signals(p);
    if signals.is_empty() {
        signals.push(Signal {
            group: 0,
            ask: Ask::Words(String::new()),
            weight: 0.5,
            reason: Reason::new(
                "banyak dipilih peserta dan bernilai tinggi (belum ada minat atau riwayat kerja yang dicatat)",
                "popular and well rated (no interests or work history recorded yet)",
            ),
        });
    }
    signals
}

/// Per training: score and the signals that found it as (contribution, signal index).
type Found = HashMap<i64, (f32, Vec<(f32, usize)>)>;

/// Runs every signal's search; a training's score is the sum over signal groups of the best
/// contribution within each group, higher-ranked hits contributing more.
fn trainings_found(index: &Index, signals: &[Signal], filters: &Filters) -> Found {
    let mut found = Found::new();
    for (s, signal) in signals.iter().enumerate() {
        let (q, f) = match &signal.ask {
            Ask::Words(w) => (w.as_str(), filters.clone()),
            Ask::Occupation(o) => (
                "",
                Filters {
                    occupation: Some(*o),
                    ..filters.clone()
                },
            ),
        };
        for (rank, hit) in index.search(q, &f, 0, DEPTH).hits.iter().enumerate() {
            let contribution = signal.weight * (1.0 - 0.6 * rank as f32 / DEPTH as f32);
            let entry = found.entry(hit.training.id).or_default();
            match entry
                .1
                .iter_mut()
                .find(|(_, other)| signals[*other].group == signal.group)
            {
                Some(same) if same.0 >= contribution => {}
                Some(same) => *same = (contribution, s),
                None => entry.1.push((contribution, s)),
            }
            entry.0 = entry.1.iter().map(|(c, _)| c).sum();
        }
    }
    found
}

/// One suggestion: the two strongest signals as reasons, then how the mode fits the person and
/// what the offer costs, so the officer can explain the choice.
fn recommendation<'a>(
    p: &ParticipantData,
    signals: &[Signal],
    balance: i64,
    training: &'a Training,
    offer: Offer,
    score: f32,
    mut why: Vec<(f32, usize)>,
) -> Recommendation<'a> {
    let (fit, fit_reason) = format_fit(p, training.data.mode);
    let rating = training.data.rating_tenths.unwrap_or(40) as f32 / 50.0 * 0.1;
    why.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut reasons: Vec<Reason> = why
        .iter()
        .take(2)
        .map(|(_, s)| signals[*s].reason.clone())
        .collect();
    reasons.extend(fit_reason);
    reasons.push(price_reason(offer, balance));
    Recommendation {
        training,
        offer,
        reasons,
        score: score + fit + rating,
    }
}

fn price_reason(offer: Offer, balance: i64) -> Reason {
    Reason::new(
        format!(
            "harga {} di {}, cukup dari sisa saldo {}",
            crate::format::Rupiah(offer.price),
            offer.platform.name(),
            crate::format::Rupiah(balance)
        ),
        format!(
            "costs {} on {}, within the remaining balance of {}",
            crate::format::Rupiah(offer.price),
            offer.platform.name(),
            crate::format::Rupiah(balance)
        ),
    )
}

/// Variety: at most two from one institution, never the same title twice, and at most
/// three led by the same reason while other reasons still have something to offer.
/// `scored` must be best first; so is the result.
fn with_variety(scored: Vec<Recommendation>) -> Vec<Recommendation> {
    let mut per_institution: HashMap<i64, usize> = HashMap::new();
    let mut titles = std::collections::HashSet::new();
    let eligible: Vec<Recommendation> = scored
        .into_iter()
        .filter(|r| {
            let n = per_institution
                .entry(r.training.institution_id)
                .or_default();
            *n += 1;
            *n <= 2 && titles.insert(r.training.data.title.to_lowercase())
        })
        .collect();
    let mut per_reason: HashMap<String, usize> = HashMap::new();
    let (mut chosen, mut held): (Vec<Recommendation>, Vec<Recommendation>) =
        (Vec::new(), Vec::new());
    for r in eligible {
        let lead = r
            .reasons
            .first()
            .map(|x| x.text.clone())
            .unwrap_or_default();
        let n = per_reason.entry(lead).or_default();
        *n += 1;
        if *n <= 3 && chosen.len() < LIMIT {
            chosen.push(r);
        } else {
            held.push(r);
        }
    }
    // Held-back ones fill the list only when the other reasons ran out.
    let room = LIMIT.saturating_sub(chosen.len());
    chosen.extend(held.into_iter().take(room));
    chosen.sort_by(best_first);
    chosen
}

/// Highest score first; the training id breaks ties so the order is stable.
fn best_first(a: &Recommendation, b: &Recommendation) -> std::cmp::Ordering {
    b.score.total_cmp(&a.score).then(
        a.training
            .data
            .external_id
            .cmp(&b.training.data.external_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interests_are_split_the_way_officers_write_them() {
        assert_eq!(
            interests("menjahit, tata boga / usaha kue dan barista"),
            ["menjahit", "tata boga", "usaha kue", "barista"]
        );
    }
}
