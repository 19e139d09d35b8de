//! The catalogue's types: platforms, institutions, trainings and their offers, the closed lists
//! they use, and how a training arrives as text (file row) and is validated once, here.

use serde::Serialize;

use crate::code_enum;
use crate::error::FieldError;

code_enum! {
    pub enum Category {
        HardSkill => ("hard_skill", "Keterampilan kerja (hard skill)", "Hard skill"),
        Technical => ("technical", "Teknis", "Technical"),
        SoftSkill => ("soft_skill", "Keterampilan non-teknis (soft skill)", "Soft skill"),
        Entrepreneurship => ("entrepreneurship", "Kewirausahaan", "Entrepreneurship"),
    }
}

code_enum! {
    pub enum Mode {
        Online => ("online", "Daring (online)", "Online"),
        Offline => ("offline", "Luring (tatap muka)", "In person"),
        Blended => ("blended", "Campuran (daring dan tatap muka)", "Blended"),
    }
}

code_enum! {
    pub enum Status {
        Active => ("active", "Aktif", "Active"),
        Withdrawn => ("withdrawn", "Ditarik", "Withdrawn"),
    }
}

code_enum! {
    /// The language a training is taught in (a Japanese course is usually taught in Indonesian).
    pub enum TrainingLanguage {
        Indonesian => ("id", "Bahasa Indonesia", "Indonesian"),
        English => ("en", "Bahasa Inggris", "English"),
    }
}

code_enum! {
    /// Occupations a training prepares for: the jobs Purna PMI take up at home.
    pub enum Occupation {
        CustomerService => ("customer_service", "Layanan pelanggan (customer service)", "Customer service"),
        CaregiverElderly => ("caregiver_elderly", "Perawat lansia (caregiver)", "Elderly caregiver"),
        Childcare => ("childcare", "Pengasuh anak (baby sitter)", "Childminder / nanny"),
        Housekeeping => ("housekeeping", "Petugas kebersihan (housekeeping)", "Housekeeping"),
        Cook => ("cook", "Juru masak", "Cook"),
        Baker => ("baker", "Pembuat kue dan roti", "Baker"),
        Barista => ("barista", "Barista", "Barista"),
        HotelStaff => ("hotel_staff", "Staf hotel dan restoran", "Hotel and restaurant staff"),
        Tailor => ("tailor", "Penjahit", "Tailor"),
        Beautician => ("beautician", "Penata rias dan salon", "Beautician"),
        Barber => ("barber", "Pemangkas rambut", "Barber"),
        SpaTherapist => ("spa_therapist", "Terapis pijat dan spa", "Massage and spa therapist"),
        Driver => ("driver", "Pengemudi", "Driver"),
        Mechanic => ("mechanic", "Montir", "Mechanic"),
        Welder => ("welder", "Tukang las", "Welder"),
        Electrician => ("electrician", "Teknisi listrik", "Electrician"),
        ElectronicsTechnician => ("electronics_technician", "Teknisi elektronik dan ponsel", "Electronics technician"),
        Construction => ("construction", "Tukang bangunan", "Construction worker"),
        FactoryOperator => ("factory_operator", "Operator produksi pabrik", "Factory operator"),
        Farmer => ("farmer", "Petani", "Farmer"),
        Livestock => ("livestock", "Peternak", "Livestock farmer"),
        FishFarmer => ("fish_farmer", "Pembudidaya ikan", "Fish farmer"),
        OnlineSeller => ("online_seller", "Penjual daring", "Online seller"),
        DigitalMarketer => ("digital_marketer", "Pemasar digital", "Digital marketer"),
        OfficeAdmin => ("office_admin", "Staf administrasi", "Office administrator"),
        Bookkeeper => ("bookkeeper", "Staf pembukuan", "Bookkeeper"),
        GraphicDesigner => ("graphic_designer", "Desainer grafis", "Graphic designer"),
        Photographer => ("photographer", "Fotografer dan videografer", "Photographer"),
        ItStaff => ("it_staff", "Staf TI dan pemrograman", "IT staff"),
        Craftsperson => ("craftsperson", "Perajin", "Craftsperson"),
        Entrepreneur => ("entrepreneur", "Wirausaha (UMKM)", "Small business owner"),
    }
}

