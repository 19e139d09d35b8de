//! Screening: which programmes a person may join, with the rules that passed (why) and the
//! rules that failed or lack data (what is missing), in words. Pure, so a caseload of
//! thousands is screened in memory after one query.

use chrono::NaiveDate;
use serde::Serialize;

use super::model::{Programme, Rule};
use crate::participants::model::{DigitalLiteracy, Education, JobSector};

/// What screening knows of a person (stable codes, as stored).
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub participant_id: i64,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<String>,
    pub province_code: Option<String>,
    pub education: Option<String>,
    pub return_date: Option<NaiveDate>,
    pub job_sector: Option<String>,
    pub digital_literacy: Option<String>,
    /// The Prakerja stage the journey has reached (none: not started).
    pub stage: Option<String>,
}

/// A line of explanation in both languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reason {
    pub message: String,
    pub message_en: String,
}

fn reason(message: String, message_en: String) -> Reason {
    Reason {
        message,
        message_en,
    }
}

/// How a person stands against a programme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every rule passed.
    Fits,
    /// No rule failed, but some lack data: the officer completes the record.
    NeedsData,
    /// A rule failed.
    DoesNotFit,
}

/// The screening of one person against one programme.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Screened {
    pub programme_id: i64,
    pub verdict: Verdict,
    /// Rules that passed.
    pub why: Vec<Reason>,
    /// Rules that failed or lack data.
    pub missing: Vec<Reason>,
    /// The programme takes referrals today (open period and a free place).
    pub open: bool,
}

fn age_on(birth: NaiveDate, on: NaiveDate) -> i64 {
    crate::journey::age_on(birth, on)
}

fn months_between(from: NaiveDate, to: NaiveDate) -> i64 {
    use chrono::Datelike;
    let months =
        i64::from(to.year() - from.year()) * 12 + i64::from(to.month()) - i64::from(from.month());
    if to.day() < from.day() {
        months - 1
    } else {
        months
    }
}

fn list_label(
    codes: &[String],
    label: impl Fn(&str) -> Option<(&'static str, &'static str)>,
) -> (String, String) {
    let (id, en): (Vec<_>, Vec<_>) = codes
        .iter()
        .map(|c| {
            label(c).map_or((c.clone(), c.clone()), |(i, e)| {
                (i.to_string(), e.to_string())
            })
        })
        .unzip();
    (id.join(", "), en.join(", "))
}

fn province_name(code: &str) -> Option<(&'static str, &'static str)> {
    nik::regions::province(code).map(|r| (r.name, r.name))
}

/// How a fact stands against a rule. The decision lives here only: screening a caseload asks
/// for it alone, and the sentences a person reads are built from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Pass,
    Fail,
    Unknown,
}

fn pass_if(ok: bool) -> Outcome {
    if ok {
        Outcome::Pass
    } else {
        Outcome::Fail
    }
}

fn is_in(value: Option<&str>, any_of: &[String]) -> Outcome {
    match value {
        None => Outcome::Unknown,
        Some(v) => pass_if(any_of.iter().any(|c| c == v)),
    }
}

fn stage_of(facts: &Facts) -> &str {
    facts.stage.as_deref().unwrap_or("not_registered")
}

fn outcome(rule: &Rule, facts: &Facts, today: NaiveDate) -> Outcome {
    match rule {
        Rule::Age { min, max } => match facts.birth_date {
            None => Outcome::Unknown,
            Some(birth) => {
                let age = age_on(birth, today);
                pass_if(min.is_none_or(|m| age >= m) && max.is_none_or(|m| age <= m))
            }
        },
        Rule::Sex { is } => is_in(facts.sex.as_deref(), std::slice::from_ref(is)),
        Rule::Province { any_of } => is_in(facts.province_code.as_deref(), any_of),
        Rule::Education { any_of } => is_in(facts.education.as_deref(), any_of),
        Rule::JobSector { any_of } => is_in(facts.job_sector.as_deref(), any_of),
        Rule::DigitalLiteracy { any_of } => is_in(facts.digital_literacy.as_deref(), any_of),
        Rule::PrakerjaStage { any_of } => is_in(Some(stage_of(facts)), any_of),
        Rule::ReturnedWithinMonths { months } => match facts.return_date {
            None => Outcome::Unknown,
            Some(back) => pass_if(months_between(back, today) <= *months),
        },
    }
}

