//! Offices, counters and officers in and out as CSV or XLSX. An import checks every row
//! (including references to offices and counters) first, then writes all rows in one
//! transaction, or nothing. Reading, header mapping and row errors are `crate::sheet`'s.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;

use super::model::*;
use super::store::{self, CounterDetails, CounterImport, OfficeImport, OfficerImport};
use crate::audit::{self, Entry};
use crate::auth::Role;
use crate::counters::OfficeKind;
use crate::db::Db;
use crate::error::AppError;
use crate::identity::Actor;
use crate::sheet::{write_table, Column, Format, Headers, ImportError, Layout, RowError, Sheet};

/// What a network file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Offices,
    Counters,
    Officers,
}

impl Kind {
    pub fn parse(text: &str) -> Option<Kind> {
        match text.trim().to_ascii_lowercase().as_str() {
            "offices" | "kantor" => Some(Kind::Offices),
            "counters" | "loket" => Some(Kind::Counters),
            "officers" | "petugas" => Some(Kind::Officers),
            _ => None,
        }
    }

    /// The columns, required ones first.
    pub fn columns(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Kind::Offices => (&["code", "name", "kind", "province_code"], &["address"]),
            Kind::Counters => (
                &["code", "office_code", "name"],
                &[
                    "location_type",
                    "address",
                    "region_code",
                    "opening_hours",
                    "services",
                    "planned_open",
                    "status",
                ],
            ),
            Kind::Officers => (
                &["username", "full_name", "role", "cascade_role"],
                &["counter_code", "office_code"],
            ),
        }
    }

    fn all_columns(self) -> Vec<&'static str> {
        let (req, opt) = self.columns();
        req.iter().chain(opt.iter()).copied().collect()
    }

    fn layout_columns(self) -> Vec<Column> {
        Column::list(&self.all_columns(), &[], self.columns().0)
    }
}

/// A checked sheet: each row (blank ones too) as column → text, with its row number.
struct Rows {
    rows: Vec<(usize, HashMap<String, String>)>,
    headers: Headers,
}

fn map_rows(kind: Kind, sheet: &Sheet) -> Result<Rows, Vec<RowError>> {
    let columns = kind.layout_columns();
    let headers = Headers::map(&sheet.headers, &Layout::new(&columns))?;
    let rows = sheet
        .rows
        .iter()
        .enumerate()
        .map(|(i, cells)| (i + 2, headers.values(cells)))
        .collect();
    Ok(Rows { rows, headers })
}

struct Checker<'a> {
    headers: &'a Headers,
    errors: Vec<RowError>,
}

impl<'a> Checker<'a> {
    fn new(headers: &'a Headers) -> Checker<'a> {
        Checker {
            headers,
            errors: Vec::new(),
        }
    }

    fn push(&mut self, row: usize, column: &str, code: &str, id: String, en: String) {
        self.errors.push(RowError {
            row,
            column: self.headers.locate(column),
            code: code.into(),
            message: id,
            message_en: en,
        });
    }

    fn required<'v>(
        &mut self,
        row: usize,
        values: &'v HashMap<String, String>,
        column: &str,
    ) -> Option<&'v str> {
        let v = values.get(column).map(String::as_str);
        if v.is_none() {
            self.push(
                row,
                column,
                "required",
                "Wajib diisi.".into(),
                "This field is required.".into(),
            );
        }
        v
    }

    fn choice<T>(
        &mut self,
        row: usize,
        column: &str,
        text: Option<&str>,
        parse: fn(&str) -> Option<T>,
        codes: String,
    ) -> Option<T> {
        let text = text?;
        let v = parse(text);
        if v.is_none() {
            self.push(
                row,
                column,
                "choice_invalid",
                format!("\"{text}\" tidak dikenal. Pilih salah satu: {codes}."),
                format!("\"{text}\" is not known. Use one of: {codes}."),
            );
        }
        v
    }

    fn date(&mut self, row: usize, column: &str, text: Option<&str>) -> Option<NaiveDate> {
        let text = text?;
        let d = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        if d.is_none() {
            self.push(
                row,
                column,
                "date_invalid",
                "Tanggal ditulis TTTT-BB-HH.".into(),
                "Write the date as YYYY-MM-DD.".into(),
            );
        }
        d
    }

    fn unique(&mut self, seen: &mut HashMap<String, usize>, row: usize, column: &str, value: &str) {
        if let Some(first) = seen.insert(value.to_string(), row) {
            self.push(
                row,
                column,
                "duplicate_in_file",
                format!("Nilai ini sudah ada di baris {first} berkas yang sama."),
                format!("This value already appears in row {first} of the same file."),
            );
        }
    }
}

