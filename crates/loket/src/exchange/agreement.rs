//! Whether a file row and the registry person who has the same NIK are one person. A NIK is
//! typed by hand at both agencies, so a shared NIK alone does not prove it: a row that names
//! someone else under that NIK goes to a reviewer, with the disagreement in words.
//!
//! "Agree" means what a careful clerk would accept without a second look: the same name once
//! case, titles (`Hj.`, `S.Pd.`), punctuation, spaces and known spelling variants (`Sitti` /
//! `Siti`, `M.` / `Muhammad`, `Soe` / `Su`) are set aside, and the same birth date (or none
//! given on one side). A typo, another name order, a missing name part or day and month
//! swapped are likely the same person but are for a reviewer to confirm; a clearly different
//! name or birth date likely means a NIK typed for the wrong person.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use linkage::normalise::Pipeline;
use linkage::similarity::jaro_winkler;
use linkage::LinkConfig;

use super::service::LINK_CONFIG;
use crate::code_enum;
use crate::i18n::Lang;

code_enum! {
    /// How a row disagrees with the registry person who has its NIK.
    pub enum Disagreement {
        NameSimilar => ("name_similar", "NIK sama, nama mirip tetapi tidak sama", "Same NIK, similar but not the same name"),
        NameDiffers => ("name_differs", "NIK sama, nama berbeda", "Same NIK, different name"),
        BirthSwapped => ("birth_date_swapped", "NIK sama, hari dan bulan lahir tertukar", "Same NIK, day and month of birth swapped"),
        BirthDiffers => ("birth_date_differs", "NIK sama, tanggal lahir berbeda", "Same NIK, different birth date"),
    }
}

/// Names whose normalised forms are at least this close are "similar" (a typo, a missing or
/// extra name part); below it they are different people's names.
const SIMILAR_NAME: f64 = 0.88;
/// How the disagreements are kept in a row's explanation, after `nik: exact`.
const PREFIX: &str = "disagrees: ";

/// The steps the exchange's linkage model applies to names (`link.toml`), so that "the same
/// name" means the same here as in the model.
fn names() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| {
        // The file is loket's own and its tests load it; a broken one would fail them.
        let Ok(config) = LinkConfig::from_toml_str(LINK_CONFIG) else {
            return Pipeline::default();
        };
        let steps: Vec<&str> = config
            .fields
            .iter()
            .find(|f| f.name == "name")
            .map(|f| f.normalise.iter().map(String::as_str).collect())
            .unwrap_or_default();
        Pipeline::from_names(&steps, &config.token_maps).unwrap_or_default()
    })
}

fn name_disagreement(file: &str, registry: &str) -> Option<Disagreement> {
    let (a, b) = (names().apply(file), names().apply(registry));
    // "Nur Hayati" and "Nurhayati" are one name written two ways.
    let joined = |s: &str| s.replace(' ', "");
    if joined(&a) == joined(&b) {
        return None;
    }
    let sorted = |s: &str| {
        let mut tokens: Vec<&str> = s.split(' ').collect();
        tokens.sort_unstable();
        tokens.join(" ")
    };
    let part_of = |short: &str, long: &str| {
        let long: Vec<&str> = long.split(' ').collect();
        short.split(' ').all(|t| long.contains(&t))
    };
    let similar = sorted(&a) == sorted(&b)
        || part_of(&a, &b)
        || part_of(&b, &a)
        || jaro_winkler(&a, &b) >= SIMILAR_NAME;
    Some(if similar {
        Disagreement::NameSimilar
    } else {
        Disagreement::NameDiffers
    })
}

fn birth_disagreement(
    file: Option<NaiveDate>,
    registry: Option<NaiveDate>,
) -> Option<Disagreement> {
    let (Some(a), Some(b)) = (file, registry) else {
        return None;
    };
    if a == b {
        return None;
    }
    let swapped = a.year() == b.year() && a.day() == b.month() && a.month() == b.day();
    Some(if swapped {
        Disagreement::BirthSwapped
    } else {
        Disagreement::BirthDiffers
    })
}

/// What sets a file row apart from the registry person with its NIK; empty when they agree
/// and the row may be applied without review.
pub fn disagreements(
    file_name: &str,
    file_birth: Option<NaiveDate>,
    registry_name: &str,
    registry_birth: Option<NaiveDate>,
) -> Vec<Disagreement> {
    name_disagreement(file_name, registry_name)
        .into_iter()
        .chain(birth_disagreement(file_birth, registry_birth))
        .collect()
}