fn one_of(
    outcome: Outcome,
    value: Option<&str>,
    any_of: &[String],
    what: (&str, &str),
    label: impl Fn(&str) -> Option<(&'static str, &'static str)>,
) -> Reason {
    let (list_id, list_en) = list_label(any_of, &label);
    let (shown_id, shown_en) = value.and_then(&label).unwrap_or(("—", "—"));
    match outcome {
        Outcome::Unknown => reason(
            format!("{} belum dicatat (syarat: {list_id}).", what.0),
            format!("{} not recorded (required: {list_en}).", what.1),
        ),
        Outcome::Pass => reason(
            format!("{}: {shown_id}.", what.0),
            format!("{}: {shown_en}.", what.1),
        ),
        Outcome::Fail => reason(
            format!("{} {shown_id}; syarat: {list_id}.", what.0),
            format!("{} {shown_en}; required: {list_en}.", what.1),
        ),
    }
}

/// The sentence that explains `outcome` of `rule` to a person.
fn explain(rule: &Rule, facts: &Facts, today: NaiveDate, outcome: Outcome) -> Reason {
    match rule {
        Rule::Age { min, max } => {
            let Some(birth) = facts.birth_date else {
                return reason(
                    "Tanggal lahir belum dicatat.".into(),
                    "Birth date not recorded.".into(),
                );
            };
            let age = age_on(birth, today);
            let range_id = match (min, max) {
                (Some(a), Some(b)) => format!("{a}–{b} tahun"),
                (Some(a), None) => format!("minimal {a} tahun"),
                (None, Some(b)) => format!("maksimal {b} tahun"),
                (None, None) => "semua usia".into(),
            };
            let range_en = match (min, max) {
                (Some(a), Some(b)) => format!("{a}–{b} years"),
                (Some(a), None) => format!("at least {a}"),
                (None, Some(b)) => format!("at most {b}"),
                (None, None) => "any age".into(),
            };
            reason(
                format!("Usia {age} tahun (syarat {range_id})."),
                format!("Aged {age} (required {range_en})."),
            )
        }
        Rule::Sex { is } => {
            let label = |c: &str| match c {
                "female" => Some(("perempuan", "female")),
                "male" => Some(("laki-laki", "male")),
                _ => None,
            };
            one_of(
                outcome,
                facts.sex.as_deref(),
                std::slice::from_ref(is),
                ("Jenis kelamin", "Sex"),
                label,
            )
        }
        Rule::Province { any_of } => one_of(
            outcome,
            facts.province_code.as_deref(),
            any_of,
            ("Provinsi domisili", "Province of residence"),
            province_name,
        ),
        Rule::Education { any_of } => one_of(
            outcome,
            facts.education.as_deref(),
            any_of,
            ("Pendidikan", "Education"),
            |c| Education::parse(c).map(Education::labels),
        ),
        Rule::JobSector { any_of } => one_of(
            outcome,
            facts.job_sector.as_deref(),
            any_of,
            ("Pekerjaan di luar negeri", "Job abroad"),
            |c| JobSector::parse(c).map(JobSector::labels),
        ),
        Rule::DigitalLiteracy { any_of } => one_of(
            outcome,
            facts.digital_literacy.as_deref(),
            any_of,
            ("Kecakapan digital", "Digital literacy"),
            |c| DigitalLiteracy::parse(c).map(DigitalLiteracy::labels),
        ),
        Rule::PrakerjaStage { any_of } => one_of(
            outcome,
            Some(stage_of(facts)),
            any_of,
            ("Tahap Prakerja", "Prakerja stage"),
            |c| crate::journey::Stage::parse(c).map(crate::journey::Stage::labels),
        ),
        Rule::ReturnedWithinMonths { months } => {
            let Some(back) = facts.return_date else {
                return reason(
                    format!("Tanggal kepulangan belum dicatat (syarat: pulang dalam {months} bulan terakhir)."),
                    format!("Return date not recorded (required: back within the last {months} months)."),
                );
            };
            let since = months_between(back, today);
            reason(
                format!("Pulang {since} bulan lalu (syarat: paling lama {months} bulan)."),
                format!("Returned {since} months ago (required: at most {months})."),
            )
        }
    }
}

