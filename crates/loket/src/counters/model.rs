//! The counter network's closed lists and rules: lifecycle, location types, ToT, targets.

use chrono::{Months, NaiveDate};
use serde::Serialize;

use crate::code_enum;

code_enum! {
    pub enum CounterStatus {
        Planned => ("planned", "Direncanakan", "Planned"),
        Preparing => ("preparing", "Persiapan", "Preparing"),
        Operating => ("operating", "Beroperasi", "Operating"),
        Paused => ("paused", "Dihentikan sementara", "Paused"),
        Closed => ("closed", "Ditutup", "Closed"),
    }
}

impl CounterStatus {
    /// The lifecycle `planned → preparing → operating → paused → closed`: a pause can end in
    /// operating again, and a counter can be closed from any state but closed.
    pub fn may_become(self, next: CounterStatus) -> bool {
        use CounterStatus::*;
        matches!(
            (self, next),
            (Planned, Preparing)
                | (Preparing | Paused, Operating)
                | (Operating, Paused)
                | (Planned | Preparing | Operating | Paused, Closed)
        )
    }
}

code_enum! {
    pub enum LocationType {
        Office => ("office", "Kantor UPT/BP3MI", "BP2MI office"),
        Arrival => ("arrival", "Bandara/pelabuhan kedatangan", "Airport or port arrival point"),
        Quarantine => ("quarantine", "Lokasi karantina", "Quarantine site"),
        Other => ("other", "Lainnya", "Other"),
    }
}

code_enum! {
    pub enum CascadeRole {
        CentralTrainer => ("central_trainer", "Pelatih pusat BP2MI", "BP2MI central trainer"),
        CounterOfficer => ("counter_officer", "Petugas loket", "Counter officer"),
    }
}

code_enum! {
    pub enum TotLevel {
        Central => ("central", "ToT pusat (oleh Manajemen Pelaksana)", "Central ToT (by the programme office)"),
        Counter => ("counter", "Pelatihan petugas loket (oleh pelatih pusat)", "Counter officer training (by central trainers)"),
    }
}

code_enum! {
    pub enum TotMode {
        Online => ("online", "Daring", "Online"),
        Offline => ("offline", "Luring", "In person"),
    }
}

code_enum! {
    pub enum Metric {
        CountersOperating => ("counters_operating", "Loket beroperasi", "Counters operating"),
        OfficersCertified => ("officers_certified", "Petugas bersertifikat", "Certified officers"),
        Reached => ("reached", "Purna PMI terjangkau", "Purna PMI reached"),
        CardReceived => ("card_received", "Purna PMI penerima kartu", "Purna PMI who received the card"),
    }
}

code_enum! {
    /// What counts as "reached": each is a figure of its own, and each reach target names one.
    /// The seed's 110,000 are people accepted as card recipients (`accepted`); people
    /// registered at a counter are a different, also useful, figure.
    pub enum ReachDefinition {
        Registered => ("registered", "Terdaftar di loket", "Registered at a counter"),
        Accepted => ("accepted", "Diterima di gelombang (penerima kartu)", "Accepted into a batch (card recipient)"),
        TrainingBought => ("training_bought", "Membeli pelatihan", "Bought a training"),
        TrainingCompleted => ("training_completed", "Menyelesaikan pelatihan", "Finished a training"),
        IncentivePaid => ("incentive_paid", "Menerima insentif (minimal sekali)", "Received at least one incentive"),
        Assisted => ("assisted", "Didampingi (minimal satu sesi)", "Assisted in at least one session"),
    }
}

impl Metric {
    /// The reach definition a target of this metric counts: `card_received` is always
    /// `accepted`; a `reached` target names its own (`stored`), or counts registrations.
    pub fn definition(self, stored: &str) -> Option<ReachDefinition> {
        match self {
            Metric::CardReceived => Some(ReachDefinition::Accepted),
            Metric::Reached => {
                Some(ReachDefinition::parse(stored).unwrap_or(ReachDefinition::Registered))
            }
            Metric::CountersOperating | Metric::OfficersCertified => None,
        }
    }
}

