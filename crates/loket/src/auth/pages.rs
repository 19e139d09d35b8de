//! Sign-in and sign-out pages.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::{service, subtle_eq::constant_time_eq, NoFields, SignedForm, SESSION_COOKIE};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::{error_page, render, Chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    /// The login form's own token (login CSRF): another site cannot sign a person in to an
    /// account of its choosing, because it cannot read this token or set its cookie.
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// The cookie that carries the login form's token (double submit: the form and the cookie
/// must agree, and only this site can set the cookie).
const LOGIN_CSRF_COOKIE: &str = "loket_login_csrf";

/// Where to go after signing in: a path of this site, or `/`.
fn safe_next(next: Option<&str>) -> String {
    next.and_then(crate::web::same_site_path)
        .unwrap_or("/")
        .to_string()
}

/// The login form's token: the browser's own (so two open tabs both work), or a fresh one;
/// its cookie is set again either way.
fn login_token(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    let token = jar
        .get(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_else(super::store::random_secret);
    let cookie = Cookie::build((LOGIN_CSRF_COOKIE, token.clone()))
        .path("/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies)
        .build();
    (jar.add(cookie), token)
}

async fn login_form(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Response {
    let (jar, csrf) = login_token(&state, jar);
    let page = LoginPage {
        chrome: Chrome::anonymous(lang, "/login"),
        csrf,
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        error: None,
    };
    (jar, render(StatusCode::OK, &page)).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// Whether the posted form carries the token of this browser's login cookie.
fn login_token_matches(jar: &CookieJar, form: &LoginForm) -> bool {
    jar.get(LOGIN_CSRF_COOKIE)
        .is_some_and(|c| constant_time_eq(c.value().as_bytes(), form.csrf.as_bytes()))
}

async fn login(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    meta: crate::identity::RequestMeta,
    Form(form): Form<LoginForm>,
) -> Response {
    if !login_token_matches(&jar, &form) {
        return error_page(lang, &AppError::CsrfInvalid);
    }
    match sign_in(&state, jar, meta, &form).await {
        Ok(response) => response,
        Err(e @ (AppError::LoginFailed | AppError::TooManyAttempts)) => {
            let (id, en) = e.messages();
            let page = LoginPage {
                chrome: Chrome::anonymous(lang, "/login"),
                csrf: form.csrf,
                next: safe_next(form.next.as_deref()),
                username: form.username,
                error: Some(lang.pick(&id, &en).to_string()),
            };
            render(e.status(), &page)
        }
        Err(e) => error_page(lang, &e),
    }
}

/// Signs in through the service and sets the fresh session's cookie.
async fn sign_in(
    state: &AppState,
    jar: CookieJar,
    meta: crate::identity::RequestMeta,
    form: &LoginForm,
) -> Result<Response, AppError> {
    let old_session = jar.get(SESSION_COOKIE).map(|c| c.value().to_string());
    let session =
        service::sign_in(&state.db, meta, &form.username, &form.password, old_session).await?;
    let mut next = safe_next(form.next.as_deref());
    // Agency staff go to their own pages: the officer pages are not theirs.
    if let Some(user) = super::store::user_by_username(&state.db, &form.username).await? {
        let home = crate::web::home_of(user.role);
        if home != "/" && !next.starts_with(home) {
            next = home.to_string();
        }
    }
    let cookie = Cookie::build((SESSION_COOKIE, session.cookie_value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies)
        .build();
    Ok((jar.add(cookie), Redirect::to(&next)).into_response())
}

async fn logout(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    SignedForm(_signed_in, NoFields {}): SignedForm<NoFields>,
) -> Response {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        if let Err(e) = service::sign_out(&state.db, cookie.value()).await {
            return error_page(lang, &e);
        }
    }
    (
        jar.remove(Cookie::build(SESSION_COOKIE).path("/")),
        Redirect::to("/login"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/participants/3")), "/participants/3");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
