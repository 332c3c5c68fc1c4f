//! `JwtVerifier`: checks a token's signature with the key its header's `alg` calls for
//! (the shared secret for HS256/384/512, the RSA public key for RS256/384/512 and PS*), then
//! its time claims, then reads the identity out of its claims.
//!
//! `exp` is checked only when present: the Node servers being replaced issue tokens without
//! one, and their clients must keep working. `aud` and `iss` are not checked, as the Node
//! servers did not check them either.

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::claims::identity_from;
use crate::domain::Identity;
use crate::ports::{TokenError, TokenVerifier};

/// Clock skew tolerance above one day is a misconfiguration, and an enormous one would make
/// the library's `now - leeway` underflow.
const MAX_LEEWAY_SECS: u64 = 86_400;
/// Real tokens are a few hundred bytes; refuse megabyte "tokens" before decoding them.
const MAX_TOKEN_LEN: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum JwtSetupError {
    #[error("no JWT key configured: set a secret (HS256) and/or an RSA public key (RS256)")]
    NoKey,
    #[error("the JWT secret is empty")]
    EmptySecret,
    #[error("the JWT public key is not an RSA public key in PEM form: {0}")]
    BadPublicKey(String),
}

pub struct JwtVerifier {
    secret: Option<DecodingKey>,
    public_key: Option<DecodingKey>,
    leeway_secs: u64,
}

impl JwtVerifier {
    /// At least one of `secret` and `rsa_public_pem` must be given; tokens are accepted for
    /// the algorithms whose key is configured.
    ///
    /// # Errors
    /// `NoKey` with neither key, `EmptySecret` for an empty secret, `BadPublicKey` for a PEM
    /// that is not an RSA public key.
    pub fn new(
        secret: Option<&[u8]>,
        rsa_public_pem: Option<&[u8]>,
        leeway: Duration,
    ) -> Result<Self, JwtSetupError> {
        if secret.is_none() && rsa_public_pem.is_none() {
            return Err(JwtSetupError::NoKey);
        }
        let secret = match secret {
            Some([]) => return Err(JwtSetupError::EmptySecret),
            Some(bytes) => Some(DecodingKey::from_secret(bytes)),
            None => None,
        };
        let public_key = rsa_public_pem
            .map(DecodingKey::from_rsa_pem)
            .transpose()
            .map_err(|err| JwtSetupError::BadPublicKey(err.to_string()))?;
        Ok(Self {
            secret,
            public_key,
            leeway_secs: leeway.as_secs().min(MAX_LEEWAY_SECS),
        })
    }

    fn key_for(&self, alg: Algorithm) -> Result<&DecodingKey, TokenError> {
        let key = match alg.family() {
            AlgorithmFamily::Hmac => self.secret.as_ref(),
            AlgorithmFamily::Rsa => self.public_key.as_ref(),
            AlgorithmFamily::Ec | AlgorithmFamily::Ed => None,
        };
        key.ok_or_else(|| TokenError::Invalid(format!("{alg:?} tokens are not accepted")))
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        // Tokens without `exp` are valid (see the module doc); `exp` is still checked when
        // present because `validate_exp` stays on.
        validation.required_spec_claims.clear();
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.leeway = self.leeway_secs;
        validation
    }
}

impl TokenVerifier for JwtVerifier {
    fn verify(&self, token: &str) -> Result<Identity, TokenError> {
        let token = token.trim();
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid("token too long".into()));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|err| rejected(err.kind()))?;
        let key = self.key_for(header.alg)?;
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, key, &self.validation(header.alg))
                .map_err(|err| rejected(err.kind()))?;
        identity_from(&data.claims)
    }
}

