//! JSON encodings of the open-ended columns (conversation context, message attachments,
//! notification data) and of id lists passed as one parameter. Written values are built as
//! `serde_json::Value`s, so encoding cannot fail; reading what does not parse is `Corrupt`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::rows::corrupt;
use crate::domain::{Attachment, ConversationContext, DataValue};
use crate::ports::StoreError;

/// A list of ids as a JSON array, for `IN (SELECT value FROM json_each(?))`: one statement
/// text whatever the list's length, so it stays prepared.
pub(super) fn json_list<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    Value::Array(ids.into_iter().map(|s| Value::String(s.into())).collect()).to_string()
}

pub(super) fn context_to_json(context: &ConversationContext) -> String {
    let map = context
        .iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect();
    Value::Object(map).to_string()
}

pub(super) fn context_from_json(raw: &str) -> Result<ConversationContext, StoreError> {
    let map: BTreeMap<String, String> =
        serde_json::from_str(raw).map_err(|e| corrupt("conversation context", e))?;
    ConversationContext::new(map).map_err(|e| corrupt("conversation context", e))
}

#[derive(Deserialize)]
struct AttachmentJson {
    url: String,
    kind: String,
    name: String,
    size: u64,
}

pub(super) fn attachments_to_json(attachments: &[Attachment]) -> String {
    let items = attachments
        .iter()
        .map(|a| json!({ "url": a.url, "kind": a.kind, "name": a.name, "size": a.size }))
        .collect();
    Value::Array(items).to_string()
}

pub(super) fn attachments_from_json(raw: &str) -> Result<Vec<Attachment>, StoreError> {
    let rows: Vec<AttachmentJson> =
        serde_json::from_str(raw).map_err(|e| corrupt("message attachments", e))?;
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

pub(super) fn data_to_text(value: &DataValue) -> String {
    data_to_json(value).to_string()
}

pub(super) fn data_from_text(raw: &str) -> Result<DataValue, StoreError> {
    let value: Value = serde_json::from_str(raw).map_err(|e| corrupt("notification data", e))?;
    Ok(data_from_json(value))
}

/// JSON has no NaN or infinity: such numbers are stored as `null`.
fn data_to_json(value: &DataValue) -> Value {
    match value {
        DataValue::Null => Value::Null,
        DataValue::Bool(b) => Value::Bool(*b),
        DataValue::Number(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
        DataValue::String(s) => Value::String(s.clone()),
        DataValue::List(items) => Value::Array(items.iter().map(data_to_json).collect()),
        DataValue::Map(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), data_to_json(v)))
                .collect(),
        ),
    }
}

fn data_from_json(value: Value) -> DataValue {
    match value {
        Value::Null => DataValue::Null,
        Value::Bool(b) => DataValue::Bool(b),
        // Every JSON number has an f64 reading (large integers round).
        Value::Number(n) => n.as_f64().map_or(DataValue::Null, DataValue::Number),
        Value::String(s) => DataValue::String(s),
        Value::Array(items) => DataValue::List(items.into_iter().map(data_from_json).collect()),
        Value::Object(map) => DataValue::Map(
            map.into_iter()
                .map(|(k, v)| (k, data_from_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_values_survive_json() {
        let data = DataValue::Map(BTreeMap::from([
            ("n".to_string(), DataValue::Number(1.5)),
            ("b".to_string(), DataValue::Bool(true)),
            ("z".to_string(), DataValue::Null),
            (
                "l".to_string(),
                DataValue::List(vec![DataValue::String("x".into())]),
            ),
        ]));
        assert_eq!(data_from_text(&data_to_text(&data)).unwrap(), data);
    }

    #[test]
    fn numbers_json_cannot_hold_become_null() {
        assert_eq!(data_to_json(&DataValue::Number(f64::NAN)), Value::Null);
    }

    #[test]
    fn unreadable_json_is_corrupt() {
        assert!(matches!(data_from_text("{"), Err(StoreError::Corrupt(_))));
        assert!(matches!(
            context_from_json("[1]"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
