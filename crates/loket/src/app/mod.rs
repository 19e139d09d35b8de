//! Application assembly: the router of every feature, middleware, the OpenAPI document, the
//! text catalogues, and the server lifecycle.

pub mod api_doc;
mod edge;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::config::Config;
use crate::error::AppError;
use crate::state::AppState;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every feature's texts, registered once at start: the shared ones first.
pub static TEXT_CATALOGUES: &[&str] = &[
    crate::i18n::TEXTS,
    crate::catalog::texts::TEXTS,
    crate::counters::texts::TEXTS,
    crate::journey::texts::TEXTS,
    crate::floor::texts::TEXTS,
    crate::programmes::texts::TEXTS,
    crate::exchange::texts::TEXTS,
    crate::reminders::texts::TEXTS,
];

/// Makes every feature's texts available to `Lang::t`; the CLI and the server call it first.
pub fn register_texts() {
    crate::i18n::register(TEXT_CATALOGUES);
}

/// Plugs the features into each other where a lower one shows what a higher one knows.
fn connect_features() {
    crate::participants::set_after_registration(eligibility_after_registration);
    crate::counters::set_reach_counts(journey_reach);
    crate::auth::set_waiting(access_requests_waiting);
    crate::journey::set_booking_link(floor_booking_link);
    crate::participants::set_more_on_page(programmes_card);
}

/// The journey's reach definitions, for the counter network's dashboard.
fn journey_reach(
    db: &crate::db::Db,
    definition: crate::counters::model::ReachDefinition,
    until: chrono::NaiveDate,
) -> crate::counters::ReachFuture<'_> {
    Box::pin(crate::journey::reach_by_day(db, definition, until))
}

/// The access requests waiting for a person's answer, for the navigation.
fn access_requests_waiting<'a>(
    state: &'a AppState,
    actor: &'a crate::identity::Actor,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::error::Result<i64>> + Send + 'a>> {
    Box::pin(crate::participants::requests::open_count(state, actor))
}

/// The follow-up list books a person's next visit on the counter floor.
fn floor_booking_link(participant_id: i64, counter_id: i64) -> String {
    format!("/floor/appointments?participant={participant_id}&counter={counter_id}")
}

/// The partner programmes that fit a person, as a card on the person's page.
fn programmes_card<'a>(
    state: &'a AppState,
    actor: &'a crate::identity::Actor,
    id: i64,
    lang: crate::i18n::Lang,
) -> crate::participants::CardFuture<'a> {
    Box::pin(crate::programmes::card_for_person(state, actor, id, lang))
}

/// The eligibility check at registration: advice for the newest batch (occupation is asked
/// when joining a batch, so it is not judged here).
fn eligibility_after_registration<'a>(
    state: &'a AppState,
    actor: &'a crate::identity::Actor,
    id: i64,
    lang: crate::i18n::Lang,
) -> crate::participants::Advice<'a> {
    Box::pin(async move {
        let newest = crate::journey::batches(&state.db)
            .await?
            .into_iter()
            .map(|b| b.number)
            .max();
        let Some(batch) = newest else {
            return Ok(None);
        };
        let advice = crate::journey::eligibility_advice(state, actor, id, batch, &None).await?;
        Ok(Some((
            batch,
            advice
                .into_iter()
                .map(|a| lang.pick(&a.message, &a.message_en).to_string())
                .collect(),
        )))
    })
}

pub fn router(state: AppState) -> Router {
    register_texts();
    connect_features();
    let body_limit = state.config.body_limit;
    Router::new()
        .route("/healthz", get(healthz))
        // No database: the framework's ceiling for load tests, and a liveness probe.
        .route("/livez", get(|| async { "ok" }))
        .merge(api_doc::router())
        .merge(crate::participants::api::router())
        .merge(crate::audit_log::router())
        .merge(crate::participants::pages::router())
        .merge(crate::counters::router())
        .merge(crate::journey::api::router().merge(crate::journey::pages::router()))
        .merge(crate::floor::router())
        .merge(crate::programmes::router())
        .merge(crate::auth::pages::router())
        .merge(crate::catalog::router())
        .merge(crate::exchange::router(state.config.upload_limit))
        .merge(crate::reminders::router())
        .merge(crate::web::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            edge::dressed_error_pages,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            edge::plain_text,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            edge::same_origin,
        ))
        // Pages and answers show personal data: no copy stays in a browser's or proxy's cache
        // (Back after signing out showed the record). The stylesheet sets its own.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            hsts(&state.config),
        ))
        // Inside the header layers, so every response keeps its headers whether compressed.
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(60),
        ))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(crate::telemetry::trace_layer())
        // Outermost, so the span, the handlers and the response all see the same id.
        .layer(axum::middleware::from_fn(
            crate::telemetry::assign_request_id,
        ))
        .with_state(state)
}

/// HSTS when the site is served over HTTPS (`--secure-cookies` says it is): a browser then
/// never tries plain HTTP again, where the session cookie could be stripped or read.
fn hsts(config: &Config) -> Option<HeaderValue> {
    config
        .secure_cookies
        .then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains"))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub database: &'static str,
}

/// Liveness and database reachability, for monitoring.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let backend = match state.db.backend() {
        crate::db::Backend::Sqlite => "sqlite",
        crate::db::Backend::Postgres => "postgres",
    };
    match state.db.ping().await {
        Ok(()) => Json(Health {
            status: "ok",
            database: backend,
        })
        .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "unavailable",
                database: backend,
            }),
        )
            .into_response(),
    }
}

