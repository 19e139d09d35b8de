//! The shared parts of every HTML page: the page chrome, form fields, errors, language switch
//! and the stylesheet.

use askama::Template;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, Query, RawPathParams};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;

use crate::codes::Choice;
use crate::error::{AppError, FieldError};
use crate::i18n::{Lang, LANG_COOKIE};
use crate::identity::Actor;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/app.css", get(stylesheet))
        .route("/lang/{code}", get(switch_language))
        .route("/", get(|| async { Redirect::to("/participants") }))
}

/// A signed-in person as the layout sees them; auth's `PageUser` is one. The layout sits
/// below auth, so it names what it needs instead of the extractor.
pub trait Viewer {
    fn actor(&self) -> &Actor;
    fn csrf(&self) -> &str;
    /// How many requests wait for this person's answer, when known.
    fn waiting(&self) -> Option<i64> {
        None
    }
}

/// What the layout needs: language, who is signed in, the CSRF token, the current path.
pub struct Chrome {
    pub lang: Lang,
    pub other_lang: &'static str,
    pub username: Option<String>,
    pub csrf: String,
    pub path: String,
    pub can_register: bool,
    pub can_audit: bool,
    pub can_exchange: bool,
    pub can_outreach: bool,
    pub can_follow_up: bool,
    pub can_remind: bool,
    /// The access requests link, with the number waiting for an answer when known.
    pub can_request_access: bool,
    pub requests_waiting: Option<i64>,
    /// The counter floor's queue (officers, coordinators, head office).
    pub can_floor: bool,
    /// Partner programmes and referrals (officers, head office, auditors).
    pub can_programmes: bool,
    /// Agency staff: their own pages only, none of the officers'.
    pub agency: bool,
    /// Where the brand link goes: the first page of the person's role.
    pub home: &'static str,
}

/// The first page of a role: agency staff their incoming referrals, everyone else the search.
pub fn home_of(role: crate::identity::Role) -> &'static str {
    match role {
        crate::identity::Role::Lembaga => home(role),
        _ => "/",
    }
}

impl Chrome {
    pub fn anonymous(lang: Lang, path: &str) -> Chrome {
        Chrome {
            lang,
            other_lang: other(lang),
            username: None,
            csrf: String::new(),
            path: path.to_string(),
            can_register: false,
            can_audit: false,
            can_exchange: false,
            can_outreach: false,
            can_follow_up: false,
            can_remind: false,
            can_request_access: false,
            requests_waiting: None,
            can_floor: false,
            can_programmes: false,
            agency: false,
            home: "/",
        }
    }

    pub fn for_user(lang: Lang, viewer: &impl Viewer, path: &str) -> Chrome {
        let user = &viewer.actor().user;
        let allows = |action| crate::access::allows(user, action);
        use crate::access::Action;
        Chrome {
            lang,
            other_lang: other(lang),
            username: Some(user.username.clone()),
            csrf: viewer.csrf().to_string(),
            path: path.to_string(),
            can_register: allows(Action::RegisterParticipant),
            can_audit: allows(Action::ViewAudit),
            can_exchange: allows(Action::ManageExchange),
            can_outreach: allows(Action::ViewOutreach),
            can_follow_up: allows(Action::ViewFollowUp),
            can_remind: allows(Action::SendReminders),
            can_request_access: allows(Action::RequestAccess),
            requests_waiting: viewer.waiting(),
            can_floor: allows(Action::ServeQueue),
            can_programmes: allows(Action::ViewProgrammes),
            agency: allows(Action::AnswerReferral),
            home: home_of(user.role),
        }
    }

    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }
}

fn other(lang: Lang) -> &'static str {
    match lang {
        Lang::Id => "en",
        Lang::En => "id",
    }
}

/// A record's id in a page's path; anything that is not a number gets the error page of a
/// record not found (in the person's language), not the framework's plain-text answer.
pub struct PathId(pub i64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PathId {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> std::result::Result<Self, Self::Rejection> {
        match axum::extract::Path::<i64>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) => Ok(PathId(id)),
            Err(_) => {
                let lang = Lang::from_request_parts(parts, state)
                    .await
                    .unwrap_or_default();
                Err(error_page(lang, &AppError::NotFound))
            }
        }
    }
}

/// JSON body extractor whose rejections speak the API's error format (400, 413, 415, 422).
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(
        req: axum::extract::Request,
        state: &S,
    ) -> std::result::Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
                StatusCode::UNPROCESSABLE_ENTITY => AppError::Validation(vec![FieldError::new(
                    "body",
                    "json_shape",
                    format!("Isi JSON tidak sesuai: {}", rejection.body_text()),
                    format!(
                        "The JSON does not have the expected shape: {}",
                        rejection.body_text()
                    ),
                )]),
                _ => AppError::BadRequest(rejection.body_text()),
            }),
        }
    }
}

