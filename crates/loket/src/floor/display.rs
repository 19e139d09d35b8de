//! The TV display: the numbers being called and the next few, nothing else. Reached through
//! the counter's link (no personal login on a TV); live through server-sent events, and with a
//! plain refresh when scripts are off. Every queue change tells the display's listeners.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::broadcast;

use super::service;
use super::store::{self, TicketRow};
use crate::counters::FloorCounter;
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::{error_page, render, Chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/display/{token}", get(display_page))
        .route("/display/{token}/events", get(events))
        .route("/static/floor-display.js", get(script))
}

/// The queue changes of every counter, as counter ids; each display keeps what is its own.
pub struct Changes {
    sender: broadcast::Sender<i64>,
}

impl Default for Changes {
    fn default() -> Self {
        let (sender, _) = broadcast::channel(4096);
        Changes { sender }
    }
}

/// Tells the displays of `counter_id` that its queue changed (after the change committed).
pub fn notify(state: &AppState, counter_id: i64) {
    // No display listening is not an error.
    let _ = state.cache::<Changes>().sender.send(counter_id);
}

/// Listens to the queue changes of every counter.
pub fn subscribe(state: &AppState) -> broadcast::Receiver<i64> {
    state.cache::<Changes>().sender.subscribe()
}

/// The board's content: the tickets called (newest first, with the desk) and those next.
#[derive(Template)]
#[template(path = "floor_board.html")]
pub struct Board {
    pub lang: Lang,
    pub called: Vec<(String, String)>,
    pub next: Vec<String>,
}

impl Board {
    fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }
}

pub async fn board(
    state: &AppState,
    lang: Lang,
    counter: &FloorCounter,
) -> crate::error::Result<Board> {
    let (called, waiting) = store::display_tickets(&state.db, counter.id, counter.today()).await?;
    let label = |t: &TicketRow| t.label.clone();
    Ok(Board {
        lang,
        called: called
            .iter()
            .map(|t| (label(t), t.desk.clone().unwrap_or_default()))
            .collect(),
        next: waiting.iter().map(label).collect(),
    })
}

#[derive(Template)]
#[template(path = "floor_display.html")]
struct DisplayPage {
    chrome: Chrome,
    counter_name: String,
    token: String,
    board: String,
}

async fn display_page(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> Response {
    let result = async {
        let counter = service::counter_of_link(&state.db, &token).await?;
        let board = board(&state, lang, &counter).await?;
        let html = board
            .render()
            .map_err(|e| crate::error::AppError::Internal(anyhow::anyhow!("template: {e}")))?;
        Ok::<_, crate::error::AppError>(DisplayPage {
            chrome: Chrome::anonymous(lang, &format!("/display/{token}")),
            counter_name: counter.name,
            token: token.clone(),
            board: html,
        })
    }
    .await;
    match result {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(lang, &e),
    }
}

/// The board as server-sent events: once at once, then after every change of this counter's
/// queue (a burst of changes is sent as one).
async fn events(State(state): State<AppState>, lang: Lang, Path(token): Path<String>) -> Response {
    let counter = match service::counter_of_link(&state.db, &token).await {
        Ok(c) => c,
        Err(e) => return error_page(lang, &e),
    };
    let changes = subscribe(&state);
    let stream = futures_util::stream::unfold(
        (state, counter, changes, true),
        move |(state, counter, mut changes, first)| async move {
            if !first && !wait_for(&mut changes, counter.id).await {
                return None;
            }
            let html = match board(&state, lang, &counter).await {
                Ok(b) => b.render().unwrap_or_default(),
                Err(_) => String::new(),
            };
            let event = Event::default().event("board").data(html.replace('\n', ""));
            Some((Ok::<_, Infallible>(event), (state, counter, changes, false)))
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// Waits for a change of `counter_id`'s queue; `false` when the app is stopping.
async fn wait_for(changes: &mut broadcast::Receiver<i64>, counter_id: i64) -> bool {
    loop {
        match changes.recv().await {
            Ok(id) if id == counter_id => break,
            Ok(_) => continue,
            // Missed some: show the board as it is now.
            Err(broadcast::error::RecvError::Lagged(_)) => break,
            Err(broadcast::error::RecvError::Closed) => return false,
        }
    }
    // Several officers act within moments: one update for the burst.
    tokio::time::sleep(Duration::from_millis(50)).await;
    while changes.try_recv().is_ok() {}
    true
}

/// Replaces the board on every event, and chimes when a new number is called.
const SCRIPT: &str = r#"(function () {
  var board = document.getElementById('board');
  if (!board || !window.EventSource) return;
  var source = new EventSource(board.getAttribute('data-events'));
  source.addEventListener('board', function (e) {
    var before = board.querySelector('.called .num');
    board.innerHTML = e.data;
    var after = board.querySelector('.called .num');
    var changed = after && (!before || before.textContent !== after.textContent);
    if (changed && window.AudioContext) {
      try {
        var ctx = new AudioContext(), osc = ctx.createOscillator();
        osc.frequency.value = 880; osc.connect(ctx.destination);
        osc.start(); osc.stop(ctx.currentTime + 0.3);
      } catch (err) { /* a chime is optional */ }
    }
  });
})();
"#;

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}
