//! SQL for users, API tokens and sessions. Secrets (passwords, tokens, session ids) are only
//! ever stored as hashes.

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::model::UserRow;
use crate::db::{is_unique_violation, Db};
use crate::error::{AppError, Result};
use crate::identity::{Role, User};
use crate::with_db;

pub const SESSION_LIFETIME_HOURS: i64 = 12;
const TOKEN_PREFIX: &str = "lkt_";

pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

/// Argon2id with the crate's default parameters (19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("password hashing failed: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The bundled list of passwords people choose most (its head names the source).
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

/// Why a password is refused, in Bahasa Indonesia and English, if it is.
/// At least 12 characters, not only a few characters repeated, and not a common password
/// (also with digits or symbols put before or after it).
pub fn check_password_rules(
    password: &str,
) -> std::result::Result<(), (&'static str, &'static str)> {
    if password.chars().count() < 12 {
        return Err((
            "Kata sandi minimal 12 karakter.",
            "The password must be at least 12 characters.",
        ));
    }
    if is_repetitive(password) {
        return Err((
            "Kata sandi ini hanya mengulang beberapa karakter (seperti aaaaaaaaaaaa). Pilih yang lain.",
            "This password only repeats a few characters (like aaaaaaaaaaaa). Choose another.",
        ));
    }
    if is_common(password) {
        return Err((
            "Kata sandi ini terlalu umum. Pilih yang lain.",
            "This password is too common. Choose another.",
        ));
    }
    Ok(())
}

/// Fewer than five different characters, or one short run said again and again.
fn is_repetitive(password: &str) -> bool {
    let chars: Vec<char> = password.chars().collect();
    let distinct: std::collections::HashSet<&char> = chars.iter().collect();
    let repeats_a_unit = (1..=chars.len() / 2)
        .filter(|n| chars.len().is_multiple_of(*n))
        .any(|n| chars.chunks(n).all(|c| c == &chars[..n]));
    distinct.len() < 5 || repeats_a_unit
}

fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    COMMON_PASSWORDS
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|word| {
            lower == word
                || core == word
                || (word.len() >= 6
                    && lower
                        .strip_prefix(word)
                        .is_some_and(|rest| !rest.chars().any(char::is_alphabetic)))
        })
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub role: Role,
    pub office_id: Option<i64>,
    pub counter_id: Option<i64>,
}

pub async fn create_user(db: &Db, new: NewUser<'_>) -> Result<i64> {
    let hash = hash_password(new.password)?;
    let result: std::result::Result<i64, sqlx::Error> = with_db!(db, |pool| {
        sqlx::query_scalar(
            "INSERT INTO users (username, password_hash, role, office_id, counter_id, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(new.username)
        .bind(&hash)
        .bind(new.role.code())
        .bind(new.office_id)
        .bind(new.counter_id)
        .bind(true)
        .bind(Utc::now())
        .fetch_one(pool)
        .await
    });
    result.map_err(|e| {
        if is_unique_violation(&e, "username") {
            AppError::field(
                "username",
                "username_taken",
                "Nama pengguna sudah dipakai.",
                "The username is taken.",
            )
        } else {
            e.into()
        }
    })
}

const USER_COLUMNS: &str = "id AS user_id, username, role, office_id, counter_id, active";

pub async fn user_by_id(db: &Db, id: i64) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    let row: Option<UserRow> = with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?);
    Ok(row.and_then(UserRow::into_user))
}

pub async fn user_by_username(db: &Db, username: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
    let row: Option<UserRow> = with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(username)
        .fetch_optional(pool)
        .await?);
    Ok(row.and_then(UserRow::into_user))
}

/// Checks a username and password; the hash is verified off the async threads.
pub async fn authenticate(db: &Db, username: &str, password: &str) -> Result<User> {
    let row: Option<(i64, String)> = with_db!(db, |pool| {
        sqlx::query_as("SELECT id, password_hash FROM users WHERE username = $1 AND active = $2")
            .bind(username.trim().to_ascii_lowercase())
            .bind(true)
            .fetch_optional(pool)
            .await?
    });
    // An unknown user still costs one hash, so timing does not reveal which usernames exist.
    let (id, hash) = row.unwrap_or((
        0,
        String::from("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"),
    ));
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    if !ok || id == 0 {
        return Err(AppError::LoginFailed);
    }
    user_by_id(db, id).await?.ok_or(AppError::LoginFailed)
}

