//! Offices, counters and officers in and out as CSV or XLSX. An import checks every row
//! (including references to offices and counters) first, then writes all rows in one
//! transaction, or nothing. The file readers and row errors are the participants' ones.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{NaiveDate, Utc};

use super::model::*;
use super::store;
use crate::audit::{self, Actor, Entry};
use crate::auth::store::{self as auth_store, NewAccount};
use crate::auth::Role;
use crate::counters::OfficeKind;
use crate::db::Db;
use crate::error::AppError;
use crate::sheet::{write_table, Column, Format, Headers, ImportError, Layout, RowError, Sheet};
use crate::with_db;

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
        let (req, opt) = self.columns();
        let column = |required| {
            move |name: &&'static str| Column {
                name,
                aliases: &[],
                required,
            }
        };
        req.iter()
            .map(column(true))
            .chain(opt.iter().map(column(false)))
            .collect()
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

impl Checker<'_> {
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

#[derive(Debug, PartialEq, Eq)]
pub struct ImportSummary {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub dry_run: bool,
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
    let mut check = Checker {
        headers: &rows.headers,
        errors: Vec::new(),
    };
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
            good.push((
                code.to_string(),
                name.to_string(),
                kind,
                province.to_string(),
                v.get("address").cloned(),
            ));
        }
    }
    if !check.errors.is_empty() {
        return Err(ImportError::Rejected(check.errors));
    }
    let updated = good.iter().filter(|g| existing.contains(&g.0)).count();
    let summary = ImportSummary {
        rows: good.len(),
        created: good.len() - updated,
        updated,
        dry_run,
    };
    if dry_run {
        return Ok(summary);
    }
    let now = Utc::now();
    with_db!(db, |pool| {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        for (code, name, kind, province, address) in &good {
            sqlx::query(
                "INSERT INTO offices (code, name, kind, province_code, address, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, province_code = excluded.province_code, \
                 address = excluded.address, version = offices.version + 1",
            )
            .bind(code)
            .bind(name)
            .bind(kind.code())
            .bind(province)
            .bind(address)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(AppError::from)?;
        }
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(summary)
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
    let mut check = Checker {
        headers: &rows.headers,
        errors: Vec::new(),
    };
    let mut seen = HashMap::new();
    let mut good = Vec::new();
    for (row, v) in &rows.rows {
        let code = check.required(*row, v, "code");
        let office = check.required(*row, v, "office_code");
        let name = check.required(*row, v, "name");
        let office_id = office.and_then(|o| {
            let id = offices.get(o).copied();
            if id.is_none() {
                check.push(
                    *row,
                    "office_code",
                    "office_unknown",
                    format!("Kantor {o} tidak ada; impor kantor dulu."),
                    format!("No office {o}; import the offices first."),
                );
            }
            id
        });
        let location = match v.get("location_type") {
            Some(t) => check.choice(
                *row,
                "location_type",
                Some(t),
                LocationType::parse,
                LocationType::codes(),
            ),
            None => Some(LocationType::Office),
        };
        let planned_open = check.date(
            *row,
            "planned_open",
            v.get("planned_open").map(String::as_str),
        );
        if let Some(s) = v.get("status") {
            // The status moves only through the lifecycle (with its staffing rule), never by file.
            if code.is_some_and(|c| !existing.contains(c))
                && CounterStatus::parse(s) != Some(CounterStatus::Planned)
            {
                check.push(
                    *row,
                    "status",
                    "status_by_lifecycle",
                    "Loket baru berstatus direncanakan; ubah status lewat siklus loket.".into(),
                    "A new counter starts as planned; change its status through the lifecycle."
                        .into(),
                );
            }
        }
        if let Some(region) = v.get("region_code") {
            if nik::regions::regency(region).is_none()
                && nik::regions::district(region).is_none()
                && nik::regions::province(region).is_none()
            {
                check.push(
                    *row,
                    "region_code",
                    "region_unknown",
                    format!("Kode wilayah {region} tidak dikenal."),
                    format!("Unknown region code {region}."),
                );
            }
        }
        if let Some(c) = code {
            check.unique(&mut seen, *row, "code", c);
        }
        if let (Some(code), Some(office_id), Some(name), Some(location)) =
            (code, office_id, name, location)
        {
            good.push((
                code.to_string(),
                office_id,
                name.to_string(),
                location,
                v.clone(),
                planned_open,
            ));
        }
    }
    if !check.errors.is_empty() {
        return Err(ImportError::Rejected(check.errors));
    }
    let updated = good.iter().filter(|g| existing.contains(&g.0)).count();
    let summary = ImportSummary {
        rows: good.len(),
        created: good.len() - updated,
        updated,
        dry_run,
    };
    if dry_run {
        return Ok(summary);
    }
    let now = Utc::now();
    with_db!(db, |pool| {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        for (code, office_id, name, location, v, planned_open) in &good {
            sqlx::query(
                "INSERT INTO counters (office_id, code, name, status, created_at, location_type, address, region_code, opening_hours, services, planned_open) \
                 VALUES ($1, $2, $3, 'planned', $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (code) DO UPDATE SET office_id = excluded.office_id, name = excluded.name, location_type = excluded.location_type, \
                 address = excluded.address, region_code = excluded.region_code, opening_hours = excluded.opening_hours, \
                 services = excluded.services, planned_open = excluded.planned_open, version = counters.version + 1",
            )
            .bind(office_id)
            .bind(code)
            .bind(name)
            .bind(now)
            .bind(location.code())
            .bind(v.get("address"))
            .bind(v.get("region_code"))
            .bind(v.get("opening_hours"))
            .bind(v.get("services"))
            .bind(planned_open)
            .execute(&mut *tx)
            .await
            .map_err(AppError::from)?;
        }
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(summary)
}

async fn import_officers(
    db: &Db,
    rows: &Rows,
    dry_run: bool,
) -> Result<ImportSummary, ImportError> {
    let counters: HashMap<String, (i64, i64)> = store::counter_rows(db)
        .await?
        .into_iter()
        .map(|c| (c.code, (c.id, c.office_id)))
        .collect();
    let offices: HashMap<String, i64> = store::office_rows(db)
        .await?
        .into_iter()
        .map(|o| (o.code, o.id))
        .collect();
    let profiles: HashSet<String> = store::officer_rows(db)
        .await?
        .into_iter()
        .map(|o| o.username)
        .collect();
    let mut check = Checker {
        headers: &rows.headers,
        errors: Vec::new(),
    };
    let mut seen = HashMap::new();
    let mut good = Vec::new();
    for (row, v) in &rows.rows {
        let username = check.required(*row, v, "username").and_then(|u| {
            let parsed = crate::auth::model::parse_username(u);
            if parsed.is_none() {
                check.push(
                    *row,
                    "username",
                    "username_invalid",
                    "Nama pengguna 3–40 huruf kecil, angka, titik, garis.".into(),
                    "Username: 3–40 of a-z, 0-9, dot, dash, underscore.".into(),
                );
            }
            parsed
        });
        let full_name = check.required(*row, v, "full_name");
        let role = check.required(*row, v, "role");
        let role = check.choice(
            *row,
            "role",
            role,
            Role::parse,
            "petugas, koordinator".into(),
        );
        if role.is_some_and(|r| !matches!(r, Role::Petugas | Role::Koordinator | Role::Admin)) {
            check.push(
                *row,
                "role",
                "role_not_officer",
                "Petugas berperan petugas, koordinator atau admin.".into(),
                "An officer's role is petugas, koordinator or admin.".into(),
            );
        }
        let cascade = check.required(*row, v, "cascade_role");
        let cascade = check.choice(
            *row,
            "cascade_role",
            cascade,
            CascadeRole::parse,
            CascadeRole::codes(),
        );
        let counter = v.get("counter_code").and_then(|c| {
            let found = counters.get(c).copied();
            if found.is_none() {
                check.push(
                    *row,
                    "counter_code",
                    "counter_unknown",
                    format!("Loket {c} tidak ada."),
                    format!("No counter {c}."),
                );
            }
            found
        });
        let office = match (counter, v.get("office_code")) {
            (Some((_, office)), _) => Some(office),
            (None, Some(o)) => {
                let found = offices.get(o).copied();
                if found.is_none() {
                    check.push(
                        *row,
                        "office_code",
                        "office_unknown",
                        format!("Kantor {o} tidak ada."),
                        format!("No office {o}."),
                    );
                }
                found
            }
            (None, None) => None,
        };
        if role == Some(Role::Petugas) && counter.is_none() && v.get("counter_code").is_none() {
            check.push(
                *row,
                "counter_code",
                "required",
                "Petugas loket perlu kode loket.".into(),
                "A counter officer needs a counter code.".into(),
            );
        }
        if let Some(u) = &username {
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
        if let (Some(username), Some(full_name), Some(role), Some(cascade)) =
            (username, full_name, role, cascade)
        {
            good.push((
                username,
                full_name.to_string(),
                role,
                cascade,
                counter.map(|c| c.0),
                office,
            ));
        }
    }
    if !check.errors.is_empty() {
        return Err(ImportError::Rejected(check.errors));
    }
    let summary = ImportSummary {
        rows: good.len(),
        created: good.len(),
        updated: 0,
        dry_run,
    };
    if dry_run {
        return Ok(summary);
    }
    let unusable = auth_store::unusable_password_hash()?;
    let now = Utc::now();
    with_db!(db, |pool| {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        for (username, full_name, role, cascade, counter, office) in &good {
            let user_id = match auth_store::account_id(&mut *tx, username).await? {
                Some(id) => {
                    auth_store::set_account_place(&mut *tx, id, *office, *counter).await?;
                    id
                }
                None => {
                    let account = NewAccount {
                        username,
                        password_hash: &unusable,
                        role: *role,
                        office_id: *office,
                        counter_id: *counter,
                    };
                    auth_store::insert_account(&mut *tx, &account).await?
                }
            };
            sqlx::query("INSERT INTO officers (user_id, full_name, cascade_role, created_at) VALUES ($1, $2, $3, $4)")
                .bind(user_id)
                .bind(full_name)
                .bind(cascade.code())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(AppError::from)?;
        }
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(summary)
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
        Kind::Officers => {
            let counters = store::counter_rows(db).await?;
            let offices = store::office_rows(db).await?;
            let users = store::officer_rows(db).await?;
            let mut rows = Vec::new();
            for o in users {
                let role = crate::auth::store::user_by_id(db, o.user_id)
                    .await?
                    .map(|u| u.role.code())
                    .unwrap_or("petugas");
                rows.push(vec![
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
                ]);
            }
            (kind.all_columns(), rows)
        }
    })
}

/// Writes an export file; returns the number of data rows.
pub async fn export(db: &Db, kind: Kind, format: Format, out: &Path) -> Result<usize, ImportError> {
    let (header, rows) = export_rows(db, kind).await?;
    write_table(format, out, &header, &rows)
}