/// The eight platforms; the position in this list is the platform's id in the database
/// (ids 1–8 are fixed by the migration).
pub const PLATFORMS: &[(&str, &str)] = &[
    ("tokopedia", "Tokopedia"),
    ("bukalapak", "Bukalapak"),
    ("pijarmahir", "Pijar Mahir"),
    ("sekolahmu", "Sekolahmu"),
    ("pintaria", "Pintaria"),
    ("maubelajarapa", "MauBelajarApa"),
    ("sisnaker", "Sisnaker"),
    ("kariermu", "Kariermu"),
];

/// A platform as the index of [`PLATFORMS`] (0-based; the database id is this plus one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform(pub u8);

impl Platform {
    pub fn all() -> impl Iterator<Item = Platform> {
        (0..PLATFORMS.len() as u8).map(Platform)
    }

    /// Accepts the code or the name, case-insensitively, spaces ignored ("Pijar Mahir").
    pub fn parse(text: &str) -> Option<Platform> {
        let key: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        PLATFORMS
            .iter()
            .position(|(code, name)| *code == key || name.replace(' ', "").to_lowercase() == key)
            .map(|i| Platform(i as u8))
    }

    pub fn from_db_id(id: i64) -> Option<Platform> {
        (1..=PLATFORMS.len() as i64)
            .contains(&id)
            .then(|| Platform((id - 1) as u8))
    }

    pub fn db_id(self) -> i64 {
        i64::from(self.0) + 1
    }

    pub fn code(self) -> &'static str {
        PLATFORMS.get(self.0 as usize).map_or("?", |p| p.0)
    }

    pub fn name(self) -> &'static str {
        PLATFORMS.get(self.0 as usize).map_or("?", |p| p.1)
    }
}

/// A training's price on one platform, in whole rupiah.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Offer {
    #[serde(serialize_with = "platform_code")]
    pub platform: Platform,
    pub price: i64,
}

fn platform_code<S: serde::Serializer>(p: &Platform, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.code())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Institution {
    pub id: i64,
    pub external_id: String,
    pub name: String,
    pub city: String,
}

/// A validated training, as imported or generated (no database ids yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrainingData {
    pub external_id: String,
    pub institution_external_id: String,
    pub institution_name: String,
    pub institution_city: String,
    pub title: String,
    pub category: Category,
    pub occupations: Vec<Occupation>,
    pub mode: Mode,
    pub hours: i64,
    pub language: TrainingLanguage,
    pub description: String,
    pub prerequisites: String,
    pub rating_tenths: Option<i64>,
    pub review_count: i64,
    pub status: Status,
    /// Sorted by platform, at most one per platform.
    pub offers: Vec<Offer>,
}

/// A stored training with its institution's name, as the index, pages and API use it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Training {
    pub id: i64,
    pub institution_id: i64,
    pub version: i64,
    pub data: TrainingData,
}

impl TrainingData {
    /// The cheapest offer, on `platform` only when one is given.
    pub fn cheapest(&self, platform: Option<Platform>) -> Option<Offer> {
        self.offers
            .iter()
            .filter(|o| platform.is_none_or(|p| o.platform == p))
            .min_by_key(|o| (o.price, o.platform))
            .copied()
    }
}

/// The columns of catalogue files, in order: one row per training, its institution repeated on
/// each row, and one price column per platform (empty when not sold there).
pub const COLUMNS: &[&str] = &[
    "training_id",
    "title",
    "institution_id",
    "institution_name",
    "institution_city",
    "category",
    "occupations",
    "mode",
    "hours",
    "language",
    "description",
    "prerequisites",
    "rating",
    "review_count",
    "status",
    "price_tokopedia",
    "price_bukalapak",
    "price_pijarmahir",
    "price_sekolahmu",
    "price_pintaria",
    "price_maubelajarapa",
    "price_sisnaker",
    "price_kariermu",
];

pub const REQUIRED_COLUMNS: &[&str] = &[
    "training_id",
    "title",
    "institution_id",
    "institution_name",
    "category",
    "mode",
    "hours",
    "description",
];

