//! What every request passes before a handler sees it: a state-changing request must come
//! from loket's own pages (or from no page at all, as a partner system's does), and no text in
//! it may hold a character loket refuses (`crate::text`).

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

/// Refuses a state-changing request whose `Origin` is another site (or `null`). Browsers send
/// `Origin` on such requests; a partner system or a test client sends none and is let through
/// (the session's CSRF token and the bearer token still apply).
pub async fn same_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    if changes_state(&parts.method) && !origin_is_ours(&parts) {
        return refuse(&mut parts, &state, AppError::CrossOrigin).await;
    }
    next.run(Request::from_parts(parts, body)).await
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the request carries no `Origin`, or the one of the host it was sent to.
fn origin_is_ours(parts: &Parts) -> bool {
    let Some(origin) = parts.headers.get(header::ORIGIN) else {
        return true;
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| {
            parts
                .uri
                .authority()
                .map(axum::http::uri::Authority::as_str)
        });
    let origin = origin
        .to_str()
        .ok()
        .and_then(|o| url::Url::parse(o).ok())
        .and_then(|u| {
            let host = u.host_str()?.to_string();
            Some(match u.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        });
    matches!((origin, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// Refuses a request whose query, path, form or JSON body holds a refused character, with a
/// field error (422) naming the field, before any handler or database sees the text.
pub async fn plain_text(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    if let Err(e) = check_uri(&parts) {
        return refuse(&mut parts, &state, AppError::Validation(vec![e])).await;
    }
    let Some(kind) = body_kind(&parts) else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let bytes = match axum::body::to_bytes(body, state.config.body_limit).await {
        Ok(bytes) => bytes,
        Err(_) => return refuse(&mut parts, &state, AppError::PayloadTooLarge).await,
    };
    if let Err(e) = check_body(kind, &bytes) {
        return refuse(&mut parts, &state, AppError::Validation(vec![e])).await;
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[derive(Clone, Copy)]
enum BodyKind {
    Form,
    Json,
}

/// The bodies that carry text fields; uploads (multipart) are files, checked by their reader.
fn body_kind(parts: &Parts) -> Option<BodyKind> {
    let content_type = parts.headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
    if essence == "application/x-www-form-urlencoded" {
        Some(BodyKind::Form)
    } else if essence == "application/json" || essence.ends_with("+json") {
        Some(BodyKind::Json)
    } else {
        None
    }
}

fn check_uri(parts: &Parts) -> Result<(), crate::error::FieldError> {
    let path = url::form_urlencoded::parse(parts.uri.path().as_bytes())
        .map(|(name, value)| (std::borrow::Cow::Borrowed("path"), name + value));
    crate::text::check_pairs(path)?;
    let query = parts.uri.query().unwrap_or_default();
    crate::text::check_pairs(url::form_urlencoded::parse(query.as_bytes()))
}

fn check_body(kind: BodyKind, bytes: &[u8]) -> Result<(), crate::error::FieldError> {
    match kind {
        BodyKind::Form => crate::text::check_pairs(url::form_urlencoded::parse(bytes)),
        // A body that is not JSON is left to the handler, which answers it in its own words.
        BodyKind::Json => match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(value) => crate::text::check_json(&value),
            Err(_) => Ok(()),
        },
    }
}

/// The refusal as the caller reads it: the API's JSON error, or the error page in the
/// person's language.
async fn refuse(parts: &mut Parts, state: &AppState, err: AppError) -> Response {
    if parts.uri.path().starts_with("/api/") {
        return err.into_response();
    }
    let Ok(lang) = crate::i18n::Lang::from_request_parts(parts, state).await;
    crate::web::error_page(lang, &err)
}

/// An error page dressed for the person who met it: their navigation, and "Kembali" to the
/// page of this site they came from (else their role's home), never a bare `/`. Features show
/// errors with `web::error_page`, which knows no session; the page's words stay theirs.
pub async fn dressed_error_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers().clone();
    let uri = request.uri().clone();
    let response = next.run(request).await;
    let Some(shown) = response
        .extensions()
        .get::<crate::web::ErrorShown>()
        .cloned()
    else {
        return response;
    };
    let mut parts = Request::new(Body::empty()).into_parts().0;
    parts.headers = headers;
    parts.uri = uri;
    let user = crate::auth::PageUser::from_request_parts(&mut parts, &state)
        .await
        .ok();
    let here = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let referred = referring_page(&parts).filter(|page| page != here);
    let (chrome, back) = match &user {
        Some(user) => (
            crate::web::Chrome::for_user(shown.lang, user, here),
            referred.unwrap_or_else(|| crate::web::home(user.actor.user.role).to_string()),
        ),
        None => (
            crate::web::Chrome::anonymous(shown.lang, here),
            referred.unwrap_or_else(|| "/".to_string()),
        ),
    };
    let (mut head, _) = response.into_parts();
    let (_, body) = crate::web::error_page_for(chrome, &back, &shown, head.status).into_parts();
    head.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(head, body)
}

/// The page of this site named by `Referer` (same host), as a path.
fn referring_page(parts: &Parts) -> Option<String> {
    let referer = parts.headers.get(header::REFERER)?.to_str().ok()?;
    let url = url::Url::parse(referer).ok()?;
    let host = parts.headers.get(header::HOST)?.to_str().ok()?;
    let authority = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str()?),
        None => url.host_str()?.to_string(),
    };
    if authority != host {
        return None;
    }
    let page = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    crate::web::same_site_path(&page).map(str::to_string)
}
