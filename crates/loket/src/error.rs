//! One error type for the whole application: a stable code, an HTTP status and a message in
//! Bahasa Indonesia and English for every error a user can cause.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// A problem with one input field, as shown next to the field in a form or in an API error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
    pub message_en: String,
}

impl FieldError {
    pub fn new(
        field: &str,
        code: &str,
        message_id: impl Into<String>,
        message_en: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.to_string(),
            code: code.to_string(),
            message: message_id.into(),
            message_en: message_en.into(),
        }
    }

    pub fn required(field: &str) -> Self {
        FieldError::new(field, "required", "Wajib diisi.", "This field is required.")
    }

    pub fn from_nik(field: &str, err: &nik::NikError) -> Self {
        FieldError::new(field, err.code(), err.message_id(), err.message_en())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("a participant with this NIK is already registered")]
    NikDuplicate {
        existing_id: Option<i64>,
        /// Where the person is registered ("Loket X, Kantor Y") when the user's scope does
        /// not reach them, so they can ask that counter for access instead.
        held_at: Option<String>,
    },
    #[error("the record was changed by someone else (current version {current})")]
    VersionConflict { current: i64 },
    #[error("not found")]
    NotFound,
    #[error("authentication required")]
    Unauthorized,
    #[error("wrong username or password")]
    LoginFailed,
    #[error("too many failed sign-ins")]
    TooManyAttempts,
    #[error("forbidden")]
    Forbidden,
    /// A coordinator tried to move a case that was only referred into their office.
    #[error("the case belongs to another office")]
    CaseOfAnotherOffice,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("the request must say which version it changes")]
    VersionRequired,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("invalid form token")]
    CsrfInvalid,
    /// A state-changing request sent from another site's page (its `Origin` is not ours).
    #[error("request from another origin")]
    CrossOrigin,
    /// A rule of the domain refuses the request in the record's current state (e.g. a
    /// journey transition); the feature names the stable code and both messages.
    #[error("refused: {code}")]
    Refused {
        code: &'static str,
        message: String,
        message_en: String,
    },
    /// The database stayed locked by other work (a bulk import, a key rotation) for longer
    /// than a request waits: the client may retry, it is nobody's mistake.
    #[error("database busy: {0}")]
    Busy(sqlx::Error),
    #[error(transparent)]
    Database(sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        if crate::db::is_busy(&err) {
            AppError::Busy(err)
        } else {
            AppError::Database(err)
        }
    }
}

/// How long a client is asked to wait before retrying a busy database, in seconds.
pub const BUSY_RETRY_AFTER_SECS: u32 = 5;

impl From<crate::db::DbError> for AppError {
    fn from(err: crate::db::DbError) -> Self {
        AppError::Internal(err.into())
    }
}

