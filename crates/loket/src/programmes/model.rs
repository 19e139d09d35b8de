//! The vocabulary of partner programmes: agencies, programmes with their eligibility rules as
//! data, referral states and which state may follow which.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::code_enum;

code_enum! {
    /// What kind of body runs a programme.
    pub enum AgencyKind {
        Ministry => ("ministry", "Kementerian/lembaga pusat", "Ministry or national agency"),
        Bank => ("bank", "Bank penyalur KUR", "KUR lending bank"),
        SocialSecurity => ("social_security", "Jaminan sosial", "Social security"),
        Province => ("province", "Dinas provinsi/kabupaten", "Provincial or district office"),
        Bp2mi => ("bp2mi", "BP2MI", "BP2MI"),
        LocalGovernment => ("local_government", "Pemerintah daerah", "Local government"),
        Ngo => ("ngo", "Lembaga swadaya masyarakat", "Non-governmental organisation"),
    }
}

code_enum! {
    /// What a programme offers.
    pub enum ProgrammeKind {
        Training => ("training", "Pelatihan vokasi", "Vocational training"),
        Credit => ("credit", "Kredit usaha", "Business credit"),
        JobPlacement => ("job_placement", "Penempatan kerja", "Job placement"),
        SocialSecurity => ("social_security", "Jaminan sosial", "Social security"),
        BusinessCoaching => ("business_coaching", "Pendampingan usaha", "Business coaching"),
        PsychosocialLegal => ("psychosocial_legal", "Bantuan psikososial/hukum", "Psychosocial or legal help"),
    }
}

code_enum! {
    /// Where a referral stands (draft → sent → accepted/declined → in progress → completed,
    /// did not attend or withdrawn).
    pub enum ReferralStatus {
        Draft => ("draft", "Draf", "Draft"),
        Sent => ("sent", "Terkirim", "Sent"),
        Accepted => ("accepted", "Diterima lembaga", "Accepted"),
        Declined => ("declined", "Ditolak lembaga", "Declined"),
        InProgress => ("in_progress", "Sedang berjalan", "In progress"),
        Completed => ("completed", "Selesai", "Completed"),
        DidNotAttend => ("did_not_attend", "Tidak hadir", "Did not attend"),
        Withdrawn => ("withdrawn", "Dibatalkan", "Withdrawn"),
    }
}

/// Who moves a referral: the counter that referred the person, or the receiving agency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Counter,
    Agency,
}

impl ReferralStatus {
    /// The states `side` may move a referral to from this one.
    pub fn next(self, side: Side) -> &'static [ReferralStatus] {
        use ReferralStatus::*;
        match (self, side) {
            (Draft, Side::Counter) => &[Sent, Withdrawn],
            (Sent | Accepted | InProgress, Side::Counter) => &[Withdrawn],
            (Sent, Side::Agency) => &[Accepted, Declined],
            (Accepted, Side::Agency) => &[InProgress, DidNotAttend],
            (InProgress, Side::Agency) => &[Completed, DidNotAttend, Withdrawn],
            _ => &[],
        }
    }

    /// A referral in this state holds one of the programme's places.
    pub fn holds_place(self) -> bool {
        use ReferralStatus::*;
        matches!(
            self,
            Sent | Accepted | InProgress | Completed | DidNotAttend
        )
    }

    /// The referral waits for the agency (an answer, or an outcome).
    pub fn open(self) -> bool {
        use ReferralStatus::*;
        matches!(self, Sent | Accepted | InProgress)
    }

    /// The stored codes (for SQL filters of open referrals).
    pub const OPEN: [&'static str; 3] = ["sent", "accepted", "in_progress"];
}