/// One training as text, keyed by column name (a file row, before validation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrainingFields(pub std::collections::BTreeMap<&'static str, String>);

impl TrainingFields {
    pub fn get(&self, column: &str) -> Option<&str> {
        self.0
            .get(column)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

/// Stable ids: letters, digits, `-`, `_`, `.`, at most 40 characters.
fn parse_external_id(field: &str, text: Option<&str>) -> Result<String, FieldError> {
    let text = text.ok_or_else(|| FieldError::required(field))?;
    let ok = text.len() <= 40
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !ok {
        return Err(FieldError::new(
            field,
            "external_id_invalid",
            "Kode hanya boleh berisi huruf, angka, - _ . dan paling panjang 40 karakter.",
            "An id may hold only letters, digits, - _ . and at most 40 characters.",
        ));
    }
    Ok(text.to_string())
}

fn parse_text(
    field: &str,
    text: Option<&str>,
    required: bool,
    max: usize,
) -> Result<String, FieldError> {
    let Some(text) = text else {
        return if required {
            Err(FieldError::required(field))
        } else {
            Ok(String::new())
        };
    };
    let clean = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.chars().count() > max {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("Paling panjang {max} karakter."),
            format!("At most {max} characters."),
        ));
    }
    Ok(clean)
}

pub(super) fn choice_error(field: &str, codes: String) -> FieldError {
    FieldError::new(
        field,
        "choice_invalid",
        format!("Pilihan tidak dikenal. Pilihan yang sah: {codes}."),
        format!("Unknown choice. Valid choices: {codes}."),
    )
}

/// "4.7" or "4,7" → 47 tenths, between 0 and 5.
fn parse_rating(text: &str) -> Option<i64> {
    let t = text.trim().replace(',', ".");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, "0"));
    if frac.len() != 1 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value = whole.parse::<i64>().ok()? * 10 + frac.parse::<i64>().ok()?;
    (0..=50).contains(&value).then_some(value)
}

/// Collects the problems of one row; each field is checked even after another failed.
#[derive(Default)]
struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn take<T: Default>(&mut self, r: Result<T, FieldError>) -> T {
        r.unwrap_or_else(|e| {
            self.errors.push(e);
            T::default()
        })
    }
}

fn parse_number(
    field: &str,
    text: Option<&str>,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, FieldError> {
    let text = text.ok_or_else(|| FieldError::required(field))?;
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            FieldError::new(
                field,
                "number_invalid",
                format!("Harus bilangan bulat {}–{}.", range.start(), range.end()),
                format!("Must be a whole number {}–{}.", range.start(), range.end()),
            )
        })
}

/// Validates one training; returns every problem found.
pub fn validate(f: &TrainingFields) -> Result<TrainingData, Vec<FieldError>> {
    let mut c = Checker::default();
    let external_id = c.take(parse_external_id("training_id", f.get("training_id")));
    let institution_external_id =
        c.take(parse_external_id("institution_id", f.get("institution_id")));
    let institution_name = c.take(parse_text(
        "institution_name",
        f.get("institution_name"),
        true,
        150,
    ));
    let institution_city = c.take(parse_text(
        "institution_city",
        f.get("institution_city"),
        false,
        80,
    ));
    let title = c.take(parse_text("title", f.get("title"), true, 200));
    let description = c.take(parse_text("description", f.get("description"), true, 4000));
    let prerequisites = c.take(parse_text(
        "prerequisites",
        f.get("prerequisites"),
        false,
        1000,
    ));
    let category = c.take(parse_category(f.get("category")));
    let mode = c.take(parse_mode(f.get("mode")));
    let language = c.take(parse_language(f.get("language")));
    let status = c.take(parse_status(f.get("status")));
    let hours = c.take(parse_number("hours", f.get("hours"), 1..=2000));
    let review_count = c.take(parse_review_count(f.get("review_count")));
    let rating_tenths = c.take(parse_rating_field(f.get("rating")));
    let occupations = parse_occupations(f.get("occupations"), &mut c.errors);
    let offers = parse_offers(f, &mut c.errors);
    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    // Each of these only stays `None` when its error was recorded above.
    let (Some(category), Some(mode), Some(language), Some(status)) =
        (category, mode, language, status)
    else {
        return Err(vec![FieldError::required("category")]);
    };
    Ok(TrainingData {
        external_id,
        institution_external_id,
        institution_name,
        institution_city,
        title,
        category,
        occupations,
        mode,
        hours,
        language,
        description,
        prerequisites,
        rating_tenths,
        review_count,
        status,
        offers,
    })
}

