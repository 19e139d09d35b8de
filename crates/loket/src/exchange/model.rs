//! The exchange's domain: a programme-office row and the journey facts it states, BP2MI
//! master-list rows, review decisions, the events a row turns into, and the nearest counter.

use chrono::NaiveDate;
use nik::Nik;
use serde::{Deserialize, Serialize};

use crate::code_enum;
use crate::journey::Stage;

code_enum! {
    /// What became of a row of a programme-office file.
    pub enum Decision {
        Auto => ("auto", "Cocok otomatis", "Matched automatically"),
        Review => ("review", "Perlu diperiksa", "Needs review"),
        Accepted => ("accepted", "Diterima pemeriksa", "Accepted by reviewer"),
        Rejected => ("rejected", "Ditolak pemeriksa", "Rejected by reviewer"),
        Unmatched => ("unmatched", "Tidak ditemukan di registri", "Not in the registry"),
    }
}

impl Decision {
    /// Rows whose journey facts are applied to a registry person.
    pub fn is_linked(self) -> bool {
        matches!(self, Decision::Auto | Decision::Accepted)
    }

    /// Rows listed for outreach: recipients loket does not know yet.
    pub fn is_outreach(self) -> bool {
        matches!(self, Decision::Rejected | Decision::Unmatched)
    }
}

code_enum! {
    /// Where an upload is in its life.
    pub enum UploadStatus {
        Linking => ("linking", "Sedang dicocokkan", "Linking"),
        Review => ("review", "Menunggu pemeriksaan", "Awaiting review"),
        Applying => ("applying", "Sedang diterapkan", "Applying"),
        Applied => ("applied", "Sudah diterapkan", "Applied"),
        Failed => ("failed", "Gagal", "Failed"),
    }
}

/// A payment the programme office made (incentive or survey), with its order number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub n: u32,
    pub on: NaiveDate,
    pub amount: Option<i64>,
}

/// What the programme office says happened to a recipient. Stored as JSON with the row.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub batch: Option<i64>,
    pub accepted_on: Option<NaiveDate>,
    pub card_number: Option<String>,
    pub training_bought_on: Option<NaiveDate>,
    pub training_title: Option<String>,
    pub training_platform: Option<String>,
    pub training_price: Option<i64>,
    pub training_completed_on: Option<NaiveDate>,
    #[serde(default)]
    pub incentives: Vec<Payment>,
    #[serde(default)]
    pub surveys: Vec<Payment>,
}

/// One checked row of a programme-office file.
#[derive(Clone, Debug)]
pub struct ProgrammeRow {
    pub row: usize,
    pub nik: Nik,
    pub full_name: String,
    pub birth_date: Option<NaiveDate>,
    pub facts: Facts,
}

/// One checked row of a BP2MI master list.
#[derive(Clone, Debug)]
pub struct MasterRow {
    pub row: usize,
    pub nik: Nik,
    pub full_name: String,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<String>,
    pub phone: Option<String>,
    pub destination_country: Option<String>,
    pub return_date: Option<NaiveDate>,
}

/// A journey event a file row asks for, in the order the journey requires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedEvent {
    pub stage: Stage,
    pub on: NaiveDate,
    pub batch: Option<i64>,
    pub card_number: Option<String>,
    pub training_title: Option<String>,
    pub training_platform: Option<String>,
    pub amount: Option<i64>,
}

impl PlannedEvent {
    fn new(stage: Stage, on: NaiveDate) -> PlannedEvent {
        PlannedEvent {
            stage,
            on,
            batch: None,
            card_number: None,
            training_title: None,
            training_platform: None,
            amount: None,
        }
    }
}

impl Facts {
    /// The events these facts state. Joining the batch is implied by acceptance into it
    /// (the file has no join date, so the acceptance date stands for both).
    pub fn planned_events(&self) -> Vec<PlannedEvent> {
        let mut out = Vec::new();
        if let (Some(batch), Some(on)) = (self.batch, self.accepted_on) {
            out.push(PlannedEvent {
                batch: Some(batch),
                ..PlannedEvent::new(Stage::JoinedBatch, on)
            });
            out.push(PlannedEvent {
                card_number: self.card_number.clone(),
                ..PlannedEvent::new(Stage::Accepted, on)
            });
        }
        if let Some(on) = self.training_bought_on {
            out.push(PlannedEvent {
                training_title: self.training_title.clone(),
                training_platform: self.training_platform.clone(),
                amount: self.training_price,
                ..PlannedEvent::new(Stage::TrainingBought, on)
            });
        }
        if let Some(on) = self.training_completed_on {
            out.push(PlannedEvent::new(Stage::TrainingCompleted, on));
        }
        let mut payments: Vec<(Stage, &Payment)> = self
            .incentives
            .iter()
            .map(|p| (Stage::IncentivePaid, p))
            .chain(self.surveys.iter().map(|p| (Stage::SurveyPaid, p)))
            .collect();
        payments.sort_by_key(|(stage, p)| (p.on, *stage == Stage::SurveyPaid, p.n));
        for (stage, p) in payments {
            out.push(PlannedEvent {
                amount: p.amount,
                ..PlannedEvent::new(stage, p.on)
            });
        }
        out
    }

