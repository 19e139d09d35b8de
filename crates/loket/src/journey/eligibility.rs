//! Eligibility advice before joining a batch (Permenko 11/2020 and later): the pure rule and
//! the service that gathers the facts from the database.

use chrono::{Datelike, NaiveDate};

use super::machine::JourneyState;
use super::record::batch_of;
use super::scheme::{Batch, Rules, Scheme};
use super::service::{clean, reach, Loaded, ENTITY};
use super::store::{self, Person};
use crate::access::Action;
use crate::audit::{self, Entry};
use crate::code_enum;
use crate::error::{AppError, Result};
use crate::i18n::Lang;
use crate::identity::Actor;
use crate::state::AppState;

code_enum! {
    /// Self-declared occupation, asked before joining a batch. The excluded groups are the
    /// regulation's own list: Perpres 36/2020 as amended by Perpres 76/2020 (the exclusion
    /// the amendment added to Pasal 3), carried out by Permenko 11/2020 Pasal 2 ayat (5):
    /// "Kartu Prakerja ... tidak dapat diberikan kepada: a. Pejabat Negara; b. Pimpinan dan
    /// Anggota Dewan Perwakilan Rakyat Daerah; c. Aparatur Sipil Negara; d. Prajurit Tentara
    /// Nasional Indonesia; e. Anggota Kepolisian Negara Republik Indonesia; f. Kepala Desa dan
    /// perangkat desa; dan g. Direksi, Komisaris, dan Dewan Pengawas pada BUMN atau BUMD."
    /// Being in formal education is excluded by Pasal 2 ayat (4) huruf c of the same rule.
    /// a) and b) were missing here before issue 18. The text of Perpres 113/2022 (the later
    /// amendment) was not at hand when this list was checked: compare it before the 2023
    /// scheme relies on the list.
    pub enum Occupation {
        None => ("none", "Tidak termasuk yang dikecualikan", "None of the excluded"),
        Student => ("student", "Pelajar/mahasiswa aktif", "Student in formal education"),
        StateOfficial => ("state_official", "Pejabat negara", "State official"),
        DprdMember => ("dprd_member", "Pimpinan/anggota DPRD", "Leader or member of a regional parliament (DPRD)"),
        CivilServant => ("civil_servant", "ASN (PNS/PPPK)", "Civil servant"),
        TniPolri => ("tni_polri", "Anggota TNI/Polri", "Armed forces or police"),
        VillageOfficial => ("village_official", "Kepala desa/perangkat desa", "Village head or official"),
        BumnDirector => ("bumn_director", "Direksi/komisaris BUMN/BUMD", "SOE director or commissioner"),
    }
}

/// Eligibility facts that come from the database.
#[derive(Clone, Debug, Default)]
pub struct EligibilityFacts {
    pub birth_date: NaiveDate,
    pub occupation: Option<Occupation>,
    /// Other participants on the same family card (KK) who received a card.
    pub kk_recipients: i64,
    /// This NIK received a card before, or was barred by a revocation.
    pub previous_recipient: bool,
}

/// One reason against joining, with a stable code.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Advice {
    pub code: String,
    pub message: String,
    pub message_en: String,
}

fn advice(code: &str, message: String, message_en: String) -> Advice {
    Advice {
        code: code.to_string(),
        message,
        message_en,
    }
}

pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i64 {
    let mut age = i64::from(on.year() - birth.year());
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Advice before joining `batch` (Permenko 11/2020 and later): empty when nothing speaks against.
pub fn eligibility(facts: &EligibilityFacts, batch: &Batch, scheme: &Scheme) -> Vec<Advice> {
    let mut out = Vec::new();
    let age = age_on(facts.birth_date, batch.opens_on);
    if age < scheme.min_age {
        out.push(advice(
            "age_below_minimum",
            format!(
                "Usia {age} tahun saat gelombang {} dibuka; minimal {} tahun.",
                batch.number, scheme.min_age
            ),
            format!(
                "Aged {age} when batch {} opens; the minimum is {}.",
                batch.number, scheme.min_age
            ),
        ));
    }
    let max_applies = scheme
        .max_age_from_batch
        .is_some_and(|from| batch.number >= from);
    if let (true, Some(max)) = (max_applies, scheme.max_age) {
        if age > max {
            out.push(advice(
                "age_above_maximum",
                format!(
                    "Usia {age} tahun; sejak gelombang {} batas usia {max} tahun.",
                    scheme.max_age_from_batch.unwrap_or(1)
                ),
                format!(
                    "Aged {age}; from batch {} the age limit is {max}.",
                    scheme.max_age_from_batch.unwrap_or(1)
                ),
            ));
        }
    }
    if let Some(occupation) = facts.occupation.filter(|o| *o != Occupation::None) {
        out.push(advice(
            "excluded_occupation",
            format!(
                "Menyatakan diri {}: tidak termasuk sasaran Kartu Prakerja.",
                occupation.label(Lang::Id)
            ),
            format!(
                "Declared as {}: not a Kartu Prakerja target group.",
                occupation.label(Lang::En)
            ),
        ));
    }
    if facts.kk_recipients >= 2 {
        out.push(advice(
            "kk_limit_reached",
            format!(
                "Sudah {} penerima Kartu Prakerja dalam satu KK yang dikenal loket; batasnya 2.",
                facts.kk_recipients
            ),
            format!(
                "{} known card recipients already share this family card; the limit is 2.",
                facts.kk_recipients
            ),
        ));
    }
    if facts.previous_recipient {
        out.push(advice(
            "previous_recipient",
            "NIK ini pernah menerima kartu atau dicabut kepesertaannya: satu orang satu kartu."
                .into(),
            "This NIK received a card before or was revoked: one card per person.".into(),
        ));
    }
    out
}

/// Eligibility advice for joining `batch`, with the facts from the database.
pub(super) async fn advise(
    state: &AppState,
    person: &Person,
    loaded_state: &JourneyState,
    rules: &Rules,
    batch: &Batch,
    occupation: Option<Occupation>,
) -> Result<Vec<Advice>> {
    let Some(scheme) = rules.schemes.get(&batch.scheme_id) else {
        return Ok(Vec::new());
    };
    let kk_recipients = match &person.kk_index {
        Some(kk) => store::kk_recipients(&state.db, kk, person.id).await?,
        None => 0,
    };
    let facts = EligibilityFacts {
        birth_date: person.birth_date,
        occupation,
        kk_recipients,
        previous_recipient: loaded_state.accepted()
            || store::is_barred(&state.db, &person.nik_index).await?,
    };
    Ok(eligibility(&facts, batch, scheme))
}

pub(super) fn parse_occupation(text: &Option<String>) -> Result<Option<Occupation>> {
    match clean(text) {
        None => Ok(None),
        Some(t) => Occupation::parse(&t).map(Some).ok_or_else(|| {
            AppError::field(
                "occupation",
                "occupation_unknown",
                format!("Pekerjaan tidak dikenal. Pilih: {}.", Occupation::codes()).as_str(),
                format!("Unknown occupation. Use one of: {}.", Occupation::codes()).as_str(),
            )
        }),
    }
}

/// The eligibility advice for joining a batch, without recording anything.
pub async fn eligibility_advice(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
    batch: i64,
    occupation: &Option<String>,
) -> Result<Vec<Advice>> {
    let person = reach(state, actor, participant_id, Action::ViewJourney).await?;
    let occupation = parse_occupation(occupation)?;
    let loaded = Loaded::load(&state.db, person).await?;
    let batch = batch_of(&loaded.rules, Some(batch))?.clone();
    let journey = loaded.state()?;
    let advice = advise(
        state,
        &loaded.person,
        &journey,
        &loaded.rules,
        &batch,
        occupation,
    )
    .await?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("journey.eligibility", ENTITY, participant_id),
    )
    .await?;
    Ok(advice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journey::scheme::scheme_2021;

    #[test]
    fn eligibility_gives_reasons() {
        let scheme = scheme_2021();
        let batch18 = Batch {
            id: 2,
            scheme_id: 1,
            number: 18,
            opens_on: NaiveDate::from_ymd_opt(2021, 7, 1).unwrap(),
        };
        let facts = EligibilityFacts {
            birth_date: NaiveDate::from_ymd_opt(1955, 1, 1).unwrap(),
            occupation: Some(Occupation::VillageOfficial),
            kk_recipients: 2,
            previous_recipient: false,
        };
        let codes: Vec<String> = eligibility(&facts, &batch18, &scheme)
            .into_iter()
            .map(|a| a.code)
            .collect();
        assert_eq!(
            codes,
            [
                "age_above_maximum",
                "excluded_occupation",
                "kk_limit_reached"
            ]
        );
        let batch17 = Batch {
            number: 17,
            ..batch18
        };
        let older_ok = EligibilityFacts {
            occupation: Some(Occupation::None),
            kk_recipients: 1,
            ..facts
        };
        assert!(eligibility(&older_ok, &batch17, &scheme).is_empty());
        // Every group the regulation excludes is refused, including state officials and
        // regional parliament members (Permenko 11/2020 Pasal 2 ayat (5) huruf a, b).
        for excluded in Occupation::ALL.iter().filter(|o| **o != Occupation::None) {
            let facts = EligibilityFacts {
                occupation: Some(*excluded),
                ..older_ok.clone()
            };
            let codes: Vec<String> = eligibility(&facts, &batch17, &scheme)
                .into_iter()
                .map(|a| a.code)
                .collect();
            assert_eq!(codes, ["excluded_occupation"], "{excluded:?}");
        }
        assert!(Occupation::parse("state_official").is_some());
        assert!(Occupation::parse("dprd_member").is_some());
    }
}
