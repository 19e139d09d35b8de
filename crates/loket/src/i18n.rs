//! Bahasa Indonesia first, English second: the language of a request and the text catalogue.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Id,
    En,
}

pub const LANG_COOKIE: &str = "lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "id" | "in" | "id-id" => Some(Lang::Id),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks between the Indonesian and the English text.
    pub fn pick<'a>(self, id: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }

    /// The catalogue's text for `key`, if it has one (for codes that may be newer than the
    /// catalogue, such as audit actions, which then show as they are).
    pub fn find(self, key: &str) -> Option<&'static str> {
        lookup(key).map(|(id, en)| self.pick(id, en))
    }

    /// Catalogue lookup; an unknown key shows "??" so a missing text is visible, not blank.
    pub fn t(self, key: &str) -> &'static str {
        match lookup(key) {
            Some((id, en)) => self.pick(id, en),
            None => "??",
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    /// The `lang` cookie wins; otherwise Indonesian (the officers' language), whatever the
    /// browser says, because shared counter PCs often carry an English browser.
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        Ok(jar
            .get(LANG_COOKIE)
            .and_then(|c| Lang::parse(c.value()))
            .unwrap_or_default())
    }
}

/// One text: (key, Bahasa Indonesia, English).
pub type Text = (&'static str, &'static str, &'static str);

/// The texts of one catalogue file: a line a text, `key<TAB>Indonesian<TAB>English`; empty
/// lines and lines starting with `#` are skipped. A line without three non-empty fields is
/// returned as `Err(line number)` (the app's tests refuse any).
pub fn texts_of(catalogue: &'static str) -> impl Iterator<Item = Result<Text, usize>> {
    catalogue
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|(i, line)| {
            let mut fields = line.split('\t');
            match (fields.next(), fields.next(), fields.next(), fields.next()) {
                (Some(k), Some(id), Some(en), None)
                    if !k.is_empty() && !id.is_empty() && !en.is_empty() =>
                {
                    Ok((k, id, en))
                }
                _ => Err(i + 1),
            }
        })
}

/// Every registered text by key. Each feature keeps its texts in its own folder; the app
/// assembly registers them all at start (`app::register_texts`), so this module needs to know
/// no feature.
static REGISTERED: OnceLock<HashMap<&'static str, (&'static str, &'static str)>> = OnceLock::new();

/// Registers the catalogues; the first registration wins (they are the same for a process).
/// A key found in two catalogues, or a malformed line, is an error of the build, caught by the
/// app's tests.
pub fn register(catalogues: &[&'static str]) {
    REGISTERED.get_or_init(|| {
        catalogues
            .iter()
            .flat_map(|c| texts_of(c))
            .flatten()
            .map(|(k, id, en)| (k, (id, en)))
            .collect()
    });
}

/// The registered text, or before any registration the shared texts of this module.
fn lookup(key: &str) -> Option<(&'static str, &'static str)> {
    match REGISTERED.get() {
        Some(texts) => texts.get(key).copied(),
        None => texts_of(TEXTS)
            .flatten()
            .find(|(k, _, _)| *k == key)
            .map(|(_, id, en)| (id, en)),
    }
}

/// The shared texts of layout, forms and participants (see `texts.tsv`).
pub static TEXTS: &str = include_str!("texts.tsv");
