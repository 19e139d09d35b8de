//! The reasons kept with an upload's rows, in the reader's words. The stored texts stay as the
//! linkage engine and the apply step wrote them (the API and the audit show them as they are);
//! pages read them through these functions, so no comparison code, weight or second language
//! reaches a person.

use crate::i18n::Lang;
use crate::journey::stage::Stage;

/// What `linking` appends to a row decided the same way in an earlier upload.
const EARLIER: &str = "diputuskan pada unggahan sebelumnya / decided in an earlier upload";

/// "NIK sama, nama mirip, tanggal lahir tertukar hari/bulan" from
/// "nik: exact (+9.1); name: jaro_winkler >= 0.88 (+4.0); birth_date: date_swap (+2.2)".
/// Parts it does not know are left out rather than shown as codes; none known gives `None`.
pub fn explanation_words(lang: Lang, explanation: &str) -> Option<String> {
    let mut words: Vec<&str> = Vec::new();
    for part in explanation.split("; ").map(str::trim) {
        if part == EARLIER {
            words.push(lang.t("exchange.why.earlier"));
            continue;
        }
        let Some((field, level)) = part.split_once(": ") else {
            continue;
        };
        // "jaro_winkler >= 0.94 (+7.8)": the weight in brackets is for the model's readers.
        let level = level.split(" (").next().unwrap_or(level).trim();
        if let Some(key) = level_key(field, level) {
            words.push(lang.t(key));
        }
    }
    let sentence = words.join(", ");
    let mut chars = sentence.chars();
    let first = chars.next()?;
    Some(first.to_uppercase().chain(chars).collect())
}

/// The catalogue key of a comparison level (`link.toml`), or of the exact-NIK shortcut.
fn level_key(field: &str, level: &str) -> Option<&'static str> {
    Some(match (field, level) {
        ("nik", "exact") => "exchange.why.nik_exact",
        ("nik", "nik_typo") => "exchange.why.nik_typo",
        ("nik", "null") => "exchange.why.nik_missing",
        ("nik", _) => "exchange.why.nik_differs",
        ("name", "exact") => "exchange.why.name_exact",
        ("name", "jaro_winkler >= 0.94") => "exchange.why.name_very_similar",
        ("name", "jaro_winkler >= 0.88") => "exchange.why.name_similar",
        ("name", "jaro_winkler >= 0.75") => "exchange.why.name_somewhat",
        ("name", "null") => "exchange.why.name_missing",
        ("name", _) => "exchange.why.name_differs",
        ("birth_date", "exact") => "exchange.why.birth_exact",
        ("birth_date", "date_swap") => "exchange.why.birth_swapped",
        ("birth_date", "date_within <= 1") => "exchange.why.birth_one_day",
        ("birth_date", "same_year") => "exchange.why.birth_same_year",
        ("birth_date", "null") => "exchange.why.birth_missing",
        ("birth_date", _) => "exchange.why.birth_differs",
        _ => return None,
    })
}

/// The note `apply` keeps with a row that needs a correction ("accepted: <id> / <en>"), as
/// "Diterima (nomor kartu): <message in the reader's language>".
pub fn apply_note_words(lang: Lang, note: &str) -> String {
    let (step, message) = match note.split_once(": ") {
        Some((code, rest)) => match Stage::parse(code) {
            Some(stage) => (Some(stage.label(lang)), rest),
            None => (None, note),
        },
        None => (None, note),
    };
    let message = match message.split_once(" / ") {
        Some((id, en)) => lang.pick(id, en),
        None => message,
    };
    match step {
        Some(step) => format!("{step}: {message}"),
        None => message.to_string(),
    }
}

/// How `apply` writes the note (both languages, for the API and the audit).
pub fn apply_note(stage: Stage, message_id: &str, message_en: &str) -> String {
    format!("{}: {message_id} / {message_en}", stage.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_match_is_explained_in_words_in_both_languages() {
        let why =
            "nik: exact (+9.1); name: jaro_winkler >= 0.88 (+4.0); birth_date: date_swap (+2.2)";
        assert_eq!(
            explanation_words(Lang::Id, why).as_deref(),
            Some("NIK sama, nama mirip, tanggal lahir tertukar hari/bulan")
        );
        assert_eq!(
            explanation_words(Lang::En, why).as_deref(),
            Some("Same NIK, similar name, day and month of birth swapped")
        );
        let earlier = format!("nik: else (-3.3); name: exact (+7.8); {EARLIER}");
        assert_eq!(
            explanation_words(Lang::Id, &earlier).as_deref(),
            Some("NIK berbeda, nama sama, diputuskan pada unggahan sebelumnya")
        );
        assert_eq!(explanation_words(Lang::Id, "disagrees: name_differs"), None);
    }

    #[test]
    fn an_apply_note_is_one_language_with_the_step_named() {
        let note = apply_note(
            Stage::Accepted,
            "Nomor kartu wajib diisi.",
            "The card number is required.",
        );
        assert_eq!(
            apply_note_words(Lang::Id, &note),
            "Diterima (nomor kartu): Nomor kartu wajib diisi."
        );
        assert_eq!(
            apply_note_words(Lang::En, &note),
            "Accepted (card number): The card number is required."
        );
    }
}