/// Sets a new password and ends every session of the account: whoever held the old one
/// is signed out.
pub async fn set_password(db: &Db, user_id: i64, password: &str) -> Result<()> {
    let hash = hash_password(password)?;
    with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(&hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        end_sessions(&mut *tx, user_id).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Gives an account another role and place, and ends its sessions: a session carries what
/// its person may do, so it must not outlive a change of it.
pub async fn change_account(
    db: &Db,
    user_id: i64,
    role: Role,
    office_id: Option<i64>,
    counter_id: Option<i64>,
) -> Result<()> {
    with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE users SET role = $1, office_id = $2, counter_id = $3 WHERE id = $4")
            .bind(role.code())
            .bind(office_id)
            .bind(counter_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        end_sessions(&mut *tx, user_id).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Deactivates an account: its sessions end and its API tokens are revoked, so that turning
/// it on again later does not bring back a forgotten token.
pub async fn deactivate(db: &Db, user_id: i64) -> Result<()> {
    with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
            .bind(false)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(Utc::now())
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        end_sessions(&mut *tx, user_id).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Ends every session of an account (on any connection or transaction).
async fn end_sessions<'c, E, DB>(conn: E, user_id: i64) -> Result<()>
where
    DB: sqlx::Database,
    E: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Creates an API token and returns it; only its hash is kept, so it is shown once.
pub async fn create_token(
    db: &Db,
    user_id: i64,
    label: &str,
    grants: &[String],
    expires_at: Option<DateTime<Utc>>,
) -> Result<String> {
    let token = format!("{TOKEN_PREFIX}{}", random_secret());
    with_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO api_tokens (user_id, token_hash, label, grants, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(user_id)
        .bind(sha256(&token))
        .bind(label)
        .bind(grants.join(","))
        .bind(Utc::now())
        .bind(expires_at)
        .execute(pool)
        .await?;
    });
    Ok(token)
}

/// An authenticated token: its user, its grants, and whether this use should be audited
/// (the first use, then at most once per [`TOKEN_USE_AUDIT_MINUTES`]).
pub struct TokenUse {
    pub user: User,
    pub token_id: i64,
    pub grants: Vec<String>,
    pub audit_due: bool,
}

pub const TOKEN_USE_AUDIT_MINUTES: i64 = 10;

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    grants: String,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    user: UserRow,
}

/// The active user behind a bearer token that is neither revoked nor expired (one query: this
/// runs on every API request).
pub async fn user_by_token(db: &Db, token: &str) -> Result<Option<TokenUse>> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let row: Option<TokenRow> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT t.id, t.grants, t.expires_at, t.revoked_at, t.last_used_at, \
                    u.id AS user_id, u.username, u.role, u.office_id, u.counter_id, u.active \
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        )
        .bind(sha256(token))
        .fetch_optional(pool)
        .await?
    });
    let now = Utc::now();
    let Some(row) = row.filter(|r| r.revoked_at.is_none() && r.expires_at.is_none_or(|e| e > now))
    else {
        return Ok(None);
    };
    let Some(user) = row.user.into_user().filter(|u| u.active) else {
        return Ok(None);
    };
    let audit_due = row
        .last_used_at
        .is_none_or(|t| now - t >= Duration::minutes(TOKEN_USE_AUDIT_MINUTES));
    if audit_due {
        with_db!(db, |pool| {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(row.id)
                .execute(pool)
                .await?;
        });
    }
    Ok(Some(TokenUse {
        user,
        token_id: row.id,
        grants: row
            .grants
            .split(',')
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect(),
        audit_due,
    }))
}

#[derive(Debug, sqlx::FromRow)]
pub struct TokenInfo {
    pub id: i64,
    pub label: String,
    pub grants: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn tokens_of(db: &Db, user_id: i64) -> Result<Vec<TokenInfo>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as("SELECT id, label, grants, created_at, expires_at, revoked_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY id")
            .bind(user_id)
            .fetch_all(pool)
            .await?
    }))
}

/// Revokes a token at once; returns false when there is no such live token.
pub async fn revoke_token(db: &Db, token_id: i64) -> Result<bool> {
    let done: Option<i64> = with_db!(db, |pool| {
        sqlx::query_scalar("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id")
            .bind(Utc::now())
            .bind(token_id)
            .fetch_optional(pool)
            .await?
    });
    Ok(done.is_some())
}

