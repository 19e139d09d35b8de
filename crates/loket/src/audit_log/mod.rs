//! The auditor's pages and API over the audit log (recorded by the shared `audit` module): filter by person, user, action and time; export.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{self, Action};
use crate::audit::{count, non_empty, record, search, search_from, AuditFilter, AuditRow, Entry};
use crate::auth::{ApiUser, PageUser, SignedIn};
use crate::error::{AppError, ErrorBody, Result};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::{error_page, render, ApiQuery, Chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/audit", get(list))
        .route("/audit", get(page))
        .route("/audit/export", get(export))
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntryOut {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub role: Option<String>,
    pub counter_id: Option<i64>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    /// Names of the fields changed (never their values).
    pub fields: Vec<String>,
    pub reason: Option<String>,
    pub outcome: String,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    /// Hex SHA-256 of this entry, chained to the previous one.
    pub hash: String,
}

impl From<AuditRow> for AuditEntryOut {
    fn from(r: AuditRow) -> Self {
        AuditEntryOut {
            id: r.id,
            at: r.at,
            user_id: r.user_id,
            username: r.username,
            role: r.role,
            counter_id: r.counter_id,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            fields: r
                .fields
                .map(|f| f.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            reason: r.reason,
            outcome: r.outcome,
            request_id: r.request_id,
            client_addr: r.client_addr,
            hash: hex::encode(r.hash),
        }
    }
}

/// Audit entries, newest first (auditor and admin).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditFilter),
    responses((status = 200, body = Vec<AuditEntryOut>), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiQuery(filter): ApiQuery<AuditFilter>,
) -> Result<Json<Vec<AuditEntryOut>>> {
    access::require(&state.db, &actor, Action::ViewAudit).await?;
    let rows = search(&state.db, &filter).await?;
    record(
        &state.db,
        Some(&actor),
        None,
        Entry {
            entity_id: None,
            ..Entry::new("audit.view", "audit_log", "")
        },
    )
    .await?;
    Ok(Json(rows.into_iter().map(AuditEntryOut::from).collect()))
}

pub struct RowView {
    pub at: String,
    pub who: String,
    pub action: String,
    pub entity: String,
    pub fields: String,
    pub reason: String,
    pub outcome: String,
    pub request: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    participant_id: String,
    user: String,
    action: String,
    from: String,
    to: String,
    rows: Vec<RowView>,
    pager: crate::web::Pager,
    /// The actions to filter by, in words (the value is the code the log keeps).
    actions: Vec<crate::codes::Choice>,
}

/// An audit code in words, or as it is when the catalogue does not know it yet.
fn in_words(lang: Lang, kind: &str, code: &str) -> String {
    lang.find(&format!("audit.{kind}.{code}"))
        .unwrap_or(code)
        .to_string()
}

/// "Nama lengkap, Nomor HP" for "full_name,phone": a field the catalogue names is shown by
/// its label; anything else (counts such as `rows=12`) as it is.
fn fields_in_words(lang: Lang, fields: &str) -> String {
    fields
        .split(',')
        .filter(|f| !f.is_empty())
        .map(|f| lang.find(&format!("field.{f}")).unwrap_or(f))
        .collect::<Vec<_>>()
        .join(", ")
}

fn view(r: &AuditRow, lang: Lang) -> RowView {
    RowView {
        at: crate::format::time(r.at),
        who: format!(
            "{} ({})",
            r.username.as_deref().unwrap_or("—"),
            r.role.as_deref().unwrap_or("—")
        ),
        action: in_words(lang, "do", &r.action),
        entity: format!(
            "{} {}",
            in_words(lang, "entity", &r.entity),
            r.entity_id.as_deref().unwrap_or("")
        ),
        fields: fields_in_words(lang, r.fields.as_deref().unwrap_or_default()),
        reason: r.reason.clone().unwrap_or_default(),
        outcome: in_words(lang, "do", &format!("outcome.{}", r.outcome)),
        request: format!(
            "{} {}",
            r.request_id.as_deref().unwrap_or(""),
            r.client_addr.as_deref().unwrap_or("")
        ),
    }
}

/// Entries on one page of the audit page.
const PAGE_ROWS: i64 = 100;

#[derive(Deserialize)]
struct PageAt {
    offset: Option<i64>,
}

async fn page(
    SignedIn { state, lang, user }: SignedIn,
    Query(filter): Query<AuditFilter>,
    Query(at): Query<PageAt>,
) -> Response {
    if let Err(e) = access::require(&state.db, &user.actor, Action::ViewAudit).await {
        return error_page(lang, &e);
    }
    let offset = at.offset.unwrap_or(0).max(0);
    let filter = AuditFilter {
        limit: Some(PAGE_ROWS),
        ..filter
    };
    let found = match search_from(&state.db, &filter, offset).await {
        Ok(rows) => count(&state.db, &filter).await.map(|total| (rows, total)),
        Err(e) => Err(e),
    };
    let (rows, total) = match found {
        Ok(found) => found,
        Err(e) => return error_page(lang, &e),
    };
    if let Err(e) = record(
        &state.db,
        Some(&user.actor),
        None,
        Entry {
            entity_id: None,
            ..Entry::new("audit.view", "audit_log", "")
        },
    )
    .await
    {
        return error_page(lang, &e);
    }
    let participant_id = filter
        .participant_id
        .map(|i| i.to_string())
        .unwrap_or_default();
    let user_name = filter.user.clone().unwrap_or_default();
    let action = filter.action.clone().unwrap_or_default();
    let from = filter.from.map(|d| d.to_string()).unwrap_or_default();
    let to = filter.to.map(|d| d.to_string()).unwrap_or_default();
    let pager = crate::web::Pager::new(
        lang,
        "/audit",
        &[
            ("participant_id", &participant_id),
            ("user", &user_name),
            ("action", &action),
            ("from", &from),
            ("to", &to),
        ],
        offset,
        rows.len(),
        total,
        PAGE_ROWS,
    );
    let page = AuditPage {
        chrome: Chrome::for_user(lang, &user, "/audit"),
        actions: action_choices(lang, &action),
        participant_id,
        user: user_name,
        action,
        from,
        to,
        rows: rows.iter().map(|r| view(r, lang)).collect(),
        pager,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct ExportQuery {
    format: Option<String>,
    reason: Option<String>,
    #[serde(flatten)]
    filter: AuditFilterText,
}

/// The filter as text, because a flattened form cannot carry typed numbers and dates.
#[derive(Deserialize, Default)]
struct AuditFilterText {
    participant_id: Option<String>,
    user: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl AuditFilterText {
    fn parse(&self) -> Result<AuditFilter> {
        let bad = |field: &str| {
            AppError::field(
                field,
                "filter_invalid",
                "Filter tidak valid.",
                "Invalid filter.",
            )
        };
        let date = |v: &Option<String>, field: &str| -> Result<Option<NaiveDate>> {
            non_empty(v)
                .map(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| bad(field)))
                .transpose()
        };
        Ok(AuditFilter {
            participant_id: non_empty(&self.participant_id)
                .map(|t| t.parse().map_err(|_| bad("participant_id")))
                .transpose()?,
            user: self.user.clone(),
            action: self.action.clone(),
            from: date(&self.from, "from")?,
            to: date(&self.to, "to")?,
            limit: Some(5000),
        })
    }
}

const EXPORT_COLUMNS: &[&str] = &[
    "id",
    "at",
    "username",
    "role",
    "counter_id",
    "action",
    "entity",
    "entity_id",
    "fields",
    "reason",
    "outcome",
    "request_id",
    "client_addr",
    "hash",
];

fn export_values(r: &AuditRow) -> Vec<String> {
    vec![
        r.id.to_string(),
        r.at.to_rfc3339(),
        r.username.clone().unwrap_or_default(),
        r.role.clone().unwrap_or_default(),
        r.counter_id.map(|c| c.to_string()).unwrap_or_default(),
        r.action.clone(),
        r.entity.clone(),
        r.entity_id.clone().unwrap_or_default(),
        r.fields.clone().unwrap_or_default(),
        r.reason.clone().unwrap_or_default(),
        r.outcome.clone(),
        r.request_id.clone().unwrap_or_default(),
        r.client_addr.clone().unwrap_or_default(),
        hex::encode(&r.hash),
    ]
}

fn to_csv(rows: &[AuditRow]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(b"\xef\xbb\xbf".to_vec());
    let err = |e: csv::Error| AppError::Internal(e.into());
    w.write_record(EXPORT_COLUMNS).map_err(err)?;
    for r in rows {
        crate::sheet::write_csv_record(&mut w, export_values(r)).map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
}

fn to_xlsx(rows: &[AuditRow]) -> Result<Vec<u8>> {
    let err = |e: rust_xlsxwriter::XlsxError| AppError::Internal(e.into());
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, name) in EXPORT_COLUMNS.iter().enumerate() {
        sheet.write_string(0, c as u16, *name).map_err(err)?;
    }
    for (i, r) in rows.iter().enumerate() {
        for (c, v) in export_values(r).iter().enumerate() {
            sheet.write_string(i as u32 + 1, c as u16, v).map_err(err)?;
        }
    }
    book.save_to_buffer().map_err(err)
}

/// Export asks for a reason, which goes into the log with the export itself.
async fn export(
    SignedIn { state, lang, user }: SignedIn,
    Query(q): Query<ExportQuery>,
) -> Response {
    match export_file(&state, &user, &q).await {
        Ok(response) => response,
        Err(e) => error_page(lang, &e),
    }
}

async fn export_file(state: &AppState, user: &PageUser, q: &ExportQuery) -> Result<Response> {
    access::require(&state.db, &user.actor, Action::ExportAudit).await?;
    let reason = non_empty(&q.reason)
        .filter(|r| r.chars().count() >= 5)
        .ok_or_else(|| {
            AppError::field(
                "reason",
                "reason_required",
                "Tuliskan alasan ekspor (minimal 5 karakter).",
                "Give the reason for the export (at least 5 characters).",
            )
        })?;
    let filter = q.filter.parse()?;
    let rows = search(&state.db, &filter).await?;
    let entry = Entry {
        entity_id: None,
        ..Entry::new("audit.export", "audit_log", "")
    }
    .reason(format!("{reason} ({} baris/rows)", rows.len()));
    record(&state.db, Some(&user.actor), None, entry).await?;
    let (body, mime, ext) = match q.format.as_deref() {
        Some("xlsx") => (
            to_xlsx(&rows)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        _ => (to_csv(&rows)?, "text/csv; charset=utf-8", "csv"),
    };
    let disposition = format!("attachment; filename=\"audit-log.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// Every action the log names, in the reader's words and by them in order; the current one
/// selected. Read from the core catalogue, so a new action with its words is offered at once.
fn action_choices(lang: Lang, current: &str) -> Vec<crate::codes::Choice> {
    let mut all: Vec<crate::codes::Choice> = crate::i18n::texts_of(crate::i18n::TEXTS)
        .filter_map(std::result::Result::ok)
        .filter_map(|(key, id, en)| {
            let code = key.strip_prefix("audit.do.")?;
            let is_action =
                (code.contains('.') || code == "login") && !code.starts_with("outcome.");
            is_action.then(|| crate::codes::Choice {
                code,
                label: lang.pick(id, en),
                selected: code == current,
            })
        })
        .collect();
    all.sort_by(|a, b| a.label.cmp(b.label));
    all
}
