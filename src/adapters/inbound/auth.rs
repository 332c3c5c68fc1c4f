//! Who is calling: credentials from wherever a family's clients put them, checked against
//! the token verifier; a `userId` a client claims, checked against them; and the service key
//! of server-to-server calls. Shared by the Socket.IO handshake, the identify events and the
//! REST routes, so every transport accepts the same things.

use http::HeaderMap;
use http::header::{AUTHORIZATION, COOKIE, ORIGIN};
use serde_json::Value;

use crate::domain::{Identity, UserId};
use crate::ports::{TokenError, TokenVerifier};

/// What a request or handshake presented.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub token: Option<String>,
    /// A bare user id (`userId` in the handshake's auth or query): trusted only on listeners
    /// with legacy identity, and otherwise required to match the token's user.
    pub claimed_user: Option<String>,
}

/// The browser origins whose pages may be authenticated by the `token` cookie. A browser
/// sends cookies with requests any site makes (a cross-site WebSocket, a form), so a cookie
/// proves nothing about who made the request: it counts only when the request says it comes
/// from a page of one of these origins, or from no page at all (no `Origin` header: a
/// server, a native app). Tokens in headers, the handshake or the query are not sent by the
/// browser on its own, so they count whatever the origin. These are the explicitly listed
/// CORS origins; `*` lists none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieOrigins(Vec<String>);

impl CookieOrigins {
    pub fn new(origins: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        Self(
            origins
                .into_iter()
                .map(|o| o.as_ref().trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|o| !o.is_empty() && o != "*")
                .collect(),
        )
    }

    /// Whether a `token` cookie on a request with these headers may identify it.
    fn admit(&self, headers: &HeaderMap) -> bool {
        match headers.get(ORIGIN).map(|o| o.to_str()) {
            None => true,
            Some(Ok(origin)) => {
                let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
                self.0.contains(&origin)
            }
            Some(Err(_)) => false,
        }
    }
}

impl Credentials {
    /// REST: `Authorization: Bearer`, `x-auth-token`, a `token` cookie (see
    /// `CookieOrigins`), a `token` query parameter.
    pub fn from_request(
        headers: &HeaderMap,
        query: &[(String, String)],
        cookies: &CookieOrigins,
    ) -> Self {
        Self {
            token: header_token(headers, cookies).or_else(|| query_value(query, "token")),
            claimed_user: None,
        }
    }

    /// Socket.IO: `auth.token`, the query's `token`, then the HTTP headers and cookie (see
    /// `CookieOrigins`).
    pub fn from_handshake(
        auth: &Value,
        headers: &HeaderMap,
        query: &[(String, String)],
        cookies: &CookieOrigins,
    ) -> Self {
        let auth_str = |name: &str| {
            auth.get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Self {
            token: auth_str("token")
                .map(strip_bearer)
                .or_else(|| query_value(query, "token"))
                .or_else(|| header_token(headers, cookies)),
            claimed_user: auth_str("userId").or_else(|| query_value(query, "userId")),
        }
    }
}

/// Why a caller could not be identified; the text is what the client sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("Authentication error: no token provided")]
    Missing,
    #[error("Authentication error: token expired")]
    Expired,
    #[error("Authentication error: invalid token")]
    Invalid,
    #[error("Authentication error: the token carries no user id")]
    NoUserId,
    #[error("Authentication error: no key is configured to verify tokens")]
    NoVerifier,
    #[error("Authentication error: userId does not match the token")]
    Mismatch,
    #[error("Authentication error: invalid userId")]
    BadUserId,
}

/// The identity behind `credentials`. A presented token is always verified, legacy or not;
/// a claimed `userId` must then be the token's user, and without a token it is trusted only
/// with legacy identity.
pub fn authenticate(
    verifier: Option<&dyn TokenVerifier>,
    credentials: &Credentials,
    legacy_identity: bool,
) -> Result<Identity, AuthFailure> {
    let presented = verify_token(verifier, credentials.token.as_deref())?;
    match &credentials.claimed_user {
        Some(claimed) => confirm_claim(presented, claimed, legacy_identity),
        None => presented.ok_or(AuthFailure::Missing),
    }
}

