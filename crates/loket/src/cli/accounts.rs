//! `loket user` and `loket token`: accounts and partner API tokens.

use std::io::Read;

use anyhow::{bail, Context};

use loket::auth::Role;
use loket::auth::{self as users, NewUser};
use loket::{AppState, Config};

use loket::audit::Entry;

use super::{audit_cli, TokenAction, UserAction};

/// `loket user add|reset-password`; passwords come from standard input only.
pub async fn user(config: Config, action: UserAction) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    match action {
        UserAction::Add {
            username,
            role,
            counter,
            office,
            agency,
            password_stdin,
        } => {
            add_user(
                &state,
                &username,
                &role,
                (counter, office, agency),
                password_stdin,
            )
            .await
        }
        UserAction::ResetPassword {
            username,
            password_stdin,
        } => {
            let user = users::user_by_username(&state.db, &username)
                .await?
                .with_context(|| format!("no user {username}"))?;
            let password = read_password(password_stdin)?;
            users::set_password(&state.db, user.id, &password).await?;
            audit_cli(
                &state.db,
                Entry::new("user.password_reset", "user", user.id),
            )
            .await?;
            println!("password of {username} changed; their sessions ended");
            Ok(())
        }
        UserAction::Change {
            username,
            role,
            counter,
        } => change_user(&state, &username, role, counter).await,
        UserAction::Deactivate { username } => {
            let user = find_user(&state, &username).await?;
            users::deactivate(&state.db, user.id).await?;
            audit_cli(&state.db, Entry::new("user.deactivate", "user", user.id)).await?;
            println!("{username} deactivated; their sessions ended and API tokens were revoked");
            Ok(())
        }
    }
}

async fn find_user(state: &AppState, username: &str) -> anyhow::Result<users::User> {
    users::user_by_username(&state.db, username)
        .await?
        .with_context(|| format!("no user {username}"))
}

async fn change_user(
    state: &AppState,
    username: &str,
    role: Option<String>,
    counter: Option<String>,
) -> anyhow::Result<()> {
    let user = find_user(state, username).await?;
    let role = match role {
        Some(code) => Role::parse(&code)
            .with_context(|| format!("unknown role {code}; use one of {}", Role::codes()))?,
        None => user.role,
    };
    let (office_id, counter_id) = match counter {
        Some(code) => {
            let counter = find_counter(state, &code).await?;
            (Some(counter.office_id), Some(counter.id))
        }
        None => (user.office_id, user.counter_id),
    };
    if role == Role::Petugas && counter_id.is_none() {
        bail!("a petugas works at a counter: pass --counter CODE");
    }
    if role == Role::Lembaga && user.role != Role::Lembaga {
        // An agency's staff is not a counter's: without an agency the account would be refused
        // everywhere, so it is made with the agency from the start.
        bail!(
            "a lembaga works for an agency: add a new account with \
             `loket user add --username NAME --role lembaga --agency CODE`"
        );
    }
    users::change_account(&state.db, user.id, role, office_id, counter_id).await?;
    audit_cli(
        &state.db,
        Entry::new("user.change", "user", user.id).fields(vec!["role".into(), "counter".into()]),
    )
    .await?;
    println!("{username} is now {}; their sessions ended", role.code());
    Ok(())
}

async fn find_counter(state: &AppState, code: &str) -> anyhow::Result<loket::counters::Counter> {
    loket::counters::counter_by_code(&state.db, code)
        .await?
        .with_context(|| format!("no counter with code {code}"))
}

