//! Exchange pages: the admin's overview (upload, master list, status export), one upload's
//! review and apply page, and the outreach list every counter sees for its own area.
//! No JavaScript: a running job's page refreshes itself with a meta refresh.

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;

use super::agreement::{parse_explanation, Sides};
use super::model::{Decision, Facts, UploadStatus};
use super::service::{self, LinkSummary, OutreachItem};
use super::store::{self, MasterImport, Upload, UploadRow};
use crate::access::{self, Action};
use crate::auth::{NoFields, PageUser, SignedForm, SignedIn};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::sheet::{ImportError, RowError};
use crate::state::AppState;
use crate::vault::Vault;
use crate::web::PathId;
use crate::web::{error_page, render, Chrome};

pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/exchange", get(overview))
        .route(
            "/exchange/uploads",
            post(upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/exchange/master",
            post(master).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/exchange/uploads/{id}", get(detail))
        .route("/exchange/uploads/{id}/rows/{row_id}", post(review))
        .route("/exchange/uploads/{id}/apply", post(apply))
        .route("/exchange/uploads/{id}/retry", post(retry))
        .route("/exchange/status-export", post(status_export))
        .route("/exchange/outreach", get(outreach))
}

#[derive(Template)]
#[template(path = "exchange_overview.html")]
struct OverviewPage {
    chrome: Chrome,
    uploads: Vec<Upload>,
    master_count: i64,
    master_imports: Vec<MasterImport>,
    problems: Vec<RowError>,
    problem_of: &'static str,
    notice: Option<String>,
}

impl OverviewPage {
    fn status(&self, u: &Upload) -> &'static str {
        u.status().label(self.chrome.lang)
    }

    fn when(&self, at: &chrono::DateTime<Utc>) -> String {
        crate::format::time(*at)
    }

    fn pick<'a>(&self, id: &'a str, en: &'a str) -> &'a str {
        self.chrome.lang.pick(id, en)
    }
}

#[derive(Deserialize, Default)]
struct OverviewQuery {
    master: Option<usize>,
}

async fn overview_page(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    problems: Vec<RowError>,
    problem_of: &'static str,
    notice: Option<String>,
) -> Response {
    if !access::allows(&user.actor.user, Action::ManageExchange) {
        return error_page(lang, &AppError::Forbidden);
    }
    let loaded = async {
        Ok::<_, AppError>((
            store::uploads(&state.db).await?,
            store::master_count(&state.db).await?,
            store::master_imports(&state.db).await?,
        ))
    }
    .await;
    let (uploads, master_count, master_imports) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(lang, &e),
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = OverviewPage {
        chrome: Chrome::for_user(lang, user, "/exchange"),
        uploads,
        master_count,
        master_imports,
        problems,
        problem_of,
        notice,
    };
    render(status, &page)
}

async fn overview(
    SignedIn { state, lang, user }: SignedIn,
    Query(q): Query<OverviewQuery>,
) -> Response {
    let notice = q.master.map(|n| {
        lang.pick(
            &format!("Daftar induk BP2MI diimpor: {n} baris."),
            &format!("BP2MI master list imported: {n} rows."),
        )
        .to_string()
    });
    overview_page(&state, lang, &user, Vec::new(), "", notice).await
}

/// The CSRF token and the file of a multipart form, once the role may upload at all (a
/// refusal must not depend on how the form was encoded).
async fn read_upload(
    state: &AppState,
    user: &PageUser,
    form: Result<Multipart, MultipartRejection>,
) -> Result<(String, Vec<u8>), AppError> {
    crate::access::require(&state.db, &user.actor, Action::ManageExchange).await?;
    let mut form = form.map_err(|e| AppError::BadRequest(format!("form: {e}")))?;
    let (mut csrf, mut file) = (String::new(), None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("form: {e}")))?
    {
        match field.name() {
            Some("csrf") => {
                csrf = field
                    .text()
                    .await
                    .map_err(|e| AppError::BadRequest(format!("form: {e}")))?;
            }
            Some("file") => {
                let name = field.file_name().unwrap_or("berkas").to_string();
                let bytes = field.bytes().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        AppError::PayloadTooLarge
                    } else {
                        AppError::BadRequest(format!("form: {e}"))
                    }
                })?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    user.check_csrf(&csrf)?;
    match file {
        Some((name, bytes)) if !bytes.is_empty() => Ok((name, bytes)),
        _ => Err(AppError::field(
            "file",
            "file_missing",
            "Pilih berkas CSV atau XLSX terlebih dahulu.",
            "Choose a CSV or XLSX file first.",
        )),
    }
}