// The choice parsers return `Option` so that `Checker::take` has a default to fall back on.

fn parse_category(text: Option<&str>) -> Result<Option<Category>, FieldError> {
    text.ok_or_else(|| FieldError::required("category"))
        .and_then(|t| Category::parse(t).ok_or_else(|| choice_error("category", Category::codes())))
        .map(Some)
}

fn parse_mode(text: Option<&str>) -> Result<Option<Mode>, FieldError> {
    text.ok_or_else(|| FieldError::required("mode"))
        .and_then(|t| Mode::parse(t).ok_or_else(|| choice_error("mode", Mode::codes())))
        .map(Some)
}

/// A missing language means Indonesian.
fn parse_language(text: Option<&str>) -> Result<Option<TrainingLanguage>, FieldError> {
    text.map(|t| {
        TrainingLanguage::parse(t)
            .ok_or_else(|| choice_error("language", TrainingLanguage::codes()))
    })
    .unwrap_or(Ok(TrainingLanguage::Indonesian))
    .map(Some)
}

/// A missing status means the training is on offer.
fn parse_status(text: Option<&str>) -> Result<Option<Status>, FieldError> {
    text.map(|t| Status::parse(t).ok_or_else(|| choice_error("status", Status::codes())))
        .unwrap_or(Ok(Status::Active))
        .map(Some)
}

fn parse_review_count(text: Option<&str>) -> Result<i64, FieldError> {
    match text {
        Some(t) => parse_number("review_count", Some(t), 0..=10_000_000),
        None => Ok(0),
    }
}

/// The rating is optional: a new training has none yet.
fn parse_rating_field(text: Option<&str>) -> Result<Option<i64>, FieldError> {
    match text {
        Some(t) => parse_rating(t).map(Some).ok_or_else(|| {
            FieldError::new(
                "rating",
                "rating_invalid",
                "Nilai harus 0–5 dengan satu angka desimal, mis. 4,7.",
                "The rating must be 0–5 with one decimal, e.g. 4.7.",
            )
        }),
        None => Ok(None),
    }
}

/// Occupations in the order given, without repeats; unknown ones are reported in `errors`.
fn parse_occupations(text: Option<&str>, errors: &mut Vec<FieldError>) -> Vec<Occupation> {
    let mut occupations = Vec::new();
    for part in text
        .unwrap_or("")
        .split(['|', ';', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match Occupation::parse(part) {
            Some(o) if !occupations.contains(&o) => occupations.push(o),
            Some(_) => {}
            None => errors.push(FieldError::new(
                "occupations",
                "choice_invalid",
                format!(
                    "Pekerjaan \"{part}\" tidak dikenal. Pilihan: {}.",
                    Occupation::codes()
                ),
                format!(
                    "Unknown occupation \"{part}\". Choices: {}.",
                    Occupation::codes()
                ),
            )),
        }
    }
    occupations
}

/// One offer per platform with a price column filled in; bad prices go to `errors`. A missing
/// price is only reported when no price was given at all, not on top of a bad one.
fn parse_offers(f: &TrainingFields, errors: &mut Vec<FieldError>) -> Vec<Offer> {
    let mut offers = Vec::new();
    for platform in Platform::all() {
        let column = price_column(platform);
        let Some(text) = f.get(column) else { continue };
        match crate::format::Rupiah::parse(text).map(|r| r.0) {
            Some(price) => offers.push(Offer { platform, price }),
            None => errors.push(FieldError::new(
                column,
                "price_invalid",
                "Harga harus rupiah tanpa desimal, mis. 350000 atau 350.000.",
                "The price must be whole rupiah, e.g. 350000 or 350.000.",
            )),
        }
    }
    if offers.is_empty() && !errors.iter().any(|e| e.code == "price_invalid") {
        errors.push(FieldError::new(
            "price_tokopedia",
            "price_missing",
            "Isi harga di paling sedikit satu platform.",
            "Give the price on at least one platform.",
        ));
    }
    offers
}

pub fn price_column(platform: Platform) -> &'static str {
    COLUMNS
        .get(15 + platform.0 as usize)
        .copied()
        .unwrap_or("price")
}

