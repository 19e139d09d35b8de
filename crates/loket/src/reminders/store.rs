//! All SQL of reminders: consent per channel, rules, the outbox, status links.

use chrono::{DateTime, NaiveDate, Utc};

use super::model::{Channel, Reason, Status};
use crate::audit::{self, Batch};
use crate::db::Db;
use crate::error::Result;
use crate::with_db;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RuleRow {
    pub reason: String,
    pub enabled: bool,
    pub lead_days: i64,
    pub channels: String,
}

pub async fn rules(db: &Db) -> Result<Vec<RuleRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT reason, enabled, lead_days, channels FROM reminder_rules ORDER BY reason",
        )
        .fetch_all(pool)
        .await?
    }))
}

pub async fn set_rule(db: &Db, rule: &RuleRow, audited: Batch) -> Result<()> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        sqlx::query(
            "UPDATE reminder_rules SET enabled = $2, lead_days = $3, channels = $4 WHERE reason = $1",
        )
        .bind(&rule.reason)
        .bind(rule.enabled)
        .bind(rule.lead_days)
        .bind(&rule.channels)
        .execute(&mut *tx)
        .await?;
        audit::append(&mut *tx, audited).await?;
        tx.commit().await?;
    });
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConsentRow {
    pub channel: String,
    pub given_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_how: Option<String>,
}

pub async fn consents(db: &Db, participant_id: i64) -> Result<Vec<ConsentRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT channel, given_at, withdrawn_at, withdrawn_how FROM reminder_consents \
             WHERE participant_id = $1 ORDER BY channel",
        )
        .bind(participant_id)
        .fetch_all(pool)
        .await?
    }))
}

/// Gives consent on a channel (again), or withdraws it (`how`: counter or stop_reply); a
/// withdrawal also ends that channel's queued messages.
#[allow(clippy::too_many_arguments)]
pub async fn set_consent(
    db: &Db,
    participant_id: i64,
    channel: Channel,
    given: bool,
    by: Option<i64>,
    how: &str,
    at: DateTime<Utc>,
    audited: Batch,
) -> Result<()> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        if given {
            sqlx::query(
                "INSERT INTO reminder_consents (participant_id, channel, given_at, given_by) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (participant_id, channel) DO UPDATE \
                 SET given_at = excluded.given_at, given_by = excluded.given_by, \
                 withdrawn_at = NULL, withdrawn_how = NULL",
            )
            .bind(participant_id)
            .bind(channel.code())
            .bind(at)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query(
                "UPDATE reminder_consents SET withdrawn_at = $3, withdrawn_how = $4 \
                 WHERE participant_id = $1 AND channel = $2 AND withdrawn_at IS NULL",
            )
            .bind(participant_id)
            .bind(channel.code())
            .bind(at)
            .bind(how)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE reminder_outbox SET status = 'failed', provider_answer = 'opt_out', \
                 updated_at = $3 WHERE participant_id = $1 AND channel = $2 AND status = 'queued'",
            )
            .bind(participant_id)
            .bind(channel.code())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        audit::append(&mut *tx, audited).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// A message to put in the outbox.
pub struct NewMessage {
    pub participant_id: i64,
    pub counter_id: Option<i64>,
    pub reason: Reason,
    pub due_on: NaiveDate,
    pub channel: Channel,
    pub phone_enc: Vec<u8>,
    pub phone_index: Vec<u8>,
    pub body: String,
    pub utc_offset_hours: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
}

const INSERT_SQL: &str = "INSERT INTO reminder_outbox (participant_id, counter_id, reason, due_on, \
     channel, phone_enc, phone_index, body, utc_offset_hours, status, attempts, next_attempt_at, \
     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 0, $10, $11, $11) \
     ON CONFLICT (participant_id, reason, due_on) DO NOTHING RETURNING id";

