//! Text from outside (forms, queries, JSON bodies, files): the characters loket refuses in it.
//!
//! A NUL cannot be stored in PostgreSQL text (it answered 500 where SQLite stored it), other
//! control characters break pages, logs and exports, and bidi overrides and zero-width
//! characters make a name or note read as something other than what it is (two records that
//! look the same, a NIK that displays reversed). They are refused the same way on both
//! backends, as a field error in both languages. Tab, line feed and carriage return stay
//! allowed: notes have lines, and single-line fields such as names fold whitespace themselves.

use std::borrow::Cow;

use crate::error::FieldError;

/// The first refused character of `text`, if any.
pub fn refused_char(text: &str) -> Option<char> {
    text.chars().find(|c| is_refused(*c))
}

fn is_refused(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200D}' | '\u{FEFF}'
        )
}

/// The field error for a refused character in `field`, naming it by its code point (it may
/// be invisible).
pub fn refused_field(field: &str, c: char) -> FieldError {
    let point = format!("U+{:04X}", u32::from(c));
    FieldError::new(
        field,
        "text_invalid",
        format!("Isian ini memuat karakter kontrol atau karakter tak terlihat ({point}) yang tidak diterima. Hapus lalu ketik ulang isiannya."),
        format!("This field holds a control or invisible character ({point}) that is not accepted. Delete it and type the text again."),
    )
}

/// A free-text field within its limit of `max` characters, or a field error: text over the
/// limit is refused, never cut, so nobody loses the end of a note without knowing.
pub fn within(field: &str, text: &str, max: usize) -> Result<String, FieldError> {
    let count = text.chars().count();
    if count > max {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("Paling panjang {max} karakter (sekarang {count}). Persingkat isiannya."),
            format!("At most {max} characters (this has {count}). Shorten it."),
        ));
    }
    Ok(text.to_string())
}

/// The first refused character among name–value pairs (a query string or a form), as a field
/// error on that name.
pub fn check_pairs<'a>(
    pairs: impl IntoIterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
) -> Result<(), FieldError> {
    for (name, value) in pairs {
        if let Some(c) = refused_char(&name).or_else(|| refused_char(&value)) {
            return Err(refused_field(&name, c));
        }
    }
    Ok(())
}

/// The first refused character in a JSON value (keys and strings), as a field error on its
/// path (`items[2].full_name`).
pub fn check_json(value: &serde_json::Value) -> Result<(), FieldError> {
    match find_in_json(value, String::new()) {
        Some((path, c)) => Err(refused_field(
            if path.is_empty() { "body" } else { &path },
            c,
        )),
        None => Ok(()),
    }
}

fn find_in_json(value: &serde_json::Value, path: String) -> Option<(String, char)> {
    use serde_json::Value;
    match value {
        Value::String(s) => refused_char(s).map(|c| (path, c)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_in_json(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, v)| {
            let here = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            match refused_char(key) {
                Some(c) => Some((here, c)),
                None => find_in_json(v, here),
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidi_overrides_and_zero_width_characters_are_refused() {
        for bad in [
            "a\0b",
            "\u{1b}[31m",
            "\u{7f}",
            "\u{85}",
            "abc\u{202E}fed",
            "\u{2066}x",
            "Si\u{200B}ti",
            "\u{FEFF}x",
        ] {
            assert!(refused_char(bad).is_some(), "{bad:?}");
        }
        for good in [
            "Siti Aminah",
            "catatan\nbaris dua\r\n\tmenjorok",
            "Nguyễn Thị",
            "O'Brien — 李",
        ] {
            assert_eq!(refused_char(good), None, "{good:?}");
        }
    }

    #[test]
    fn the_field_is_named_by_its_place() {
        let json = serde_json::json!({"items": [{"ok": "x"}, {"full_name": "a\u{0}"}]});
        let e = check_json(&json).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("items[1].full_name", "text_invalid")
        );
        assert!(e.message_en.contains("U+0000"), "{}", e.message_en);
        let pairs = url::form_urlencoded::parse(b"q=siti&name=%E2%80%AEx");
        assert_eq!(check_pairs(pairs).unwrap_err().field, "name");
    }
}
