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
    /// Reminders by WhatsApp/SMS: providers, quiet hours, limits (secrets never shown).
    pub reminders: Reminders,
}

/// Where reminders go and when. A channel without a provider writes to `file` (offices
/// without a provider); with neither, messages wait in the outbox.
#[derive(Clone)]
pub struct Reminders {
    /// WhatsApp Business Cloud API: base URL (e.g. `https://graph.facebook.com`), version,
    /// phone-number id, bearer token, the app secret that signs its webhooks, and the
    /// approved template name (empty: a text message).
    pub whatsapp_url: Option<String>,
    pub whatsapp_version: String,
    pub whatsapp_phone_id: String,
    pub whatsapp_token: Option<String>,
    pub whatsapp_app_secret: Option<String>,
    pub whatsapp_template: Option<String>,
    /// The token Meta echoes when subscribing the webhook (`hub.verify_token`).
    pub whatsapp_verify_token: Option<String>,
    /// An SMS HTTP gateway: URL, one `Name: value` auth header, a body template with `{to}`,
    /// `{text}` and `{ref}`, and the shared secret its delivery/reply webhook sends.
    pub sms_url: Option<String>,
    pub sms_auth_header: Option<String>,
    pub sms_body_template: String,
    pub sms_webhook_secret: Option<String>,
    /// The file/log channel: one JSON line per message.
    pub file: Option<PathBuf>,
    /// Quiet hours in the person's own time zone: no message from `quiet_from` to `quiet_until`
    /// (hours 0..24; equal hours: no quiet time).
    pub quiet_from: u32,
    pub quiet_until: u32,
    /// At most this many messages per person in seven days.
    pub weekly_limit: i64,
    /// The first retry waits this long; each next one twice as long.
    pub retry_base: std::time::Duration,
    pub max_attempts: i64,
    /// How long a provider may take to answer.
    pub provider_timeout: std::time::Duration,
    /// Whether `Application::build` starts the sending worker.
    pub worker: bool,
    pub worker_interval: std::time::Duration,
}

impl Default for Reminders {
    fn default() -> Self {
        Reminders {
            whatsapp_url: None,
            whatsapp_version: "v21.0".into(),
            whatsapp_phone_id: String::new(),
            whatsapp_token: None,
            whatsapp_app_secret: None,
            whatsapp_template: None,
            whatsapp_verify_token: None,
            sms_url: None,
            sms_auth_header: None,
            sms_body_template: r#"{"to":"{to}","text":"{text}","ref":"{ref}"}"#.into(),
            sms_webhook_secret: None,
            file: None,
            quiet_from: 21,
            quiet_until: 7,
            weekly_limit: 2,
            retry_base: std::time::Duration::from_secs(60),
            max_attempts: 6,
            provider_timeout: std::time::Duration::from_secs(10),
            worker: true,
            worker_interval: std::time::Duration::from_secs(15),
        }
    }
}

/// Shows which providers are set, never a token, header or secret.
impl std::fmt::Debug for Reminders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |o: &Option<String>| o.as_ref().map(|_| "***");
        f.debug_struct("Reminders")
            .field("whatsapp_url", &self.whatsapp_url)
            .field("whatsapp_token", &set(&self.whatsapp_token))
            .field("whatsapp_app_secret", &set(&self.whatsapp_app_secret))
            .field("sms_url", &self.sms_url.as_ref().map(|_| "(set)"))
            .field("sms_auth_header", &set(&self.sms_auth_header))
            .field("sms_webhook_secret", &set(&self.sms_webhook_secret))
            .field("file", &self.file)
            .field("quiet", &(self.quiet_from, self.quiet_until))
            .field("weekly_limit", &self.weekly_limit)
            .finish()
    }
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
            reminders: Reminders::default(),
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
            .field("reminders", &self.reminders)
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