/// Queues a message with its audit entry, in one transaction; `None` when this person
/// already has one for the reason and day (a rerun never queues twice).
pub async fn insert(db: &Db, m: &NewMessage, audited: Batch) -> Result<Option<i64>> {
    Ok(with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        let row: Option<(i64,)> = sqlx::query_as(INSERT_SQL)
            .bind(m.participant_id)
            .bind(m.counter_id)
            .bind(m.reason.code())
            .bind(m.due_on)
            .bind(m.channel.code())
            .bind(&m.phone_enc)
            .bind(&m.phone_index)
            .bind(&m.body)
            .bind(m.utc_offset_hours)
            .bind(m.next_attempt_at)
            .bind(m.at)
            .fetch_optional(&mut *tx)
            .await?;
        let id = row.map(|r| r.0);
        if id.is_some() {
            audit::append(&mut *tx, audited).await?;
        }
        tx.commit().await?;
        id
    }))
}

/// Messages queued or sent to a person since `since` (failed ones do not count).
pub async fn count_since(db: &Db, participant_id: i64, since: DateTime<Utc>) -> Result<i64> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM reminder_outbox WHERE participant_id = $1 \
             AND created_at >= $2 AND status <> 'failed'",
        )
        .bind(participant_id)
        .bind(since)
        .fetch_one(pool)
        .await?
    }))
}

/// A message claimed by one worker for one attempt.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub participant_id: i64,
    pub channel: Channel,
    pub phone_enc: Vec<u8>,
    pub body: String,
    pub reason: Reason,
    pub due_on: NaiveDate,
    pub utc_offset_hours: i64,
    pub attempts: i64,
}

/// Claims up to `limit` due messages for this worker's attempt `lease_id`: queued ones due by
/// `now`, and ones whose worker stopped mid-send (lease run out). The outer condition is
/// checked again on the row a concurrent claim changed, so two workers never hold one message.
const CLAIM_SQL: &str = "UPDATE reminder_outbox SET status = 'sending', lease_id = $1, lease_until = $2, \
     attempts = attempts + 1, updated_at = $3 \
     WHERE id IN (SELECT id FROM reminder_outbox \
        WHERE ((status = 'queued' AND next_attempt_at <= $3) OR (status = 'sending' AND lease_until < $3)) \
        AND ((channel = 'whatsapp' AND $5) OR (channel = 'sms' AND $6)) \
        ORDER BY next_attempt_at, id LIMIT $4) \
     AND ((status = 'queued' AND next_attempt_at <= $3) OR (status = 'sending' AND lease_until < $3)) \
     RETURNING id, participant_id, channel, phone_enc, body, reason, due_on, utc_offset_hours, attempts";

pub async fn claim(
    db: &Db,
    lease_id: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    channels: (bool, bool),
    limit: i64,
) -> Result<Vec<Claimed>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(CLAIM_SQL)
            .bind(lease_id)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .bind(channels.0)
            .bind(channels.1)
            .fetch_all(pool)
            .await?
    }))
}

/// What became of one attempt.
pub enum Outcome {
    Sent {
        provider_id: Option<String>,
        answer: String,
    },
    Retry {
        at: DateTime<Utc>,
        answer: String,
    },
    Failed {
        answer: String,
    },
    /// Quiet hours began: back to the queue, the attempt not counted.
    Later {
        at: DateTime<Utc>,
    },
}

