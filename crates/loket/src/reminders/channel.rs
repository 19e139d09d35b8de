//! The channels as adapters: the WhatsApp Business Cloud API, an SMS HTTP gateway, and a
//! file/log channel. Which one carries a message is chosen by configuration.

use std::io::Write;

use super::model::Channel;
use crate::config::Reminders;

/// What a provider said about one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Taken: the provider's message id (for delivery reports) and its answer.
    Accepted {
        provider_id: Option<String>,
        answer: String,
    },
    /// Worth another try later: down, 5xx, 429, timeout.
    Retry(String),
    /// The provider refused this message for good (4xx).
    Rejected(String),
}

/// Whether a channel can carry messages with this configuration.
pub fn available(config: &Reminders, channel: Channel) -> bool {
    config.file.is_some()
        || match channel {
            Channel::Whatsapp => config.whatsapp_url.is_some() && config.whatsapp_token.is_some(),
            Channel::Sms => config.sms_url.is_some(),
        }
}

/// One message to one number (international form, digits only: `6281234567890`).
pub struct Outgoing<'a> {
    pub channel: Channel,
    pub to: &'a str,
    pub text: &'a str,
    /// Ours, stable over retries: providers that keep a client reference drop a repeat.
    pub reference: &'a str,
}

pub async fn send(client: &reqwest::Client, config: &Reminders, m: &Outgoing<'_>) -> Answer {
    match m.channel {
        Channel::Whatsapp if config.whatsapp_url.is_some() => whatsapp(client, config, m).await,
        Channel::Sms if config.sms_url.is_some() => sms(client, config, m).await,
        _ => match &config.file {
            Some(path) => to_file(path, m),
            None => Answer::Retry("no_channel".into()),
        },
    }
}

/// `POST {base}/{version}/{phone-number-id}/messages` with a bearer token: a template
/// message when one is configured (outside the 24-hour window a business must use one),
/// else a text message. `biz_opaque_callback_data` carries our reference back in webhooks.
async fn whatsapp(client: &reqwest::Client, config: &Reminders, m: &Outgoing<'_>) -> Answer {
    let base = config
        .whatsapp_url
        .as_deref()
        .unwrap_or_default()
        .trim_end_matches('/');
    let url = format!(
        "{base}/{}/{}/messages",
        config.whatsapp_version, config.whatsapp_phone_id
    );
    let body = match &config.whatsapp_template {
        Some(name) => serde_json::json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": m.to,
            "type": "template",
            "template": {
                "name": name,
                "language": {"code": "id"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": m.text}]}]
            },
            "biz_opaque_callback_data": m.reference,
        }),
        None => serde_json::json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": m.to,
            "type": "text",
            "text": {"preview_url": false, "body": m.text},
            "biz_opaque_callback_data": m.reference,
        }),
    };
    let request = client
        .post(url)
        .bearer_auth(config.whatsapp_token.as_deref().unwrap_or_default())
        .timeout(config.provider_timeout)
        .json(&body);
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return Answer::Retry(transport_error(&e)),
    };
    let status = response.status();
    let json: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
    if status.is_success() {
        let id = json["messages"][0]["id"].as_str().map(str::to_string);
        return Answer::Accepted {
            answer: format!("{} {}", status.as_u16(), id.as_deref().unwrap_or("-")),
            provider_id: id,
        };
    }
    // {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}
    let code = json["error"]["code"].as_i64().unwrap_or(0);
    let answer = format!(
        "{} {} {}",
        status.as_u16(),
        code,
        short(json["error"]["message"].as_str().unwrap_or(""))
    );
    // Throttled (4, 80007, 130429, 131048, 131056) or the service down (1, 2, 131000).
    let throttled = matches!(code, 1 | 2 | 4 | 80007 | 130429 | 131000 | 131048 | 131056);
    if status.is_server_error() || status.as_u16() == 429 || throttled {
        Answer::Retry(answer)
    } else {
        Answer::Rejected(answer)
    }
}