impl Checker<'_> {
    /// A reference to a row of another table (an office, a counter) by its code.
    fn known<T: Copy>(
        &mut self,
        row: usize,
        column: &str,
        table: &HashMap<String, T>,
        code: &str,
        missing: (String, String),
    ) -> Option<T> {
        let found = table.get(code).copied();
        if found.is_none() {
            let (id, en) = missing;
            self.push(row, column, unknown_code(column), id, en);
        }
        found
    }

    /// The checked rows, or every problem found.
    fn finish<T>(self, good: Vec<T>) -> Result<Vec<T>, ImportError> {
        if self.errors.is_empty() {
            Ok(good)
        } else {
            Err(ImportError::Rejected(self.errors))
        }
    }
}

/// The error code of a reference to a row that does not exist.
fn unknown_code(column: &str) -> &'static str {
    match column {
        "counter_code" => "counter_unknown",
        _ => "office_unknown",
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct ImportSummary {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub dry_run: bool,
}

impl ImportSummary {
    fn new(rows: usize, updated: usize, dry_run: bool) -> ImportSummary {
        ImportSummary {
            rows,
            created: rows - updated,
            updated,
            dry_run,
        }
    }
}

/// Imports one file: offices and counters are created or updated by code; officers get an
/// account (created without a usable password: an admin sets one) and a profile.
pub async fn import(
    db: &Db,
    actor: Option<&Actor>,
    kind: Kind,
    sheet: &Sheet,
    dry_run: bool,
) -> Result<ImportSummary, ImportError> {
    let rows = map_rows(kind, sheet).map_err(ImportError::Rejected)?;
    let summary = match kind {
        Kind::Offices => import_offices(db, &rows, dry_run).await?,
        Kind::Counters => import_counters(db, &rows, dry_run).await?,
        Kind::Officers => import_officers(db, &rows, dry_run).await?,
    };
    if !dry_run {
        let what = match kind {
            Kind::Offices => "offices",
            Kind::Counters => "counters",
            Kind::Officers => "officers",
        };
        audit::record(
            db,
            actor,
            None,
            Entry::new("network.import", "network", what).reason(format!("{} rows", summary.rows)),
        )
        .await?;
    }
    Ok(summary)
}

async fn import_offices(db: &Db, rows: &Rows, dry_run: bool) -> Result<ImportSummary, ImportError> {
    let existing: HashSet<String> = store::office_rows(db)
        .await?
        .into_iter()
        .map(|o| o.code)
        .collect();
    let offices = check_offices(rows)?;
    let updated = offices
        .iter()
        .filter(|o| existing.contains(&o.code))
        .count();
    let summary = ImportSummary::new(offices.len(), updated, dry_run);
    if !dry_run {
        store::upsert_offices(db, &offices).await?;
    }
    Ok(summary)
}

fn check_offices(rows: &Rows) -> Result<Vec<OfficeImport>, ImportError> {
    let mut check = Checker::new(&rows.headers);
    let mut seen = HashMap::new();
    let mut good = Vec::new();
    for (row, v) in &rows.rows {
        let code = check.required(*row, v, "code");
        let name = check.required(*row, v, "name");
        let kind = check.required(*row, v, "kind");
        let kind = check.choice(*row, "kind", kind, OfficeKind::parse, OfficeKind::codes());
        let province = check.required(*row, v, "province_code");
        if let Some(p) = province {
            if nik::regions::province(p).is_none() {
                check.push(
                    *row,
                    "province_code",
                    "province_unknown",
                    format!("Kode provinsi {p} tidak dikenal."),
                    format!("Unknown province code {p}."),
                );
            }
        }
        if let Some(c) = code {
            check.unique(&mut seen, *row, "code", c);
        }
        if let (Some(code), Some(name), Some(kind), Some(province)) = (code, name, kind, province) {
            good.push(OfficeImport {
                code: code.to_string(),
                name: name.to_string(),
                kind,
                province_code: province.to_string(),
                address: v.get("address").cloned(),
            });
        }
    }
    check.finish(good)
}

async fn import_counters(
    db: &Db,
    rows: &Rows,
    dry_run: bool,
) -> Result<ImportSummary, ImportError> {
    let offices: HashMap<String, i64> = store::office_rows(db)
        .await?
        .into_iter()
        .map(|o| (o.code, o.id))
        .collect();
    let existing: HashSet<String> = store::counter_rows(db)
        .await?
        .into_iter()
        .map(|c| c.code)
        .collect();
    let mut check = Checker::new(&rows.headers);
    let mut seen = HashMap::new();
    let mut good = Vec::new();
    for (row, v) in &rows.rows {
        let counter = check_counter(&mut check, *row, v, &offices, &existing);
        if let Some(c) = v.get("code") {
            check.unique(&mut seen, *row, "code", c);
        }
        good.extend(counter);
    }
    let counters = check.finish(good)?;
    let updated = counters
        .iter()
        .filter(|c| existing.contains(&c.code))
        .count();
    let summary = ImportSummary::new(counters.len(), updated, dry_run);
    if !dry_run {
        store::upsert_counters(db, &counters).await?;
    }
    Ok(summary)
}

/// One counter row, checked against the offices and the counters that exist.
fn check_counter(
    check: &mut Checker,
    row: usize,
    v: &HashMap<String, String>,
    offices: &HashMap<String, i64>,
    existing: &HashSet<String>,
) -> Option<CounterImport> {
    let code = check.required(row, v, "code");
    let office = check.required(row, v, "office_code");
    let name = check.required(row, v, "name");
    let office_id = office.and_then(|o| {
        let missing = (
            format!("Kantor {o} tidak ada; impor kantor dulu."),
            format!("No office {o}; import the offices first."),
        );
        check.known(row, "office_code", offices, o, missing)
    });
    let location = match v.get("location_type") {
        Some(t) => check.choice(
            row,
            "location_type",
            Some(t),
            LocationType::parse,
            LocationType::codes(),
        ),
        None => Some(LocationType::Office),
    };
    let planned_open = check.date(
        row,
        "planned_open",
        v.get("planned_open").map(String::as_str),
    );
    if let Some(s) = v.get("status") {
        // The status moves only through the lifecycle (with its staffing rule), never by file.
        if code.is_some_and(|c| !existing.contains(c))
            && CounterStatus::parse(s) != Some(CounterStatus::Planned)
        {
            check.push(
                row,
                "status",
                "status_by_lifecycle",
                "Loket baru berstatus direncanakan; ubah status lewat siklus loket.".into(),
                "A new counter starts as planned; change its status through the lifecycle.".into(),
            );
        }
    }
    if let Some(region) = v.get("region_code") {
        if nik::regions::regency(region).is_none()
            && nik::regions::district(region).is_none()
            && nik::regions::province(region).is_none()
        {
            check.push(
                row,
                "region_code",
                "region_unknown",
                format!("Kode wilayah {region} tidak dikenal."),
                format!("Unknown region code {region}."),
            );
        }
    }
    Some(CounterImport {
        code: code?.to_string(),
        office_id: office_id?,
        name: name?.to_string(),
        details: CounterDetails {
            location_type: Some(location?),
            address: v.get("address").cloned(),
            region_code: v.get("region_code").cloned(),
            opening_hours: v.get("opening_hours").cloned(),
            services: v.get("services").cloned(),
            planned_open,
        },
    })
}

async fn import_officers(
    db: &Db,
    rows: &Rows,
    dry_run: bool,
) -> Result<ImportSummary, ImportError> {
    let places = Places {
        counters: store::counter_rows(db)
            .await?
            .into_iter()
            .map(|c| (c.code, (c.id, c.office_id)))
            .collect(),
        offices: store::office_rows(db)
            .await?
            .into_iter()
            .map(|o| (o.code, o.id))
            .collect(),
    };
    let profiles: HashSet<String> = store::officer_rows(db)
        .await?
        .into_iter()
        .map(|o| o.username)
        .collect();
    let mut check = Checker::new(&rows.headers);
    let mut seen = HashMap::new();
    let mut good = Vec::new();
    for (row, v) in &rows.rows {
        let officer = check_officer(&mut check, *row, v, &places);
        if let Some(u) = &officer.username {
            check.unique(&mut seen, *row, "username", u);
            if profiles.contains(u) {
                check.push(
                    *row,
                    "username",
                    "officer_exists",
                    "Akun ini sudah punya profil petugas.".into(),
                    "This account already has an officer profile.".into(),
                );
            }
        }
        good.extend(officer.complete());
    }
    let officers = check.finish(good)?;
    let summary = ImportSummary::new(officers.len(), 0, dry_run);
    if !dry_run {
        store::insert_officers(db, &officers).await?;
    }
    Ok(summary)
}

/// The offices and counters an officer may be assigned to, by code.
struct Places {
    counters: HashMap<String, (i64, i64)>,
    offices: HashMap<String, i64>,
}

/// An officer row as far as it checked.
struct OfficerCheck {
    username: Option<String>,
    full_name: Option<String>,
    role: Option<Role>,
    cascade: Option<CascadeRole>,
    counter_id: Option<i64>,
    office_id: Option<i64>,
}

impl OfficerCheck {
    fn complete(self) -> Option<OfficerImport> {
        Some(OfficerImport {
            username: self.username?,
            full_name: self.full_name?,
            role: self.role?,
            cascade_role: self.cascade?,
            counter_id: self.counter_id,
            office_id: self.office_id,
        })
    }
}

/// One officer row: the account, the role and where the officer works.
fn check_officer(
    check: &mut Checker,
    row: usize,
    v: &HashMap<String, String>,
    places: &Places,
) -> OfficerCheck {
    let username = check.required(row, v, "username").and_then(|u| {
        let parsed = crate::auth::model::parse_username(u);
        if parsed.is_none() {
            check.push(
                row,
                "username",
                "username_invalid",
                "Nama pengguna 3–40 huruf kecil, angka, titik, garis.".into(),
                "Username: 3–40 of a-z, 0-9, dot, dash, underscore.".into(),
            );
        }
        parsed
    });
    let full_name = check.required(row, v, "full_name").map(str::to_string);
    let role = check.required(row, v, "role");
    let role = check.choice(
        row,
        "role",
        role,
        Role::parse,
        "petugas, koordinator".into(),
    );
    if role.is_some_and(|r| !matches!(r, Role::Petugas | Role::Koordinator | Role::Admin)) {
        check.push(
            row,
            "role",
            "role_not_officer",
            "Petugas berperan petugas, koordinator atau admin.".into(),
            "An officer's role is petugas, koordinator or admin.".into(),
        );
    }
    let cascade = check.required(row, v, "cascade_role");
    let cascade = check.choice(
        row,
        "cascade_role",
        cascade,
        CascadeRole::parse,
        CascadeRole::codes(),
    );
    let counter = v.get("counter_code").and_then(|c| {
        let missing = (format!("Loket {c} tidak ada."), format!("No counter {c}."));
        check.known(row, "counter_code", &places.counters, c, missing)
    });
    let office_id = match (counter, v.get("office_code")) {
        (Some((_, office)), _) => Some(office),
        (None, Some(o)) => {
            let missing = (format!("Kantor {o} tidak ada."), format!("No office {o}."));
            check.known(row, "office_code", &places.offices, o, missing)
        }
        (None, None) => None,
    };
    if role == Some(Role::Petugas) && counter.is_none() && v.get("counter_code").is_none() {
        check.push(
            row,
            "counter_code",
            "required",
            "Petugas loket perlu kode loket.".into(),
            "A counter officer needs a counter code.".into(),
        );
    }
    OfficerCheck {
        username,
        full_name,
        role,
        cascade,
        counter_id: counter.map(|c| c.0),
        office_id,
    }
}

/// The rows of an export: header and text cells.
pub async fn export_rows(
    db: &Db,
    kind: Kind,
) -> Result<(Vec<&'static str>, Vec<Vec<String>>), AppError> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    Ok(match kind {
        Kind::Offices => (
            kind.all_columns(),
            store::office_rows(db)
                .await?
                .into_iter()
                .map(|o| vec![o.code, o.name, o.kind, o.province_code, opt(&o.address)])
                .collect(),
        ),
        Kind::Counters => (
            kind.all_columns(),
            store::counter_rows(db)
                .await?
                .into_iter()
                .map(|c| {
                    vec![
                        c.code.clone(),
                        c.office_code.clone(),
                        c.name.clone(),
                        c.location_type.clone(),
                        opt(&c.address),
                        opt(&c.region_code),
                        opt(&c.opening_hours),
                        opt(&c.services),
                        c.planned_open.map(|d| d.to_string()).unwrap_or_default(),
                        c.status.clone(),
                    ]
                })
                .collect(),
        ),
        Kind::Officers => (kind.all_columns(), officer_export_rows(db).await?),
    })
}

/// Officers as their import file has them: account, role and place by code.
async fn officer_export_rows(db: &Db) -> Result<Vec<Vec<String>>, AppError> {
    let counters = store::counter_rows(db).await?;
    let offices = store::office_rows(db).await?;
    let accounts = crate::auth::users_by_id(db).await?;
    let rows = store::officer_rows(db)
        .await?
        .into_iter()
        .map(|o| {
            let role = accounts
                .get(&o.user_id)
                .map(|u| u.role.code())
                .unwrap_or("petugas");
            vec![
                o.username,
                o.full_name,
                role.to_string(),
                o.cascade_role,
                o.counter_id
                    .and_then(|id| counters.iter().find(|c| c.id == id))
                    .map(|c| c.code.clone())
                    .unwrap_or_default(),
                o.office_id
                    .and_then(|id| offices.iter().find(|f| f.id == id))
                    .map(|f| f.code.clone())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    Ok(rows)
}

/// Writes an export file; returns the number of data rows.
pub async fn export(db: &Db, kind: Kind, format: Format, out: &Path) -> Result<usize, ImportError> {
    let (header, rows) = export_rows(db, kind).await?;
    write_table(format, out, &header, &rows)
}