/// Path parameters whose rejections speak the API's error format: a value that does not fit
/// (`/api/v1/participants/abc`) is a 422 naming the parameter, not framework text.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(path_error(parts, state, &rejection).await),
        }
    }
}

async fn path_error<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    rejection: &PathRejection,
) -> AppError {
    let PathRejection::FailedToDeserializePathParams(failed) = rejection else {
        // Only a route without the parameters its handler names gets here: our fault.
        return AppError::Internal(anyhow::anyhow!("path: {}", rejection.body_text()));
    };
    let name = match failed.kind() {
        ErrorKind::ParseErrorAtKey { key, .. }
        | ErrorKind::DeserializeError { key, .. }
        | ErrorKind::InvalidUtf8InPathParam { key } => key.clone(),
        // A single value or a tuple is named by position; the route knows the names.
        ErrorKind::ParseErrorAtIndex { index, .. } => path_name(parts, state, *index).await,
        ErrorKind::ParseError { .. } => path_name(parts, state, 0).await,
        _ => "path".to_string(),
    };
    let (id, en) = parameter_messages("error.path_invalid", &name, &failed.kind().to_string());
    AppError::Validation(vec![FieldError::new(&name, "path_invalid", id, en)])
}

/// The name of the `index`-th path parameter of the route.
async fn path_name<S: Send + Sync>(parts: &mut Parts, state: &S, index: usize) -> String {
    RawPathParams::from_request_parts(parts, state)
        .await
        .ok()
        .and_then(|raw| raw.iter().nth(index).map(|(key, _)| key.to_string()))
        .unwrap_or_else(|| "path".to_string())
}

/// Query parameters whose rejections speak the API's error format: a value that does not fit
/// (`?limit=abc`) is a 422 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        // The path to the error names the parameter, which the plain decoder's message does not.
        serde_path_to_error::deserialize(pairs)
            .map(ApiQuery)
            .map_err(|e| {
                // A missing parameter is an error of the whole query (its path is `.`).
                let name = match e.path().to_string() {
                    root if root == "." => "query".to_string(),
                    name => name,
                };
                let detail = e.inner().to_string();
                let (id, en) = parameter_messages("error.query_invalid", &name, &detail);
                AppError::Validation(vec![FieldError::new(&name, "query_invalid", id, en)])
            })
    }
}

/// The two messages for a parameter that could not be read: the catalogue's text, the
/// parameter's name and what the decoder said.
fn parameter_messages(text: &str, name: &str, detail: &str) -> (String, String) {
    let say = |lang: Lang| format!("{} `{name}` ({detail})", lang.t(text));
    (say(Lang::Id), say(Lang::En))
}

pub enum FieldKind {
    /// A text input with an `inputmode` hint for phone keyboards ("text", "numeric", "tel", "email").
    Text(&'static str),
    Date,
    Select(Vec<Choice>),
    /// A select in groups (`<optgroup>`): the common choices first, then the rest.
    Grouped(Vec<ChoiceGroup>),
    Checkbox,
}

pub struct ChoiceGroup {
    pub label: &'static str,
    pub choices: Vec<Choice>,
}

pub struct FormField {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub value: String,
    pub error: Option<String>,
    /// Marked as required (visibly and for assistive technology); the server still checks.
    pub required: bool,
    /// A remark under the field that is not an error (e.g. a NIK's unknown district).
    pub note: Option<String>,
    /// A button after the field that reloads the form without saving (no JavaScript needed),
    /// e.g. to list the regencies of the chosen province; its label.
    pub refresh: Option<&'static str>,
}

impl FormField {
    /// The ids of the texts that describe the field: its note and its error.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.note.is_some() {
            ids.push(format!("{}-note", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.name));
        }
        ids.join(" ")
    }
}

pub struct FormSection {
    pub title: &'static str,
    pub fields: Vec<FormField>,
}

/// Renders a template; a template error is a server fault and is logged as one.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => AppError::Internal(anyhow::anyhow!("template: {e}")).into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    shown: &'a ErrorShown,
    /// "Kembali": the page of this site the person came from, else their role's home.
    back: &'a str,
}

/// What an error page tells: kept on the response, so the app (which knows the session) can
/// show the same page with the person's navigation and a real way back (`error_page_for`).
#[derive(Clone)]
pub struct ErrorShown {
    pub lang: Lang,
    pub message: String,
    pub code: &'static str,
    /// Shown so that a person reporting the problem can name the request in the logs.
    pub request_id: Option<String>,
}