/// The verdict from the outcomes of a programme's rules.
fn verdict_of(outcomes: impl Iterator<Item = Outcome>) -> Verdict {
    let mut verdict = Verdict::Fits;
    for o in outcomes {
        match o {
            Outcome::Fail => return Verdict::DoesNotFit,
            Outcome::Unknown => verdict = Verdict::NeedsData,
            Outcome::Pass => {}
        }
    }
    verdict
}

/// The programme's service area as a rule (none: everywhere).
fn area_rule(programme: &Programme) -> Option<Rule> {
    (!programme.provinces.is_empty()).then(|| Rule::Province {
        any_of: programme.provinces.clone(),
    })
}

/// Only the verdict of one person against one programme: what a caseload screening needs,
/// without building the sentences (10,000 people × 100 programmes in one request).
pub fn verdict(programme: &Programme, facts: &Facts, today: NaiveDate) -> Verdict {
    let area = (!programme.provinces.is_empty())
        .then(|| is_in(facts.province_code.as_deref(), &programme.provinces));
    verdict_of(
        area.into_iter()
            .chain(programme.rules.iter().map(|r| outcome(r, facts, today))),
    )
}

/// Screens one person against one programme on `today`, with the reasons in words.
pub fn screen(programme: &Programme, facts: &Facts, today: NaiveDate) -> Screened {
    let area = area_rule(programme);
    let mut why = Vec::new();
    let mut missing = Vec::new();
    let mut outcomes = Vec::new();
    for rule in area.iter().chain(programme.rules.iter()) {
        let o = outcome(rule, facts, today);
        let r = explain(rule, facts, today, o);
        match o {
            Outcome::Pass => why.push(r),
            Outcome::Fail | Outcome::Unknown => missing.push(r),
        }
        outcomes.push(o);
    }
    Screened {
        programme_id: programme.id,
        verdict: verdict_of(outcomes.into_iter()),
        why,
        missing,
        open: programme.open_on(today) && !programme.full(),
    }
}