/// An import's outcome on the overview page: row problems listed, other errors as a page.
async fn import_failed(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    err: ImportError,
    of: &'static str,
) -> Response {
    match err {
        ImportError::Rejected(problems) => {
            overview_page(state, lang, user, problems, of, None).await
        }
        ImportError::Unreadable(why) => {
            let problem = RowError {
                row: 0,
                column: "-".into(),
                code: "file_unreadable".into(),
                message: format!("Berkas tidak dapat dibaca: {why}"),
                message_en: format!("The file cannot be read: {why}"),
            };
            overview_page(state, lang, user, vec![problem], of, None).await
        }
        ImportError::App(e) => error_page(lang, &e),
    }
}

async fn upload(
    SignedIn { state, lang, user }: SignedIn,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let (name, bytes) = match read_upload(&state, &user, form).await {
        Ok(v) => v,
        Err(e) => return error_page(lang, &e),
    };
    match service::upload(&state, &user.actor, &name, bytes).await {
        Ok(done) => {
            let again = done
                .earlier_upload
                .map(|id| format!("&earlier={id}"))
                .unwrap_or_default();
            Redirect::to(&format!(
                "/exchange/uploads/{}?new=1{again}",
                done.upload_id
            ))
            .into_response()
        }
        Err(e) => import_failed(&state, lang, &user, e, "upload").await,
    }
}

async fn master(
    SignedIn { state, lang, user }: SignedIn,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let (name, bytes) = match read_upload(&state, &user, form).await {
        Ok(v) => v,
        Err(e) => return error_page(lang, &e),
    };
    match service::import_master(&state, &user.actor, &name, bytes).await {
        Ok(done) => Redirect::to(&format!("/exchange?master={}", done.rows)).into_response(),
        Err(e) => import_failed(&state, lang, &user, e, "master").await,
    }
}

/// A row as the review table shows it: the file's side and the registry's, NIKs opened.
pub struct RowView {
    pub row: UploadRow,
    pub nik: String,
    pub registry_nik: Option<String>,
    pub facts: Facts,
    /// How the row disagrees with the registry person who has its NIK, in words.
    pub disagreements: Vec<String>,
    /// Why the row was matched, in words ("NIK sama, nama mirip").
    pub why: Option<String>,
    /// The outreach counter's name (the row keeps its id).
    pub outreach_counter: Option<(i64, String)>,
    /// What to correct before the row can be applied, in the reader's language.
    pub apply_note: Option<String>,
}

#[derive(Template)]
#[template(path = "exchange_upload.html")]
struct DetailPage {
    chrome: Chrome,
    upload: Upload,
    summary: Option<LinkSummary>,
    counts: Vec<(Decision, i64, i64)>,
    show: Decision,
    /// Showing the applied rows that need a correction instead of a decision's rows.
    notes: bool,
    noted: i64,
    rows: Vec<RowView>,
    next_after: Option<i64>,
    open_reviews: i64,
    earlier: Option<i64>,
    alert: Option<String>,
}

