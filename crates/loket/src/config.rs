//! Settings, from flags or environment variables (see the README's configuration table).

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    /// The master data key (base64 or hex); when absent, `key_file` is used or created.
    pub data_key: Option<String>,
    pub key_file: PathBuf,
    /// Mark cookies `Secure` (set when loket is served over TLS, usually behind a proxy).
    pub secure_cookies: bool,
    /// Largest request body accepted, in bytes (uploads have their own, larger limit).
    pub body_limit: usize,
    pub upload_limit: usize,
    /// Connections in the PostgreSQL pool (the server's `max_connections` bounds the sum).
    pub db_max_connections: u32,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/loket.db";

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: DEFAULT_DATABASE_URL.to_string(),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_key: None,
            key_file: PathBuf::from("data/loket.key"),
            secure_cookies: false,
            body_limit: 256 * 1024,
            upload_limit: 64 * 1024 * 1024,
            db_max_connections: 32,
        }
    }
}

impl Config {
    /// The database URL with any password replaced by `***`, fit for logs and messages.
    pub fn database_url_redacted(&self) -> String {
        match url::Url::parse(&self.database_url) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            _ => self.database_url.clone(),
        }
    }

    fn key_source(&self) -> String {
        if self.data_key.is_some() {
            "from LOKET_DATA_KEY".to_string()
        } else {
            self.key_file.display().to_string()
        }
    }
}

impl std::fmt::Display for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key or a database password.
        write!(
            f,
            "database {}, key {}",
            self.database_url_redacted(),
            self.key_source()
        )
    }
}

/// Written by hand so that a `{:?}` in a log or a panic message never shows the data key or
/// a database password.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &self.database_url_redacted())
            .field("bind", &self.bind)
            .field("data_key", &self.data_key.as_ref().map(|_| "***"))
            .field("key_file", &self.key_file)
            .field("secure_cookies", &self.secure_cookies)
            .field("body_limit", &self.body_limit)
            .field("upload_limit", &self.upload_limit)
            .field("db_max_connections", &self.db_max_connections)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_key_or_the_database_password() {
        let config = Config {
            database_url: "postgres://loket:s3cret-pw@db.example:5432/loket".into(),
            data_key: Some("c2VjcmV0LWRhdGEta2V5LXZhbHVl".into()),
            ..Config::default()
        };
        for shown in [format!("{config:?}"), format!("{config}")] {
            assert!(!shown.contains("s3cret-pw"), "{shown}");
            assert!(!shown.contains("c2VjcmV0LWRhdGEta2V5LXZhbHVl"), "{shown}");
            assert!(shown.contains("db.example"), "{shown}");
        }
        assert!(format!("{config:?}").contains("data_key: Some(\"***\")"));
    }
}
