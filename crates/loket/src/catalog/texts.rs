//! (key, Bahasa Indonesia, English): the catalogue's texts.

pub static TEXTS: &str = include_str!("texts.tsv");
