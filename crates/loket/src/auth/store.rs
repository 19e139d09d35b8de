//! SQL for users, API tokens and sessions. Secrets (passwords, tokens, session ids) are only
//! ever stored as hashes.

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::model::{Role, User, UserRow};
use crate::db::{is_unique_violation, Db};
use crate::error::{AppError, Result};
use crate::with_db;

pub const SESSION_LIFETIME_HOURS: i64 = 12;
const TOKEN_PREFIX: &str = "lkt_";

fn random_secret() -> String {
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

/// Password rule for a government office: length over complexity, and not a common password.
pub fn check_password_rules(
    password: &str,
) -> std::result::Result<(), (&'static str, &'static str)> {
    const COMMON: &[&str] = &[
        "password",
        "password123",
        "12345678",
        "123456789",
        "1234567890",
        "qwertyuiop",
        "iloveyou",
        "bismillah",
        "indonesia",
        "admin12345",
        "rahasia123",
        "katasandi",
        "prakerja123",
        "loket12345",
    ];
    if password.chars().count() < 10 {
        return Err((
            "Kata sandi minimal 10 karakter.",
            "The password must be at least 10 characters.",
        ));
    }
    if COMMON.contains(&password.to_lowercase().as_str()) {
        return Err((
            "Kata sandi ini terlalu umum. Pilih yang lain.",
            "This password is too common. Choose another.",
        ));
    }
    Ok(())
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

const USER_COLUMNS: &str = "id, username, role, office_id, counter_id, active";

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

pub async fn set_password(db: &Db, user_id: i64, password: &str) -> Result<()> {
    let hash = hash_password(password)?;
    with_db!(db, |pool| {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(&hash)
            .bind(user_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Creates an API token and returns it; only its hash is kept, so it is shown once.
pub async fn create_token(
    db: &Db,
    user_id: i64,
    label: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<String> {
    let token = format!("{TOKEN_PREFIX}{}", random_secret());
    with_db!(db, |pool| {
        sqlx::query("INSERT INTO api_tokens (user_id, token_hash, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(user_id)
            .bind(sha256(&token))
            .bind(label)
            .bind(Utc::now())
            .bind(expires_at)
            .execute(pool)
            .await?;
    });
    Ok(token)
}

/// The active user behind a bearer token that is neither revoked nor expired.
pub async fn user_by_token(db: &Db, token: &str) -> Result<Option<User>> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    type TokenRow = (i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let row: Option<TokenRow> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT user_id, expires_at, revoked_at FROM api_tokens WHERE token_hash = $1",
        )
        .bind(sha256(token))
        .fetch_optional(pool)
        .await?
    });
    let Some((user_id, expires_at, revoked_at)) = row else {
        return Ok(None);
    };
    let now = Utc::now();
    if revoked_at.is_some() || expires_at.is_some_and(|e| e <= now) {
        return Ok(None);
    }
    Ok(user_by_id(db, user_id).await?.filter(|u| u.active))
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

/// The user and CSRF token of a live session.
pub async fn session_user(db: &Db, cookie_value: &str) -> Result<Option<(User, String)>> {
    let row: Option<(i64, String, DateTime<Utc>)> = with_db!(db, |pool| {
        sqlx::query_as("SELECT user_id, csrf_token, expires_at FROM sessions WHERE id_hash = $1")
            .bind(sha256(cookie_value))
            .fetch_optional(pool)
            .await?
    });
    let Some((user_id, csrf, _)) = row.filter(|(_, _, expires_at)| *expires_at > Utc::now()) else {
        return Ok(None);
    };
    Ok(user_by_id(db, user_id)
        .await?
        .filter(|u| u.active)
        .map(|u| (u, csrf)))
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
    }
}
