//! The access policy: which participants a user reaches and what they may do with them,
//! decided here and nowhere else.

use crate::audit::{self, Entry, Outcome};
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::identity::Actor;
use crate::identity::{Role, User};

/// Which participants a user may reach; decided by the access policy, applied in SQL here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Office(i64),
    Counter(i64),
    Nothing,
}

impl Scope {
    /// (counter id, office id) filters as bound parameters; `None` means "no filter".
    pub fn params(self) -> (Option<i64>, Option<i64>, bool) {
        match self {
            Scope::All => (None, None, true),
            Scope::Office(office) => (None, Some(office), true),
            Scope::Counter(counter) => (Some(counter), None, true),
            Scope::Nothing => (None, None, false),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    ViewParticipant,
    RegisterParticipant,
    EditParticipant,
    ExportParticipants,
    ImportParticipants,
    ReassignParticipant,
    ReferParticipant,
    ChangeConsent,
    ViewAudit,
    ExportAudit,
    /// Partner data exchange: additionally needs the token's grant (see [`GRANT_EXCHANGE`]).
    ExchangeParticipants,
    /// Search and read the training catalogue (no personal data in it).
    ViewCatalog,
    /// Import, export, withdraw or reactivate trainings.
    ManageCatalog,
    /// Counter network: see counters, officers and the dashboard (aggregates only).
    ViewNetwork,
    /// Move a counter through its lifecycle, register officers (own office for coordinators).
    ManageCounters,
    /// Run ToT batches and record results; set targets and network settings; import files.
    ManageNetwork,
    ViewJourney,
    RecordJourney,
    OverrideJourney,
    RecordSession,
    ViewFollowUp,
    ViewFunnel,
    ManageSchemes,
    /// The exchange with the programme office: upload its files and BP2MI's master list,
    /// review matches, apply them, export status updates (head office only).
    ManageExchange,
    /// The outreach list of recipients not yet registered (scoped like participants).
    ViewOutreach,
    /// Reminders to people in scope: the outbox, consent per channel, opt-out at the counter,
    /// queuing the day's reminders, status-page links.
    SendReminders,
    /// Head office: the reminder rules and the channels' health.
    ManageReminderRules,
    /// Ask the counter holding a case for access to it or to move it; follow the answers.
    RequestAccess,
    /// Answer such a request for a case the user's counter or office holds.
    AnswerAccessRequest,
    /// The counter floor: issue and call tickets, book seats and appointments (own counter).
    ServeQueue,
    /// The floor's figures: wait and service times, no-shows, seat use (aggregates only).
    ViewFloorFigures,
    /// A counter's zone and hours, its display link, its seats (office's counters).
    ManageFloor,
    /// See partner agencies and their programmes, and screen people against them.
    ViewProgrammes,
    /// Refer a person (in scope) to a partner programme, send or withdraw the referral.
    ReferToProgramme,
    /// Maintain agencies and programmes (head office).
    ManageProgrammes,
    /// An agency's staff: see its own programmes' referrals and answer them.
    AnswerReferral,
}

/// The grant a partner token needs for the participant exchange endpoint.
pub const GRANT_EXCHANGE: &str = "exchange:participants";

/// The grant an agency's token needs for the programme-referral endpoints.
pub const GRANT_REFERRALS: &str = "programmes:referrals";

impl Action {
    /// The action's name in the audit log when it is refused.
    pub fn audit_name(self) -> &'static str {
        match self {
            Action::ViewParticipant => "participant.view",
            Action::RegisterParticipant => "participant.create",
            Action::EditParticipant => "participant.update",
            Action::ExportParticipants => "participant.export",
            Action::ImportParticipants => "participant.import",
            Action::ReassignParticipant => "participant.reassign",
            Action::ReferParticipant => "participant.refer",
            Action::ChangeConsent => "consent.change",
            Action::ViewAudit => "audit.view",
            Action::ExportAudit => "audit.export",
            Action::ExchangeParticipants => "exchange.participants",
            Action::ViewCatalog => "catalog.view",
            Action::ManageCatalog => "catalog.manage",
            Action::ViewNetwork => "network.view",
            Action::ManageCounters => "counter.manage",
            Action::ManageNetwork => "network.manage",
            Action::ViewJourney => "journey.view",
            Action::RecordJourney => "journey.event",
            Action::OverrideJourney => "journey.override",
            Action::RecordSession => "journey.session",
            Action::ViewFollowUp => "journey.follow_up",
            Action::ViewFunnel => "journey.funnel",
            Action::ManageSchemes => "journey.scheme",
            Action::ManageExchange => "exchange.manage",
            Action::ViewOutreach => "exchange.outreach",
            Action::SendReminders => "reminder.manage",
            Action::ManageReminderRules => "reminder.rules",
            Action::RequestAccess => "access_request.create",
            Action::AnswerAccessRequest => "access_request.answer",
            Action::ServeQueue => "floor.serve",
            Action::ViewFloorFigures => "floor.figures",
            Action::ManageFloor => "floor.manage",
            Action::ViewProgrammes => "programme.view",
            Action::ReferToProgramme => "programme_referral.create",
            Action::ManageProgrammes => "programme.manage",
            Action::AnswerReferral => "programme_referral.answer",
        }
    }
}

impl Action {
    /// The kind of record a refusal of this action is logged against.
    fn entity(self) -> &'static str {
        use Action::*;
        match self {
            ViewParticipant | RegisterParticipant | EditParticipant | ExportParticipants
            | ImportParticipants | ReassignParticipant | ReferParticipant | ChangeConsent
            | ViewJourney | RecordJourney | OverrideJourney | RecordSession | ViewFollowUp
            | ViewFunnel | SendReminders => "participant",
            ViewAudit | ExportAudit => "audit",
            ExchangeParticipants => "exchange",
            ViewCatalog | ManageCatalog => "catalog",
            ViewNetwork | ManageNetwork => "network",
            ManageCounters => "counter",
            ManageSchemes => "scheme",
            ManageExchange | ViewOutreach => "exchange_upload",
            ManageReminderRules => "reminder_rule",
            RequestAccess | AnswerAccessRequest => "access_request",
            ServeQueue | ViewFloorFigures | ManageFloor => "counter",
            ViewProgrammes | ManageProgrammes => "programme",
            ReferToProgramme | AnswerReferral => "programme_referral",
        }
    }
}

