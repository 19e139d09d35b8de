//! Who is asking: bearer tokens for systems, session cookies for people, and the login pages.

pub mod model;
pub mod pages;
pub mod service;
/// Public for the tests and benchmarks that check its queries; other modules use the front
/// door below (the layer test refuses `auth::store` elsewhere in `src`).
pub mod store;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

pub use crate::identity::{request_meta, Role, User};
pub use store::{
    account_id, change_account, check_password_rules, create_token, create_user, deactivate,
    insert_account, revoke_token, set_account_place, set_password, tokens_of,
    unusable_password_hash, user_by_id, user_by_username, users_by_id, NewAccount, NewUser,
    SESSION_IDLE_MINUTES,
};

use crate::error::AppError;
use crate::identity::Actor;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "loket_session";

/// A caller of the JSON API: a bearer token, or a signed-in person's session.
pub struct ApiUser(pub Actor);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(header) = parts.headers.get(AUTHORIZATION) {
            let token = header
                .to_str()
                .ok()
                .and_then(|h| h.strip_prefix("Bearer "))
                .ok_or(AppError::Unauthorized)?;
            let Some(used) = store::user_by_token(&state.db, token.trim()).await? else {
                return Err(AppError::Unauthorized);
            };
            let actor = Actor {
                user: used.user,
                meta: request_meta(parts),
                grants: used.grants,
            };
            if used.audit_due {
                crate::audit::record(
                    &state.db,
                    Some(&actor),
                    None,
                    crate::audit::Entry::new("token.use", "api_token", used.token_id),
                )
                .await?;
            }
            return Ok(ApiUser(actor));
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(cookie) = jar.get(SESSION_COOKIE) else {
            return Err(AppError::Unauthorized);
        };
        match store::session_user(&state.db, cookie.value()).await? {
            Some((user, _)) => Ok(ApiUser(Actor {
                user,
                meta: request_meta(parts),
                grants: Vec::new(),
            })),
            None => Err(AppError::Unauthorized),
        }
    }
}

/// A signed-in person on the HTML pages, with the session's CSRF token for forms.
pub struct PageUser {
    pub actor: Actor,
    pub csrf: String,
    /// What waits for this person's answer (the navigation shows the count), from the hook
    /// the app sets with [`set_waiting`]; `None` without one.
    pub waiting: Option<i64>,
}

/// Counts what waits for a person's answer (the registry's access requests); the registry
/// sits above `auth`, so the app assembly plugs it in.
pub type Waiting = for<'a> fn(
    &'a AppState,
    &'a Actor,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = crate::error::Result<i64>> + Send + 'a>,
>;

static WAITING: std::sync::OnceLock<Waiting> = std::sync::OnceLock::new();

/// Sets the count of what waits for a person's answer; the first call wins (one per process).
pub fn set_waiting(count: Waiting) {
    let _ = WAITING.set(count);
}

impl PageUser {
    /// Every state-changing form carries the session's token; a forged form does not.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), AppError> {
        use subtle_eq::constant_time_eq;
        if constant_time_eq(self.csrf.as_bytes(), submitted.as_bytes()) {
            Ok(())
        } else {
            Err(AppError::CsrfInvalid)
        }
    }
}

/// What nearly every page handler starts from: the app, the person's language and the
/// signed-in person (or the login page, as [`PageUser`] decides).
pub struct SignedIn {
    pub state: AppState,
    pub lang: crate::i18n::Lang,
    pub user: PageUser,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(lang) = crate::i18n::Lang::from_request_parts(parts, state).await;
        let user = PageUser::from_request_parts(parts, state).await?;
        Ok(SignedIn {
            state: state.clone(),
            lang,
            user,
        })
    }
}

/// A form posted by a signed-in person whose CSRF token matched: how page handlers receive a
/// state-changing form, so that none can forget the check. A forged or expired form gets the
/// error page in the person's language; the form's own fields need no `csrf` field.
pub struct SignedForm<T>(pub PageUser, pub T);

/// The fields of a form that carries only its CSRF token (a button: sign out, apply).
#[derive(serde::Deserialize)]
pub struct NoFields {}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: serde::de::DeserializeOwned> axum::extract::FromRequest<AppState> for SignedForm<T> {
    type Rejection = Response;

    async fn from_request(
        request: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let Ok(lang) = crate::i18n::Lang::from_request_parts(&mut parts, state).await;
        let user = PageUser::from_request_parts(&mut parts, state).await?;
        let request = axum::extract::Request::from_parts(parts, body);
        let bytes = <axum::body::Bytes as axum::extract::FromRequest<AppState>>::from_request(
            request, state,
        )
        .await
        .map_err(IntoResponse::into_response)?;
        let refuse = |e: AppError| crate::web::error_page(lang, &e);
        let token: CsrfField = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| refuse(AppError::BadRequest(e.to_string())))?;
        user.check_csrf(&token.csrf).map_err(refuse)?;
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| refuse(AppError::BadRequest(e.to_string())))?;
        Ok(SignedForm(user, form))
    }
}

pub(crate) mod subtle_eq {
    /// Compares secrets without an early exit that would leak their common prefix by timing.
    pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl crate::web::Viewer for PageUser {
    fn actor(&self) -> &Actor {
        &self.actor
    }

    fn csrf(&self) -> &str {
        &self.csrf
    }

    fn waiting(&self) -> Option<i64> {
        self.waiting
    }
}

/// Where an unauthenticated page request goes: the login page, then back.
pub struct LoginRedirect(String);

impl IntoResponse for LoginRedirect {
    fn into_response(self) -> Response {
        let next = url::form_urlencoded::byte_serialize(self.0.as_bytes()).collect::<String>();
        Redirect::to(&format!("/login?next={next}")).into_response()
    }
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let back = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(cookie) = jar.get(SESSION_COOKIE) else {
            return Err(LoginRedirect(back).into_response());
        };
        match store::session_user(&state.db, cookie.value()).await {
            // Partner systems use the API with a token; the officer pages are not theirs.
            Ok(Some((user, _))) if user.role == Role::Mitra => {
                Err(AppError::Forbidden.into_response())
            }
            Ok(Some((user, csrf))) => {
                let actor = Actor {
                    user,
                    meta: request_meta(parts),
                    grants: Vec::new(),
                };
                // A count that cannot be read leaves the link without it; the page still works.
                let waiting = match WAITING.get() {
                    Some(count) => count(state, &actor).await.ok(),
                    None => None,
                };
                Ok(PageUser {
                    actor,
                    csrf,
                    waiting,
                })
            }
            Ok(None) => Err(LoginRedirect(back).into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}
