//! Users and rooms on the server under test: HS256 tokens for the handshake, and rooms
//! opened with the service key through `POST /api/v1/conversations { participantIds }`,
//! which switchboard's native listener and the Node peer both answer with `201 { id, … }`.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// User ids of one run: 24 hex digits like MongoDB ObjectIds (the linsta family's ids), with
/// a per-run prefix so that runs against one database never share a user.
pub struct Users {
    prefix: String,
}

impl Users {
    pub fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
        Self {
            prefix: format!("{:08x}", mixed as u32),
        }
    }

    pub fn id(&self, i: usize) -> String {
        format!("{}{i:016x}", self.prefix)
    }
}

/// An HS256 JWT whose `sub` is the user, valid for a day.
pub fn token(user: &str, secret: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = json!({ "sub": user, "iat": now, "exp": now + 86_400 });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(signed.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signed}.{signature}")
}

/// Opens a room with these participants and returns its id.
pub async fn open_room(
    rest: &str,
    service_key: &str,
    members: &[String],
) -> Result<String, String> {
    let body = json!({ "participantIds": members }).to_string();
    let (status, answer) = post_json(rest, "/api/v1/conversations", service_key, &body).await?;
    if status != 201 && status != 200 {
        return Err(format!(
            "POST /api/v1/conversations: {status} {answer:.300}"
        ));
    }
    let value: Value = serde_json::from_str(&answer).map_err(|e| format!("{e}: {answer:.300}"))?;
    value["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("POST /api/v1/conversations answered no id: {answer:.300}"))
}

/// One HTTP/1.1 POST on its own connection (a few per run: no client library needed).
async fn post_json(
    base: &str,
    path: &str,
    service_key: &str,
    body: &str,
) -> Result<(u16, String), String> {
    let addr = base
        .strip_prefix("http://")
        .ok_or_else(|| format!("{base}: only http:// URLs"))?
        .trim_end_matches('/');
    let mut tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         x-api-key: {service_key}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw).await.map_err(|e| e.to_string())?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no HTTP answer: {raw:.200}"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line: {head:.100}"))?;
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Err("chunked answers are not supported".to_owned());
    }
    Ok((status, body.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_any_hs256_library() {
        // The signature must verify with the same secret: recompute it from the parts.
        let t = token("abc", "s3cret");
        let (signed, sig) = t.rsplit_once('.').unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(signed.as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(sig).unwrap())
            .unwrap();
        let claims: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(signed.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["sub"], "abc");
    }

    #[test]
    fn user_ids_look_like_object_ids() {
        let users = Users::new();
        assert_eq!(users.id(5).len(), 24);
        assert_ne!(users.id(5), users.id(6));
    }
}
