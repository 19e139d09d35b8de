//! The access policy: which participants a user reaches and what they may do with them,
//! decided here and nowhere else.

use crate::auth::{Role, User};
use crate::participants::store::Scope;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    ViewParticipant,
    RegisterParticipant,
    EditParticipant,
    ExportParticipants,
    ImportParticipants,
    ViewJourney,
    RecordJourney,
    OverrideJourney,
    RecordSession,
    ViewFollowUp,
    ViewFunnel,
    ManageSchemes,
}

impl Action {
    /// The action's name in the audit log when it is refused.
    pub fn audit_name(self) -> &'static str {
        match self {
            Action::ViewParticipant => "participant.view",
            Action::RegisterParticipant => "participant.create",
            Action::EditParticipant => "participant.update",
            Action::ExportParticipants => "participant.export",
            Action::ImportParticipants => "participant.import",
            Action::ViewJourney => "journey.view",
            Action::RecordJourney => "journey.event",
            Action::OverrideJourney => "journey.override",
            Action::RecordSession => "journey.session",
            Action::ViewFollowUp => "journey.follow_up",
            Action::ViewFunnel => "journey.funnel",
            Action::ManageSchemes => "journey.scheme",
        }
    }
}

/// The participants a user may see: officers their counter, coordinators their office.
pub fn participant_scope(user: &User) -> Scope {
    match user.role {
        Role::Admin | Role::Auditor => Scope::All,
        Role::Koordinator => user.office_id.map_or(Scope::Nothing, Scope::Office),
        Role::Petugas => user.counter_id.map_or(Scope::Nothing, Scope::Counter),
        Role::Mitra => Scope::Nothing,
    }
}

pub fn allows(user: &User, action: Action) -> bool {
    use Action::*;
    match user.role {
        Role::Admin => true,
        Role::Koordinator | Role::Petugas => matches!(
            action,
            ViewParticipant
                | RegisterParticipant
                | EditParticipant
                | ViewJourney
                | RecordJourney
                | RecordSession
                | ViewFollowUp
                | ViewFunnel
        ),
        Role::Auditor => matches!(
            action,
            ViewParticipant | ExportParticipants | ViewJourney | ViewFunnel
        ),
        Role::Mitra => false,
    }
}

/// Whether a participant registered at `counter_id` (in `office_id`) is inside the user's scope.
pub fn reaches(user: &User, counter_id: Option<i64>, office_id: Option<i64>) -> bool {
    match participant_scope(user) {
        Scope::All => true,
        Scope::Office(office) => office_id == Some(office),
        Scope::Counter(counter) => counter_id == Some(counter),
        Scope::Nothing => false,
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
    fn officers_reach_only_their_counter_and_coordinators_their_office() {
        let petugas = user(Role::Petugas, Some(1), Some(10));
        assert!(reaches(&petugas, Some(10), Some(1)));
        assert!(!reaches(&petugas, Some(11), Some(1)));
        let koordinator = user(Role::Koordinator, Some(1), None);
        assert!(reaches(&koordinator, Some(11), Some(1)));
        assert!(!reaches(&koordinator, Some(20), Some(2)));
        assert!(reaches(&user(Role::Admin, None, None), None, None));
        assert!(!reaches(&user(Role::Mitra, None, None), Some(10), Some(1)));
        assert!(!reaches(&user(Role::Petugas, Some(1), None), None, None));
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
}