/// Records an attempt's outcome, only if this worker still holds the lease; the send is
/// audited in the same transaction.
pub async fn finish(
    db: &Db,
    id: i64,
    lease_id: &str,
    outcome: &Outcome,
    now: DateTime<Utc>,
    audited: Option<Batch>,
) -> Result<bool> {
    let (sql, status, at, answer, provider): (&str, Status, DateTime<Utc>, Option<&str>, Option<&str>) =
        match outcome {
            Outcome::Sent { provider_id, answer } => (
                "UPDATE reminder_outbox SET status = $3, sent_at = $4, provider_answer = $5, \
                 provider_id = $6, lease_id = NULL, lease_until = NULL, updated_at = $4 \
                 WHERE id = $1 AND lease_id = $2",
                Status::Sent,
                now,
                Some(answer.as_str()),
                provider_id.as_deref(),
            ),
            Outcome::Retry { at, answer } => (
                "UPDATE reminder_outbox SET status = $3, next_attempt_at = $4, provider_answer = $5, \
                 lease_id = NULL, lease_until = NULL, updated_at = $4 WHERE id = $1 AND lease_id = $2 \
                 AND $6 IS NULL",
                Status::Queued,
                *at,
                Some(answer.as_str()),
                None,
            ),
            Outcome::Failed { answer } => (
                "UPDATE reminder_outbox SET status = $3, provider_answer = $5, lease_id = NULL, \
                 lease_until = NULL, updated_at = $4 WHERE id = $1 AND lease_id = $2 AND $6 IS NULL",
                Status::Failed,
                now,
                Some(answer.as_str()),
                None,
            ),
            Outcome::Later { at } => (
                "UPDATE reminder_outbox SET status = $3, next_attempt_at = $4, attempts = attempts - 1, \
                 lease_id = NULL, lease_until = NULL, provider_answer = $5 WHERE id = $1 AND lease_id = $2 \
                 AND $6 IS NULL",
                Status::Queued,
                *at,
                None,
                None,
            ),
        };
    Ok(with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        let done = sqlx::query(sql)
            .bind(id)
            .bind(lease_id)
            .bind(status.code())
            .bind(at)
            .bind(answer)
            .bind(provider)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if done {
            if let Some(batch) = audited {
                audit::append(&mut *tx, batch).await?;
            }
        }
        tx.commit().await?;
        done
    }))
}

/// A provider's delivery report: sent → delivered, or failed with its answer.
pub async fn delivery(
    db: &Db,
    provider_id: &str,
    status: Status,
    answer: &str,
    at: DateTime<Utc>,
) -> Result<u64> {
    Ok(with_db!(db, |pool| {
        sqlx::query(
            "UPDATE reminder_outbox SET status = $2, provider_answer = $3, updated_at = $4 \
             WHERE provider_id = $1 AND status IN ('sent', 'delivered')",
        )
        .bind(provider_id)
        .bind(status.code())
        .bind(answer)
        .bind(at)
        .execute(pool)
        .await?
        .rows_affected()
    }))
}

/// The people messaged at this phone (blind index), for a STOP reply.
pub async fn people_at_phone(db: &Db, phone_index: &[u8]) -> Result<Vec<i64>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT DISTINCT participant_id FROM reminder_outbox WHERE phone_index = $1",
        )
        .bind(phone_index)
        .fetch_all(pool)
        .await?
    }))
}

/// One message as officers see it (no phone number).
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct MessageRow {
    pub id: i64,
    pub participant_id: i64,
    pub full_name: String,
    #[schema(value_type = String)]
    pub reason: Reason,
    pub due_on: NaiveDate,
    #[schema(value_type = String)]
    pub channel: Channel,
    #[schema(value_type = String)]
    pub status: Status,
    pub attempts: i64,
    pub body: String,
    pub provider_answer: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

const LIST_SQL: &str =
    "SELECT o.id, o.participant_id, p.full_name, o.reason, o.due_on, o.channel, \
     o.status, o.attempts, o.body, o.provider_answer, o.created_at, o.sent_at \
     FROM reminder_outbox o JOIN participants p ON p.id = o.participant_id \
     LEFT JOIN counters c ON c.id = p.counter_id \
     WHERE ($1 IS NULL OR o.status = $1) AND ($2 IS NULL OR o.participant_id = $2) \
       AND ($3 = TRUE) AND ($4 IS NULL OR p.counter_id = $4) AND ($5 IS NULL OR c.office_id = $5) \
     ORDER BY o.id DESC LIMIT $6";

/// The outbox within a scope (`counter`, `office`, or everything when `all`), newest first.
pub async fn list(
    db: &Db,
    status: Option<Status>,
    participant_id: Option<i64>,
    scope: (Option<i64>, Option<i64>, bool),
    limit: i64,
) -> Result<Vec<MessageRow>> {
    let (counter, office, any) = scope;
    Ok(with_db!(db, |pool| {
        sqlx::query_as(LIST_SQL)
            .bind(status.map(Status::code))
            .bind(participant_id)
            .bind(any)
            .bind(counter)
            .bind(office)
            .bind(limit)
            .fetch_all(pool)
            .await?
    }))
}

/// Messages by status, for the channel health page.
pub async fn counts_by_channel(db: &Db) -> Result<Vec<(String, String, i64)>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT channel, status, CAST(COUNT(*) AS BIGINT) FROM reminder_outbox \
             GROUP BY channel, status ORDER BY channel, status",
        )
        .fetch_all(pool)
        .await?
    }))
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LinkRow {
    pub id: i64,
    pub participant_id: i64,
    pub revoked_at: Option<DateTime<Utc>>,
    pub failures: i64,
    pub locked_until: Option<DateTime<Utc>>,
}

