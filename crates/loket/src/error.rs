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
    NikDuplicate { existing_id: Option<i64> },
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
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("the request must say which version it changes")]
    VersionRequired,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("invalid form token")]
    CsrfInvalid,
    /// A rule of the domain refuses the request in the record's current state (e.g. a
    /// journey transition); the feature names the stable code and both messages.
    #[error("refused: {code}")]
    Refused {
        code: &'static str,
        message: String,
        message_en: String,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

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
            AppError::BadRequest(_) => "bad_request",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::VersionRequired => "version_required",
            AppError::CsrfInvalid => "csrf_invalid",
            AppError::Refused { code, .. } => code,
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
            AppError::Forbidden | AppError::CsrfInvalid => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::VersionRequired => StatusCode::PRECONDITION_REQUIRED,
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
            AppError::Refused {
                message,
                message_en,
                ..
            } => (message.clone(), message_en.clone()),
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
            AppError::NikDuplicate { existing_id: None },
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
}
