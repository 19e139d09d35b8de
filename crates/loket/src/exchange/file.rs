//! The two files of the exchange, checked whole before anything is stored: the programme
//! office's recipients file and BP2MI's master list. The format is documented in
//! `docs/exchange-format.md`; every problem is reported with row, column and code.

use std::collections::HashMap;

use chrono::NaiveDate;
use nik::Nik;

use super::model::{Facts, MasterRow, Payment, ProgrammeRow};
use crate::sheet::{map_rows, Column, Problems, Rows};
use crate::sheet::{RowError, Sheet};

const fn col(name: &'static str, aliases: &'static [&'static str], required: bool) -> Column {
    Column {
        name,
        aliases,
        required,
    }
}

/// The programme office's file: one row per recipient.
pub const PROGRAMME_COLUMNS: &[Column] = &[
    col("nik", &[], true),
    col("full_name", &["nama", "nama_lengkap", "name"], true),
    col("birth_date", &["tanggal_lahir", "tgl_lahir"], false),
    col("batch", &["gelombang"], false),
    col("accepted_on", &["tanggal_diterima", "tgl_diterima"], false),
    col("card_number", &["nomor_kartu", "no_kartu"], false),
    col("training_bought_on", &["tanggal_beli_pelatihan"], false),
    col("training_title", &["judul_pelatihan", "pelatihan"], false),
    col(
        "training_platform",
        &["platform", "platform_digital"],
        false,
    ),
    col("training_price", &["harga_pelatihan"], false),
    col(
        "training_completed_on",
        &["tanggal_selesai_pelatihan"],
        false,
    ),
];

/// BP2MI's master list of returned migrant workers.
pub const MASTER_COLUMNS: &[Column] = &[
    col("nik", &[], true),
    col("full_name", &["nama", "nama_lengkap", "name"], true),
    col("birth_date", &["tanggal_lahir", "tgl_lahir"], false),
    col("sex", &["jenis_kelamin", "jk"], false),
    col("phone", &["no_hp", "nomor_hp", "telepon"], false),
    col(
        "destination_country",
        &["negara_penempatan", "negara"],
        false,
    ),
    col("return_date", &["tanggal_pulang", "tgl_pulang"], false),
];

/// Payment columns come numbered: `insentif_1_tanggal`, `insentif_1_jumlah`, `survei_2_tanggal`
/// (or `incentive_1_date`, `survey_2_amount`). Canonical form: `incentive_1_date`.
fn payment_column(key: &str) -> Option<String> {
    let parts: Vec<&str> = key.split('_').collect();
    let [kind, n, what] = parts.as_slice() else {
        return None;
    };
    let kind = match *kind {
        "insentif" | "incentive" => "incentive",
        "survei" | "survey" => "survey",
        _ => return None,
    };
    let n: u32 = n.parse().ok().filter(|n| (1..=12).contains(n))?;
    let what = match *what {
        "tanggal" | "date" => "date",
        "jumlah" | "amount" => "amount",
        _ => return None,
    };
    Some(format!("{kind}_{n}_{what}"))
}

/// Reads one row's values with its problems located.
struct Reader<'a> {
    rows: &'a Rows,
    row: usize,
    values: &'a HashMap<String, String>,
    today: NaiveDate,
}

impl Reader<'_> {
    fn text(&self, column: &str) -> Option<String> {
        self.values.get(column).cloned()
    }

    fn date(&self, column: &str, problems: &mut Problems) -> Option<NaiveDate> {
        let text = self.values.get(column)?;
        match parse_date(text) {
            Some(d) if d > self.today => {
                problems.push(
                    self.row,
                    self.rows.locate(column),
                    "date_in_future",
                    format!("Tanggal {d} belum terjadi."),
                    format!("The date {d} is in the future."),
                );
                None
            }
            Some(d) => Some(d),
            None => {
                problems.push(
                    self.row,
                    self.rows.locate(column),
                    "date_invalid",
                    format!("\"{text}\" bukan tanggal (pakai TTTT-BB-HH atau HH/BB/TTTT)."),
                    format!("\"{text}\" is not a date (use YYYY-MM-DD or DD/MM/YYYY)."),
                );
                None
            }
        }
    }

    fn number(&self, column: &str, problems: &mut Problems) -> Option<i64> {
        let text = self.values.get(column)?;
        // Rupiah are written 1.000.000 or 1,000,000 in offices' files.
        match text.replace(['.', ',', ' '], "").parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                problems.push(
                    self.row,
                    self.rows.locate(column),
                    "number_invalid",
                    format!("\"{text}\" bukan bilangan bulat tidak negatif."),
                    format!("\"{text}\" is not a whole, non-negative number."),
                );
                None
            }
        }
    }

    fn nik(&self, problems: &mut Problems) -> Option<Nik> {
        let text = self.values.get("nik").map(String::as_str).unwrap_or("");
        match Nik::parse_at(text, self.today) {
            Ok(nik) => Some(nik),
            Err(e) => {
                problems.push(
                    self.row,
                    self.rows.locate("nik"),
                    e.code(),
                    e.message_id(),
                    e.message_en(),
                );
                None
            }
        }
    }

    fn required(&self, column: &str, problems: &mut Problems) -> Option<String> {
        let value = self.text(column);
        if value.is_none() {
            problems.push(
                self.row,
                self.rows.locate(column),
                "required",
                "Wajib diisi.",
                "Required.",
            );
        }
        value
    }

    /// `other` must be present when `column` is.
    fn needs(&self, column: &str, other: &str, problems: &mut Problems) {
        if self.values.contains_key(column) && !self.values.contains_key(other) {
            problems.push(
                self.row,
                self.rows.locate(other),
                "required",
                format!("Wajib diisi bila {column} diisi."),
                format!("Required when {column} is given."),
            );
        }
    }
}

