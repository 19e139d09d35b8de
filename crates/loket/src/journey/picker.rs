//! The scopes a person may pick on the follow-up list and the funnel, by name: officers their
//! counter, coordinators their office and its counters, head office and auditors the nation,
//! its provinces, offices and counters.

use crate::access::{participant_scope, Scope};
use crate::counters::{Counter, Office};
use crate::error::Result;
use crate::i18n::Lang;
use crate::identity::User;
use crate::state::AppState;

/// One `<optgroup>` of a scope picker.
pub struct Group {
    pub label: String,
    pub options: Vec<Pick>,
}

/// One `<option>`: the value the form sends and the name a person reads.
pub struct Pick {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The offices and counters `user` may pick.
struct Network {
    offices: Vec<Office>,
    counters: Vec<Counter>,
}

async fn network(state: &AppState, user: &User) -> Result<Network> {
    let scope = participant_scope(user);
    let mut offices = crate::counters::offices(&state.db).await?;
    let mut counters = crate::counters::counters(&state.db).await?;
    offices.retain(|o| match scope {
        Scope::All => true,
        Scope::Office(mine) => o.id == mine,
        Scope::Counter(_) | Scope::Nothing => false,
    });
    counters.retain(|c| match scope {
        Scope::All => true,
        Scope::Office(mine) => c.office_id == mine,
        Scope::Counter(mine) => c.id == mine,
        Scope::Nothing => false,
    });
    Ok(Network { offices, counters })
}

/// The counters `user` may work a follow-up list for, grouped by office.
pub async fn counters(state: &AppState, user: &User) -> Result<Vec<Group>> {
    let net = network(state, user).await?;
    let all_offices = crate::counters::offices(&state.db).await?;
    let mut groups: Vec<Group> = Vec::new();
    for office in &all_offices {
        let options: Vec<Pick> = net
            .counters
            .iter()
            .filter(|c| c.office_id == office.id)
            .map(|c| Pick {
                value: c.id.to_string(),
                label: c.name.clone(),
                selected: false,
            })
            .collect();
        if !options.is_empty() {
            groups.push(Group {
                label: office.name.clone(),
                options,
            });
        }
    }
    Ok(groups)
}

/// The counter a list opens on when none is chosen: with counters of one office only (an
/// officer's, a coordinator's), the first of them; head office chooses.
pub fn first_of_one_office(groups: &[Group]) -> Option<i64> {
    match groups {
        [group] => group.options.first().and_then(|o| o.value.parse().ok()),
        _ => None,
    }
}

/// Marks the option of `counter` as chosen.
pub fn choose(groups: &mut [Group], counter: i64) {
    let value = counter.to_string();
    for option in groups.iter_mut().flat_map(|g| g.options.iter_mut()) {
        option.selected = option.value == value;
    }
}

/// Where `user` stands: their counter, office or the nation, as a funnel scope value.
pub fn own_scope(user: &User) -> String {
    match participant_scope(user) {
        Scope::Counter(c) => format!("counter:{c}"),
        Scope::Office(o) => format!("office:{o}"),
        Scope::All | Scope::Nothing => "nation".into(),
    }
}

/// The funnel scopes `user` may pick: nation and provinces for a national view, then offices
/// and counters.
pub async fn funnel_scopes(
    state: &AppState,
    user: &User,
    lang: Lang,
    chosen: &str,
) -> Result<Vec<Group>> {
    let net = network(state, user).await?;
    let pick = |value: String, label: String| Pick {
        selected: value == chosen,
        value,
        label,
    };
    let mut groups = Vec::new();
    if participant_scope(user) == Scope::All {
        groups.push(Group {
            label: lang.t("funnel.scope_nation").into(),
            options: vec![pick("nation".into(), lang.t("funnel.scope_nation").into())],
        });
        let mut provinces: Vec<&str> = net
            .offices
            .iter()
            .map(|o| o.province_code.as_str())
            .collect();
        provinces.sort_unstable();
        provinces.dedup();
        let options = provinces
            .into_iter()
            .filter_map(nik::regions::province)
            .map(|p| pick(format!("province:{}", p.code), p.name.to_string()))
            .collect();
        groups.push(Group {
            label: lang.t("funnel.scope_province").into(),
            options,
        });
    }
    let offices = net
        .offices
        .iter()
        .map(|o| pick(format!("office:{}", o.id), o.name.clone()))
        .collect();
    let counters = net
        .counters
        .iter()
        .map(|c| pick(format!("counter:{}", c.id), c.name.clone()))
        .collect();
    for (key, options) in [
        ("funnel.scope_office", offices),
        ("funnel.scope_counter", counters),
    ] {
        groups.push(Group {
            label: lang.t(key).into(),
            options,
        });
    }
    groups.retain(|g: &Group| !g.options.is_empty());
    Ok(groups)
}