/// The one authorisation check of every service: refuses, and records the refusal in the
/// audit log, when the user's role does not allow the action.
pub async fn require(db: &Db, actor: &Actor, action: Action) -> Result<()> {
    require_on(db, actor, action, None).await
}

/// [`require`] for an action on one record, named in the audit entry of a refusal.
pub async fn require_on(db: &Db, actor: &Actor, action: Action, id: Option<i64>) -> Result<()> {
    if allows(&actor.user, action) {
        return Ok(());
    }
    let entry = Entry {
        entity_id: id.map(|i| i.to_string()),
        ..Entry::new(action.audit_name(), action.entity(), "").outcome(Outcome::Denied)
    };
    audit::record(db, Some(actor), None, entry).await?;
    Err(AppError::Forbidden)
}

/// The participants a user may see: officers their counter, coordinators their office.
pub fn participant_scope(user: &User) -> Scope {
    match user.role {
        Role::Admin | Role::Auditor => Scope::All,
        Role::Koordinator => user.office_id.map_or(Scope::Nothing, Scope::Office),
        Role::Petugas => user.counter_id.map_or(Scope::Nothing, Scope::Counter),
        // Agency staff reach people only through referrals to their own programmes.
        Role::Mitra | Role::Lembaga => Scope::Nothing,
    }
}