impl DetailPage {
    fn status(&self) -> &'static str {
        self.upload.status().label(self.chrome.lang)
    }

    fn running(&self) -> bool {
        matches!(
            self.upload.status(),
            UploadStatus::Linking | UploadStatus::Applying
        )
    }

    fn can_apply(&self) -> bool {
        self.open_reviews == 0 && self.upload.status() == UploadStatus::Review
    }

    fn can_retry(&self) -> bool {
        self.upload.status() == UploadStatus::Failed
    }

    /// Why the upload stopped, as the reader reads it.
    fn note(&self) -> Option<&str> {
        match self.upload.status_note.as_deref() {
            Some(service::INTERRUPTED) => Some(self.chrome.t("exchange.interrupted")),
            // Other notes are the server's own words (kept for the API and the log).
            Some(_) => Some(self.chrome.t("exchange.failed_note")),
            None => None,
        }
    }

    fn label(&self, d: &Decision) -> &'static str {
        d.label(self.chrome.lang)
    }

    fn percent(&self, p: &Option<f64>) -> String {
        p.map(|p| format!("{:.1}%", p * 100.0))
            .unwrap_or_else(|| "—".into())
    }

    fn day(&self, d: &Option<NaiveDate>) -> String {
        d.map(crate::format::date).unwrap_or_else(|| "—".into())
    }

    fn facts_line(&self, f: &Facts) -> String {
        fact_summary(f, self.chrome.lang)
    }

    fn is_review(&self) -> bool {
        !self.notes && self.show == Decision::Review
    }

    fn show_code(&self) -> &'static str {
        if self.notes {
            "notes"
        } else {
            self.show.code()
        }
    }

    fn heading(&self) -> &'static str {
        if self.notes {
            self.chrome.t("exchange.notes")
        } else {
            self.show.label(self.chrome.lang)
        }
    }
}

/// "Gelombang 12 · diterima 01-03-2021 · pelatihan 05-03-2021 · 2 insentif".
fn fact_summary(f: &Facts, lang: Lang) -> String {
    let mut parts = Vec::new();
    if let Some(b) = f.batch {
        parts.push(format!("{} {b}", lang.pick("Gelombang", "Batch")));
    }
    if let Some(d) = f.accepted_on {
        parts.push(format!(
            "{} {}",
            lang.pick("diterima", "accepted"),
            crate::format::date(d)
        ));
    }
    if let Some(t) = &f.training_title {
        parts.push(format!("{} \"{t}\"", lang.pick("pelatihan", "training")));
    }
    if f.training_completed_on.is_some() {
        parts.push(lang.pick("selesai", "completed").to_string());
    }
    if !f.incentives.is_empty() {
        parts.push(format!(
            "{} {}",
            f.incentives.len(),
            lang.pick("insentif", "incentive(s)")
        ));
    }
    if !f.surveys.is_empty() {
        parts.push(format!(
            "{} {}",
            f.surveys.len(),
            lang.pick("survei", "survey(s)")
        ));
    }
    if parts.is_empty() {
        return "—".into();
    }
    parts.join(" · ")
}

#[derive(Deserialize, Default)]
struct DetailQuery {
    show: Option<String>,
    after: Option<i64>,
    earlier: Option<i64>,
}

/// Rows on one page of an upload: 40 keep the page under 60 KB with both sides shown.
const PAGE_ROWS: i64 = 40;