/// Dates as offices write them: ISO, DD/MM/YYYY or DD-MM-YYYY.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let text = text.get(..10).unwrap_or(text);
    ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(text, f).ok())
}

/// The same NIK twice in one file is an error on the later row, naming the first.
fn check_unique(
    nik: &Nik,
    row: usize,
    seen: &mut HashMap<String, usize>,
    problems: &mut Problems,
    rows: &Rows,
) {
    if let Some(first) = seen.insert(nik.as_str().to_string(), row) {
        problems.push(
            row,
            rows.locate("nik"),
            "nik_repeated",
            format!("NIK ini sudah ada di baris {first}."),
            format!("This NIK already appears on row {first}."),
        );
    }
}

fn payments(r: &Reader<'_>, kind: &str, problems: &mut Problems) -> Vec<Payment> {
    let mut out = Vec::new();
    for n in 1..=12u32 {
        let (date_col, amount_col) = (format!("{kind}_{n}_date"), format!("{kind}_{n}_amount"));
        r.needs(&amount_col, &date_col, problems);
        if let Some(on) = r.date(&date_col, problems) {
            out.push(Payment {
                n,
                on,
                amount: r.number(&amount_col, problems),
            });
        }
    }
    out
}

/// Who a row names: the columns every exchange file starts with.
struct Named {
    row: usize,
    nik: Nik,
    full_name: String,
    birth_date: Option<NaiveDate>,
}

/// Reads every row's NIK, name and birth date, then `rest` (the file kind's own columns, which
/// report their own problems); a row with a NIK and a name becomes `make(named, rest)` once its
/// NIK is known to be the first of its kind. All rows or every problem, in row order.
fn check_rows<R, T>(
    rows: &Rows,
    today: NaiveDate,
    mut rest: impl FnMut(&Reader<'_>, &mut Problems) -> R,
    make: impl Fn(Named, R) -> T,
) -> Result<Vec<T>, Vec<RowError>> {
    let mut problems = Problems::default();
    let mut seen = HashMap::new();
    let mut out = Vec::with_capacity(rows.rows.len());
    for (row, values) in &rows.rows {
        let r = Reader {
            rows,
            row: *row,
            values,
            today,
        };
        let nik = r.nik(&mut problems);
        let full_name = r.required("full_name", &mut problems);
        let birth_date = r.date("birth_date", &mut problems);
        let extra = rest(&r, &mut problems);
        if let (Some(nik), Some(full_name)) = (nik, full_name) {
            check_unique(&nik, *row, &mut seen, &mut problems, rows);
            let named = Named {
                row: *row,
                nik,
                full_name,
                birth_date,
            };
            out.push(make(named, extra));
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems.errors)
    }
}

/// Checks a programme-office file; all rows or every problem.
pub fn check_programme(
    sheet: &Sheet,
    today: NaiveDate,
) -> Result<Vec<ProgrammeRow>, Vec<RowError>> {
    let rows = map_rows(
        sheet,
        PROGRAMME_COLUMNS,
        payment_column,
        &["nik", "card_number"],
    )?;
    check_rows(&rows, today, programme_facts, |named, facts| ProgrammeRow {
        row: named.row,
        nik: named.nik,
        full_name: named.full_name,
        birth_date: named.birth_date,
        facts,
    })
}

/// The journey facts of one programme-office row, with their problems.
fn programme_facts(r: &Reader<'_>, problems: &mut Problems) -> Facts {
    r.needs("accepted_on", "batch", problems);
    r.needs("batch", "accepted_on", problems);
    r.needs("training_bought_on", "training_title", problems);
    r.needs("training_completed_on", "training_bought_on", problems);
    let card_number = r.text("card_number").map(|c| c.replace([' ', '-'], ""));
    if let Some(card) = &card_number {
        if card.len() != 16 || !card.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(
                r.row,
                r.rows.locate("card_number"),
                "card_number_invalid",
                "Nomor Kartu Prakerja harus 16 digit.",
                "The Kartu Prakerja number must be 16 digits.",
            );
        }
    }
    let facts = Facts {
        batch: r.number("batch", problems),
        accepted_on: r.date("accepted_on", problems),
        card_number,
        training_bought_on: r.date("training_bought_on", problems),
        training_title: r.text("training_title"),
        training_platform: r.text("training_platform"),
        training_price: r.number("training_price", problems),
        training_completed_on: r.date("training_completed_on", problems),
        incentives: payments(r, "incentive", problems),
        surveys: payments(r, "survey", problems),
    };
    let paid = !facts.incentives.is_empty() || !facts.surveys.is_empty();
    if paid
        && facts.training_completed_on.is_none()
        && !r.values.contains_key("training_completed_on")
    {
        problems.push(
            r.row,
            r.rows.locate("training_completed_on"),
            "required",
            "Wajib diisi bila ada pembayaran insentif atau survei.",
            "Required when incentive or survey payments are given.",
        );
    }
    facts
}