pub async fn insert_link(
    db: &Db,
    code_hash: &str,
    participant_id: i64,
    by: i64,
    at: DateTime<Utc>,
    audited: Batch,
) -> Result<i64> {
    Ok(with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO status_links (code_hash, participant_id, created_at, created_by) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(code_hash)
        .bind(participant_id)
        .bind(at)
        .bind(by)
        .fetch_one(&mut *tx)
        .await?;
        audit::append(&mut *tx, audited).await?;
        tx.commit().await?;
        id
    }))
}

pub async fn link_by_hash(db: &Db, code_hash: &str) -> Result<Option<LinkRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, participant_id, revoked_at, failures, locked_until FROM status_links \
             WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(pool)
        .await?
    }))
}

/// The person's links still in force, newest first.
pub async fn links_of(db: &Db, participant_id: i64) -> Result<Vec<(i64, DateTime<Utc>)>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, created_at FROM status_links WHERE participant_id = $1 \
             AND revoked_at IS NULL ORDER BY id DESC",
        )
        .bind(participant_id)
        .fetch_all(pool)
        .await?
    }))
}

/// A wrong birth date: one more failure, and a lock from the fifth on.
pub async fn link_failed(
    db: &Db,
    id: i64,
    lock_until: DateTime<Utc>,
    lock_after: i64,
) -> Result<()> {
    with_db!(db, |pool| {
        sqlx::query(
            "UPDATE status_links SET failures = failures + 1, \
             locked_until = CASE WHEN failures + 1 >= $3 THEN $2 ELSE locked_until END WHERE id = $1",
        )
        .bind(id)
        .bind(lock_until)
        .bind(lock_after)
        .execute(pool)
        .await?;
    });
    Ok(())
}

pub async fn link_opened(db: &Db, id: i64, audited: Batch) -> Result<()> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        sqlx::query("UPDATE status_links SET failures = 0, locked_until = NULL WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::append(&mut *tx, audited).await?;
        tx.commit().await?;
    });
    Ok(())
}

pub async fn revoke_links(
    db: &Db,
    participant_id: i64,
    at: DateTime<Utc>,
    audited: Batch,
) -> Result<u64> {
    Ok(with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        let n = sqlx::query(
            "UPDATE status_links SET revoked_at = $2 WHERE participant_id = $1 AND revoked_at IS NULL",
        )
        .bind(participant_id)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        audit::append(&mut *tx, audited).await?;
        tx.commit().await?;
        n
    }))
}

/// The first `n` registered people and their counters, for the demo.
pub async fn demo_people(db: &Db, n: i64) -> Result<Vec<(i64, Option<i64>)>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as("SELECT id, counter_id FROM participants ORDER BY id LIMIT $1")
            .bind(n)
            .fetch_all(pool)
            .await?
    }))
}

/// Sets a demo message's status as if it had been sent (or refused).
pub async fn demo_status(
    db: &Db,
    id: i64,
    status: Status,
    answer: Option<&str>,
    at: DateTime<Utc>,
) -> Result<()> {
    let sent = matches!(status, Status::Sent).then_some(at);
    with_db!(db, |pool| {
        sqlx::query(
            "UPDATE reminder_outbox SET status = $2, provider_answer = $3, sent_at = $4, \
             attempts = CASE WHEN $2 = 'queued' THEN 0 ELSE 1 END WHERE id = $1",
        )
        .bind(id)
        .bind(status.code())
        .bind(answer)
        .bind(sent)
        .execute(pool)
        .await?;
    });
    Ok(())
}
