//! (key, Bahasa Indonesia, English): the counter floor's pages.

pub static TEXTS: &str = include_str!("texts.tsv");