async fn detail_page(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    id: i64,
    q: DetailQuery,
    alert: Option<&AppError>,
) -> Result<Response, AppError> {
    if !access::allows(&user.actor.user, Action::ManageExchange) {
        return Err(AppError::Forbidden);
    }
    let upload = store::upload(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let counts: Vec<(Decision, i64, i64)> = store::counts(&state.db, id)
        .await?
        .into_iter()
        .filter_map(|(d, n, applied)| Some((Decision::parse(&d)?, n, applied)))
        .collect();
    let open_reviews = counts
        .iter()
        .find(|(d, ..)| *d == Decision::Review)
        .map_or(0, |(_, n, _)| *n);
    let notes = q.show.as_deref() == Some("notes");
    let show = q
        .show
        .as_deref()
        .and_then(Decision::parse)
        .unwrap_or(if open_reviews > 0 {
            Decision::Review
        } else {
            Decision::Auto
        });
    let after = q.after.unwrap_or(0);
    let rows = if notes {
        store::noted_rows(&state.db, id, after, PAGE_ROWS).await?
    } else {
        store::rows_of(&state.db, id, Some(show), after, PAGE_ROWS).await?
    };
    let noted = store::count_noted(&state.db, id).await?;
    let next_after = (rows.len() as i64 == PAGE_ROWS)
        .then(|| rows.last().map(|r| r.row_no))
        .flatten();
    let counter_names: std::collections::HashMap<i64, String> =
        crate::counters::counters(&state.db)
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
    let views = row_views(&state.vault, lang, rows, &counter_names)?;
    // The page shows registry people next to the file's rows: reading it is audited.
    let shown: Vec<String> = views
        .iter()
        .filter_map(|v| v.row.participant_id)
        .take(50)
        .map(|p| p.to_string())
        .collect();
    crate::audit::record(
        &state.db,
        Some(&user.actor),
        None,
        crate::audit::Entry::new("exchange.view", "exchange_upload", id).fields(vec![
            format!("show={}", if notes { "notes" } else { show.code() }),
            format!("rows={}", views.len()),
            format!("participants={}", shown.join(",")),
        ]),
    )
    .await?;
    let summary = upload
        .summary
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    let alert = alert.map(|e| {
        let (id, en) = e.messages();
        lang.pick(&id, &en).to_string()
    });
    let status = alert_status(alert.is_some());
    let page = DetailPage {
        chrome: Chrome::for_user(lang, user, &format!("/exchange/uploads/{id}")),
        upload,
        summary,
        counts,
        show,
        notes,
        noted,
        rows: views,
        next_after,
        open_reviews,
        earlier: q.earlier,
        alert,
    };
    Ok(render(status, &page))
}

/// The rows as the review table shows them, both NIKs opened.
fn row_views(
    vault: &Vault,
    lang: Lang,
    rows: Vec<UploadRow>,
    counter_names: &std::collections::HashMap<i64, String>,
) -> Result<Vec<RowView>, AppError> {
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        let nik = service::open_nik(vault, &row.nik_enc, "upload row", row.id)?;
        let registry_nik = match (&row.participant_nik_enc, row.participant_id) {
            (Some(bytes), Some(pid)) => Some(service::open_nik(vault, bytes, "participant", pid)?),
            _ => None,
        };
        let facts = serde_json::from_str(&row.facts).unwrap_or_default();
        let disagreements = disagreement_words(lang, &row);
        let why = row
            .explanation
            .as_deref()
            .and_then(|e| super::why::explanation_words(lang, e));
        let outreach_counter = row.outreach_counter_id.map(|c| {
            let name = counter_names.get(&c).cloned();
            (
                c,
                name.unwrap_or_else(|| lang.t("exchange.counter_gone").to_string()),
            )
        });
        let apply_note = row
            .apply_note
            .as_deref()
            .map(|n| super::why::apply_note_words(lang, n));
        views.push(RowView {
            why,
            outreach_counter,
            apply_note,
            row,
            nik,
            registry_nik,
            facts,
            disagreements,
        });
    }
    Ok(views)
}

/// "NIK sama, nama berbeda: di berkas 'Budi Santoso', di loket 'Siti Handayani'", one a line.
fn disagreement_words(lang: Lang, row: &UploadRow) -> Vec<String> {
    let sides = Sides {
        file_name: &row.full_name,
        file_birth: row.birth_date,
        registry_name: row.participant_name.as_deref().unwrap_or_default(),
        registry_birth: row.participant_birth_date,
    };
    parse_explanation(row.explanation.as_deref().unwrap_or_default())
        .into_iter()
        .map(|d| d.words(lang, &sides))
        .collect()
}

fn alert_status(alert: bool) -> StatusCode {
    if alert {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    }
}

async fn detail(
    SignedIn { state, lang, user }: SignedIn,
    PathId(id): PathId,
    Query(q): Query<DetailQuery>,
) -> Response {
    match detail_page(&state, lang, &user, id, q, None).await {
        Ok(r) => r,
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Deserialize)]
struct ReviewForm {
    decision: String,
}

async fn review(
    State(state): State<AppState>,
    lang: Lang,
    Path((id, row_id)): Path<(i64, i64)>,
    SignedForm(user, form): SignedForm<ReviewForm>,
) -> Response {
    let accept = match form.decision.as_str() {
        "accept" => true,
        "reject" => false,
        _ => {
            return error_page(
                lang,
                &AppError::BadRequest("decision: accept or reject".into()),
            )
        }
    };
    after(
        &state,
        lang,
        &user,
        id,
        service::decide(&state, &user.actor, id, row_id, accept).await,
    )
    .await
}

