//! From a verified token's claims to an `Identity`. The applications moving onto this server
//! name the user id differently (`sub`, `userId`, `id`, `_id`) and some issue numeric ids, so
//! the reading is deliberately lenient about names and types, and strict about the result.

use serde_json::{Map, Value};

use crate::domain::{Identity, Role, UserId};
use crate::ports::TokenError;

/// Claim names that may carry the user id, most standard first.
const USER_ID_CLAIMS: [&str; 4] = ["sub", "userId", "id", "_id"];

pub(super) fn identity_from(claims: &Map<String, Value>) -> Result<Identity, TokenError> {
    let raw = USER_ID_CLAIMS
        .iter()
        .find_map(|name| claims.get(*name).and_then(id_text))
        .ok_or(TokenError::NoUserId)?;
    let user_id = UserId::parse(raw)
        .map_err(|err| TokenError::Invalid(format!("the token's user id is unusable: {err}")))?;
    Ok(Identity {
        user_id,
        name: text(claims, "name"),
        email: text(claims, "email"),
        role: text(claims, "role").as_deref().and_then(Role::new),
    })
}

/// A claim counts as an id when it is a non-blank string or an integer; `null`, objects and
/// fractions are treated as absent so that the next claim name gets its turn.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

fn text(claims: &Map<String, Value>, name: &str) -> Option<String> {
    match claims.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(claims: Value) -> Result<Identity, TokenError> {
        match claims {
            Value::Object(map) => identity_from(&map),
            _ => unreachable!("tests pass objects"),
        }
    }

    #[test]
    fn each_id_claim_name_is_understood() {
        for name in USER_ID_CLAIMS {
            let identity = read(json!({ name: "u-42" })).unwrap();
            assert_eq!(identity.user_id.as_str(), "u-42", "{name}");
        }
    }

    #[test]
    fn the_first_present_id_claim_wins() {
        let identity = read(json!({ "id": "third", "userId": "second", "_id": "4th" })).unwrap();
        assert_eq!(identity.user_id.as_str(), "second");
        let identity = read(json!({ "sub": null, "userId": "", "id": "third" })).unwrap();
        assert_eq!(identity.user_id.as_str(), "third");
    }

    #[test]
    fn numeric_ids_become_decimal_strings() {
        assert_eq!(read(json!({ "id": 42 })).unwrap().user_id.as_str(), "42");
        assert_eq!(read(json!({ "sub": -7 })).unwrap().user_id.as_str(), "-7");
        assert_eq!(read(json!({ "id": 1.5 })), Err(TokenError::NoUserId));
    }

    #[test]
    fn no_id_claim_is_no_user_id() {
        assert_eq!(read(json!({ "name": "Ann" })), Err(TokenError::NoUserId));
        assert_eq!(
            read(json!({ "sub": { "x": 1 } })),
            Err(TokenError::NoUserId)
        );
    }

    #[test]
    fn an_unusable_id_is_invalid() {
        assert!(matches!(
            read(json!({ "sub": "has space" })),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn profile_claims_fill_the_identity() {
        let identity =
            read(json!({ "sub": "u1", "name": "Ann", "email": "a@x.io", "role": " Doctor " }))
                .unwrap();
        assert_eq!(identity.name.as_deref(), Some("Ann"));
        assert_eq!(identity.email.as_deref(), Some("a@x.io"));
        assert_eq!(identity.role, Role::new("doctor"));
        let bare = read(json!({ "sub": "u1", "name": 5, "role": "" })).unwrap();
        assert_eq!(bare, Identity::bare(UserId::parse("u1").unwrap()));
    }
}
