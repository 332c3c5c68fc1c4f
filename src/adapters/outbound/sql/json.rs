//! JSON encodings of the open-ended values (conversation context, message attachments,
//! notification data), as `serde_json::Value`s. Each SQL store keeps them in its own kind of
//! column (SQLite: JSON text, PostgreSQL: `jsonb`), and `JsonColumn` reads either back.
//! Written values are built as `Value`s, so encoding cannot fail; reading what does not have
//! the expected shape is `Corrupt`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::rows::corrupt;
use crate::adapters::json;
use crate::domain::{Attachment, ConversationContext, DataValue};
use crate::ports::StoreError;

/// A column that holds a JSON value, as the driver decodes it.
pub trait JsonColumn {
    /// The value; `what` names it in the `Corrupt` error when it does not parse.
    fn into_json(self, what: &str) -> Result<Value, StoreError>;
}

/// SQLite keeps JSON as text.
impl JsonColumn for String {
    fn into_json(self, what: &str) -> Result<Value, StoreError> {
        serde_json::from_str(&self).map_err(|e| corrupt(what, e))
    }
}

/// PostgreSQL's `jsonb` arrives parsed.
impl JsonColumn for Value {
    fn into_json(self, _what: &str) -> Result<Value, StoreError> {
        Ok(self)
    }
}

pub fn context_to_json(context: &ConversationContext) -> Value {
    let map = context
        .iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect();
    Value::Object(map)
}

pub fn context_from_json(raw: impl JsonColumn) -> Result<ConversationContext, StoreError> {
    const WHAT: &str = "conversation context";
    let map: BTreeMap<String, String> =
        serde_json::from_value(raw.into_json(WHAT)?).map_err(|e| corrupt(WHAT, e))?;
    ConversationContext::new(map).map_err(|e| corrupt(WHAT, e))
}

#[derive(Deserialize)]
struct AttachmentJson {
    url: String,
    kind: String,
    name: String,
    size: u64,
}

pub fn attachments_to_json(attachments: &[Attachment]) -> Value {
    let items = attachments
        .iter()
        .map(|a| json!({ "url": a.url, "kind": a.kind, "name": a.name, "size": a.size }))
        .collect();
    Value::Array(items)
}

pub fn attachments_from_json(raw: impl JsonColumn) -> Result<Vec<Attachment>, StoreError> {
    const WHAT: &str = "message attachments";
    let rows: Vec<AttachmentJson> =
        serde_json::from_value(raw.into_json(WHAT)?).map_err(|e| corrupt(WHAT, e))?;
    Ok(rows
        .into_iter()
        .map(|a| Attachment {
            url: a.url,
            kind: a.kind,
            name: a.name,
            size: a.size,
        })
        .collect())
}

/// Notification data from its column, by the rules of `crate::adapters::json` (which also
/// writes it).
pub fn data_from_json(raw: impl JsonColumn) -> Result<DataValue, StoreError> {
    Ok(json::data_from_json(&raw.into_json("notification data")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_values_survive_json_text_and_values() {
        let data = DataValue::Map(BTreeMap::from([
            ("n".to_string(), DataValue::Number(1.5)),
            ("b".to_string(), DataValue::Bool(true)),
            ("z".to_string(), DataValue::Null),
            (
                "l".to_string(),
                DataValue::List(vec![DataValue::String("x".into())]),
            ),
        ]));
        assert_eq!(
            data_from_json(json::data_to_json(&data).to_string()).unwrap(),
            data
        );
        assert_eq!(data_from_json(json::data_to_json(&data)).unwrap(), data);
    }

    #[test]
    fn unreadable_json_is_corrupt() {
        assert!(matches!(
            data_from_json("{".to_string()),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            context_from_json(json!([1])),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            attachments_from_json(json!({ "url": "x" })),
            Err(StoreError::Corrupt(_))
        ));
    }
}
