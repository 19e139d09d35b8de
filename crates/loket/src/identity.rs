//! Who is acting: the roles, a signed-in user, and the actor of one request (user, request id,
//! client address, token grants) as it is carried from the edge to every audited action.
//! Below access, audit and auth, so that each of them can name the actor without the others.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::code_enum;

code_enum! {
    pub enum Role {
        Admin => ("admin", "Admin pusat", "Head-office admin"),
        Koordinator => ("koordinator", "Koordinator UPT", "Office coordinator"),
        Petugas => ("petugas", "Petugas loket", "Counter officer"),
        Mitra => ("mitra", "Mitra (sistem)", "Partner system"),
        Auditor => ("auditor", "Auditor", "Auditor"),
        Lembaga => ("lembaga", "Staf lembaga mitra", "Partner agency staff"),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub office_id: Option<i64>,
    pub counter_id: Option<i64>,
    pub active: bool,
}

/// Who made the request, and from where: carried from the edge to every audited action.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user: User,
    pub meta: RequestMeta,
    /// What the API token was granted (partner exchange endpoints); empty for sessions.
    pub grants: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub request_id: String,
    pub client_addr: Option<String>,
}

/// The id of one request: the caller's `X-Request-Id` when it is sane, else a fresh one. The
/// request-id middleware (`telemetry`) sets it once, so the log span, the audit entry and the
/// error page all show the same id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    pub fn from_headers(headers: &axum::http::HeaderMap) -> RequestId {
        let given = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                !v.is_empty()
                    && v.len() <= 64
                    && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        match given {
            Some(id) => RequestId(id.to_string()),
            None => {
                use rand::Rng;
                RequestId(format!("{:016x}", rand::thread_rng().gen::<u64>()))
            }
        }
    }
}

/// The request's id (as the middleware set it) and the client address.
pub fn request_meta(parts: &Parts) -> RequestMeta {
    let client = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    let id = parts
        .extensions
        .get::<RequestId>()
        .cloned()
        .unwrap_or_else(|| RequestId::from_headers(&parts.headers));
    RequestMeta {
        request_id: id.0,
        client_addr: client.map(|c| c.ip().to_string()),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(request_meta(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_have_stable_codes() {
        assert_eq!(Role::parse("koordinator"), Some(Role::Koordinator));
        assert_eq!(Role::ALL.len(), 6);
        assert_eq!(Role::parse("lembaga"), Some(Role::Lembaga));
    }

    #[test]
    fn a_sane_request_id_is_kept_and_a_strange_one_replaced() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-request-id", "abc-123".parse().unwrap());
        assert_eq!(RequestId::from_headers(&headers).0, "abc-123");
        headers.insert("x-request-id", "a b<script>".parse().unwrap());
        let fresh = RequestId::from_headers(&headers).0;
        assert_eq!(fresh.len(), 16);
        assert!(fresh.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
