//! Permintaan akses: a NIK registered at another counter is not a dead end. Search and
//! registration say where the person is registered (the counter and office names, nothing more
//! of the person); the officer asks that counter for access to the case, or to move it, with a
//! reason; the holding counter's officers (access) or office coordinator (access or move)
//! accept or decline with a reason; the requester sees the answer. Accepting reuses the
//! registry's own mechanisms: a referral (access) or a reassignment (move). Every step is
//! audited. ("Rujukan" names programme referrals elsewhere; these are access requests.)

use chrono::Utc;
use nik::Nik;

use super::store::{self, AccessRequestRow, Grant, Holder, NewAccessRequest, RequestSide};
use crate::access::{self, Action, Scope};
use crate::audit::{self, Batch, Entry, Outcome};
use crate::code_enum;
use crate::error::{AppError, Result};
use crate::identity::{Actor, Role};
use crate::state::AppState;

const ENTITY: &str = "access_request";

code_enum! {
    /// What the requesting counter asks for.
    pub enum RequestKind {
        Access => ("access", "Minta akses", "Access"),
        Move => ("move", "Minta pindah", "Move"),
    }
}

code_enum! {
    /// Where a request stands.
    pub enum RequestStatus {
        Open => ("open", "Menunggu jawaban", "Awaiting an answer"),
        Accepted => ("accepted", "Diterima", "Accepted"),
        Declined => ("declined", "Ditolak", "Declined"),
    }
}

/// Where a person is registered, as an officer outside the case may learn it.
#[derive(Clone, Debug)]
pub struct Place {
    /// The holding counter's name; `None` when no counter holds the case (head office does).
    pub counter: Option<String>,
    pub office: Option<String>,
}

impl Place {
    /// "Loket Tanjung Priok, UPT BP2MI Jakarta" (both are names, the same in both languages);
    /// "kantor pusat / head office" when no counter holds the case.
    pub fn words(&self) -> String {
        match (&self.counter, &self.office) {
            (Some(c), Some(o)) => format!("{c}, {o}"),
            (Some(c), None) => c.clone(),
            _ => "BP2MI pusat".to_string(),
        }
    }
}

impl From<&Holder> for Place {
    fn from(h: &Holder) -> Self {
        Place {
            counter: h.counter_name.clone(),
            office: h.office_name.clone(),
        }
    }
}

/// The registry person with this NIK when the user's scope does not reach them (within scope
/// the caller shows the record itself). Learning where someone is registered is audited.
pub async fn locate(state: &AppState, actor: &Actor, nik: &Nik) -> Result<Option<Place>> {
    access::require(&state.db, actor, Action::ViewParticipant).await?;
    let Some(holder) = holder_outside_scope(state, actor, nik).await? else {
        return Ok(None);
    };
    audit_locate(state, actor, holder.participant_id).await?;
    Ok(Some(Place::from(&holder)))
}

async fn audit_locate(state: &AppState, actor: &Actor, participant_id: i64) -> Result<()> {
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("participant.locate", "participant", participant_id),
    )
    .await
}

/// Where the person with this NIK is registered, for the "already registered" answer of a
/// registration (audited like a search that finds them elsewhere).
pub async fn place_of(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
) -> Result<Option<Place>> {
    let Some(holder) = store::holder(&state.db, participant_id).await? else {
        return Ok(None);
    };
    audit_locate(state, actor, participant_id).await?;
    Ok(Some(Place::from(&holder)))
}

async fn holder_outside_scope(
    state: &AppState,
    actor: &Actor,
    nik: &Nik,
) -> Result<Option<Holder>> {
    let Some(id) = store::nik_exists(&state.db, &state.vault, nik).await? else {
        return Ok(None);
    };
    if store::visible(&state.db, id, access::participant_scope(&actor.user)).await? {
        return Ok(None);
    }
    store::holder(&state.db, id).await
}

