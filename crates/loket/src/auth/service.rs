//! Signing in and out: the throttle, the password check and the session, every outcome audited.

use super::store::{self, NewSession};
use crate::audit::{self, Entry, Outcome};
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::identity::{Actor, RequestMeta};

/// Counts the attempt against the throttle, checks the password, then starts a fresh session
/// (a new id at every sign-in, so a planted cookie cannot be fixed; the old one is dropped).
pub async fn sign_in(
    db: &Db,
    meta: RequestMeta,
    username: &str,
    password: &str,
    old_session: Option<String>,
) -> Result<NewSession> {
    let username = username.trim().to_ascii_lowercase();
    let client = meta.client_addr.clone().unwrap_or_else(|| "unknown".into());
    if !store::count_login_attempt(db, &username, &client).await? {
        let entry = Entry::new("login", "user", &username)
            .outcome(Outcome::Denied)
            .reason("throttled");
        audit::record(db, None, Some(&username), entry).await?;
        return Err(AppError::TooManyAttempts);
    }
    let user = match store::authenticate(db, &username, password).await {
        Ok(user) => user,
        Err(AppError::LoginFailed) => {
            let entry = Entry::new("login", "user", &username).outcome(Outcome::Denied);
            audit::record(db, None, Some(&username), entry).await?;
            return Err(AppError::LoginFailed);
        }
        Err(e) => return Err(e),
    };
    store::clear_login_failures(db, &username).await?;
    if let Some(old) = old_session {
        store::delete_session(db, &old).await?;
    }
    let session = store::create_session(db, user.id).await?;
    let actor = Actor {
        meta,
        user,
        grants: Vec::new(),
    };
    audit::record(
        db,
        Some(&actor),
        None,
        Entry::new("login", "user", actor.user.id),
    )
    .await?;
    Ok(session)
}

/// Ends the session of this cookie value.
pub async fn sign_out(db: &Db, cookie_value: &str) -> Result<()> {
    store::delete_session(db, cookie_value).await
}
