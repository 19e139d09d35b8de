//! The texts of partner programmes and referrals: (key, Bahasa Indonesia, English).

pub static TEXTS: &str = include_str!("texts.tsv");
