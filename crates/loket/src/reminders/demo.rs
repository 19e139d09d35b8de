//! Demo reminders: three people who agreed to WhatsApp, with one message queued, one sent
//! and one failed (the demo server writes what it sends to its file channel).

use chrono::{Duration, Utc};

use super::model::{message, Channel, Reason, Status};
use super::store::{self, NewMessage};
use crate::audit::{Batch, Entry};
use crate::db::Db;
use crate::error::Result;
use crate::vault::{IndexKind, Vault};

pub async fn seed(db: &Db, vault: &Vault) -> Result<()> {
    let people = store::demo_people(db, 3).await?;
    let statuses = [Status::Queued, Status::Sent, Status::Failed];
    let today = crate::clock::today();
    for (n, ((id, counter), status)) in people.into_iter().zip(statuses).enumerate() {
        let now = Utc::now();
        let consent = Batch::of(
            db,
            None,
            Some("demo"),
            Entry::new("reminder.consent", "participant", id),
        )?;
        store::set_consent(
            db,
            id,
            Channel::Whatsapp,
            true,
            None,
            "counter",
            now,
            consent,
        )
        .await?;
        let phone = format!("62812000000{n:02}");
        let day = today + Duration::days(3 + n as i64);
        let m = NewMessage {
            participant_id: id,
            counter_id: counter,
            reason: Reason::PurchaseDeadlineSoon,
            due_on: day,
            channel: Channel::Whatsapp,
            phone_enc: vault.seal(IndexKind::Phone, &phone),
            phone_index: vault.blind_index(IndexKind::Phone, &phone),
            body: message(Reason::PurchaseDeadlineSoon, day, None),
            utc_offset_hours: 7,
            next_attempt_at: now + Duration::days(1),
            at: now,
        };
        let queued = Batch::of(
            db,
            None,
            Some("demo"),
            Entry::new("reminder.queue", "participant", id),
        )?;
        if let Some(message_id) = store::insert(db, &m, queued).await? {
            let answer = match status {
                Status::Sent => Some("file"),
                Status::Failed => Some("400 131026 Message undeliverable"),
                _ => None,
            };
            store::demo_status(db, message_id, status, answer, now).await?;
        }
    }
    Ok(())
}