async fn add_user(
    state: &AppState,
    username: &str,
    role: &str,
    (counter, office, agency): (Option<String>, Option<String>, Option<String>),
    password_stdin: bool,
) -> anyhow::Result<()> {
    let role = Role::parse(role)
        .with_context(|| format!("unknown role {role}; use one of {}", Role::codes()))?;
    let username = loket::auth::model::parse_username(username)
        .context("username: 3–40 of a-z, 0-9, . _ -")?;
    if users::user_by_username(&state.db, &username)
        .await?
        .is_some()
    {
        bail!("username {username} is already taken: choose another");
    }
    let (office_id, counter_id) = place(state, role, counter, office).await?;
    // Checked before the account is made, so a wrong code leaves nothing half-made.
    let agency = match (role, agency) {
        (Role::Lembaga, Some(code)) => {
            loket::programmes::agency_id(&state.db, &code)
                .await?
                .with_context(|| format!("no agency with code {code}"))?;
            Some(code)
        }
        (Role::Lembaga, None) => {
            bail!("a lembaga works for an agency: pass --agency CODE (e.g. BLK-SBY)")
        }
        (_, Some(_)) => bail!("--agency is only for the lembaga role"),
        (_, None) => None,
    };
    let password = read_password(password_stdin)?;
    let id = users::create_user(
        &state.db,
        NewUser {
            username: &username,
            password: &password,
            role,
            office_id,
            counter_id,
        },
    )
    .await?;
    if let Some(code) = &agency {
        loket::programmes::link_user_to_agency(&state.db, id, code).await?;
    }
    let entry = Entry::new("user.create", "user", id)
        .fields(vec!["role".into(), "counter_id".into()])
        .reason(format!("{username} ({})", role.code()));
    audit_cli(&state.db, entry).await?;
    println!("user {username} ({}) created with id {id}", role.code());
    Ok(())
}

/// The office and counter a new account works at: a petugas needs a counter and a koordinator
/// an office (without one they would see nobody).
async fn place(
    state: &AppState,
    role: Role,
    counter: Option<String>,
    office: Option<String>,
) -> anyhow::Result<(Option<i64>, Option<i64>)> {
    let counter = match counter {
        Some(code) => Some(find_counter(state, &code).await?),
        None => None,
    };
    let office = match office {
        Some(code) => Some(
            loket::counters::offices(&state.db)
                .await?
                .into_iter()
                .find(|o| o.code == code)
                .with_context(|| format!("no office with code {code}"))?
                .id,
        ),
        None => counter.as_ref().map(|c| c.office_id),
    };
    match role {
        Role::Petugas if counter.is_none() => {
            bail!("a petugas works at a counter: pass --counter CODE")
        }
        Role::Koordinator if office.is_none() => {
            bail!("a koordinator supervises an office: pass --office CODE (e.g. UPT-JATIM)")
        }
        _ => Ok((office, counter.map(|c| c.id))),
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if !from_stdin {
        bail!("pass --password-stdin and write the password to standard input (it never goes on the command line)");
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let password = text.trim_end_matches(['\n', '\r']).to_string();
    if let Err((id, en)) = users::check_password_rules(&password) {
        bail!("{id} / {en}");
    }
    Ok(password)
}

/// `loket token create|list|revoke`; a new token is printed once and never again.
pub async fn token(config: Config, action: TokenAction) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    match action {
        TokenAction::Create {
            username,
            label,
            days,
            grants,
        } => {
            let user = users::user_by_username(&state.db, &username)
                .await?
                .with_context(|| format!("no user {username}"))?;
            let expires = days.map(|d| chrono::Utc::now() + chrono::Duration::days(d));
            let token = users::create_token(&state.db, user.id, &label, &grants, expires).await?;
            let entry = Entry::new("token.create", "user", user.id)
                .reason(format!("{label} (grants: {})", grants.join(",")));
            audit_cli(&state.db, entry).await?;
            println!("{token}");
        }
        TokenAction::List { username } => {
            let user = users::user_by_username(&state.db, &username)
                .await?
                .with_context(|| format!("no user {username}"))?;
            for t in users::tokens_of(&state.db, user.id).await? {
                let status = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{:>5}  {:<20} {:<8} grants=[{}] created {} expires {:?} last used {:?}",
                    t.id, t.label, status, t.grants, t.created_at, t.expires_at, t.last_used_at
                );
            }
        }
        TokenAction::Revoke { id } => {
            if !users::revoke_token(&state.db, id).await? {
                bail!("no active token with id {id}");
            }
            audit_cli(&state.db, Entry::new("token.revoke", "api_token", id)).await?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}