pub struct NewSession {
    pub cookie_value: String,
    pub csrf_token: String,
}

pub async fn create_session(db: &Db, user_id: i64) -> Result<NewSession> {
    let session = NewSession {
        cookie_value: random_secret(),
        csrf_token: random_secret(),
    };
    let now = Utc::now();
    with_db!(db, |pool| {
        sqlx::query("INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(sha256(&session.cookie_value))
            .bind(user_id)
            .bind(&session.csrf_token)
            .bind(now)
            .bind(now + Duration::hours(SESSION_LIFETIME_HOURS))
            .execute(pool)
            .await?;
    });
    Ok(session)
}

/// A session ends after [`SESSION_IDLE_MINUTES`] without a request, and at the latest
/// [`SESSION_LIFETIME_HOURS`] after sign-in.
pub const SESSION_IDLE_MINUTES: i64 = 30;

/// The user and CSRF token of a live session; each use extends the idle deadline.
pub async fn session_user(db: &Db, cookie_value: &str) -> Result<Option<(User, String)>> {
    type SessionRow = (
        i64,
        String,
        DateTime<Utc>,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
    );
    let id_hash = sha256(cookie_value);
    let row: Option<SessionRow> = with_db!(db, |pool| {
        sqlx::query_as("SELECT user_id, csrf_token, created_at, expires_at, last_seen_at FROM sessions WHERE id_hash = $1")
            .bind(&id_hash)
            .fetch_optional(pool)
            .await?
    });
    let now = Utc::now();
    let Some((user_id, csrf, created_at, expires_at, last_seen_at)) = row else {
        return Ok(None);
    };
    let last_seen = last_seen_at.unwrap_or(created_at);
    if expires_at <= now || now - last_seen > Duration::minutes(SESSION_IDLE_MINUTES) {
        delete_session(db, cookie_value).await?;
        return Ok(None);
    }
    // Write at most once a minute: a page view should not always cost a write.
    if now - last_seen > Duration::minutes(1) {
        with_db!(db, |pool| {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(now)
                .bind(&id_hash)
                .execute(pool)
                .await?;
        });
    }
    Ok(user_by_id(db, user_id)
        .await?
        .filter(|u| u.active)
        .map(|u| (u, csrf)))
}

/// Failed sign-ins allowed per account, and per client address, within [`THROTTLE_MINUTES`].
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
pub const MAX_FAILURES_PER_CLIENT: i64 = 20;
pub const THROTTLE_MINUTES: i64 = 15;

/// Counts a sign-in attempt before its password is checked, and says whether it may be
/// judged. Counting first is what makes the throttle hold under concurrent attempts: each
/// attempt sees every attempt stored before it, so at most [`MAX_FAILURES_PER_ACCOUNT`] are
/// ever judged within the window. The row stays as a failure unless the password turns out
/// right ([`clear_login_failures`]), refused attempts included (taking theirs back would let
/// 60 attempts that all saw each other leave no trace), so a block lasts until
/// [`THROTTLE_MINUTES`] pass without an attempt.
pub async fn count_login_attempt(db: &Db, username: &str, client: &str) -> Result<bool> {
    let now = Utc::now();
    with_db!(db, |pool| {
        sqlx::query("INSERT INTO login_failures (username, client_addr, at) VALUES ($1, $2, $3)")
            .bind(username)
            .bind(client)
            .bind(now)
            .execute(pool)
            .await?;
    });
    let since = now - Duration::minutes(THROTTLE_MINUTES);
    let (by_account, by_client): (i64, i64) = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT CAST((SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at > $3) AS BIGINT), \
                    CAST((SELECT COUNT(*) FROM login_failures WHERE client_addr = $2 AND at > $3) AS BIGINT)",
        )
        .bind(username)
        .bind(client)
        .bind(since)
        .fetch_one(pool)
        .await?
    });
    Ok(by_account <= MAX_FAILURES_PER_ACCOUNT && by_client <= MAX_FAILURES_PER_CLIENT)
}

