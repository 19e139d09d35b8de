//! The sending worker: claims due messages (a lease per attempt, so two workers never hold
//! one message and a stopped one's messages are taken over), sends them through their
//! channel, and records sent, retry with exponential backoff, or failed.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};

use super::channel::{self, Answer, Outgoing};
use super::model::Channel;
use super::store::{self, Claimed, Outcome};
use crate::audit::{Batch, Entry};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::vault::IndexKind;

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Pass {
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
    /// Put back until the person's quiet hours end.
    pub later: u64,
}

/// One HTTP client for every provider call (connections are reused).
#[derive(Default)]
struct Client(std::sync::OnceLock<reqwest::Client>);

fn client(state: &AppState) -> reqwest::Client {
    let cache: Arc<Client> = state.cache::<Client>();
    cache.0.get_or_init(reqwest::Client::new).clone()
}

/// The first moment at or after `now` outside the quiet hours of a person `offset` hours
/// ahead of UTC (`from == until`: never quiet).
pub fn outside_quiet_hours(
    now: DateTime<Utc>,
    offset: i64,
    from: u32,
    until: u32,
) -> DateTime<Utc> {
    if from == until {
        return now;
    }
    let local = now + chrono::Duration::hours(offset);
    let hour = local.hour();
    let quiet = if from < until {
        hour >= from && hour < until
    } else {
        hour >= from || hour < until
    };
    if !quiet {
        return now;
    }
    let mut end = local
        .date_naive()
        .and_hms_opt(until, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(local);
    if end <= local {
        end += chrono::Duration::days(1);
    }
    end - chrono::Duration::hours(offset)
}

/// Sends what is due at `now`, up to `limit` messages; returns what happened.
pub async fn send_due(state: &AppState, now: DateTime<Utc>, limit: i64) -> Result<Pass> {
    let config = &state.config.reminders;
    let lease_id = {
        use rand::Rng;
        format!("{:016x}", rand::thread_rng().gen::<u64>())
    };
    let hold = chrono::Duration::from_std(config.provider_timeout * 3 + Duration::from_secs(60))
        .unwrap_or_else(|_| chrono::Duration::minutes(5));
    let channels = (
        channel::available(config, Channel::Whatsapp),
        channel::available(config, Channel::Sms),
    );
    if !channels.0 && !channels.1 {
        return Ok(Pass::default());
    }
    let claimed = store::claim(&state.db, &lease_id, now, now + hold, channels, limit).await?;
    let http = client(state);
    let mut pass = Pass::default();
    for message in claimed {
        let outcome = attempt(state, &http, &message, now).await;
        let audited = match &outcome {
            Outcome::Sent { .. } => Some(Batch::of(
                &state.db,
                None,
                Some("reminders"),
                Entry::new("reminder.send", "reminder", message.id)
                    .fields(vec![message.channel.code().to_string()]),
            )?),
            _ => None,
        };
        match &outcome {
            Outcome::Sent { .. } => pass.sent += 1,
            Outcome::Retry { .. } => pass.retried += 1,
            Outcome::Failed { .. } => pass.failed += 1,
            Outcome::Later { .. } => pass.later += 1,
        }
        store::finish(&state.db, message.id, &lease_id, &outcome, now, audited).await?;
    }
    Ok(pass)
}

async fn attempt(
    state: &AppState,
    http: &reqwest::Client,
    m: &Claimed,
    now: DateTime<Utc>,
) -> Outcome {
    let config = &state.config.reminders;
    let allowed = outside_quiet_hours(
        now,
        m.utc_offset_hours,
        config.quiet_from,
        config.quiet_until,
    );
    if allowed > now {
        return Outcome::Later { at: allowed };
    }
    let phone = match state.vault.open(IndexKind::Phone, &m.phone_enc) {
        Ok(p) => channel::international(&p),
        Err(_) => {
            return Outcome::Failed {
                answer: "phone_unreadable".into(),
            }
        }
    };
    let reference = format!("loket-{}", m.id);
    let answer = channel::send(
        http,
        config,
        &Outgoing {
            channel: m.channel,
            to: &phone,
            text: &m.body,
            reference: &reference,
        },
    )
    .await;
    match answer {
        Answer::Accepted {
            provider_id,
            answer,
        } => Outcome::Sent {
            provider_id,
            answer,
        },
        Answer::Rejected(answer) => Outcome::Failed { answer },
        Answer::Retry(answer) if m.attempts >= config.max_attempts => Outcome::Failed { answer },
        Answer::Retry(answer) => {
            let factor = 1u32 << (m.attempts.clamp(1, 16) - 1);
            let wait = chrono::Duration::from_std(config.retry_base * factor)
                .unwrap_or_else(|_| chrono::Duration::hours(1));
            Outcome::Retry {
                at: now + wait,
                answer,
            }
        }
    }
}

/// The worker running in the server: a pass every `worker_interval` until stopped.
pub struct Worker {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    pub fn spawn(state: AppState) -> Worker {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let interval = state.config.reminders.worker_interval;
        let task = tokio::spawn(async move {
            loop {
                match send_due(&state, Utc::now(), 500).await {
                    Ok(pass) if pass.sent + pass.retried + pass.failed > 0 => {
                        tracing::info!(?pass, "reminders sent");
                        continue;
                    }
                    Ok(_) => {}
                    Err(AppError::Busy(_)) => {}
                    Err(e) => tracing::warn!(error = %e, "reminder pass failed"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = stopped.changed() => break,
                }
                if *stopped.borrow() {
                    break;
                }
            }
        });
        Worker { stop, task }
    }

    /// Stops after the pass in progress (a message being sent is finished and recorded).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn quiet_hours_are_the_persons_own() {
        // 15:00 UTC is 22:00 WIB (quiet until 07:00 WIB = 00:00 UTC next day) and 00:00 WIT.
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 15, 0, 0).unwrap();
        assert_eq!(
            outside_quiet_hours(now, 7, 21, 7),
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            outside_quiet_hours(now, 9, 21, 7),
            Utc.with_ymd_and_hms(2026, 11, 30, 22, 0, 0).unwrap()
        );
        // 03:00 UTC is 10:00 WIB: not quiet.
        let day = Utc.with_ymd_and_hms(2026, 11, 30, 3, 0, 0).unwrap();
        assert_eq!(outside_quiet_hours(day, 7, 21, 7), day);
        assert_eq!(outside_quiet_hours(now, 7, 0, 0), now);
    }
}
