//! Kemendagri region codes (province, regency/city, district) embedded from `data/*.csv`.
//!
//! The CSV files are compiled into the binary with `include_str!` and parsed lazily, once,
//! on first use. Parsing never panics: malformed lines (wrong number of fields, a code of the
//! wrong length or with non-digits, a non-numeric year, an unterminated quote) are skipped.
//!
//! Data: `cahyadsn/wilayah`, MIT License, Copyright (c) 2017-2025 Cahya DSN
//! (see `data/README.md`).

use std::sync::OnceLock;

/// The newest edition of the official code list in the embedded data. A code whose
/// `last_seen` is older than this has been retired.
pub const LATEST_EDITION: u16 = 2025;

/// One region (province, regency/city or district) of the Kemendagri code list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region {
    /// The code: 2 digits (province), 4 digits (regency/city) or 6 digits (district).
    pub code: &'static str,
    /// The official name as listed in the source data.
    pub name: &'static str,
    /// First edition of the code list (year) in which the code appears.
    pub first_seen: u16,
    /// Last edition of the code list (year) in which the code appears.
    pub last_seen: u16,
}

impl Region {
    /// `true` when the code is no longer in the newest code list ([`LATEST_EDITION`]).
    pub fn is_retired(&self) -> bool {
        self.last_seen < LATEST_EDITION
    }
}

const PROVINSI_CSV: &str = include_str!("../data/provinsi.csv");
const KABUPATEN_KOTA_CSV: &str = include_str!("../data/kabupaten_kota.csv");
const KECAMATAN_CSV: &str = include_str!("../data/kecamatan.csv");

struct Tables {
    provinces: Vec<Region>,
    regencies: Vec<Region>,
    districts: Vec<Region>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| Tables {
        provinces: parse_csv(PROVINSI_CSV, 2),
        regencies: parse_csv(KABUPATEN_KOTA_CSV, 4),
        districts: parse_csv(KECAMATAN_CSV, 6),
    })
}

/// All provinces, sorted by code.
pub fn provinces() -> &'static [Region] {
    &tables().provinces
}

/// All regencies/cities (including retired ones), sorted by code.
pub fn regencies() -> &'static [Region] {
    &tables().regencies
}

/// All districts (including retired ones), sorted by code.
pub fn districts() -> &'static [Region] {
    &tables().districts
}

/// The province with this 2-digit code.
pub fn province(code: &str) -> Option<&'static Region> {
    find(provinces(), code)
}

/// The regency/city with this 4-digit code (retired codes included).
pub fn regency(code: &str) -> Option<&'static Region> {
    find(regencies(), code)
}

/// The district with this 6-digit code (retired codes included).
pub fn district(code: &str) -> Option<&'static Region> {
    find(districts(), code)
}

/// The regencies/cities of a province (2-digit code), sorted by code, retired ones included.
/// Empty when the code is not 2 characters long or unknown.
pub fn regencies_of(province_code: &str) -> Vec<&'static Region> {
    children(regencies(), province_code, 2)
}

/// The districts of a regency/city (4-digit code), sorted by code. Retired districts are
/// included: callers filter by `last_seen` (or [`Region::is_retired`]) if needed.
/// Empty when the code is not 4 characters long or unknown.
pub fn districts_of(regency_code: &str) -> Vec<&'static Region> {
    children(districts(), regency_code, 4)
}

fn find(list: &'static [Region], code: &str) -> Option<&'static Region> {
    list.binary_search_by(|r| r.code.cmp(code))
        .ok()
        .and_then(|i| list.get(i))
}

fn children(list: &'static [Region], prefix: &str, prefix_len: usize) -> Vec<&'static Region> {
    if prefix.len() != prefix_len {
        return Vec::new();
    }
    let start = list.partition_point(|r| r.code < prefix);
    list.get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|r| r.code.starts_with(prefix))
        .collect()
}

/// Parses a `kode,nama,pertama_ada,terakhir_ada` CSV. Lines that do not have exactly four
/// fields, whose code is not `code_len` ASCII digits, whose name is empty or whose years are
/// not numbers are skipped (this includes the header line). The result is sorted by code;
/// a code listed twice is merged (earliest `first_seen`, latest `last_seen`, first name).
pub(crate) fn parse_csv(text: &'static str, code_len: usize) -> Vec<Region> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<Region> = text
        .lines()
        .filter_map(|line| parse_line(line, code_len))
        .collect();
    // Stable sort: on duplicates the first line wins the name.
    out.sort_by(|a, b| a.code.cmp(b.code));
    let mut merged: Vec<Region> = Vec::with_capacity(out.len());
    for r in out {
        match merged.last_mut() {
            Some(prev) if prev.code == r.code => {
                prev.first_seen = prev.first_seen.min(r.first_seen);
                prev.last_seen = prev.last_seen.max(r.last_seen);
            }
            _ => merged.push(r),
        }
    }
    merged
}

fn parse_line(line: &'static str, code_len: usize) -> Option<Region> {
    let fields = split_fields(line)?;
    let [code, name, first, last] = fields.as_slice() else {
        return None;
    };
    if code.len() != code_len || !code.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return None;
    }
    Some(Region {
        code,
        name,
        first_seen: first.parse().ok()?,
        last_seen: last.parse().ok()?,
    })
}