/// The JSON shape of every API error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `nik_invalid`.
    pub code: String,
    /// Message in Bahasa Indonesia.
    pub message: String,
    /// The same message in English.
    pub message_en: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl AppError {
    pub fn field(field: &str, code: &str, message_id: &str, message_en: &str) -> Self {
        AppError::Validation(vec![FieldError::new(field, code, message_id, message_en)])
    }

    /// The stable code: the whole list lives here, in one place.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(fields) => match fields.first() {
                Some(f) if f.field == "nik" => "nik_invalid",
                _ => "validation_failed",
            },
            AppError::NikDuplicate { .. } => "nik_duplicate",
            AppError::VersionConflict { .. } => "version_conflict",
            AppError::NotFound => "not_found",
            AppError::Unauthorized => "unauthorized",
            AppError::LoginFailed => "login_failed",
            AppError::TooManyAttempts => "too_many_attempts",
            AppError::Forbidden => "forbidden",
            AppError::CaseOfAnotherOffice => "case_of_another_office",
            AppError::BadRequest(_) => "bad_request",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::VersionRequired => "version_required",
            AppError::CsrfInvalid => "csrf_invalid",
            AppError::CrossOrigin => "cross_origin",
            AppError::Refused { code, .. } => code,
            AppError::Busy(_) => "database_busy",
            AppError::Database(_) | AppError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::NikDuplicate { .. }
            | AppError::VersionConflict { .. }
            | AppError::Refused { .. } => StatusCode::CONFLICT,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized | AppError::LoginFailed => StatusCode::UNAUTHORIZED,
            AppError::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            AppError::Forbidden
            | AppError::CaseOfAnotherOffice
            | AppError::CsrfInvalid
            | AppError::CrossOrigin => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::VersionRequired => StatusCode::PRECONDITION_REQUIRED,
            AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// (Bahasa Indonesia, English)
    pub fn messages(&self) -> (String, String) {
        let pair = |id: &str, en: &str| (id.to_string(), en.to_string());
        match self {
            AppError::Validation(fields) => match fields.as_slice() {
                [one] => (one.message.clone(), one.message_en.clone()),
                _ => pair("Beberapa isian belum benar.", "Some fields are not valid."),
            },
            AppError::NikDuplicate {
                held_at: Some(place),
                ..
            } => (
                format!("NIK ini sudah terdaftar di {place}. Cari NIK ini di halaman Cari peserta untuk meminta akses ke loket itu."),
                format!("This NIK is already registered at {place}. Search for this NIK to ask that counter for access."),
            ),
            AppError::NikDuplicate { .. } => pair(
                "NIK ini sudah terdaftar. Cari orangnya, jangan daftarkan dua kali.",
                "This NIK is already registered. Search for the person instead of registering twice.",
            ),
            AppError::VersionConflict { current } => (
                format!("Data ini baru saja diubah orang lain (versi {current}). Muat ulang lalu ulangi perubahan Anda."),
                format!("Someone else changed this record (version {current}). Reload and apply your change again."),
            ),
            AppError::NotFound => pair("Data tidak ditemukan.", "Not found."),
            AppError::Unauthorized => pair("Silakan masuk terlebih dahulu.", "Please sign in first."),
            AppError::LoginFailed => pair("Nama pengguna atau kata sandi salah.", "Wrong username or password."),
            AppError::TooManyAttempts => pair(
                "Terlalu banyak percobaan masuk yang gagal. Tunggu 15 menit, atau minta koordinator mengatur ulang kata sandi.",
                "Too many failed sign-ins. Wait 15 minutes, or ask your coordinator to reset the password.",
            ),
            AppError::Forbidden => pair("Anda tidak berwenang untuk tindakan ini.", "You are not allowed to do this."),
            AppError::CaseOfAnotherOffice => pair(
                "Kasus ini hanya dirujuk ke kantor Anda; kantor asalnya tetap pemiliknya. Hanya koordinator kantor asal atau admin pusat yang dapat memindahkannya.",
                "This case was only referred to your office; its home office still owns it. Only the home office's coordinator or head office can move it.",
            ),
            AppError::BadRequest(detail) => (
                format!("Permintaan tidak dapat dibaca: {detail}"),
                format!("The request could not be read: {detail}"),
            ),
            AppError::VersionRequired => pair(
                "Sertakan versi data yang diubah (header If-Match), agar perubahan orang lain tidak tertimpa.",
                "Send the version you are changing (If-Match header), so nobody else's change is overwritten.",
            ),
            AppError::PayloadTooLarge => pair("Data yang dikirim terlalu besar.", "The request body is too large."),
            AppError::CsrfInvalid => pair(
                "Formulir kedaluwarsa. Muat ulang halaman lalu kirim lagi.",
                "The form has expired. Reload the page and submit again.",
            ),
            AppError::CrossOrigin => pair(
                "Permintaan ini dikirim dari situs lain, jadi ditolak. Buka loket langsung di peramban lalu ulangi.",
                "This request was sent from another site and was refused. Open loket directly in the browser and try again.",
            ),
            AppError::Refused {
                message,
                message_en,
                ..
            } => (message.clone(), message_en.clone()),
            AppError::Busy(_) => pair(
                "Basis data sedang sibuk mengerjakan pekerjaan besar (impor atau rotasi kunci). Coba lagi beberapa detik lagi.",
                "The database is busy with a large job (an import or a key rotation). Try again in a few seconds.",
            ),
            AppError::Database(_) | AppError::Internal(_) => pair(
                "Terjadi kesalahan pada sistem. Silakan coba lagi atau hubungi admin.",
                "Something went wrong on our side. Try again or contact the administrator.",
            ),
        }
    }

    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            AppError::Validation(fields) => fields,
            _ => &[],
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (message, message_en) = self.messages();
        let fields = self.field_errors().to_vec();
        let field = fields.first().map(|f| f.field.clone());
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message,
                message_en,
                field,
                fields,
            },
        }
    }

    /// Logs server-side causes once, where the error turns into a response.
    pub fn log(&self) {
        if self.status().is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = (self.status(), Json(self.body())).into_response();
        if let AppError::Busy(_) = self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(BUSY_RETRY_AFTER_SECS),
            );
        }
        if let AppError::VersionConflict { current } = self {
            if let Ok(etag) = format!("\"{current}\"").parse() {
                response
                    .headers_mut()
                    .insert(axum::http::header::ETAG, etag);
            }
        }
        response
    }
}