/// The score (0–100) an officer needs in a ToT assessment to be certified.
pub const PASS_SCORE: i64 = 70;

/// How long a ToT certificate is valid.
pub const CERTIFICATE_MONTHS: u32 = 24;

pub fn certificate_valid_until(certified_on: NaiveDate) -> NaiveDate {
    certified_on
        .checked_add_months(Months::new(CERTIFICATE_MONTHS))
        .unwrap_or(NaiveDate::MAX)
}

/// Where a figure or target applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum ScopeRef {
    National,
    /// Two-digit Kemendagri province code.
    Province(String),
    /// Office code, e.g. `UPT-JATIM`.
    Office(String),
    /// Counter code, e.g. `UPT-JATIM-01`.
    Counter(String),
}

impl ScopeRef {
    pub fn kind(&self) -> &'static str {
        match self {
            ScopeRef::National => "national",
            ScopeRef::Province(_) => "province",
            ScopeRef::Office(_) => "office",
            ScopeRef::Counter(_) => "counter",
        }
    }

    pub fn code(&self) -> &str {
        match self {
            ScopeRef::National => "",
            ScopeRef::Province(c) | ScopeRef::Office(c) | ScopeRef::Counter(c) => c,
        }
    }

    /// `national`, `province:35`, `office:UPT-JATIM`, `counter:UPT-JATIM-01`.
    pub fn parse(text: &str) -> Option<ScopeRef> {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("national") {
            return Some(ScopeRef::National);
        }
        let (kind, code) = text.split_once(':')?;
        let code = code.trim().to_string();
        if code.is_empty() {
            return None;
        }
        ScopeRef::from_parts(kind.trim(), &code)
    }

    pub fn from_parts(kind: &str, code: &str) -> Option<ScopeRef> {
        let code = code.to_string();
        match kind.to_ascii_lowercase().as_str() {
            "national" | "nasional" => Some(ScopeRef::National),
            "province" | "provinsi" => Some(ScopeRef::Province(code)),
            "office" | "kantor" => Some(ScopeRef::Office(code)),
            "counter" | "loket" => Some(ScopeRef::Counter(code)),
            _ => None,
        }
    }

    /// The text form accepted by [`ScopeRef::parse`] (used in links and file names).
    pub fn key(&self) -> String {
        match self {
            ScopeRef::National => "national".into(),
            other => format!("{}:{}", other.kind(), other.code()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_moves_forward_and_can_pause() {
        use CounterStatus::*;
        assert!(Planned.may_become(Preparing));
        assert!(!Planned.may_become(Operating));
        assert!(Preparing.may_become(Operating));
        assert!(Operating.may_become(Paused) && Paused.may_become(Operating));
        assert!(Operating.may_become(Closed));
        assert!(!Closed.may_become(Operating) && !Closed.may_become(Planned));
        assert!(!Operating.may_become(Operating));
    }

    #[test]
    fn scopes_round_trip_through_their_key() {
        for s in [
            ScopeRef::National,
            ScopeRef::Province("35".into()),
            ScopeRef::Office("UPT-JATIM".into()),
            ScopeRef::Counter("UPT-JATIM-01".into()),
        ] {
            assert_eq!(ScopeRef::parse(&s.key()), Some(s));
        }
        assert_eq!(ScopeRef::parse(""), Some(ScopeRef::National));
        assert_eq!(ScopeRef::parse("planet:3"), None);
        assert_eq!(ScopeRef::parse("province:"), None);
    }

    #[test]
    fn certificates_last_two_years() {
        let d = NaiveDate::from_ymd_opt(2021, 6, 10).unwrap();
        assert_eq!(
            certificate_valid_until(d),
            NaiveDate::from_ymd_opt(2023, 6, 10).unwrap()
        );
    }
}