async fn apply(
    State(state): State<AppState>,
    lang: Lang,
    PathId(id): PathId,
    SignedForm(user, NoFields {}): SignedForm<NoFields>,
) -> Response {
    after(
        &state,
        lang,
        &user,
        id,
        service::apply(&state, &user.actor, id).await,
    )
    .await
}

async fn retry(
    State(state): State<AppState>,
    lang: Lang,
    Path(id): Path<i64>,
    SignedForm(user, NoFields {}): SignedForm<NoFields>,
) -> Response {
    let retried = service::retry(&state, &user.actor, id).await.map(|_| ());
    after(&state, lang, &user, id, retried).await
}

/// After a POST: back to the upload, or the upload with the refusal explained.
async fn after(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    id: i64,
    result: Result<(), AppError>,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/exchange/uploads/{id}")).into_response(),
        Err(e @ AppError::Refused { .. }) => {
            match detail_page(state, lang, user, id, DetailQuery::default(), Some(&e)).await {
                Ok(r) => r,
                Err(e) => error_page(lang, &e),
            }
        }
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Deserialize)]
struct ExportForm {
    reason: String,
    since: Option<String>,
}

async fn status_export(
    State(state): State<AppState>,
    lang: Lang,
    SignedForm(user, form): SignedForm<ExportForm>,
) -> Response {
    let since = match form
        .since
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(text) => match text.parse::<NaiveDate>() {
            Ok(d) => Some(crate::clock::day_start(d)),
            Err(_) => {
                return error_page(
                    lang,
                    &AppError::field(
                        "since",
                        "date_invalid",
                        "Tanggal tidak dapat dibaca (TTTT-BB-HH).",
                        "The date cannot be read (YYYY-MM-DD).",
                    ),
                )
            }
        },
    };
    match service::status_export(&state, &user.actor, since, &form.reason).await {
        Ok((bytes, _)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"status-loket-{}.csv\"",
                        crate::clock::today()
                    ),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Template)]
#[template(path = "exchange_outreach.html")]
struct OutreachPage {
    chrome: Chrome,
    items: Vec<OutreachItem>,
}

impl OutreachPage {
    fn stage(&self, code: &Option<String>) -> &'static str {
        code.as_deref()
            .and_then(crate::journey::Stage::parse)
            .map_or("—", |s| s.label(self.chrome.lang))
    }

    fn day(&self, d: &Option<NaiveDate>) -> String {
        d.map(crate::format::date).unwrap_or_else(|| "—".into())
    }
}

#[derive(Deserialize, Default)]
struct OutreachQuery {
    format: Option<String>,
}

async fn outreach(
    SignedIn { state, lang, user }: SignedIn,
    Query(q): Query<OutreachQuery>,
) -> Response {
    let items = match service::outreach(&state, &user.actor, 5000).await {
        Ok(items) => items,
        Err(e) => return error_page(lang, &e),
    };
    if q.format.as_deref() == Some("csv") {
        return outreach_csv(&items);
    }
    render(
        StatusCode::OK,
        &OutreachPage {
            chrome: Chrome::for_user(lang, &user, "/exchange/outreach"),
            items,
        },
    )
}

fn outreach_csv(items: &[OutreachItem]) -> Response {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut write = || -> Result<Vec<u8>, csv::Error> {
        out.write_record([
            "nik",
            "nama",
            "tanggal_lahir",
            "wilayah",
            "tahap_terakhir",
            "ada_di_daftar_bp2mi",
            "telepon",
            "loket",
        ])?;
        for i in items {
            crate::sheet::write_csv_record(
                &mut out,
                [
                    i.nik.clone(),
                    i.full_name.clone(),
                    i.birth_date.map(|d| d.to_string()).unwrap_or_default(),
                    i.region.clone(),
                    i.furthest_stage.clone().unwrap_or_default(),
                    if i.on_master_list { "ya" } else { "tidak" }.to_string(),
                    i.phone.clone().unwrap_or_default(),
                    i.counter_name.clone().unwrap_or_default(),
                ],
            )?;
        }
        out.flush()?;
        Ok(out.get_ref().clone())
    };
    match write() {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"penjangkauan.csv\"",
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => AppError::Internal(anyhow::anyhow!("outreach csv: {e}")).into_response(),
    }
}
