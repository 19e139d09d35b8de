//! Settings, from flags or environment variables (see the README's configuration table).

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug)]
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

impl std::fmt::Display for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key or a database password.
        let db = match url::Url::parse(&self.database_url) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            _ => self.database_url.clone(),
        };
        write!(
            f,
            "database {db}, key {}",
            if self.data_key.is_some() {
                "from LOKET_DATA_KEY".to_string()
            } else {
                self.key_file.display().to_string()
            }
        )
    }
}