/// Asks the counter holding the person with this NIK for access or a move; returns the
/// request's id.
pub async fn request(
    state: &AppState,
    actor: &Actor,
    nik: &Nik,
    kind: RequestKind,
    reason: &str,
) -> Result<i64> {
    access::require(&state.db, actor, Action::RequestAccess).await?;
    let Some(from_counter) = actor.user.counter_id else {
        return Err(AppError::Refused {
            code: "counter_required",
            message: "Akun Anda tidak terikat ke loket, jadi tidak bisa meminta akses untuk loket."
                .into(),
            message_en: "Your account belongs to no counter, so it cannot ask for access for one."
                .into(),
        });
    };
    let reason = super::service::reason_required(reason)?;
    let Some(holder) = holder_outside_scope(state, actor, nik).await? else {
        return Err(AppError::Refused {
            code: "request_not_needed",
            message: "Orang dengan NIK ini sudah bisa Anda buka, atau belum terdaftar.".into(),
            message_en:
                "You can already open the person with this NIK, or they are not registered.".into(),
        });
    };
    let new = NewAccessRequest {
        participant_id: holder.participant_id,
        kind,
        from_counter_id: from_counter,
        holder_counter_id: holder.counter_id,
        requested_by: actor.user.id,
        reason: &reason,
        at: Utc::now(),
    };
    let mut batch = Batch::new(&state.db)?;
    let participant = holder.participant_id;
    let audit_reason = reason.clone();
    let audited = move |id: i64| {
        batch.add(
            Some(actor),
            None,
            Entry::new("access_request.create", ENTITY, id)
                .fields(vec![
                    format!("kind={}", kind.code()),
                    format!("participant={participant}"),
                ])
                .reason(audit_reason),
        );
        batch
    };
    store::insert_access_request(&state.db, new, audited)
        .await?
        .ok_or_else(|| AppError::Refused {
            code: "request_pending",
            message: "Loket Anda sudah meminta akses untuk orang ini; tunggu jawabannya.".into(),
            message_en: "Your counter has already asked about this person; wait for the answer."
                .into(),
        })
}

/// The requests a user answers (to cases their counter or office holds) and the ones their
/// counter or office sent, with the number still open on the answering side.
pub struct Requests {
    pub incoming: Vec<AccessRequestRow>,
    pub outgoing: Vec<AccessRequestRow>,
}

/// Which holders' requests a user answers, and which senders' they follow.
fn sides(actor: &Actor) -> (Scope, Scope) {
    let user = &actor.user;
    match user.role {
        Role::Admin => (Scope::All, Scope::Nothing),
        Role::Koordinator => {
            let office = user.office_id.map_or(Scope::Nothing, Scope::Office);
            (office, office)
        }
        Role::Petugas => {
            let counter = user.counter_id.map_or(Scope::Nothing, Scope::Counter);
            (counter, counter)
        }
        Role::Auditor | Role::Mitra | Role::Lembaga => (Scope::Nothing, Scope::Nothing),
    }
}

pub async fn list(state: &AppState, actor: &Actor) -> Result<Requests> {
    access::require(&state.db, actor, Action::RequestAccess).await?;
    let (answers, sends) = sides(actor);
    Ok(Requests {
        incoming: store::access_requests(&state.db, RequestSide::Incoming(answers)).await?,
        outgoing: store::access_requests(&state.db, RequestSide::Outgoing(sends)).await?,
    })
}

/// How many requests wait for this user's answer (the navigation shows it).
pub async fn open_count(state: &AppState, actor: &Actor) -> Result<i64> {
    if !access::allows(&actor.user, Action::RequestAccess) {
        return Ok(0);
    }
    store::open_access_requests(&state.db, sides(actor).0).await
}

/// Whether the user may answer this request: officers of the holding counter may grant
/// access; the holding office's coordinator also a move; head office anything.
fn may_answer(actor: &Actor, request: &AccessRequestRow, holder: &Holder) -> bool {
    let user = &actor.user;
    match user.role {
        Role::Admin => true,
        Role::Koordinator => holder.office_id.is_some() && holder.office_id == user.office_id,
        Role::Petugas => {
            request.kind == RequestKind::Access
                && holder.counter_id.is_some()
                && holder.counter_id == user.counter_id
        }
        Role::Auditor | Role::Mitra | Role::Lembaga => false,
    }
}

