//! Accounts: users with one role, tied to an office or counter where the role needs it.

use crate::identity::{Role, User};

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    #[sqlx(rename = "user_id")]
    pub id: i64,
    pub username: String,
    pub role: String,
    pub office_id: Option<i64>,
    pub counter_id: Option<i64>,
    pub active: bool,
}

impl UserRow {
    pub fn into_user(self) -> Option<User> {
        Some(User {
            id: self.id,
            username: self.username,
            role: Role::parse(&self.role)?,
            office_id: self.office_id,
            counter_id: self.counter_id,
            active: self.active,
        })
    }
}

/// A username: 3–40 of a-z, 0-9, dot, dash, underscore.
pub fn parse_username(text: &str) -> Option<String> {
    let name = text.trim().to_ascii_lowercase();
    let ok = (3..=40).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    ok.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lowercase_and_plain() {
        assert_eq!(
            parse_username(" Petugas.Bdg01 ").as_deref(),
            Some("petugas.bdg01")
        );
        assert!(parse_username("ab").is_none());
        assert!(parse_username("a b c").is_none());
        assert!(parse_username("x'; drop").is_none());
    }
}