/// The role × action table (scope is applied separately, by [`participant_scope`]).
pub fn allows(user: &User, action: Action) -> bool {
    use Action::*;
    match user.role {
        Role::Admin => !matches!(action, ExchangeParticipants | AnswerReferral),
        // A coordinator does all an officer does, for the whole office, and moves cases and
        // manages the office's counters.
        Role::Koordinator => {
            officer_may(action)
                || matches!(action, ReassignParticipant | ManageCounters | ManageFloor)
        }
        Role::Petugas => officer_may(action),
        Role::Auditor => matches!(
            action,
            ViewParticipant
                | ExportParticipants
                | ViewAudit
                | ExportAudit
                | ViewCatalog
                | ViewNetwork
                | ViewJourney
                | ViewFunnel
                | ViewFloorFigures
                | ViewProgrammes
        ),
        // Partners may read the public catalogue (no personal data) and exchange what their
        // token is granted.
        Role::Mitra => matches!(action, ExchangeParticipants | ViewCatalog),
        // An agency's staff answer referrals to their own agency's programmes, nothing else.
        Role::Lembaga => action == AnswerReferral,
    }
}

/// What a counter officer may do (within their counter's scope).
fn officer_may(action: Action) -> bool {
    use Action::*;
    matches!(
        action,
        ViewParticipant
            | RegisterParticipant
            | EditParticipant
            | ReferParticipant
            | ChangeConsent
            | ViewCatalog
            | ViewNetwork
            | ViewJourney
            | RecordJourney
            | RecordSession
            | ViewFollowUp
            | ViewFunnel
            | ViewOutreach
            | SendReminders
            | RequestAccess
            | AnswerAccessRequest
            | ServeQueue
            | ViewFloorFigures
            | ViewProgrammes
            | ReferToProgramme
    )
}

/// Whether a counter's own lists (follow-up, workload) are within the user's reach: officers
/// their counter, coordinators their office's counters, head office and auditors all.
pub fn reaches_counter(user: &User, counter_id: i64, office_id: i64) -> bool {
    match participant_scope(user) {
        Scope::All => true,
        Scope::Office(office) => office == office_id,
        Scope::Counter(counter) => counter == counter_id,
        Scope::Nothing => false,
    }
}

/// How far a user may move cases: a coordinator within their office, an admin anywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeLimit {
    Anywhere,
    Office(i64),
    Nowhere,
}

pub fn reassign_limit(user: &User) -> ScopeLimit {
    match (user.role, user.office_id) {
        (Role::Admin, _) => ScopeLimit::Anywhere,
        (Role::Koordinator, Some(office)) => ScopeLimit::Office(office),
        _ => ScopeLimit::Nowhere,
    }
}

/// A partner reaches an exchange endpoint only with the matching grant on its token.
pub fn allows_grant(grants: &[String], grant: &str) -> bool {
    grants.iter().any(|g| g == grant)
}