/// Screens one person against every programme: those that fit first, then those needing data,
/// then the rest.
pub fn screen_all(programmes: &[Programme], facts: &Facts, today: NaiveDate) -> Vec<Screened> {
    let mut out: Vec<Screened> = programmes.iter().map(|p| screen(p, facts, today)).collect();
    out.sort_by_key(|s| match s.verdict {
        Verdict::Fits => 0,
        Verdict::NeedsData => 1,
        Verdict::DoesNotFit => 2,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programmes::model::ProgrammeKind;

    fn programme(rules: Vec<Rule>) -> Programme {
        Programme {
            id: 1,
            agency_id: 1,
            agency_code: "A".into(),
            agency_name: "A".into(),
            code: "P".into(),
            name: "P".into(),
            kind: ProgrammeKind::Training,
            description: String::new(),
            rules,
            needs: vec![],
            documents: String::new(),
            quota: Some(2),
            taken: 0,
            opens_on: None,
            closes_on: None,
            answer_days: 7,
            provinces: vec!["35".into()],
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// The caseload's verdict-only path and the page's explained screening never disagree:
    /// every combination of known, passing, failing and missing facts over every rule kind.
    #[test]
    fn the_verdict_alone_is_the_verdict_of_the_explained_screening() {
        let p = programme(vec![
            Rule::Age {
                min: Some(18),
                max: Some(45),
            },
            Rule::Sex {
                is: "female".into(),
            },
            Rule::Education {
                any_of: vec!["sma".into(), "d3".into()],
            },
            Rule::PrakerjaStage {
                any_of: vec!["not_registered".into(), "registered".into()],
            },
            Rule::ReturnedWithinMonths { months: 24 },
        ]);
        let births = [None, Some(day(1990, 5, 1)), Some(day(1960, 5, 1))];
        let sexes = [None, Some("female"), Some("male")];
        let provinces = [None, Some("35"), Some("11")];
        let educations = [None, Some("sma"), Some("sd")];
        let stages = [None, Some("registered"), Some("incentive_paid")];
        let returns = [None, Some(day(2021, 1, 10)), Some(day(2010, 1, 10))];
        let mut seen = std::collections::HashSet::new();
        for b in births {
            for sx in sexes {
                for pr in provinces {
                    for ed in educations {
                        for st in stages {
                            for r in returns {
                                let facts = Facts {
                                    birth_date: b,
                                    sex: sx.map(Into::into),
                                    province_code: pr.map(Into::into),
                                    education: ed.map(Into::into),
                                    stage: st.map(Into::into),
                                    return_date: r,
                                    ..Facts::default()
                                };
                                let today = day(2021, 7, 1);
                                let explained = screen(&p, &facts, today);
                                assert_eq!(
                                    verdict(&p, &facts, today),
                                    explained.verdict,
                                    "{facts:?}"
                                );
                                assert_eq!(
                                    explained.why.len() + explained.missing.len(),
                                    p.rules.len() + 1
                                );
                                seen.insert(format!("{:?}", explained.verdict));
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(seen.len(), 3, "every verdict met: {seen:?}");
    }

    #[test]
    fn a_person_who_meets_every_rule_fits_with_the_reasons_in_words() {
        let p = programme(vec![
            Rule::Age {
                min: Some(18),
                max: Some(55),
            },
            Rule::ReturnedWithinMonths { months: 24 },
        ]);
        let facts = Facts {
            birth_date: Some(day(1990, 5, 1)),
            province_code: Some("35".into()),
            return_date: Some(day(2021, 1, 10)),
            ..Facts::default()
        };
        let s = screen(&p, &facts, day(2021, 7, 1));
        assert_eq!(s.verdict, Verdict::Fits);
        assert_eq!(s.why.len(), 3);
        assert!(s.why[1].message.contains("Usia 31 tahun"), "{:?}", s.why);
        assert!(
            s.why[2].message.contains("Pulang 5 bulan lalu"),
            "{:?}",
            s.why
        );
        assert!(s.open);
    }

    #[test]
    fn a_failed_rule_and_missing_data_are_said() {
        let p = programme(vec![
            Rule::Sex {
                is: "female".into(),
            },
            Rule::Education {
                any_of: vec!["sma".into()],
            },
        ]);
        let facts = Facts {
            sex: Some("male".into()),
            province_code: Some("35".into()),
            ..Facts::default()
        };
        let s = screen(&p, &facts, day(2021, 7, 1));
        assert_eq!(s.verdict, Verdict::DoesNotFit);
        assert!(
            s.missing[0].message.contains("laki-laki"),
            "{:?}",
            s.missing
        );
        assert!(
            s.missing[1].message.contains("belum dicatat"),
            "{:?}",
            s.missing
        );
        let facts = Facts {
            sex: Some("female".into()),
            province_code: Some("35".into()),
            ..Facts::default()
        };
        assert_eq!(
            screen(&p, &facts, day(2021, 7, 1)).verdict,
            Verdict::NeedsData
        );
        let elsewhere = Facts {
            sex: Some("female".into()),
            education: Some("sma".into()),
            province_code: Some("32".into()),
            ..Facts::default()
        };
        assert_eq!(
            screen(&p, &elsewhere, day(2021, 7, 1)).verdict,
            Verdict::DoesNotFit
        );
    }
}