/// Short reasons for clients and logs; the library's own messages are Debug dumps.
fn rejected(kind: &ErrorKind) -> TokenError {
    let reason = match kind {
        ErrorKind::ExpiredSignature => return TokenError::Expired,
        ErrorKind::InvalidSignature => "bad signature".to_owned(),
        ErrorKind::ImmatureSignature => "token not valid yet (nbf)".to_owned(),
        ErrorKind::InvalidAlgorithm => "algorithm does not match the key".to_owned(),
        ErrorKind::InvalidClaimFormat(claim) => format!("malformed claim {claim}"),
        ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_)
        | ErrorKind::InvalidAlgorithmName => "malformed token".to_owned(),
        other => format!("token rejected ({other:?})"),
    };
    TokenError::Invalid(reason)
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header, encode, get_current_timestamp};
    use serde_json::json;

    use super::*;

    const SECRET: &[u8] = b"test-secret";
    const RSA_PRIVATE: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/jwt/rs256_test_private.pem"
    ));
    const RSA_PUBLIC: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/jwt/rs256_test_public.pem"
    ));

    fn hs256(claims: Value, secret: &[u8]) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    fn rs256(claims: Value) -> String {
        let key = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap();
        encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
    }

    fn hs_verifier() -> JwtVerifier {
        JwtVerifier::new(Some(SECRET), None, Duration::from_secs(30)).unwrap()
    }

    fn both_verifier() -> JwtVerifier {
        JwtVerifier::new(
            Some(SECRET),
            Some(RSA_PUBLIC.as_bytes()),
            Duration::from_secs(30),
        )
        .unwrap()
    }

    fn in_secs(delta: i64) -> u64 {
        get_current_timestamp().saturating_add_signed(delta)
    }

    #[test]
    fn hs256_token_gives_the_identity() {
        let token = hs256(
            json!({ "sub": "u1", "name": "Ann", "role": "Patient", "exp": in_secs(600) }),
            SECRET,
        );
        let identity = hs_verifier().verify(&token).unwrap();
        assert_eq!(identity.user_id.as_str(), "u1");
        assert_eq!(identity.name.as_deref(), Some("Ann"));
        assert_eq!(
            identity.role.map(|r| r.as_str().to_owned()).as_deref(),
            Some("patient")
        );
    }

    #[test]
    fn every_id_claim_name_is_accepted() {
        for name in ["sub", "userId", "id", "_id"] {
            let token = hs256(json!({ name: "66f1234567890abcdef01234" }), SECRET);
            let identity = hs_verifier().verify(&token).unwrap();
            assert_eq!(
                identity.user_id.as_str(),
                "66f1234567890abcdef01234",
                "{name}"
            );
        }
    }

    #[test]
    fn numeric_user_ids_are_accepted() {
        let token = hs256(json!({ "id": 17 }), SECRET);
        assert_eq!(hs_verifier().verify(&token).unwrap().user_id.as_str(), "17");
    }

    #[test]
    fn tokens_without_exp_are_accepted() {
        let token = hs256(json!({ "userId": "u1", "iat": in_secs(-86_400) }), SECRET);
        assert!(hs_verifier().verify(&token).is_ok());
    }

    #[test]
    fn expired_tokens_are_expired() {
        let token = hs256(json!({ "sub": "u1", "exp": in_secs(-3_600) }), SECRET);
        assert_eq!(hs_verifier().verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn leeway_tolerates_a_just_expired_token() {
        let token = hs256(json!({ "sub": "u1", "exp": in_secs(-10) }), SECRET);
        assert!(hs_verifier().verify(&token).is_ok());
        let strict = JwtVerifier::new(Some(SECRET), None, Duration::ZERO).unwrap();
        assert_eq!(strict.verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn not_yet_valid_tokens_are_invalid() {
        let token = hs256(json!({ "sub": "u1", "nbf": in_secs(3_600) }), SECRET);
        assert!(matches!(
            hs_verifier().verify(&token),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn a_wrong_secret_is_invalid() {
        let token = hs256(json!({ "sub": "u1" }), b"another-secret");
        assert_eq!(
            hs_verifier().verify(&token),
            Err(TokenError::Invalid("bad signature".into()))
        );
    }

    #[test]
    fn malformed_tokens_are_invalid() {
        for token in ["", "abc", "a.b.c", "not a token at all", "e30.e30."] {
            assert!(
                matches!(hs_verifier().verify(token), Err(TokenError::Invalid(_))),
                "{token:?}"
            );
        }
        let huge = "a".repeat(MAX_TOKEN_LEN + 1);
        assert!(matches!(
            hs_verifier().verify(&huge),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn a_malformed_exp_is_invalid() {
        let token = hs256(json!({ "sub": "u1", "exp": "tomorrow" }), SECRET);
        assert!(matches!(
            hs_verifier().verify(&token),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn a_valid_token_without_user_id_is_no_user_id() {
        let token = hs256(json!({ "name": "Ann", "exp": in_secs(600) }), SECRET);
        assert_eq!(hs_verifier().verify(&token), Err(TokenError::NoUserId));
    }

    #[test]
    fn rs256_tokens_verify_with_the_public_key() {
        let token = rs256(json!({ "sub": "doc-1", "role": "doctor", "exp": in_secs(600) }));
        let identity = both_verifier().verify(&token).unwrap();
        assert_eq!(identity.user_id.as_str(), "doc-1");
        // The same verifier still takes HS256 tokens: the header picks the key.
        let token = hs256(json!({ "sub": "u1" }), SECRET);
        assert!(both_verifier().verify(&token).is_ok());
    }

    #[test]
    fn rs256_expired_and_tampered_tokens_are_refused() {
        let verifier = both_verifier();
        let expired = rs256(json!({ "sub": "doc-1", "exp": in_secs(-3_600) }));
        assert_eq!(verifier.verify(&expired), Err(TokenError::Expired));

        let token = rs256(json!({ "sub": "doc-1" }));
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let forged_claims = hs256(json!({ "sub": "admin" }), SECRET);
        let forged_payload = forged_claims.split('.').nth(1).unwrap();
        let header = signed.split('.').next().unwrap();
        let forged = format!("{header}.{forged_payload}.{signature}");
        assert!(matches!(
            verifier.verify(&forged),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn an_algorithm_without_its_key_is_refused() {
        let rs_only =
            JwtVerifier::new(None, Some(RSA_PUBLIC.as_bytes()), Duration::from_secs(30)).unwrap();
        let token = hs256(json!({ "sub": "u1" }), SECRET);
        assert!(matches!(
            rs_only.verify(&token),
            Err(TokenError::Invalid(_))
        ));
        let token = rs256(json!({ "sub": "u1" }));
        assert!(matches!(
            hs_verifier().verify(&token),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn setup_needs_a_usable_key() {
        let leeway = Duration::from_secs(30);
        assert!(matches!(
            JwtVerifier::new(None, None, leeway),
            Err(JwtSetupError::NoKey)
        ));
        assert!(matches!(
            JwtVerifier::new(Some(b""), None, leeway),
            Err(JwtSetupError::EmptySecret)
        ));
        assert!(matches!(
            JwtVerifier::new(None, Some(b"not a pem"), leeway),
            Err(JwtSetupError::BadPublicKey(_))
        ));
    }
}