/// The explanation kept with a row whose NIK is in the registry.
pub fn explanation(found: &[Disagreement]) -> String {
    if found.is_empty() {
        return "nik: exact".into();
    }
    let codes: Vec<&str> = found.iter().map(|d| d.code()).collect();
    format!("nik: exact; {PREFIX}{}", codes.join(", "))
}

/// The disagreements an explanation holds (none for any other explanation).
pub fn parse_explanation(explanation: &str) -> Vec<Disagreement> {
    explanation
        .split("; ")
        .find_map(|part| part.strip_prefix(PREFIX))
        .map(|codes| codes.split(", ").filter_map(Disagreement::parse).collect())
        .unwrap_or_default()
}

/// Both sides of a row, as the sentence about a disagreement quotes them.
pub struct Sides<'a> {
    pub file_name: &'a str,
    pub file_birth: Option<NaiveDate>,
    pub registry_name: &'a str,
    pub registry_birth: Option<NaiveDate>,
}

impl Disagreement {
    /// "NIK sama, nama berbeda: di berkas 'Budi Santoso', di loket 'Siti Handayani'".
    pub fn words(self, lang: Lang, sides: &Sides) -> String {
        let day = |d: Option<NaiveDate>| d.map(crate::format::date).unwrap_or_default();
        let (file, registry) = match self {
            Disagreement::NameSimilar | Disagreement::NameDiffers => {
                (sides.file_name.to_string(), sides.registry_name.to_string())
            }
            Disagreement::BirthSwapped | Disagreement::BirthDiffers => {
                (day(sides.file_birth), day(sides.registry_birth))
            }
        };
        format!(
            "{}: {} '{file}', {} '{registry}'",
            self.label(lang),
            lang.t("exchange.in_file"),
            lang.t("exchange.at_counter"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Option<NaiveDate> {
        Some(s.parse().unwrap())
    }

    fn check(
        file: &str,
        file_birth: &str,
        registry: &str,
        registry_birth: &str,
    ) -> Vec<Disagreement> {
        disagreements(file, day(file_birth), registry, day(registry_birth))
    }

    #[test]
    fn the_same_person_written_another_way_agrees() {
        for (file, registry) in [
            ("SITI AMINAH", "Siti Aminah"),
            ("Hj. Sitti Aminah, S.Pd.", "Siti Aminah"),
            ("M. Rizal", "Muhammad Rizal"),
            ("Nurhayati", "Nur Hayati"),
            ("Soekarni", "Sukarni"),
        ] {
            assert_eq!(
                check(file, "1990-05-05", registry, "1990-05-05"),
                vec![],
                "{file}"
            );
        }
        // A birth date missing on one side cannot disagree.
        assert_eq!(
            disagreements("Siti Aminah", None, "Siti Aminah", day("1990-05-05")),
            vec![]
        );
    }

    #[test]
    fn a_likely_slip_is_for_a_reviewer() {
        for (file, registry) in [
            ("Siti Aminnah", "Siti Aminah"),
            ("Aminah Siti", "Siti Aminah"),
            ("Siti Aminah", "Siti Aminah Rahayu"),
        ] {
            assert_eq!(
                check(file, "1990-05-05", registry, "1990-05-05"),
                vec![Disagreement::NameSimilar],
                "{file}"
            );
        }
        assert_eq!(
            check("Siti Aminah", "1990-02-01", "Siti Aminah", "1990-01-02"),
            vec![Disagreement::BirthSwapped]
        );
    }

    #[test]
    fn someone_else_under_the_nik_is_kept_in_the_explanation() {
        let found = check("Budi Santoso", "1980-02-01", "Siti Handayani", "1990-05-05");
        assert_eq!(
            found,
            vec![Disagreement::NameDiffers, Disagreement::BirthDiffers]
        );
        let why = explanation(&found);
        assert_eq!(parse_explanation(&format!("{why}; decided earlier")), found);
        assert_eq!(parse_explanation("nik: exact"), vec![]);
        assert_eq!(parse_explanation("name: exact (+3.1)"), vec![]);
    }
}