/// The page shown for an error on the HTML side: the message in the user's language.
pub fn error_page(lang: Lang, err: &AppError) -> Response {
    err.log();
    let (id, en) = err.messages();
    let shown = ErrorShown {
        lang,
        message: lang.pick(&id, &en).to_string(),
        code: err.code(),
        request_id: crate::telemetry::current_request_id(),
    };
    let mut response = error_page_for(Chrome::anonymous(lang, "/"), "/", &shown, err.status());
    response.extensions_mut().insert(shown);
    response
}

/// The error page with `chrome` (the person's navigation) and `back` as "Kembali".
pub fn error_page_for(
    chrome: Chrome,
    back: &str,
    shown: &ErrorShown,
    status: StatusCode,
) -> Response {
    render(
        status,
        &ErrorPage {
            chrome,
            shown,
            back,
        },
    )
}

/// Where a role's day starts: the page "Kembali" leads to when no page of this site referred.
pub fn home(role: crate::identity::Role) -> &'static str {
    use crate::identity::Role;
    match role {
        Role::Admin | Role::Koordinator => "/dashboard",
        Role::Auditor => "/audit",
        Role::Petugas | Role::Mitra => "/participants",
        Role::Lembaga => "/lembaga",
    }
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../static/app.css"),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct Back {
    back: Option<String>,
}

/// Sets the language cookie and returns to the page the user was on (same site only).
async fn switch_language(
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(back): Query<Back>,
    jar: CookieJar,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    let target = back.back.as_deref().and_then(same_site_path).unwrap_or("/");
    let cookie = Cookie::build((LANG_COOKIE, lang.code()))
        .path("/")
        .same_site(SameSite::Lax)
        .permanent()
        .build();
    (jar.add(cookie), Redirect::to(target)).into_response()
}

/// A redirect target from a request (`back=`, `next=`), or none when it might leave this
/// site: only a path of this site (`/` then not `/` or `\`) made of the characters a URL
/// path and query carry as they are. Browsers drop tabs and newlines and read `\` as `/`,
/// so `/\t/evil.example` would become `//evil.example`, another site; a newline in a
/// `Location` header cannot even be sent.
pub fn same_site_path(candidate: &str) -> Option<&str> {
    let safe = |b: u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b);
    let rest = candidate.strip_prefix('/')?;
    let ok = !rest.starts_with('/') && candidate.bytes().all(safe);
    ok.then_some(candidate)
}

/// A list shown a page at a time: "Menampilkan 1–50 dari 312" and previous/next links that
/// keep the list's filters (`templates/pager.html`).
pub struct Pager {
    /// "Menampilkan 51–100 dari 312" (or "Tidak ada hasil").
    pub summary: String,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// The pager of the rows `offset+1 ..= offset+shown` of `total`, `size` a page, on `path`
    /// with the `filters` (empty ones left out) and the page's offset as `offset`.
    pub fn new(
        lang: Lang,
        path: &str,
        filters: &[(&str, &str)],
        offset: i64,
        shown: usize,
        total: i64,
        size: i64,
    ) -> Pager {
        // Written into the page as it is (`|safe`): every name and value is percent-encoded
        // (no quote, `<` or `&` is left), and the pairs are joined with `&amp;`.
        let href = |at: i64| {
            let offset = at.to_string();
            let pairs = filters
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .copied()
                .chain((at > 0).then_some(("offset", offset.as_str())));
            let query = pairs
                .map(|(k, v)| {
                    form_urlencoded::Serializer::new(String::new())
                        .append_pair(k, v)
                        .finish()
                })
                .collect::<Vec<_>>()
                .join("&amp;");
            if query.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{query}")
            }
        };
        let shown = shown as i64;
        let summary = if shown == 0 {
            lang.t("pager.none").to_string()
        } else {
            format!(
                "{} {}–{} {} {}",
                lang.t("pager.showing"),
                offset + 1,
                offset + shown,
                lang.t("pager.of"),
                total
            )
        };
        Pager {
            summary,
            previous: (offset > 0).then(|| href((offset - size).max(0))),
            next: (offset + shown < total).then(|| href(offset + shown)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::same_site_path;

    #[test]
    fn only_plain_paths_of_this_site_are_redirect_targets() {
        for ok in ["/", "/participants/3?q=siti%20aminah&page=2", "/%2F/x"] {
            assert_eq!(same_site_path(ok), Some(ok), "{ok}");
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\\/evil.example",
            "/\t/evil.example",
            "/\n/x",
            "/\r\n/x",
            "https://evil.example",
            "evil.example",
            "/ x",
            "/é",
            "",
        ] {
            assert_eq!(same_site_path(bad), None, "{bad:?}");
        }
    }
}