/// Whether the user may manage the counters and officers of `office_id`: head office all of
/// them, a coordinator only their own office's.
pub fn manages_office(user: &User, office_id: i64) -> bool {
    match user.role {
        Role::Admin => true,
        Role::Koordinator => user.office_id == Some(office_id),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, office: Option<i64>, counter: Option<i64>) -> User {
        User {
            id: 1,
            username: "u".into(),
            role,
            office_id: office,
            counter_id: counter,
            active: true,
        }
    }

    #[test]
    fn officers_are_scoped_to_their_counter_and_coordinators_to_their_office() {
        assert_eq!(
            participant_scope(&user(Role::Petugas, Some(1), Some(10))),
            Scope::Counter(10)
        );
        assert_eq!(
            participant_scope(&user(Role::Koordinator, Some(1), None)),
            Scope::Office(1)
        );
        assert_eq!(
            participant_scope(&user(Role::Admin, None, None)),
            Scope::All
        );
        assert_eq!(
            participant_scope(&user(Role::Auditor, None, None)),
            Scope::All
        );
        assert_eq!(
            participant_scope(&user(Role::Mitra, None, None)),
            Scope::Nothing
        );
        assert_eq!(
            participant_scope(&user(Role::Petugas, Some(1), None)),
            Scope::Nothing
        );
    }

    #[test]
    fn only_coordinators_and_admins_reassign_and_only_partners_exchange() {
        assert!(allows(
            &user(Role::Koordinator, Some(1), None),
            Action::ReassignParticipant
        ));
        assert!(!allows(
            &user(Role::Petugas, Some(1), Some(10)),
            Action::ReassignParticipant
        ));
        assert!(allows(
            &user(Role::Mitra, None, None),
            Action::ExchangeParticipants
        ));
        assert!(!allows(
            &user(Role::Admin, None, None),
            Action::ExchangeParticipants
        ));
        assert!(allows_grant(
            &["exchange:participants".into()],
            GRANT_EXCHANGE
        ));
        assert!(!allows_grant(&[], GRANT_EXCHANGE));
    }

    #[test]
    fn agency_staff_only_answer_referrals() {
        let lembaga = user(Role::Lembaga, None, None);
        assert!(allows(&lembaga, Action::AnswerReferral));
        for action in [
            Action::ViewParticipant,
            Action::ViewProgrammes,
            Action::ReferToProgramme,
            Action::ViewCatalog,
            Action::ViewNetwork,
        ] {
            assert!(!allows(&lembaga, action), "{action:?}");
        }
        assert_eq!(participant_scope(&lembaga), Scope::Nothing);
        let petugas = user(Role::Petugas, Some(1), Some(10));
        assert!(allows(&petugas, Action::ReferToProgramme));
        assert!(!allows(&petugas, Action::AnswerReferral));
        assert!(!allows(&petugas, Action::ManageProgrammes));
        assert!(!allows(
            &user(Role::Admin, None, None),
            Action::AnswerReferral
        ));
    }

    #[test]
    fn auditors_read_but_never_change() {
        let auditor = user(Role::Auditor, None, None);
        assert!(allows(&auditor, Action::ViewParticipant));
        assert!(!allows(&auditor, Action::RegisterParticipant));
        assert!(!allows(&auditor, Action::EditParticipant));
        assert!(!allows(
            &user(Role::Mitra, None, None),
            Action::ViewParticipant
        ));
        assert!(allows(&auditor, Action::ViewJourney));
        assert!(!allows(&auditor, Action::RecordJourney));
    }

    #[test]
    fn only_admins_override_journey_rules_and_manage_schemes() {
        for role in [Role::Koordinator, Role::Petugas, Role::Auditor, Role::Mitra] {
            let u = user(role, Some(1), Some(10));
            assert!(!allows(&u, Action::OverrideJourney), "{role:?}");
            assert!(!allows(&u, Action::ManageSchemes), "{role:?}");
        }
        let admin = user(Role::Admin, None, None);
        assert!(allows(&admin, Action::OverrideJourney));
        let petugas = user(Role::Petugas, Some(1), Some(10));
        assert!(allows(&petugas, Action::RecordSession));
        assert!(allows(&petugas, Action::ViewFollowUp));
    }

    #[test]
    fn coordinators_manage_only_their_own_office() {
        let koordinator = user(Role::Koordinator, Some(1), None);
        assert!(allows(&koordinator, Action::ManageCounters));
        assert!(!allows(&koordinator, Action::ManageNetwork));
        assert!(manages_office(&koordinator, 1));
        assert!(!manages_office(&koordinator, 2));
        let petugas = user(Role::Petugas, Some(1), Some(10));
        assert!(allows(&petugas, Action::ViewNetwork));
        assert!(!allows(&petugas, Action::ManageCounters));
        assert!(!manages_office(&petugas, 1));
        assert!(manages_office(&user(Role::Admin, None, None), 7));
        for role in [Role::Koordinator, Role::Petugas, Role::Auditor, Role::Mitra] {
            let u = user(role, Some(1), Some(10));
            assert!(!allows(&u, Action::ManageExchange), "{role:?}");
        }
        assert!(allows(
            &user(Role::Admin, None, None),
            Action::ManageExchange
        ));
        assert!(allows(&petugas, Action::ViewOutreach));
        assert!(!allows(
            &user(Role::Auditor, None, None),
            Action::ViewOutreach
        ));
        assert!(!allows(&user(Role::Mitra, None, None), Action::ViewNetwork));
    }
}