/// The file row of a training, in [`COLUMNS`] order.
pub fn to_row(d: &TrainingData) -> Vec<String> {
    let mut row = vec![
        d.external_id.clone(),
        d.title.clone(),
        d.institution_external_id.clone(),
        d.institution_name.clone(),
        d.institution_city.clone(),
        d.category.code().to_string(),
        d.occupations
            .iter()
            .map(|o| o.code())
            .collect::<Vec<_>>()
            .join("|"),
        d.mode.code().to_string(),
        d.hours.to_string(),
        d.language.code().to_string(),
        d.description.clone(),
        d.prerequisites.clone(),
        d.rating_tenths
            .map(|r| format!("{}.{}", r / 10, r % 10))
            .unwrap_or_default(),
        d.review_count.to_string(),
        d.status.code().to_string(),
    ];
    for platform in Platform::all() {
        row.push(
            d.offers
                .iter()
                .find(|o| o.platform == platform)
                .map(|o| o.price.to_string())
                .unwrap_or_default(),
        );
    }
    row
}

/// A rating in tenths as shown to people: `4,7` in Indonesian, `4.7` in English.
pub fn rating_text(tenths: Option<i64>, lang: crate::i18n::Lang) -> String {
    match tenths {
        Some(r) => format!("{}{}{}", r / 10, lang.pick(",", "."), r % 10),
        None => "—".to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn fields(pairs: &[(&'static str, &str)]) -> TrainingFields {
        TrainingFields(pairs.iter().map(|(k, v)| (*k, v.to_string())).collect())
    }

    pub fn good() -> TrainingFields {
        fields(&[
            ("training_id", "PRK-00001"),
            ("title", "Menjahit Pakaian untuk Pemula"),
            ("institution_id", "LP-0001"),
            ("institution_name", "LPK Busana Mandiri"),
            ("category", "hard_skill"),
            ("occupations", "tailor|entrepreneur"),
            ("mode", "offline"),
            ("hours", "40"),
            ("description", "Belajar menjahit."),
            ("rating", "4,7"),
            ("price_tokopedia", "Rp 350.000"),
            ("price_sisnaker", "300000"),
        ])
    }

    #[test]
    fn a_good_row_validates() {
        let d = validate(&good()).unwrap();
        assert_eq!(d.rating_tenths, Some(47));
        assert_eq!(
            d.occupations,
            [Occupation::Tailor, Occupation::Entrepreneur]
        );
        assert_eq!(d.cheapest(None).unwrap().price, 300_000);
        assert_eq!(
            d.cheapest(Platform::parse("Tokopedia")).unwrap().price,
            350_000
        );
        assert_eq!(d.status, Status::Active);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let mut f = good();
        f.0.insert("mode", "kadang".into());
        f.0.insert("hours", "0".into());
        f.0.insert("rating", "4.75".into());
        f.0.insert("price_tokopedia", "350.000,50".into());
        f.0.insert("occupations", "tailor|astronaut".into());
        let errors = validate(&f).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["mode", "hours", "rating", "occupations", "price_tokopedia"]
        );
    }

    #[test]
    fn file_rows_round_trip() {
        let d = validate(&good()).unwrap();
        let row = to_row(&d);
        let f = TrainingFields(COLUMNS.iter().copied().zip(row).collect());
        assert_eq!(validate(&f).unwrap(), d);
    }

    #[test]
    fn platforms_parse_by_code_or_name() {
        assert_eq!(Platform::parse("Pijar Mahir"), Some(Platform(2)));
        assert_eq!(Platform::parse("kariermu").map(Platform::db_id), Some(8));
        assert_eq!(Platform::from_db_id(1), Some(Platform(0)));
        assert_eq!(Platform::parse("shopee"), None);
    }
}