async fn not_found(uri: Uri, lang: crate::i18n::Lang) -> Response {
    if uri.path().starts_with("/api/") {
        return AppError::NotFound.into_response();
    }
    crate::web::error_page(lang, &AppError::NotFound)
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        register_texts();
        let listener = TcpListener::bind(config.bind).await?;
        let state = AppState::open_or_initialise(config).await?;
        // Jobs a stopped server left running are shown failed, with a retry, not as running.
        crate::exchange::service::recover_interrupted(&state).await?;
        Ok(Application { listener, state })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C / SIGTERM, with the reminder worker beside it (stopped after
    /// the server, so a message being sent is recorded).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let app = router(self.state.clone());
        let worker = self
            .state
            .config
            .reminders
            .worker
            .then(|| crate::reminders::Worker::spawn(self.state.clone()));
        let served = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await;
        if let Some(worker) = worker {
            worker.stop().await;
        }
        served
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn catalogue_keys_are_unique_and_both_languages_are_filled() {
        let mut keys = Vec::new();
        for (n, catalogue) in TEXT_CATALOGUES.iter().enumerate() {
            for text in crate::i18n::texts_of(catalogue) {
                match text {
                    Ok((key, _, _)) => keys.push(key),
                    Err(line) => panic!("catalogue {n}, line {line}: not key<TAB>id<TAB>en"),
                }
            }
        }
        assert!(keys.len() > 300, "{} texts", keys.len());
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len(), "duplicate key in the text catalogues");
    }

    #[test]
    fn a_malformed_text_line_is_reported_with_its_number() {
        let lines: Vec<_> =
            crate::i18n::texts_of("# comment\na\tA\tAa\nb\tB\n\nc\t\tC\n").collect();
        assert_eq!(lines, [Ok(("a", "A", "Aa")), Err(3), Err(5)]);
    }

    #[test]
    fn every_key_used_in_templates_exists() {
        register_texts();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for part in text.split("t(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                assert_ne!(Lang::Id.t(key), "??", "missing text key {key}");
            }
        }
    }
}

/// The layers of the code base, lowest first: a module may use only modules listed before it
/// (its own folder aside). `docs/DEVELOPING.md` explains each; the test below keeps it true.
pub const LAYERS: &[&str] = &[
    // The shared layer, below every feature.
    "clock",
    "config",
    "db",
    "error",
    "text",
    "i18n",
    "codes",
    "format",
    "vault",
    "keys",
    "sheet",
    "identity",
    "telemetry",
    "audit",
    // The state opens the audit chain with its key.
    "state",
    "access",
    "web",
    "auth",
    // Features: each may use the front door of those before it.
    "counters",
    "participants",
    "journey",
    "reminders",
    "floor",
    "programmes",
    "catalog",
    "exchange",
    // Registry duplicates: merging moves what every feature above keeps about a person.
    "duplicates",
    "audit_log",
    // Assembly: the router, the OpenAPI document, the demo data.
    "app",
    "demo",
];

#[cfg(test)]
mod layer_tests {
    use super::LAYERS;
    use std::path::Path;

    /// The top-level modules that `source` names as `crate::module`, outside its tests.
    fn used_modules(source: &str) -> Vec<String> {
        let code = source.split("#[cfg(test)]").next().unwrap_or(source);
        let mut used = Vec::new();
        for part in code.split("crate::").skip(1) {
            let names: Vec<String> = if let Some(group) = part.strip_prefix('{') {
                group
                    .split('}')
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .filter_map(|item| item.trim().split("::").next().map(str::to_string))
                    .collect()
            } else {
                vec![part
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("")
                    .to_string()]
            };
            used.extend(names.into_iter().filter(|n| !n.is_empty()));
        }
        used
    }

    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Modules whose `store` (their SQL) only they may call: auth and the features.
    fn owners_of_a_store() -> Vec<&'static str> {
        let features = LAYERS
            .iter()
            .skip_while(|l| **l != "counters")
            .take_while(|l| **l != "audit_log");
        std::iter::once(&"auth").chain(features).copied().collect()
    }

    #[test]
    fn every_module_uses_only_the_layers_below_it() {
        let src = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
        let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
        let mut paths = Vec::new();
        files(src, &mut paths);
        let mut wrong = Vec::new();
        for path in paths {
            let relative = path.strip_prefix(src).unwrap();
            let top = relative
                .iter()
                .next()
                .unwrap()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            if matches!(top.as_str(), "lib" | "main" | "cli") {
                continue;
            }
            let own = rank(&top).unwrap_or_else(|| panic!("{top} is not in app::LAYERS"));
            let source = std::fs::read_to_string(&path).unwrap();
            let code = source.split("#[cfg(test)]").next().unwrap_or(&source);
            for feature in &owners_of_a_store() {
                if *feature != top && code.contains(&format!("crate::{feature}::store")) {
                    wrong.push(format!("{} uses {feature}'s store", relative.display()));
                }
            }
            for used in used_modules(&source) {
                if let Some(theirs) = rank(&used) {
                    if theirs > own {
                        wrong.push(format!("{} uses crate::{used}", relative.display()));
                    }
                }
            }
        }
        wrong.sort();
        wrong.dedup();
        assert!(
            wrong.is_empty(),
            "uses against the layers:\n{}",
            wrong.join("\n")
        );
    }

    #[test]
    fn the_layer_check_sees_grouped_and_plain_uses() {
        let used = used_modules("use crate::{db::Db, audit};\nlet x = crate::web::render(y);");
        assert_eq!(used, ["db", "audit", "web"]);
    }
}
