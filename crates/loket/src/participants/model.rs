//! A Purna PMI's record: the raw fields as they arrive (form, JSON, file row) and the
//! validated [`ParticipantData`] that the rest of loket works with. Parsing happens once, here.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use nik::{Nik, Sex};
use serde::{Deserialize, Deserializer, Serialize};

use crate::code_enum;
use crate::codes::Country;
use crate::error::FieldError;

code_enum! {
    pub enum Education {
        None => ("none", "Tidak/belum sekolah", "No schooling"),
        Primary => ("sd", "SD/sederajat", "Primary school"),
        JuniorSecondary => ("smp", "SMP/sederajat", "Junior secondary"),
        SeniorSecondary => ("sma", "SMA/SMK/sederajat", "Senior secondary"),
        Diploma => ("diploma", "Diploma (D1–D4)", "Diploma"),
        Bachelor => ("s1", "Sarjana (S1)", "Bachelor"),
        Postgraduate => ("s2", "Pascasarjana (S2/S3)", "Postgraduate"),
    }
}

code_enum! {
    pub enum MaritalStatus {
        Single => ("single", "Belum kawin", "Single"),
        Married => ("married", "Kawin", "Married"),
        Divorced => ("divorced", "Cerai hidup", "Divorced"),
        Widowed => ("widowed", "Cerai mati", "Widowed"),
    }
}

code_enum! {
    pub enum JobSector {
        DomesticWorker => ("domestic_worker", "Pekerja rumah tangga", "Domestic worker"),
        Caregiver => ("caregiver", "Perawat/pengasuh (lansia, anak)", "Caregiver"),
        Manufacturing => ("manufacturing", "Pabrik/manufaktur", "Factory/manufacturing"),
        Plantation => ("plantation", "Perkebunan/pertanian", "Plantation/agriculture"),
        Construction => ("construction", "Konstruksi", "Construction"),
        Fishing => ("fishing", "Perikanan/anak buah kapal", "Fishing/seafarer"),
        Hospitality => ("hospitality", "Hotel, restoran, jasa", "Hospitality/services"),
        Other => ("other", "Lainnya", "Other"),
    }
}

code_enum! {
    pub enum ReturnReason {
        ContractEnded => ("contract_ended", "Kontrak selesai", "Contract ended"),
        Repatriated => ("repatriated", "Dipulangkan (repatriasi)", "Repatriated"),
        Deported => ("deported", "Dideportasi", "Deported"),
        Other => ("other", "Lainnya", "Other"),
    }
}

code_enum! {
    pub enum DigitalLiteracy {
        NeedsFullHelp => ("needs_full_help", "Perlu dibantu sepenuhnya", "Needs full help"),
        NeedsSomeHelp => ("needs_some_help", "Perlu sedikit bantuan", "Needs some help"),
        Independent => ("independent", "Mandiri", "Independent"),
    }
}

code_enum! {
    pub enum ConsentMethod {
        PaperForm => ("paper_form", "Formulir kertas bertanda tangan", "Signed paper form"),
        Verbal => ("verbal", "Lisan di loket, disaksikan petugas", "Verbal at the counter, witnessed"),
        Digital => ("digital", "Persetujuan digital", "Digital consent"),
        Import => ("import", "Dari berkas impor (persetujuan di sumber)", "From an imported file (consent at source)"),
    }
}

/// The labels of `Sex`, which lives in the `nik` crate.
pub fn sex_label(sex: Sex, lang: crate::i18n::Lang) -> &'static str {
    match sex {
        Sex::Male => lang.pick("Laki-laki", "Male"),
        Sex::Female => lang.pick("Perempuan", "Female"),
    }
}

pub fn parse_sex(text: &str) -> Option<Sex> {
    match text.trim().to_ascii_lowercase().as_str() {
        "male" | "m" | "l" | "laki-laki" | "laki laki" | "pria" => Some(Sex::Male),
        "female" | "f" | "p" | "perempuan" | "wanita" => Some(Sex::Female),
        _ => None,
    }
}