/// Accepts (granting access or moving the case to the requesting counter) or declines, with
/// a reason (required to decline).
pub async fn answer(
    state: &AppState,
    actor: &Actor,
    id: i64,
    accept: bool,
    reason: &str,
) -> Result<AccessRequestRow> {
    access::require_on(&state.db, actor, Action::AnswerAccessRequest, Some(id)).await?;
    let request = store::access_request(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let holder = store::holder(&state.db, request.participant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_answer(actor, &request, &holder) {
        let entry = Entry::new("access_request.answer", ENTITY, id).outcome(Outcome::Denied);
        audit::record(&state.db, Some(actor), None, entry).await?;
        return Err(AppError::Forbidden);
    }
    let reason = if accept && reason.trim().is_empty() {
        None
    } else {
        Some(super::service::reason_required(reason)?)
    };
    let to = request.from_counter_id;
    let (status, grant, action) = match (accept, request.kind) {
        (false, _) => (
            RequestStatus::Declined,
            Grant::Nothing,
            "access_request.decline",
        ),
        (true, RequestKind::Access) => (
            RequestStatus::Accepted,
            Grant::Refer { counter_id: to },
            "access_request.accept",
        ),
        (true, RequestKind::Move) => (
            RequestStatus::Accepted,
            Grant::Move { counter_id: to },
            "access_request.accept",
        ),
    };
    let mut batch = Batch::new(&state.db)?;
    let mut entry = Entry::new(action, ENTITY, id);
    if let Some(r) = &reason {
        entry = entry.reason(r.clone());
    }
    batch.add(Some(actor), None, entry);
    let why = format!("permintaan akses #{id} / access request #{id}");
    match grant {
        Grant::Refer { .. } => batch.add(
            Some(actor),
            None,
            Entry::new("participant.refer", "participant", request.participant_id)
                .reason(format!("{why} (ke/to loket {to})")),
        ),
        Grant::Move { .. } => batch.add(
            Some(actor),
            None,
            Entry::new(
                "participant.reassign",
                "participant",
                request.participant_id,
            )
            .fields(vec!["counter_id".into()])
            .reason(format!(
                "{why} (dari/from {:?} ke/to {to})",
                holder.counter_id
            )),
        ),
        Grant::Nothing => {}
    }
    let answered = store::answer_access_request(
        &state.db,
        id,
        status,
        reason.as_deref(),
        actor.user.id,
        Utc::now(),
        grant,
        batch,
    )
    .await?;
    if !answered {
        return Err(AppError::Refused {
            code: "request_answered",
            message: "Permintaan ini sudah dijawab.".into(),
            message_en: "This request has already been answered.".into(),
        });
    }
    store::access_request(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The demo's sample: one open request from `from_counter` (asked by `by`) for the first
/// person `holder_counter` holds, so the holder's page has something to answer. Once only.
pub async fn seed_demo(
    db: &crate::db::Db,
    from_counter: i64,
    holder_counter: i64,
    by: i64,
) -> Result<()> {
    let (first, any) = store::first_held_and_any_request(db, holder_counter).await?;
    let Some(participant_id) = first.filter(|_| !any) else {
        return Ok(());
    };
    let reason = "Yang bersangkutan kini tinggal dekat loket kami dan datang minta didampingi.";
    let new = NewAccessRequest {
        participant_id,
        kind: RequestKind::Access,
        from_counter_id: from_counter,
        holder_counter_id: Some(holder_counter),
        requested_by: by,
        reason,
        at: Utc::now(),
    };
    let mut batch = Batch::new(db)?;
    let audited = move |id: i64| {
        batch.add(
            None,
            Some("system/demo"),
            Entry::new("access_request.create", ENTITY, id),
        );
        batch
    };
    store::insert_access_request(db, new, audited).await?;
    Ok(())
}