/// One eligibility rule, stored as JSON in `programmes.rules`: `{"rule": "age", "min": 18}`.
/// Lists hold stable codes (province "32", education "sma", sector "domestic_worker", stage
/// "accepted"...), so a new programme needs no release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// Age in whole years today.
    Age { min: Option<i64>, max: Option<i64> },
    /// Sex: "male" or "female".
    Sex { is: String },
    /// Lives in one of these provinces (two-digit Kemendagri codes).
    Province { any_of: Vec<String> },
    /// Highest education is one of these codes.
    Education { any_of: Vec<String> },
    /// Returned home at most this many months ago.
    ReturnedWithinMonths { months: i64 },
    /// Worked abroad in one of these sectors.
    JobSector { any_of: Vec<String> },
    /// Digital literacy is one of these codes.
    DigitalLiteracy { any_of: Vec<String> },
    /// The Prakerja journey has reached one of these stages.
    PrakerjaStage { any_of: Vec<String> },
}

/// A partner agency and where it serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Agency {
    pub id: i64,
    pub code: String,
    pub name: String,
    #[schema(value_type = String)]
    pub kind: AgencyKind,
    /// Two-digit province codes; empty: the whole country.
    pub provinces: Vec<String>,
}

/// A programme of an agency, with its rules, places and open period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Programme {
    pub id: i64,
    pub agency_id: i64,
    pub agency_code: String,
    pub agency_name: String,
    pub code: String,
    pub name: String,
    #[schema(value_type = String)]
    pub kind: ProgrammeKind,
    pub description: String,
    pub rules: Vec<Rule>,
    /// What the agency sees of a referred person (field codes: name, age, sex, region,
    /// phone, education, job_sector, return_date).
    pub needs: Vec<String>,
    /// Documents the person brings.
    pub documents: String,
    pub quota: Option<i64>,
    pub taken: i64,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
    /// Days the agency has to answer before the referral shows on the follow-up list.
    pub answer_days: i64,
    /// Provinces the agency serves (empty: the whole country).
    pub provinces: Vec<String>,
}

impl Programme {
    pub fn open_on(&self, day: NaiveDate) -> bool {
        self.opens_on.is_none_or(|d| d <= day) && self.closes_on.is_none_or(|d| day <= d)
    }

    pub fn full(&self) -> bool {
        self.quota.is_some_and(|q| self.taken >= q)
    }
}

/// A referral of one person to one programme.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Referral {
    pub id: i64,
    pub programme_id: i64,
    pub programme_name: String,
    pub agency_id: i64,
    pub agency_name: String,
    pub participant_id: i64,
    pub counter_id: Option<i64>,
    #[schema(value_type = String)]
    pub status: ReferralStatus,
    pub note: String,
    /// What the agency said (reason of a decline, outcome note).
    pub answer: String,
    pub consent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub status_at: DateTime<Utc>,
    pub version: i64,
}

/// One change of a referral, as the history shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReferralEvent {
    #[schema(value_type = String)]
    pub status: ReferralStatus,
    pub note: String,
    pub actor: Option<String>,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agency_answers_and_the_counter_sends_or_withdraws() {
        use ReferralStatus::*;
        assert_eq!(Draft.next(Side::Counter), &[Sent, Withdrawn]);
        assert!(Draft.next(Side::Agency).is_empty());
        assert_eq!(Sent.next(Side::Agency), &[Accepted, Declined]);
        assert!(Completed.next(Side::Agency).is_empty());
        assert!(Completed.next(Side::Counter).is_empty());
        assert!(!Declined.holds_place());
        assert!(Sent.holds_place());
    }

    #[test]
    fn rules_are_read_from_json_and_unknown_ones_refused() {
        let rules: Vec<Rule> = serde_json::from_str(
            r#"[{"rule":"age","min":18,"max":55},{"rule":"province","any_of":["32"]}]"#,
        )
        .unwrap();
        assert_eq!(
            rules[0],
            Rule::Age {
                min: Some(18),
                max: Some(55)
            }
        );
        assert!(serde_json::from_str::<Vec<Rule>>(r#"[{"rule":"height","min":1}]"#).is_err());
    }
}