/// A generic SMS HTTP gateway: the body template gets `{to}`, `{text}` and `{ref}` (escaped
/// for JSON when the template is JSON, else URL-encoded as a form), plus one auth header.
async fn sms(client: &reqwest::Client, config: &Reminders, m: &Outgoing<'_>) -> Answer {
    let url = config.sms_url.as_deref().unwrap_or_default();
    let (body, content_type) = sms_body(&config.sms_body_template, m);
    let mut request = client
        .post(url)
        .timeout(config.provider_timeout)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body);
    if let Some((name, value)) = config
        .sms_auth_header
        .as_deref()
        .and_then(|h| h.split_once(':'))
    {
        request = request.header(name.trim(), value.trim());
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return Answer::Retry(transport_error(&e)),
    };
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let answer = format!("{} {}", status.as_u16(), short(&text));
    if status.is_success() {
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let id = ["message_id", "messageId", "id", "ref", "reference"]
            .iter()
            .find_map(|k| match &json[k] {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .unwrap_or_else(|| m.reference.to_string());
        return Answer::Accepted {
            provider_id: Some(id),
            answer,
        };
    }
    if status.is_server_error() || status.as_u16() == 429 {
        Answer::Retry(answer)
    } else {
        Answer::Rejected(answer)
    }
}

/// The gateway's body and its content type.
pub fn sms_body(template: &str, m: &Outgoing<'_>) -> (String, &'static str) {
    let json = template.trim_start().starts_with('{');
    let escape = |s: &str| -> String {
        if json {
            let quoted = serde_json::Value::String(s.to_string()).to_string();
            quoted[1..quoted.len() - 1].to_string()
        } else {
            form_urlencoded::byte_serialize(s.as_bytes()).collect()
        }
    };
    let body = template
        .replace("{to}", &escape(m.to))
        .replace("{ref}", &escape(m.reference))
        .replace("{text}", &escape(m.text));
    let kind = if json {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    };
    (body, kind)
}

/// The file/log channel: one JSON line per message, the number masked (the file is a log,
/// not a second copy of personal data).
fn to_file(path: &std::path::Path, m: &Outgoing<'_>) -> Answer {
    let line = serde_json::json!({
        "at": chrono::Utc::now().to_rfc3339(),
        "channel": m.channel.code(),
        "to": mask(m.to),
        "text": m.text,
        "ref": m.reference,
    });
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| writeln!(f, "{line}"));
    match written {
        Ok(()) => Answer::Accepted {
            provider_id: Some(m.reference.to_string()),
            answer: "file".into(),
        },
        Err(e) => Answer::Retry(format!("file: {}", e.kind())),
    }
}

/// `6281234567890` → `62812*****890`.
pub fn mask(phone: &str) -> String {
    let n = phone.chars().count();
    phone
        .chars()
        .enumerate()
        .map(|(i, c)| if i >= 5 && i + 3 < n { '*' } else { c })
        .collect()
}

/// A phone number as providers want it: digits only, with Indonesia's 62 for local numbers.
pub fn international(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix('0') {
        Some(rest) => format!("62{rest}"),
        None => digits,
    }
}

/// What went wrong on the way (never the URL: a gateway's key may sit in its query).
fn transport_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect".into()
    } else {
        "transport".into()
    }
}

fn short(text: &str) -> String {
    text.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gateway_body_is_escaped_for_its_format() {
        let m = Outgoing {
            channel: Channel::Sms,
            to: "6281234567890",
            text: "Batas \"beli\" & cek",
            reference: "loket-7",
        };
        let (json, kind) = sms_body(r#"{"to":"{to}","msg":"{text}"}"#, &m);
        assert_eq!(kind, "application/json");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["msg"], "Batas \"beli\" & cek");
        let (form, kind) = sms_body("userkey=K&to={to}&message={text}", &m);
        assert_eq!(kind, "application/x-www-form-urlencoded");
        assert_eq!(
            form,
            "userkey=K&to=6281234567890&message=Batas+%22beli%22+%26+cek"
        );
    }

    #[test]
    fn numbers_are_international_and_masked_in_logs() {
        assert_eq!(international("+62 812-3456-7890"), "6281234567890");
        assert_eq!(international("0812 3456 7890"), "6281234567890");
        assert_eq!(mask("6281234567890"), "62812*****890");
    }
}