/// Splits one CSV line into trimmed fields. Fields may be quoted (`"a, b"`), with `""`
/// standing for a literal quote. Returns `None` for an unterminated quote or garbage after a
/// closing quote. Quoted fields containing an escaped quote cannot be slices of the input,
/// so they are leaked once (the tables live for the whole program anyway).
fn split_fields(line: &'static str) -> Option<Vec<&'static str>> {
    let mut fields = Vec::with_capacity(4);
    let mut rest = line;
    loop {
        let t = rest.trim_start();
        if let Some(after) = t.strip_prefix('"') {
            let mut owned: Option<String> = None;
            let mut i = 0;
            let field: &'static str = loop {
                let q = i + after.get(i..)?.find('"')?;
                if after.as_bytes().get(q + 1) == Some(&b'"') {
                    owned
                        .get_or_insert_with(String::new)
                        .push_str(after.get(i..=q)?);
                    i = q + 2;
                } else {
                    let tail = after.get(i..q)?;
                    rest = after.get(q + 1..)?.trim_start();
                    break match owned {
                        Some(mut s) => {
                            s.push_str(tail);
                            Box::leak(s.into_boxed_str())
                        }
                        None => tail,
                    };
                }
            };
            fields.push(field.trim());
            if rest.is_empty() {
                return Some(fields);
            }
            rest = rest.strip_prefix(',')?;
        } else {
            match t.find(',') {
                Some(k) => {
                    fields.push(t.get(..k)?.trim());
                    rest = t.get(k + 1..)?;
                }
                None => {
                    fields.push(t.trim());
                    return Some(fields);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_loads() {
        assert_eq!(provinces().len(), 38);
        assert_eq!(regencies().len(), 540);
        assert_eq!(districts().len(), 7879);
        assert!(provinces().windows(2).all(|w| w[0].code < w[1].code));
        assert!(districts().windows(2).all(|w| w[0].code < w[1].code));
    }

    #[test]
    fn lookups() {
        assert_eq!(province("32").map(|r| r.name), Some("Jawa Barat"));
        assert_eq!(regency("3201").map(|r| r.name), Some("Kabupaten Bogor"));
        assert_eq!(district("320101").map(|r| r.name), Some("Cibinong"));
        assert!(province("99").is_none());
        assert!(province("").is_none());
        assert!(district("3201").is_none());
        let merauke = regency("9101").unwrap();
        assert!(merauke.is_retired());
        assert_eq!(merauke.last_seen, 2022);
        assert!(!regency("3201").unwrap().is_retired());
    }

    #[test]
    fn children_lists() {
        let jabar = regencies_of("32");
        assert!(jabar.iter().any(|r| r.code == "3201"));
        assert!(jabar.iter().all(|r| r.code.starts_with("32")));
        let bogor = districts_of("3201");
        assert!(bogor.iter().any(|r| r.code == "320101"));
        assert!(bogor.iter().all(|r| r.code.starts_with("3201")));
        assert!(districts_of("9101").iter().any(|r| r.is_retired()));
        assert!(regencies_of("3").is_empty());
        assert!(regencies_of("").is_empty());
        assert!(districts_of("32").is_empty());
        assert!(districts_of("0000").is_empty());
        // Every district belongs to a known regency and province.
        for d in districts() {
            assert!(regency(&d.code[..4]).is_some(), "{}", d.code);
            assert!(province(&d.code[..2]).is_some(), "{}", d.code);
        }
    }

    #[test]
    fn csv_skips_malformed_lines() {
        let text = "kode,nama,pertama_ada,terakhir_ada\r\n\
                    11,Aceh,2016,2025\r\n\
                    \n\
                    1x,Bad code,2016,2025\n\
                    123,Too long,2016,2025\n\
                    13,Missing year,2016\n\
                    14,Extra,2016,2025,oops\n\
                    15,,2016,2025\n\
                    16,Bad year,20x6,2025\n\
                    17,Year overflow,2016,99999\n\
                    \"18,Unterminated,2016,2025\n\
                    \"19\"x,Garbage after quote,2016,2025\n\
                    12,Sumatera Utara,2016,2025";
        let rows = parse_csv(text, 2);
        let codes: Vec<_> = rows.iter().map(|r| r.code).collect();
        assert_eq!(codes, ["11", "12"]);
        assert_eq!(rows[0].name, "Aceh");
    }

    #[test]
    fn csv_handles_quotes_bom_and_duplicates() {
        let text = "\u{feff}kode,nama,pertama_ada,terakhir_ada\n\
                    \"21\",\"Kepulauan Riau, Tanjungpinang\",2016,2025\n\
                    22,\"Nama \"\"Kutip\"\"\", 2018 , 2020 \n\
                    22,Nama lain,2016,2022\n";
        let rows = parse_csv(text, 2);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].name, "Kepulauan Riau, Tanjungpinang");
        assert_eq!(rows[1].name, "Nama \"Kutip\"");
        assert_eq!((rows[1].first_seen, rows[1].last_seen), (2016, 2022));
    }

    #[test]
    fn csv_empty_and_garbage_input() {
        assert!(parse_csv("", 2).is_empty());
        assert!(parse_csv("\n\n\r\n", 6).is_empty());
        assert!(parse_csv("\"", 2).is_empty());
        assert!(parse_csv("\"\"\"", 2).is_empty());
        assert!(parse_csv(",,,", 2).is_empty());
        assert!(parse_csv("é,ü,\"ß", 2).is_empty());
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn csv_parsing_never_panics(text in ".{0,200}", code_len in 0usize..8) {
            let text: &'static str = Box::leak(text.into_boxed_str());
            let rows = parse_csv(text, code_len);
            prop_assert!(rows.iter().all(|r| r.code.len() == code_len));
        }

        #[test]
        fn csv_like_lines_never_panic(
            lines in proptest::collection::vec("[0-9a\",\\r ]{0,12}(,[A-Za-z\", ]{0,8}){0,4}", 0..8)
        ) {
            let text: &'static str = Box::leak(lines.join("\n").into_boxed_str());
            let rows = parse_csv(text, 2);
            prop_assert!(rows.windows(2).all(|w| w[0].code < w[1].code));
        }
    }
}