    /// The furthest stage the facts reach, for the outreach list.
    pub fn furthest(&self) -> Option<Stage> {
        self.planned_events().last().map(|e| e.stage)
    }
}

/// A counter as the nearest-counter choice sees it.
#[derive(Clone, Debug)]
pub struct CounterPlace {
    pub id: i64,
    /// Kemendagri code of the area it serves (province, regency or district), if set.
    pub region_code: Option<String>,
    pub province_code: String,
    pub operating: bool,
}

/// The counter nearest to a district: the one whose region shares the longest code prefix
/// (same district, then regency, then province — offices serve their province), operating
/// counters before others, then the lowest id so the choice is stable.
pub fn nearest_counter(district_code: &str, counters: &[CounterPlace]) -> Option<i64> {
    let shared = |c: &CounterPlace| -> usize {
        let region = c.region_code.as_deref().unwrap_or(&c.province_code);
        let region = if district_code.starts_with(region) {
            region
        } else {
            c.province_code.as_str()
        };
        if region.len() >= 2 && district_code.starts_with(region) {
            region.len()
        } else {
            0
        }
    };
    counters
        .iter()
        .map(|c| (shared(c), c.operating, std::cmp::Reverse(c.id), c.id))
        .filter(|(s, ..)| *s > 0)
        .max()
        .map(|(.., id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn facts_become_events_in_journey_order() {
        let facts = Facts {
            batch: Some(12),
            accepted_on: Some(day("2021-03-01")),
            card_number: Some("5200123412341234".into()),
            training_bought_on: Some(day("2021-03-05")),
            training_title: Some("Menjahit".into()),
            training_completed_on: Some(day("2021-03-20")),
            incentives: vec![
                Payment {
                    n: 2,
                    on: day("2021-05-20"),
                    amount: Some(600_000),
                },
                Payment {
                    n: 1,
                    on: day("2021-04-20"),
                    amount: None,
                },
            ],
            surveys: vec![Payment {
                n: 1,
                on: day("2021-04-20"),
                amount: Some(50_000),
            }],
            ..Default::default()
        };
        let stages: Vec<(Stage, NaiveDate)> = facts
            .planned_events()
            .iter()
            .map(|e| (e.stage, e.on))
            .collect();
        assert_eq!(
            stages,
            vec![
                (Stage::JoinedBatch, day("2021-03-01")),
                (Stage::Accepted, day("2021-03-01")),
                (Stage::TrainingBought, day("2021-03-05")),
                (Stage::TrainingCompleted, day("2021-03-20")),
                (Stage::IncentivePaid, day("2021-04-20")),
                (Stage::SurveyPaid, day("2021-04-20")),
                (Stage::IncentivePaid, day("2021-05-20")),
            ]
        );
        assert_eq!(facts.furthest(), Some(Stage::IncentivePaid));
        assert_eq!(Facts::default().planned_events(), vec![]);
    }

    #[test]
    fn nearest_counter_prefers_the_closest_region_then_operating() {
        let place = |id, region: Option<&str>, province: &str, operating| CounterPlace {
            id,
            region_code: region.map(str::to_string),
            province_code: province.into(),
            operating,
        };
        let counters = vec![
            place(1, None, "35", true),          // office in East Java
            place(2, Some("3525"), "35", false), // Gresik, not yet open
            place(3, Some("3525"), "35", true),  // Gresik, open
            place(4, None, "52", true),          // NTB
        ];
        assert_eq!(nearest_counter("352501", &counters), Some(3));
        assert_eq!(nearest_counter("357801", &counters), Some(1));
        assert_eq!(nearest_counter("520101", &counters), Some(4));
        assert_eq!(nearest_counter("110101", &counters), None);
        // Among equals the lowest id wins, so the list does not shuffle between runs.
        let twins = vec![place(8, None, "35", true), place(7, None, "35", true)];
        assert_eq!(nearest_counter("350101", &twins), Some(7));
    }
}
