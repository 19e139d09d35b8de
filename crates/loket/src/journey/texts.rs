//! The journey's texts: (key, Bahasa Indonesia, English).

pub static TEXTS: &str = include_str!("texts.tsv");