/// The identity of a presented token (`None` when none was presented).
pub fn verify_token(
    verifier: Option<&dyn TokenVerifier>,
    token: Option<&str>,
) -> Result<Option<Identity>, AuthFailure> {
    let Some(token) = token else {
        return Ok(None);
    };
    let verifier = verifier.ok_or(AuthFailure::NoVerifier)?;
    let identity = verifier.verify(token).map_err(|e| match e {
        TokenError::Expired => AuthFailure::Expired,
        TokenError::NoUserId => AuthFailure::NoUserId,
        TokenError::Invalid(reason) => {
            tracing::debug!(%reason, "token refused");
            AuthFailure::Invalid
        }
    })?;
    Ok(Some(identity))
}

/// The identity behind a bare `userId` a client claims: the presented (verified) token's
/// when there is one, which the claim must match; without a token, the claim itself, but
/// only with legacy identity.
pub fn confirm_claim(
    presented: Option<Identity>,
    claimed: &str,
    legacy_identity: bool,
) -> Result<Identity, AuthFailure> {
    let claimed = UserId::parse(claimed).map_err(|_| AuthFailure::BadUserId)?;
    match presented {
        Some(identity) if identity.user_id == claimed => Ok(identity),
        Some(_) => Err(AuthFailure::Mismatch),
        None if legacy_identity => Ok(Identity::bare(claimed)),
        None => Err(AuthFailure::Missing),
    }
}

/// Whether the headers carry the configured service key (`Authorization: Bearer <key>` or
/// `x-api-key`). Without a configured key nothing is a service call.
pub fn is_service_call(headers: &HeaderMap, service_key: Option<&str>) -> bool {
    let Some(key) = service_key.filter(|k| !k.is_empty()) else {
        return false;
    };
    let bearer = bearer(headers);
    let api_key = header_str(headers, "x-api-key");
    [bearer, api_key]
        .into_iter()
        .flatten()
        .any(|given| constant_time_eq(given.as_bytes(), key.as_bytes()))
}

/// The bearer value of `Authorization`, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|t| !t.is_empty())
}

fn header_token(headers: &HeaderMap, cookies: &CookieOrigins) -> Option<String> {
    bearer(headers)
        .or_else(|| header_str(headers, "x-auth-token"))
        .map(str::to_owned)
        .or_else(|| {
            cookie(headers, "token").filter(|_| {
                let admitted = cookies.admit(headers);
                if !admitted {
                    tracing::debug!(origin = ?headers.get(ORIGIN), "token cookie from an origin not allowed: ignored");
                }
                admitted
            })
        })
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)?
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

/// Clients that keep the header's form put `Bearer …` in `auth.token` too.
fn strip_bearer(token: String) -> String {
    match token.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim().to_owned(),
        _ => token,
    }
}

/// Parses a URL query string into pairs (percent-decoded).
pub fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

fn query_value(query: &[(String, String)], name: &str) -> Option<String> {
    query
        .iter()
        .find(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_owned())
}