/// A successful sign-in clears the account's failures (the client's stay counted).
pub async fn clear_login_failures(db: &Db, username: &str) -> Result<()> {
    with_db!(db, |pool| {
        sqlx::query("DELETE FROM login_failures WHERE username = $1")
            .bind(username)
            .execute(pool)
            .await?;
    });
    Ok(())
}

pub async fn delete_session(db: &Db, cookie_value: &str) -> Result<()> {
    with_db!(db, |pool| {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(sha256(cookie_value))
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// An account created for someone else (an officer from a file, a demo trainer): the
/// password hash is given, usually `unusable_password_hash()`.
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub office_id: Option<i64>,
    pub counter_id: Option<i64>,
}

/// The hash of a random password nobody sees: the account cannot log in until an admin sets
/// one (`loket user reset-password`).
pub fn unusable_password_hash() -> Result<String> {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hash_password(&hex::encode(bytes))
}

// The account functions below take any connection or transaction (not `&Db`), so that a
// feature importing officers creates their accounts in the same transaction as its own rows:
// all rows or none. They compile for each backend of `with_db!`.

/// Creates an account; returns its user id.
pub async fn insert_account<'c, E, DB>(conn: E, new: &NewAccount<'_>) -> Result<i64>
where
    DB: sqlx::Database,
    E: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let id = sqlx::query_scalar(
        "INSERT INTO users (username, password_hash, role, office_id, counter_id, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.username)
    .bind(new.password_hash)
    .bind(new.role.code())
    .bind(new.office_id)
    .bind(new.counter_id)
    .bind(true)
    .bind(Utc::now())
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// The user id of an account, if there is one.
pub async fn account_id<'c, E, DB>(conn: E, username: &str) -> Result<Option<i64>>
where
    DB: sqlx::Database,
    E: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let id = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(conn)
        .await?;
    Ok(id)
}

/// Moves an account to an office and counter (or none); when that changes its place, its
/// sessions end (what it may see depends on its place).
pub async fn set_account_place<C, DB>(
    conn: &mut C,
    user_id: i64,
    office_id: Option<i64>,
    counter_id: Option<i64>,
) -> Result<()>
where
    DB: sqlx::Database,
    for<'e> &'e mut C: sqlx::Executor<'e, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let moved: Option<i64> = sqlx::query_scalar(
        "UPDATE users SET office_id = $1, counter_id = $2 \
         WHERE id = $3 AND (office_id IS DISTINCT FROM $1 OR counter_id IS DISTINCT FROM $2) RETURNING id",
    )
    .bind(office_id)
    .bind(counter_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    if moved.is_some() {
        end_sessions(&mut *conn, user_id).await?;
    }
    Ok(())
}

/// Every account by user id, for a feature that lists its own rows with each account's name
/// and place (the counters' officers) without joining the users table itself.
pub async fn users_by_id(db: &Db) -> Result<std::collections::HashMap<i64, User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users");
    let rows: Vec<UserRow> = with_db!(db, |pool| sqlx::query_as(&sql).fetch_all(pool).await?);
    Ok(rows
        .into_iter()
        .filter_map(UserRow::into_user)
        .map(|u| (u.id, u))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_verifies_only_the_right_password() {
        let hash = hash_password("kopi-tubruk-2021").unwrap();
        assert!(verify_password("kopi-tubruk-2021", &hash));
        assert!(!verify_password("kopi-tubruk-2022", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn password_rules_prefer_length_and_refuse_common_ones() {
        assert!(check_password_rules("pendek").is_err());
        assert!(check_password_rules("Password123").is_err());
        assert!(check_password_rules("nasi goreng pedas").is_ok());
        let refused = |p: &str| check_password_rules(p).err().map(|(_, en)| en);
        assert!(refused("sebelas-kar").is_some_and(|e| e.contains("12 characters")));
        for repeated in [
            "aaaaaaaaaaaa",
            "abababababab",
            "abcabcabcabc",
            "11112222aaaa",
        ] {
            assert!(
                refused(repeated).is_some_and(|e| e.contains("repeats")),
                "{repeated}"
            );
        }
        for common in [
            "password2021!",
            "123456789012",
            "2021Bismillah",
            "Indonesia1945",
            "iloveyou1234",
        ] {
            assert!(
                refused(common).is_some_and(|e| e.contains("too common")),
                "{common}"
            );
        }
        assert!(check_password_rules("kopi-sawah-bambu-417").is_ok());
    }
}
