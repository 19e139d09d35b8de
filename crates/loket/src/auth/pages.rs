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

use super::{service, NoFields, SignedForm, SESSION_COOKIE};
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
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only same-site paths, so the login page cannot bounce a user to another site.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or("/participants")
        .to_string()
}

async fn login_form(lang: Lang, Query(q): Query<NextQuery>) -> Response {
    let page = LoginPage {
        chrome: Chrome::anonymous(lang, "/login"),
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        error: None,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    meta: crate::identity::RequestMeta,
    Form(form): Form<LoginForm>,
) -> Response {
    match sign_in(&state, jar, meta, &form).await {
        Ok(response) => response,
        Err(e @ (AppError::LoginFailed | AppError::TooManyAttempts)) => {
            let (id, en) = e.messages();
            let page = LoginPage {
                chrome: Chrome::anonymous(lang, "/login"),
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
    let cookie = Cookie::build((SESSION_COOKIE, session.cookie_value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies)
        .build();
    Ok((
        jar.add(cookie),
        Redirect::to(&safe_next(form.next.as_deref())),
    )
        .into_response())
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
        assert_eq!(safe_next(Some("//evil.example")), "/participants");
        assert_eq!(safe_next(Some("https://evil.example")), "/participants");
        assert_eq!(safe_next(None), "/participants");
    }
}
