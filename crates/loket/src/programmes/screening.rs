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

enum Check {
    Pass(Reason),
    Fail(Reason),
    Unknown(Reason),
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

fn one_of(
    value: Option<&str>,
    any_of: &[String],
    what: (&str, &str),
    label: impl Fn(&str) -> Option<(&'static str, &'static str)>,
) -> Check {
    let (list_id, list_en) = list_label(any_of, &label);
    let Some(value) = value else {
        return Check::Unknown(reason(
            format!("{} belum dicatat (syarat: {list_id}).", what.0),
            format!("{} not recorded (required: {list_en}).", what.1),
        ));
    };
    let (shown_id, shown_en) = label(value).unwrap_or(("—", "—"));
    if any_of.iter().any(|c| c == value) {
        Check::Pass(reason(
            format!("{}: {shown_id}.", what.0),
            format!("{}: {shown_en}.", what.1),
        ))
    } else {
        Check::Fail(reason(
            format!("{} {shown_id}; syarat: {list_id}.", what.0),
            format!("{} {shown_en}; required: {list_en}.", what.1),
        ))
    }
}

fn check(rule: &Rule, facts: &Facts, today: NaiveDate) -> Check {
    match rule {
        Rule::Age { min, max } => {
            let Some(birth) = facts.birth_date else {
                return Check::Unknown(reason(
                    "Tanggal lahir belum dicatat.".into(),
                    "Birth date not recorded.".into(),
                ));
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
            let ok = min.is_none_or(|m| age >= m) && max.is_none_or(|m| age <= m);
            let r = reason(
                format!("Usia {age} tahun (syarat {range_id})."),
                format!("Aged {age} (required {range_en})."),
            );
            if ok {
                Check::Pass(r)
            } else {
                Check::Fail(r)
            }
        }
        Rule::Sex { is } => {
            let label = |c: &str| match c {
                "female" => Some(("perempuan", "female")),
                "male" => Some(("laki-laki", "male")),
                _ => None,
            };
            one_of(
                facts.sex.as_deref(),
                std::slice::from_ref(is),
                ("Jenis kelamin", "Sex"),
                label,
            )
        }
        Rule::Province { any_of } => one_of(
            facts.province_code.as_deref(),
            any_of,
            ("Provinsi domisili", "Province of residence"),
            province_name,
        ),
        Rule::Education { any_of } => one_of(
            facts.education.as_deref(),
            any_of,
            ("Pendidikan", "Education"),
            |c| Education::parse(c).map(Education::labels),
        ),
        Rule::JobSector { any_of } => one_of(
            facts.job_sector.as_deref(),
            any_of,
            ("Pekerjaan di luar negeri", "Job abroad"),
            |c| JobSector::parse(c).map(JobSector::labels),
        ),
        Rule::DigitalLiteracy { any_of } => one_of(
            facts.digital_literacy.as_deref(),
            any_of,
            ("Kecakapan digital", "Digital literacy"),
            |c| DigitalLiteracy::parse(c).map(DigitalLiteracy::labels),
        ),
        Rule::PrakerjaStage { any_of } => one_of(
            Some(facts.stage.as_deref().unwrap_or("not_registered")),
            any_of,
            ("Tahap Prakerja", "Prakerja stage"),
            |c| crate::journey::Stage::parse(c).map(crate::journey::Stage::labels),
        ),
        Rule::ReturnedWithinMonths { months } => {
            let Some(back) = facts.return_date else {
                return Check::Unknown(reason(
                    format!("Tanggal kepulangan belum dicatat (syarat: pulang dalam {months} bulan terakhir)."),
                    format!("Return date not recorded (required: back within the last {months} months)."),
                ));
            };
            let since = months_between(back, today);
            let r = reason(
                format!("Pulang {since} bulan lalu (syarat: paling lama {months} bulan)."),
                format!("Returned {since} months ago (required: at most {months})."),
            );
            if since <= *months {
                Check::Pass(r)
            } else {
                Check::Fail(r)
            }
        }
    }
}

/// Screens one person against one programme on `today`.
pub fn screen(programme: &Programme, facts: &Facts, today: NaiveDate) -> Screened {
    let mut why = Vec::new();
    let mut missing = Vec::new();
    let mut failed = false;
    let mut unknown = false;
    if !programme.provinces.is_empty() {
        let rule = Rule::Province {
            any_of: programme.provinces.clone(),
        };
        match check(&rule, facts, today) {
            Check::Pass(r) => why.push(r),
            Check::Fail(r) => {
                failed = true;
                missing.push(r);
            }
            Check::Unknown(r) => {
                unknown = true;
                missing.push(r);
            }
        }
    }
    for rule in &programme.rules {
        match check(rule, facts, today) {
            Check::Pass(r) => why.push(r),
            Check::Fail(r) => {
                failed = true;
                missing.push(r);
            }
            Check::Unknown(r) => {
                unknown = true;
                missing.push(r);
            }
        }
    }
    let verdict = if failed {
        Verdict::DoesNotFit
    } else if unknown {
        Verdict::NeedsData
    } else {
        Verdict::Fits
    };
    Screened {
        programme_id: programme.id,
        verdict,
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