/// A master-list row's own columns: (sex, phone, destination country, return date).
type MasterExtra = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<NaiveDate>,
);

/// Checks a BP2MI master list; all rows or every problem.
pub fn check_master(sheet: &Sheet, today: NaiveDate) -> Result<Vec<MasterRow>, Vec<RowError>> {
    let rows = map_rows(sheet, MASTER_COLUMNS, |_| None, &["nik", "phone"])?;
    check_rows(&rows, today, master_extra, |named, extra| {
        let (sex, phone, destination_country, return_date) = extra;
        MasterRow {
            row: named.row,
            nik: named.nik,
            full_name: named.full_name,
            birth_date: named.birth_date,
            sex,
            phone,
            destination_country,
            return_date,
        }
    })
}

fn master_extra(r: &Reader<'_>, problems: &mut Problems) -> MasterExtra {
    let return_date = r.date("return_date", problems);
    let sex = r.text("sex").and_then(|s| match s.to_uppercase().as_str() {
        "L" | "LAKI-LAKI" | "M" | "MALE" => Some("male".to_string()),
        "P" | "PEREMPUAN" | "F" | "FEMALE" => Some("female".to_string()),
        _ => {
            problems.push(
                r.row,
                r.rows.locate("sex"),
                "sex_invalid",
                "Jenis kelamin: L atau P.",
                "Sex: L (male) or P (female).",
            );
            None
        }
    });
    (
        sex,
        r.text("phone"),
        r.text("destination_country"),
        return_date,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sheet::read_csv;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    #[test]
    fn a_good_programme_file_reads_with_its_payments() {
        let csv = "nik;nama;tanggal_lahir;gelombang;tanggal_diterima;tanggal_beli_pelatihan;judul_pelatihan;tanggal_selesai_pelatihan;insentif_1_tanggal;insentif_1_jumlah;survei_1_tanggal\n\
                   3525014507900003;Siti Aminah;05/07/1990;12;2021-03-01;2021-03-05;Menjahit;2021-03-20;2021-04-20;600.000;2021-04-21\n";
        let sheet = read_csv(csv.as_bytes()).unwrap();
        let rows = check_programme(&sheet, today()).unwrap();
        assert_eq!(rows.len(), 1);
        let f = &rows[0].facts;
        assert_eq!(rows[0].birth_date, NaiveDate::from_ymd_opt(1990, 7, 5));
        assert_eq!(f.batch, Some(12));
        assert_eq!(f.incentives[0].amount, Some(600_000));
        assert_eq!(f.surveys[0].amount, None);
        assert_eq!(f.planned_events().len(), 6);
    }

    #[test]
    fn every_problem_is_reported_with_row_and_column() {
        let csv = "nik,nama,gelombang,tanggal_diterima,tanggal_selesai_pelatihan,insentif_1_jumlah,nomor_kartu\n\
                   3525014507900003,Siti,12,2099-01-01,,,\n\
                   12345,Budi,,,2021-03-20,600000,123\n\
                   3525014507900003,Siti lagi,,,,,\n";
        let sheet = read_csv(csv.as_bytes()).unwrap();
        let errors = check_programme(&sheet, today()).err().unwrap();
        let found: Vec<(usize, &str, &str)> = errors.iter().map(RowError::place).collect();
        for expected in [
            (2, "D (accepted_on)", "date_in_future"),
            (3, "A (nik)", "nik_length"),
            (3, "training_bought_on", "required"),
            (3, "incentive_1_date", "required"),
            (3, "G (card_number)", "card_number_invalid"),
            (4, "A (nik)", "nik_repeated"),
        ] {
            assert!(
                found.contains(&expected),
                "missing {expected:?} in {found:?}"
            );
        }
        assert!(errors
            .iter()
            .all(|e| !e.message.is_empty() && !e.message_en.is_empty()));
    }

    #[test]
    fn master_rows_read_sex_and_refuse_bad_codes() {
        let csv = "nik,nama,jenis_kelamin,tanggal_pulang\n3525014507900003,Siti,P,2025-01-02\n3525010101900001,Budi,X,\n";
        let sheet = read_csv(csv.as_bytes()).unwrap();
        let errors = check_master(&sheet, today()).err().unwrap();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].row, errors[0].code.as_str()), (3, "sex_invalid"));
        let ok = "nik,nama,jenis_kelamin\n3525014507900003,Siti,P\n";
        let rows = check_master(&read_csv(ok.as_bytes()).unwrap(), today()).unwrap();
        assert_eq!(rows[0].sex.as_deref(), Some("female"));
    }
}