/// Every stable error code a person or a partner system can meet, in one list: the codes of
/// [`AppError`] itself and those that features give to field errors, file problems and refused
/// journey steps (NIK problems carry the `nik` crate's own codes, listed by `nik::NikError`).
/// A code is a promise to partners; the tests below keep this list complete and free of
/// codes nobody uses.
pub const CODES: &[&str] = &[
    "agency_unknown",
    "amount_invalid",
    "amount_negative",
    "bad_request",
    "batch_code_taken",
    "batch_not_later",
    "batch_number_invalid",
    "batch_number_taken",
    "batch_required",
    "batch_unknown",
    "birth_date_out_of_range",
    "breaks_later_event",
    "card_number_invalid",
    "case_of_another_office",
    "channel_invalid",
    "channel_required",
    "channel_unknown",
    "channels_required",
    "choice_invalid",
    "column_missing",
    "column_repeated",
    "column_unknown",
    "completion_before_purchase",
    "consent_missing",
    "consent_required",
    "correction_target_invalid",
    "counter_required",
    "counter_unknown",
    "country_invalid",
    "cross_origin",
    "csrf_invalid",
    "database_busy",
    "date_invalid",
    "date_order",
    "day_past",
    "effective_on_invalid",
    "eligibility_against",
    "email_invalid",
    "encoding_invalid",
    "external_id_invalid",
    "file_missing",
    "file_too_large",
    "file_unreadable",
    "filter_invalid",
    "follow_up_in_past",
    "forbidden",
    "format_invalid",
    "hour_closed",
    "hours_invalid",
    "incentive_before_completion",
    "incentive_before_rating",
    "incentive_count_exceeded",
    "institution_conflict",
    "internal",
    "journey_closed",
    "journey_not_complete",
    "json_shape",
    "kk_invalid",
    "lead_days_invalid",
    "level_mismatch",
    "login_failed",
    "name_invalid",
    "nik_barred",
    "nik_duplicate",
    "nik_invalid",
    "not_found",
    "number_cell",
    "number_invalid",
    "occupation_unknown",
    "occurred_in_future",
    "officer_exists",
    "officer_not_certified",
    "officer_unknown",
    "outcome_unknown",
    "over_balance",
    "override_not_allowed",
    "path_invalid",
    "payload_too_large",
    "payout_holder_mismatch",
    "payout_not_linked",
    "payout_phone_mismatch",
    "phone_invalid",
    "price_invalid",
    "price_missing",
    "price_required",
    "programme_closed",
    "programme_full",
    "programme_unknown",
    "purchase_deadline_passed",
    "query_invalid",
    "query_required",
    "query_too_long",
    "queue_empty",
    "range_too_long",
    "rating_before_completion",
    "rating_invalid",
    "reason_required",
    "referral_status_invalid",
    "referral_transition",
    "region_unknown",
    "request_answered",
    "request_not_needed",
    "request_pending",
    "required",
    "result_unknown",
    "return_before_departure",
    "return_date_future",
    "review_unfinished",
    "revoke_not_allowed",
    "row_not_reviewable",
    "rule_negative",
    "scheme_code_taken",
    "scheme_unknown",
    "scope_invalid",
    "scope_unknown",
    "score_range",
    "seat_name_taken",
    "seat_taken",
    "session_ends_before_start",
    "setting_invalid",
    "stage_not_recordable",
    "stage_order",
    "stage_unknown",
    "status_check_failed",
    "status_invalid",
    "step_unknown",
    "survey_before_completion",
    "survey_count_exceeded",
    "text_invalid",
    "ticket_state",
    "time_invalid",
    "too_long",
    "too_many_attempts",
    "trainer_not_certified",
    "training_duplicate",
    "unauthorized",
    "upload_applied",
    "upload_not_failed",
    "upload_not_in_review",
    "upload_not_linked",
    "upload_running",
    "user_unknown",
    "username_taken",
    "validation_failed",
    "value_negative",
    "version_conflict",
    "version_invalid",
    "version_required",
    "yes_no_invalid",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_both_languages_and_a_code() {
        let errors = [
            AppError::field(
                "nik",
                "nik_length",
                "NIK harus 16 digit.",
                "NIK must be 16 digits.",
            ),
            AppError::NikDuplicate {
                existing_id: None,
                held_at: None,
            },
            AppError::VersionConflict { current: 3 },
            AppError::NotFound,
            AppError::Unauthorized,
            AppError::Forbidden,
            AppError::BadRequest("x".into()),
            AppError::PayloadTooLarge,
            AppError::Internal(anyhow::anyhow!("boom")),
        ];
        for e in errors {
            let (id, en) = e.messages();
            assert!(!id.is_empty() && !en.is_empty(), "{e:?}");
            assert_ne!(id, en, "{e:?}");
            assert!(!e.code().is_empty());
        }
    }

    #[test]
    fn a_nik_field_error_maps_to_nik_invalid() {
        let e = AppError::field("nik", "nik_length", "a", "b");
        assert_eq!(e.code(), "nik_invalid");
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e = AppError::field("full_name", "required", "a", "b");
        assert_eq!(e.code(), "validation_failed");
    }

    /// The top-level arguments of the call whose `(` ends at `start`, as written.
    fn call_args(text: &str, start: usize) -> Vec<String> {
        let (mut depth, mut in_string, mut escaped) = (1, false, false);
        let (mut args, mut current) = (Vec::new(), String::new());
        for c in text[start..].chars() {
            if in_string {
                current.push(c);
                match (escaped, c) {
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => escaped = false,
                }
                continue;
            }
            match c {
                '"' => {
                    in_string = true;
                    current.push(c);
                }
                '(' | '[' | '{' => {
                    depth += 1;
                    current.push(c);
                }
                ')' | ']' | '}' => {
                    depth -= 1;
                    if depth == 0 {
                        args.push(current.trim().to_string());
                        return args;
                    }
                    current.push(c);
                }
                ',' if depth == 1 => args.push(std::mem::take(&mut current).trim().to_string()),
                _ => current.push(c),
            }
        }
        args
    }

    /// `"a_code"` → `a_code`; anything else (an expression) → none.
    fn code_literal(arg: &str) -> Option<&str> {
        let inner = arg.strip_prefix('"')?.strip_suffix('"')?;
        let plain = inner
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        (plain && !inner.is_empty()).then_some(inner)
    }

    /// The codes written in `source` (outside its tests) where errors are made.
    fn codes_in(source: &str) -> Vec<String> {
        let code = source.split("#[cfg(test)]").next().unwrap_or(source);
        let mut found = Vec::new();
        for (call, position) in [
            ("FieldError::new(", 1),
            ("AppError::field(", 1),
            ("Refusal::new(", 0),
        ] {
            for (at, _) in code.match_indices(call) {
                let args = call_args(code, at + call.len());
                if let Some(literal) = args.get(position).and_then(|a| code_literal(a)) {
                    found.push(literal.to_string());
                }
            }
        }
        for (at, _) in code.match_indices("code: \"") {
            let rest = &code[at + "code: ".len()..];
            let Some(end) = rest[1..].find('"') else {
                continue;
            };
            let literal = &rest[..end + 2];
            let after = &rest[end + 2..];
            let made_here = after.starts_with(".into()") || after.starts_with(".to_string()");
            let refused = code[..at].trim_end().ends_with("Refused {");
            if let (true, Some(c)) = (made_here || refused, code_literal(literal)) {
                found.push(c.to_string());
            }
        }
        found
    }

    fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(std::fs::read_to_string(path).unwrap());
            }
        }
    }

    #[test]
    fn every_code_in_use_is_in_the_one_list_and_every_listed_code_is_used() {
        let mut texts = Vec::new();
        sources(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
            &mut texts,
        );
        let used: std::collections::BTreeSet<String> =
            texts.iter().flat_map(|t| codes_in(t)).collect();
        let unlisted: Vec<_> = used
            .iter()
            .filter(|c| !CODES.contains(&c.as_str()))
            .collect();
        assert!(
            unlisted.is_empty(),
            "codes missing from error::CODES: {unlisted:?}"
        );
        let variants = [
            AppError::Validation(vec![]),
            AppError::Validation(vec![FieldError::required("nik")]),
            AppError::NikDuplicate {
                existing_id: None,
                held_at: None,
            },
            AppError::VersionConflict { current: 1 },
            AppError::NotFound,
            AppError::Unauthorized,
            AppError::LoginFailed,
            AppError::TooManyAttempts,
            AppError::Forbidden,
            AppError::CaseOfAnotherOffice,
            AppError::BadRequest(String::new()),
            AppError::VersionRequired,
            AppError::PayloadTooLarge,
            AppError::CsrfInvalid,
            AppError::CrossOrigin,
            AppError::Busy(sqlx::Error::PoolTimedOut),
            AppError::Internal(anyhow::anyhow!("x")),
        ];
        let own: Vec<&str> = variants.iter().map(AppError::code).collect();
        for code in &own {
            assert!(CODES.contains(code), "{code} missing from error::CODES");
        }
        let stale: Vec<_> = CODES
            .iter()
            .filter(|c| !used.contains(**c) && !own.contains(c))
            .collect();
        assert!(stale.is_empty(), "listed but never used: {stale:?}");
        let mut sorted = CODES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            sorted, CODES,
            "error::CODES is kept sorted and without repeats"
        );
    }

    #[test]
    fn codes_are_found_in_the_ways_errors_are_made() {
        let source = r#"
            FieldError::new("nik", "nik_odd", format!("a, b"), "c");
            AppError::field(name, "name_odd", "x", "y");
            Refusal::new("stage_odd", "x".into(), "y".into());
            RowError { code: "row_odd".into(), message: m };
            AppError::Refused { code: "refused_odd", message };
            Choice { code: "female", label };
            FieldError::new("x", code, "a", "b");
        "#;
        assert_eq!(
            codes_in(source),
            ["nik_odd", "name_odd", "stage_odd", "row_odd", "refused_odd"]
        );
    }

    /// A second connection holds SQLite's write lock past the busy timeout (here none).
    async fn locked_sqlite_error() -> sqlx::Error {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
        use sqlx::ConnectOptions;
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("busy.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::ZERO);
        let mut holder = options.connect().await.unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut holder)
            .await
            .unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut holder)
            .await
            .unwrap();
        let mut waiter = options.connect().await.unwrap();
        sqlx::query("INSERT INTO t (x) VALUES (1)")
            .execute(&mut waiter)
            .await
            .unwrap_err()
    }

    #[tokio::test]
    async fn a_still_busy_database_is_a_503_with_retry_after_never_a_500() {
        let err = AppError::from(locked_sqlite_error().await);
        assert_eq!(err.code(), "database_busy");
        let (id, en) = err.messages();
        assert!(id.contains("Coba lagi"), "{id}");
        assert!(en.contains("Try again"), "{en}");
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "5");
        // Other database failures stay server faults.
        let other = AppError::from(sqlx::Error::RowNotFound);
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