/// A person's name as on the KTP: trimmed, inner spaces collapsed, 2–100 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    pub fn parse(text: &str) -> Result<FullName, FieldError> {
        let name = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let chars = name.chars().count();
        if chars == 0 {
            return Err(FieldError::required("full_name"));
        }
        if !(2..=100).contains(&chars)
            || !name.chars().any(char::is_alphabetic)
            || name.chars().any(char::is_control)
        {
            return Err(FieldError::new(
                "full_name",
                "name_invalid",
                "Nama harus 2–100 karakter dan berisi huruf.",
                "The name must be 2–100 characters and contain letters.",
            ));
        }
        Ok(FullName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in international form (`+62…`); local `08…` numbers are read as Indonesian.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tail: String = self
            .0
            .chars()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        write!(f, "Phone(***{tail})")
    }
}

impl Phone {
    pub fn parse(text: &str) -> Result<Phone, FieldError> {
        let trimmed = text.trim();
        let invalid = || {
            FieldError::new(
                "phone",
                "phone_invalid",
                "Nomor HP tidak dikenali. Contoh: 0812 3456 7890 atau +60 12 345 6789.",
                "Phone number not recognised. Example: 0812 3456 7890 or +60 12 345 6789.",
            )
        };
        if trimmed
            .chars()
            .any(|c| !(c.is_ascii_digit() || " -.()+".contains(c)))
        {
            return Err(invalid());
        }
        let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        let international = if trimmed.starts_with('+') {
            digits
        } else if let Some(rest) = digits.strip_prefix('0') {
            format!("62{rest}")
        } else if digits.starts_with("62") {
            digits
        } else {
            return Err(invalid());
        };
        if !(10..=15).contains(&international.len()) || international.starts_with("620") {
            return Err(invalid());
        }
        Ok(Phone(format!("+{international}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A family-card (KK) number: 16 digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Kk(String);

impl std::fmt::Debug for Kk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kk(****)")
    }
}

impl Kk {
    pub fn parse(text: &str) -> Result<Kk, FieldError> {
        let digits: String = text.chars().filter(|c| !" .-".contains(*c)).collect();
        if digits.len() != 16
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || digits.bytes().all(|b| b == b'0')
        {
            return Err(FieldError::new(
                "kk",
                "kk_invalid",
                "Nomor KK harus 16 digit angka.",
                "The family card number must be 16 digits.",
            ));
        }
        Ok(Kk(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Email, FieldError> {
        let email = text.trim();
        let ok = email.len() <= 254
            && !email.contains(char::is_whitespace)
            && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@'));
        if !ok {
            return Err(FieldError::new(
                "email",
                "email_invalid",
                "Alamat email tidak valid. Contoh: nama@gmail.com",
                "Invalid email address. Example: name@gmail.com",
            ));
        }
        Ok(Email(email.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where the person lives now (Kemendagri codes) and the street address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    pub province_code: Option<String>,
    pub regency_code: Option<String>,
    pub district_code: Option<String>,
    pub street: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationHistory {
    pub destination_country: Option<Country>,
    pub job_sector: Option<JobSector>,
    pub departure_date: Option<NaiveDate>,
    pub return_date: Option<NaiveDate>,
    pub return_reason: Option<ReturnReason>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Consent {
    pub processing: bool,
    pub sharing: bool,
    pub method: ConsentMethod,
}

/// A validated participant record, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParticipantData {
    pub nik: Nik,
    pub full_name: FullName,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub kk: Option<Kk>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub address: Address,
    pub education: Option<Education>,
    pub marital_status: Option<MaritalStatus>,
    pub migration: MigrationHistory,
    pub training_interests: Option<String>,
    pub digital_literacy: Option<DigitalLiteracy>,
    pub has_smartphone: Option<bool>,
    pub consent: Consent,
}

impl ParticipantData {
    /// A NIK is never renumbered, so a birth date that disagrees with it is kept and flagged.
    pub fn birth_date_mismatch(&self) -> bool {
        self.birth_date != self.nik.birth_date()
    }

    pub fn sex_mismatch(&self) -> bool {
        self.sex != self.nik.sex()
    }
}

/// A stored participant.
#[derive(Clone, Debug)]
pub struct Participant {
    pub id: i64,
    pub data: ParticipantData,
    pub counter_id: Option<i64>,
    pub consent_at: DateTime<Utc>,
    pub consent_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// The fields of a participant as text, the way they arrive from a form, JSON or a file row.
/// Every field is optional here; [`validate`] decides what is required.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(default)]
pub struct ParticipantFields {
    /// 16-digit NIK; spaces, dots and dashes are ignored.
    pub nik: Option<String>,
    pub full_name: Option<String>,
    /// `male` or `female`
    pub sex: Option<String>,
    #[schema(format = Date)]
    pub birth_date: Option<String>,
    pub kk: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub province_code: Option<String>,
    pub regency_code: Option<String>,
    pub district_code: Option<String>,
    pub address: Option<String>,
    #[schema(value_type = Option<Education>)]
    pub education: Option<String>,
    #[schema(value_type = Option<MaritalStatus>)]
    pub marital_status: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. MY, TW, HK, SA, SG, KR, JP, BN
    pub destination_country: Option<String>,
    #[schema(value_type = Option<JobSector>)]
    pub job_sector: Option<String>,
    #[schema(format = Date)]
    pub departure_date: Option<String>,
    #[schema(format = Date)]
    pub return_date: Option<String>,
    #[schema(value_type = Option<ReturnReason>)]
    pub return_reason: Option<String>,
    pub training_interests: Option<String>,
    #[schema(value_type = Option<DigitalLiteracy>)]
    pub digital_literacy: Option<String>,
    #[serde(deserialize_with = "bool_or_text", serialize_with = "text_as_bool")]
    #[schema(value_type = Option<bool>)]
    pub has_smartphone: Option<String>,
    #[serde(deserialize_with = "bool_or_text", serialize_with = "text_as_bool")]
    #[schema(value_type = Option<bool>)]
    pub consent_processing: Option<String>,
    #[serde(deserialize_with = "bool_or_text", serialize_with = "text_as_bool")]
    #[schema(value_type = Option<bool>)]
    pub consent_sharing: Option<String>,
    #[schema(value_type = Option<ConsentMethod>)]
    pub consent_method: Option<String>,
}

/// The column order of files and the field names of forms and JSON.
pub const FIELD_NAMES: &[&str] = &[
    "nik",
    "full_name",
    "sex",
    "birth_date",
    "kk",
    "phone",
    "email",
    "province_code",
    "regency_code",
    "district_code",
    "address",
    "education",
    "marital_status",
    "destination_country",
    "job_sector",
    "departure_date",
    "return_date",
    "return_reason",
    "training_interests",
    "digital_literacy",
    "has_smartphone",
    "consent_processing",
    "consent_sharing",
    "consent_method",
];

impl ParticipantFields {
    /// The slot for a field name (file headers and forms use these names).
    pub fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "nik" => &mut self.nik,
            "full_name" => &mut self.full_name,
            "sex" => &mut self.sex,
            "birth_date" => &mut self.birth_date,
            "kk" => &mut self.kk,
            "phone" => &mut self.phone,
            "email" => &mut self.email,
            "province_code" => &mut self.province_code,
            "regency_code" => &mut self.regency_code,
            "district_code" => &mut self.district_code,
            "address" => &mut self.address,
            "education" => &mut self.education,
            "marital_status" => &mut self.marital_status,
            "destination_country" => &mut self.destination_country,
            "job_sector" => &mut self.job_sector,
            "departure_date" => &mut self.departure_date,
            "return_date" => &mut self.return_date,
            "return_reason" => &mut self.return_reason,
            "training_interests" => &mut self.training_interests,
            "digital_literacy" => &mut self.digital_literacy,
            "has_smartphone" => &mut self.has_smartphone,
            "consent_processing" => &mut self.consent_processing,
            "consent_sharing" => &mut self.consent_sharing,
            "consent_method" => &mut self.consent_method,
            _ => return None,
        })
    }

    /// The values in [`FIELD_NAMES`] order (empty string for none), for file export.
    pub fn values(&self) -> [&str; 24] {
        fn s(v: &Option<String>) -> &str {
            v.as_deref().unwrap_or("")
        }
        [
            s(&self.nik),
            s(&self.full_name),
            s(&self.sex),
            s(&self.birth_date),
            s(&self.kk),
            s(&self.phone),
            s(&self.email),
            s(&self.province_code),
            s(&self.regency_code),
            s(&self.district_code),
            s(&self.address),
            s(&self.education),
            s(&self.marital_status),
            s(&self.destination_country),
            s(&self.job_sector),
            s(&self.departure_date),
            s(&self.return_date),
            s(&self.return_reason),
            s(&self.training_interests),
            s(&self.digital_literacy),
            s(&self.has_smartphone),
            s(&self.consent_processing),
            s(&self.consent_sharing),
            s(&self.consent_method),
        ]
    }

    /// Overlays the fields present in `patch` (a partial update).
    pub fn overlay(&mut self, patch: &ParticipantFields) {
        let mut patch = patch.clone();
        for name in FIELD_NAMES {
            let Some(new) = patch.slot(name).and_then(Option::take) else {
                continue;
            };
            if let Some(slot) = self.slot(name) {
                *slot = Some(new);
            }
        }
    }
}

/// Accepts `true`/`false`, numbers or text for a yes/no field, as JSON and files differ.
fn bool_or_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loose {
        Bool(bool),
        Number(i64),
        Text(String),
    }
    Ok(
        Option::<Loose>::deserialize(deserializer)?.map(|v| match v {
            Loose::Bool(b) => b.to_string(),
            Loose::Number(n) => n.to_string(),
            Loose::Text(t) => t,
        }),
    )
}

/// Writes a yes/no field as a JSON boolean (the schema promises one).
fn text_as_bool<S: serde::Serializer>(
    value: &Option<String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value.as_deref().and_then(parse_yes_no) {
        Some(b) if value.as_deref().is_some_and(|v| !v.trim().is_empty()) => {
            serializer.serialize_some(&b)
        }
        _ => serializer.serialize_none(),
    }
}

fn parse_yes_no(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "ya" | "y" | "yes" | "on" | "setuju" => Some(true),
        "false" | "0" | "tidak" | "t" | "no" | "n" | "off" | "" => Some(false),
        _ => None,
    }
}

fn parse_date(field: &str, text: &str) -> Result<NaiveDate, FieldError> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .or_else(|_| NaiveDate::parse_from_str(text, "%d-%m-%Y"))
        .map_err(|_| {
            FieldError::new(
                field,
                "date_invalid",
                "Tanggal tidak valid. Tulis seperti 2021-06-30 atau 30/06/2021.",
                "Invalid date. Write it like 2021-06-30 or 30/06/2021.",
            )
        })
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Collects field errors while each field is parsed, so the user sees all problems at once.
struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn take<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        result.map_err(|e| self.errors.push(e)).ok()
    }

    fn required<T>(
        &mut self,
        field: &str,
        value: &Option<String>,
        parse: impl FnOnce(&str) -> Result<T, FieldError>,
    ) -> Option<T> {
        match non_empty(value) {
            Some(text) => self.take(parse(text)),
            None => {
                self.errors.push(FieldError::required(field));
                None
            }
        }
    }

    fn optional<T>(
        &mut self,
        value: &Option<String>,
        parse: impl FnOnce(&str) -> Result<T, FieldError>,
    ) -> Option<T> {
        non_empty(value).and_then(|text| self.take(parse(text)))
    }
}

fn code_error(field: &str, codes: String) -> FieldError {
    FieldError::new(
        field,
        "choice_invalid",
        format!("Pilihan tidak dikenal. Pilih salah satu: {codes}."),
        format!("Unknown choice. Use one of: {codes}."),
    )
}

fn yes_no(field: &str, text: &str) -> Result<bool, FieldError> {
    parse_yes_no(text).ok_or_else(|| {
        FieldError::new(
            field,
            "yes_no_invalid",
            "Isi ya atau tidak.",
            "Answer yes or no.",
        )
    })
}

/// Parses every field once; returns all problems found, not just the first.
pub fn validate(
    fields: &ParticipantFields,
    today: NaiveDate,
) -> Result<ParticipantData, Vec<FieldError>> {
    let mut c = Checker { errors: Vec::new() };
    let nik = c.required("nik", &fields.nik, |t| {
        Nik::parse_at(t, today).map_err(|e| FieldError::from_nik("nik", &e))
    });
    let full_name = c.required("full_name", &fields.full_name, FullName::parse);
    let sex = c.required("sex", &fields.sex, |t| {
        parse_sex(t).ok_or_else(|| code_error("sex", "male, female".into()))
    });
    let birth_date = c.required("birth_date", &fields.birth_date, |t| {
        let date = parse_date("birth_date", t)?;
        check_birth_date(date, today)
    });
    let kk = c.optional(&fields.kk, Kk::parse);
    let phone = c.optional(&fields.phone, Phone::parse);
    let email = c.optional(&fields.email, Email::parse);
    let address = check_address(&mut c, fields);
    let education = c.optional(&fields.education, |t| {
        Education::parse(t).ok_or_else(|| code_error("education", Education::codes()))
    });
    let marital_status = c.optional(&fields.marital_status, |t| {
        MaritalStatus::parse(t).ok_or_else(|| code_error("marital_status", MaritalStatus::codes()))
    });
    let migration = check_migration(&mut c, fields, today);
    let digital_literacy = c.optional(&fields.digital_literacy, |t| {
        DigitalLiteracy::parse(t)
            .ok_or_else(|| code_error("digital_literacy", DigitalLiteracy::codes()))
    });
    let has_smartphone = c.optional(&fields.has_smartphone, |t| yes_no("has_smartphone", t));
    let consent = check_consent(&mut c, fields);
    let training_interests = c.optional(&fields.training_interests, |t| {
        crate::text::within("training_interests", t, 500)
    });

    match (nik, full_name, sex, birth_date, consent) {
        (Some(nik), Some(full_name), Some(sex), Some(birth_date), Some(consent))
            if c.errors.is_empty() =>
        {
            Ok(ParticipantData {
                nik,
                full_name,
                sex,
                birth_date,
                kk,
                phone,
                email,
                address,
                education,
                marital_status,
                migration,
                training_interests,
                digital_literacy,
                has_smartphone,
                consent,
            })
        }
        _ => Err(c.errors),
    }
}

fn check_birth_date(date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    let age = today.year() - date.year();
    if date > today || age > 110 {
        return Err(FieldError::new(
            "birth_date",
            "birth_date_out_of_range",
            "Tanggal lahir tidak masuk akal (di masa depan atau lebih dari 110 tahun lalu).",
            "The date of birth is not plausible (in the future or over 110 years ago).",
        ));
    }
    Ok(date)
}

fn region_error(field: &str) -> FieldError {
    FieldError::new(
        field,
        "region_unknown",
        "Kode wilayah tidak dikenal atau tidak berada di wilayah induknya.",
        "Unknown region code, or not inside its parent region.",
    )
}

fn check_address(c: &mut Checker, fields: &ParticipantFields) -> Address {
    let province_code = c.optional(&fields.province_code, |t| {
        nik::regions::province(t)
            .map(|r| r.code.to_string())
            .ok_or_else(|| region_error("province_code"))
    });
    let regency_code = c.optional(&fields.regency_code, |t| {
        nik::regions::regency(t)
            .filter(|r| {
                province_code
                    .as_deref()
                    .is_none_or(|p| r.code.starts_with(p))
            })
            .map(|r| r.code.to_string())
            .ok_or_else(|| region_error("regency_code"))
    });
    let district_code = c.optional(&fields.district_code, |t| {
        nik::regions::district(t)
            .filter(|r| {
                regency_code
                    .as_deref()
                    .is_none_or(|p| r.code.starts_with(p))
            })
            .map(|r| r.code.to_string())
            .ok_or_else(|| region_error("district_code"))
    });
    let street = c.optional(&fields.address, |t| crate::text::within("address", t, 300));
    Address {
        province_code,
        regency_code,
        district_code,
        street,
    }
}

fn check_migration(
    c: &mut Checker,
    fields: &ParticipantFields,
    today: NaiveDate,
) -> MigrationHistory {
    let destination_country = c.optional(&fields.destination_country, |t| {
        Country::parse(t).ok_or_else(|| {
            FieldError::new(
                "destination_country",
                "country_invalid",
                "Kode negara tidak dikenal. Pakai kode 2 huruf, mis. MY (Malaysia), TW (Taiwan), HK (Hong Kong).",
                "Unknown country code. Use the 2-letter code, e.g. MY, TW, HK.",
            )
        })
    });
    let job_sector = c.optional(&fields.job_sector, |t| {
        JobSector::parse(t).ok_or_else(|| code_error("job_sector", JobSector::codes()))
    });
    let departure_date = c.optional(&fields.departure_date, |t| parse_date("departure_date", t));
    let return_date = c.optional(&fields.return_date, |t| {
        let date = parse_date("return_date", t)?;
        if date > today {
            return Err(FieldError::new(
                "return_date",
                "return_date_future",
                "Tanggal pulang tidak boleh di masa depan.",
                "The return date cannot be in the future.",
            ));
        }
        if departure_date.is_some_and(|d| date < d) {
            return Err(FieldError::new(
                "return_date",
                "return_before_departure",
                "Tanggal pulang lebih awal dari tanggal berangkat.",
                "The return date is before the departure date.",
            ));
        }
        Ok(date)
    });
    let return_reason = c.optional(&fields.return_reason, |t| {
        ReturnReason::parse(t).ok_or_else(|| code_error("return_reason", ReturnReason::codes()))
    });
    MigrationHistory {
        destination_country,
        job_sector,
        departure_date,
        return_date,
        return_reason,
    }
}

fn check_consent(c: &mut Checker, fields: &ParticipantFields) -> Option<Consent> {
    let processing = c
        .optional(&fields.consent_processing, |t| {
            yes_no("consent_processing", t)
        })
        .unwrap_or(false);
    let sharing = c
        .optional(&fields.consent_sharing, |t| yes_no("consent_sharing", t))
        .unwrap_or(false);
    let method = c.required("consent_method", &fields.consent_method, |t| {
        ConsentMethod::parse(t).ok_or_else(|| code_error("consent_method", ConsentMethod::codes()))
    });
    if !processing {
        c.errors.push(FieldError::new(
            "consent_processing",
            "consent_required",
            "Tanpa persetujuan pengolahan data, pendaftaran tidak dapat disimpan.",
            "Without consent to data processing the registration cannot be saved.",
        ));
        return None;
    }
    method.map(|method| Consent {
        processing,
        sharing,
        method,
    })
}

/// The text form of validated data, for edit forms, PATCH overlays and file export.
pub fn to_fields(data: &ParticipantData) -> ParticipantFields {
    let s = |v: &str| Some(v.to_string());
    let date = |d: Option<NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
    ParticipantFields {
        nik: s(data.nik.as_str()),
        full_name: s(data.full_name.as_str()),
        sex: s(data.sex.code()),
        birth_date: date(Some(data.birth_date)),
        kk: data.kk.as_ref().map(|k| k.as_str().to_string()),
        phone: data.phone.as_ref().map(|p| p.as_str().to_string()),
        email: data.email.as_ref().map(|e| e.as_str().to_string()),
        province_code: data.address.province_code.clone(),
        regency_code: data.address.regency_code.clone(),
        district_code: data.address.district_code.clone(),
        address: data.address.street.clone(),
        education: data.education.map(|v| v.code().to_string()),
        marital_status: data.marital_status.map(|v| v.code().to_string()),
        destination_country: data
            .migration
            .destination_country
            .map(|c| c.as_str().to_string()),
        job_sector: data.migration.job_sector.map(|v| v.code().to_string()),
        departure_date: date(data.migration.departure_date),
        return_date: date(data.migration.return_date),
        return_reason: data.migration.return_reason.map(|v| v.code().to_string()),
        training_interests: data.training_interests.clone(),
        digital_literacy: data.digital_literacy.map(|v| v.code().to_string()),
        has_smartphone: data.has_smartphone.map(|b| b.to_string()),
        consent_processing: Some(data.consent.processing.to_string()),
        consent_sharing: Some(data.consent.sharing.to_string()),
        consent_method: s(data.consent.method.code()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    /// A woman born 1990-05-05 registered in Kabupaten Bogor (3201), district 320101.
    pub fn sample_fields() -> ParticipantFields {
        ParticipantFields {
            nik: Some("3201014505900001".into()),
            full_name: Some("  Siti   Aminah ".into()),
            sex: Some("female".into()),
            birth_date: Some("1990-05-05".into()),
            phone: Some("0812-3456-7890".into()),
            destination_country: Some("tw".into()),
            job_sector: Some("caregiver".into()),
            consent_processing: Some("true".into()),
            consent_sharing: Some("ya".into()),
            consent_method: Some("paper_form".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_complete_registration_parses_and_normalises() {
        let data = validate(&sample_fields(), today()).unwrap();
        assert_eq!(data.full_name.as_str(), "Siti Aminah");
        assert_eq!(data.phone.unwrap().as_str(), "+6281234567890");
        assert_eq!(data.migration.destination_country.unwrap().as_str(), "TW");
        assert!(data.consent.sharing);
    }

    #[test]
    fn all_problems_are_reported_at_once() {
        let mut f = sample_fields();
        f.nik = Some("123".into());
        f.full_name = None;
        f.phone = Some("abc".into());
        f.education = Some("phd".into());
        let errors = validate(&f, today()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["nik", "full_name", "phone", "education"]);
        assert_eq!(errors[0].code, "nik_length");
    }

    #[test]
    fn birth_date_or_sex_disagreeing_with_nik_is_kept_and_flagged() {
        let mut f = sample_fields();
        f.birth_date = Some("1990-05-06".into());
        f.sex = Some("male".into());
        let data = validate(&f, today()).unwrap();
        assert!(data.birth_date_mismatch());
        assert!(data.sex_mismatch());
        let data = validate(&sample_fields(), today()).unwrap();
        assert!(!data.birth_date_mismatch() && !data.sex_mismatch());
    }

    #[test]
    fn registration_without_consent_to_processing_is_refused() {
        let mut f = sample_fields();
        f.consent_processing = Some("tidak".into());
        let errors = validate(&f, today()).unwrap_err();
        assert_eq!(errors[0].code, "consent_required");
    }

    #[test]
    fn phones_are_normalised_to_international_form() {
        assert_eq!(
            Phone::parse("0812 3456 7890").unwrap().as_str(),
            "+6281234567890"
        );
        assert_eq!(
            Phone::parse("+62 812-3456-7890").unwrap().as_str(),
            "+6281234567890"
        );
        assert_eq!(
            Phone::parse("6281234567890").unwrap().as_str(),
            "+6281234567890"
        );
        assert_eq!(
            Phone::parse("+60 12 345 6789").unwrap().as_str(),
            "+60123456789"
        );
        for bad in [
            "812345",
            "0812",
            "08123x4567",
            "+62 0812 3456 789",
            "12345678901",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
        assert!(!format!("{:?}", Phone::parse("081234567890").unwrap()).contains("81234567"));
    }

    #[test]
    fn return_cannot_precede_departure_or_be_in_the_future() {
        let mut f = sample_fields();
        f.departure_date = Some("2020-01-01".into());
        f.return_date = Some("2019-01-01".into());
        assert_eq!(
            validate(&f, today()).unwrap_err()[0].code,
            "return_before_departure"
        );
        f.return_date = Some("2027-01-01".into());
        assert_eq!(
            validate(&f, today()).unwrap_err()[0].code,
            "return_date_future"
        );
        f.return_date = Some("31/12/2021".into());
        assert!(validate(&f, today()).is_ok());
    }

    #[test]
    fn regions_must_nest() {
        let mut f = sample_fields();
        f.province_code = Some("32".into());
        f.regency_code = Some("3201".into());
        f.district_code = Some("320101".into());
        assert!(validate(&f, today()).is_ok());
        f.regency_code = Some("3501".into());
        let errors = validate(&f, today()).unwrap_err();
        assert_eq!(errors[0].field, "regency_code");
    }

    #[test]
    fn fields_round_trip_through_text() {
        let mut f = sample_fields();
        f.kk = Some("3201010101010001".into());
        f.education = Some("sma".into());
        f.has_smartphone = Some("1".into());
        let data = validate(&f, today()).unwrap();
        let again = validate(&to_fields(&data), today()).unwrap();
        assert_eq!(data, again);
    }

    #[test]
    fn overlay_replaces_only_present_fields() {
        let mut f = sample_fields();
        f.overlay(&ParticipantFields {
            full_name: Some("Siti Aminah Binti Ahmad".into()),
            ..Default::default()
        });
        assert_eq!(f.full_name.as_deref(), Some("Siti Aminah Binti Ahmad"));
        assert_eq!(f.nik.as_deref(), Some("3201014505900001"));
    }

    #[test]
    fn json_accepts_booleans_for_yes_no_fields() {
        let f: ParticipantFields =
            serde_json::from_str(r#"{"has_smartphone": true, "consent_processing": 1}"#).unwrap();
        assert_eq!(f.has_smartphone.as_deref(), Some("true"));
        assert_eq!(f.consent_processing.as_deref(), Some("1"));
    }
}
