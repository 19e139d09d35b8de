//! (key, Bahasa Indonesia, English): the counter network's pages.

pub static TEXTS: &str = include_str!("texts.tsv");