/// Compares secrets without leaking, through timing, how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use serde_json::json;

    use super::*;
    use crate::ports::auth::MockTokenVerifier;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn finds_the_token_wherever_clients_put_it() {
        let none = HeaderMap::new();
        let any = CookieOrigins::default();
        let q = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        let cases = [
            Credentials::from_handshake(&json!({ "token": "a" }), &none, &[], &any),
            Credentials::from_handshake(&json!({ "token": "Bearer a" }), &none, &[], &any),
            Credentials::from_handshake(&Value::Null, &none, &q("token", "a"), &any),
            Credentials::from_request(&headers(&[("authorization", "Bearer a")]), &[], &any),
            Credentials::from_request(&headers(&[("x-auth-token", "a")]), &[], &any),
            Credentials::from_request(&headers(&[("cookie", "x=1; token=a")]), &[], &any),
        ];
        for creds in cases {
            assert_eq!(creds.token.as_deref(), Some("a"), "{creds:?}");
        }
    }

    #[test]
    fn handshake_auth_wins_over_headers() {
        let h = headers(&[("authorization", "Bearer header")]);
        let creds = Credentials::from_handshake(
            &json!({ "token": "auth" }),
            &h,
            &[],
            &CookieOrigins::default(),
        );
        assert_eq!(creds.token.as_deref(), Some("auth"));
    }

    #[test]
    fn a_cookie_counts_only_from_no_page_or_an_allowed_origin() {
        let allowed = CookieOrigins::new(["https://app.example/", "*"]);
        let with_origin = |origin: &str| headers(&[("cookie", "token=c"), ("origin", origin)]);
        let token = |h: &HeaderMap| Credentials::from_request(h, &[], &allowed).token;
        assert_eq!(token(&headers(&[("cookie", "token=c")])), Some("c".into()));
        assert_eq!(token(&with_origin("https://APP.example")), Some("c".into()));
        assert_eq!(token(&with_origin("http://evil.example")), None);
        assert_eq!(token(&with_origin("null")), None);
        // `*` lists no origin: nothing but origin-less requests may use the cookie.
        let any = CookieOrigins::new(["*"]);
        let h = with_origin("https://app.example");
        assert_eq!(
            Credentials::from_handshake(&Value::Null, &h, &[], &any).token,
            None
        );
        // A token the page itself puts in a header counts from any origin.
        let header = headers(&[
            ("authorization", "Bearer h"),
            ("origin", "http://evil.example"),
        ]);
        assert_eq!(token(&header), Some("h".into()));
    }

    fn verifier_for(user: &'static str) -> MockTokenVerifier {
        let mut v = MockTokenVerifier::new();
        v.expect_verify().returning(move |t| match t {
            "good" => Ok(Identity::bare(UserId::parse(user).unwrap())),
            "old" => Err(TokenError::Expired),
            _ => Err(TokenError::Invalid("bad signature".into())),
        });
        v
    }

    #[test]
    fn tokens_are_verified_even_with_legacy_identity() {
        let v = verifier_for("u1");
        let with = |token: Option<&str>, user: Option<&str>| Credentials {
            token: token.map(Into::into),
            claimed_user: user.map(Into::into),
        };
        let id = authenticate(Some(&v), &with(Some("good"), None), false).unwrap();
        assert_eq!(id.user_id.as_str(), "u1");
        assert_eq!(
            authenticate(Some(&v), &with(Some("forged"), Some("u1")), true),
            Err(AuthFailure::Invalid)
        );
        assert_eq!(
            authenticate(Some(&v), &with(Some("old"), None), false),
            Err(AuthFailure::Expired)
        );
        assert_eq!(
            authenticate(Some(&v), &with(Some("good"), Some("u2")), false),
            Err(AuthFailure::Mismatch)
        );
        assert_eq!(
            authenticate(Some(&v), &with(None, Some("u2")), false),
            Err(AuthFailure::Missing)
        );
        let legacy = authenticate(Some(&v), &with(None, Some("u2")), true).unwrap();
        assert_eq!(legacy.user_id.as_str(), "u2");
        assert_eq!(
            authenticate(Some(&v), &with(None, Some("a b")), true),
            Err(AuthFailure::BadUserId)
        );
    }

    #[test]
    fn a_claimed_user_must_be_the_tokens_unless_legacy_identity_trusts_it() {
        let token_of = |user: &str| Some(Identity::bare(UserId::parse(user).unwrap()));
        assert_eq!(
            confirm_claim(token_of("u1"), "u1", false).map(|i| i.user_id),
            Ok(UserId::parse("u1").unwrap())
        );
        for legacy in [false, true] {
            assert_eq!(
                confirm_claim(token_of("u1"), "u2", legacy),
                Err(AuthFailure::Mismatch)
            );
        }
        assert_eq!(confirm_claim(None, "u2", false), Err(AuthFailure::Missing));
        assert_eq!(
            confirm_claim(None, "u2", true).map(|i| i.user_id),
            Ok(UserId::parse("u2").unwrap())
        );
        assert_eq!(confirm_claim(None, "", true), Err(AuthFailure::BadUserId));
    }

    #[test]
    fn service_key_from_bearer_or_api_key_header() {
        let key = Some("s3cret");
        assert!(is_service_call(
            &headers(&[("authorization", "Bearer s3cret")]),
            key
        ));
        assert!(is_service_call(&headers(&[("x-api-key", "s3cret")]), key));
        assert!(!is_service_call(&headers(&[("x-api-key", "s3cret!")]), key));
        assert!(!is_service_call(&headers(&[("x-api-key", "s3cret")]), None));
    }
}
