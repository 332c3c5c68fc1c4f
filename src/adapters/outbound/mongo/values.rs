//! Domain values as BSON. Ids in the canonical ObjectId form (24 lowercase hex digits) are
//! stored as ObjectIds, as Mongoose stores them, and come back as the same string; any other
//! id is stored as a string. Times are BSON dates (milliseconds, like `Timestamp`), seqs are
//! 64-bit integers, and notification data is stored as the BSON value it reads as.

use std::collections::BTreeMap;

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime, Document};

pub(super) use crate::adapters::outbound::stored::corrupt;
use crate::domain::{ConversationContext, DataValue, Timestamp};
use crate::ports::{Page, StoreError};

/// Only the lowercase form becomes an ObjectId: `ObjectId::to_hex` writes lowercase, so an
/// uppercase id stored as an ObjectId would come back as a different string.
pub(super) fn id_to_bson(raw: &str) -> Bson {
    let canonical = raw.len() == 24 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    match canonical.then(|| ObjectId::parse_str(raw)) {
        Some(Ok(oid)) => Bson::ObjectId(oid),
        _ => Bson::String(raw.to_owned()),
    }
}

pub(super) fn ids_to_bson<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<Bson> {
    ids.into_iter().map(id_to_bson).collect()
}

pub(super) fn id_from_bson(value: &Bson) -> Result<String, StoreError> {
    match value {
        Bson::ObjectId(oid) => Ok(oid.to_hex()),
        Bson::String(s) => Ok(s.clone()),
        other => Err(corrupt("id of an unexpected BSON type", other)),
    }
}

/// Parses a stored id into a domain id type.
macro_rules! parse_id {
    ($ty:ty, $bson:expr) => {
        <$ty>::parse($crate::adapters::outbound::mongo::values::id_from_bson(
            &$bson,
        )?)
        .map_err(|e| $crate::adapters::outbound::mongo::values::corrupt(stringify!($ty), e))
    };
}
pub(super) use parse_id;

pub(super) fn date(at: Timestamp) -> DateTime {
    DateTime::from_millis(at.as_millis())
}

pub(super) fn timestamp(at: DateTime) -> Timestamp {
    Timestamp::from_millis(at.timestamp_millis())
}

/// How many documents a page skips, as the server takes it: a signed 64-bit count. Skipping
/// more than `i64::MAX` documents is skipping them all.
pub(super) fn skip_of(page: Page) -> u64 {
    page.skip.min(i64::MAX.unsigned_abs())
}

/// Context values are ids of other things (an order, a gig), so they are stored like ids.
pub(super) fn context_to_bson(context: &ConversationContext) -> Document {
    context
        .iter()
        .map(|(k, v)| (k.to_owned(), id_to_bson(v)))
        .collect()
}

pub(super) fn context_from_bson(stored: &Document) -> Result<ConversationContext, StoreError> {
    let pairs = stored
        .iter()
        .map(|(k, v)| Ok((k.clone(), id_from_bson(v)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    ConversationContext::new(pairs).map_err(|e| corrupt("conversation context", e))
}

pub(super) fn data_to_bson(value: &DataValue) -> Bson {
    match value {
        DataValue::Null => Bson::Null,
        DataValue::Bool(b) => Bson::Boolean(*b),
        DataValue::Number(n) => Bson::Double(*n),
        DataValue::String(s) => Bson::String(s.clone()),
        DataValue::List(items) => Bson::Array(items.iter().map(data_to_bson).collect()),
        DataValue::Map(map) => Bson::Document(
            map.iter()
                .map(|(k, v)| (k.clone(), data_to_bson(v)))
                .collect(),
        ),
    }
}

/// Reads what `data_to_bson` wrote, and the common types another program may have written
/// into a notification's data: integers become numbers, ObjectIds their hex string, dates
/// their ISO-8601 text. Anything else is `Corrupt`.
pub(super) fn data_from_bson(value: Bson) -> Result<DataValue, StoreError> {
    Ok(match value {
        Bson::Null | Bson::Undefined => DataValue::Null,
        Bson::Boolean(b) => DataValue::Bool(b),
        Bson::Double(n) => DataValue::Number(n),
        Bson::Int32(n) => DataValue::Number(f64::from(n)),
        // Integers beyond 2^53 round, as they do in JSON.
        #[allow(clippy::cast_precision_loss)]
        Bson::Int64(n) => DataValue::Number(n as f64),
        Bson::String(s) => DataValue::String(s),
        Bson::ObjectId(oid) => DataValue::String(oid.to_hex()),
        Bson::DateTime(at) => DataValue::String(
            at.try_to_rfc3339_string()
                .map_err(|e| corrupt("notification data date", e))?,
        ),
        Bson::Array(items) => DataValue::List(
            items
                .into_iter()
                .map(data_from_bson)
                .collect::<Result<_, _>>()?,
        ),
        Bson::Document(map) => DataValue::Map(
            map.into_iter()
                .map(|(k, v)| Ok((k, data_from_bson(v)?)))
                .collect::<Result<BTreeMap<_, _>, StoreError>>()?,
        ),
        other => {
            return Err(corrupt(
                "notification data of an unsupported BSON type",
                other,
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_object_ids_become_object_ids_and_come_back_the_same() {
        let hex = "507f1f77bcf86cd799439011";
        assert!(matches!(id_to_bson(hex), Bson::ObjectId(_)));
        assert_eq!(id_from_bson(&id_to_bson(hex)).unwrap(), hex);
        for other in [
            "507F1F77BCF86CD799439011",
            "507f1f77bcf86cd79943901",
            "u1",
            "",
        ] {
            assert_eq!(id_to_bson(other), Bson::String(other.to_owned()));
            assert_eq!(id_from_bson(&id_to_bson(other)).unwrap(), other);
        }
        assert!(matches!(
            id_from_bson(&Bson::Int32(1)),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn data_values_survive_bson() {
        let data = DataValue::Map(BTreeMap::from([
            ("n".to_string(), DataValue::Number(1.5)),
            ("b".to_string(), DataValue::Bool(true)),
            ("z".to_string(), DataValue::Null),
            (
                "l".to_string(),
                DataValue::List(vec![DataValue::String("x".into())]),
            ),
        ]));
        assert_eq!(data_from_bson(data_to_bson(&data)).unwrap(), data);
    }

    #[test]
    fn foreign_data_types_read_as_their_natural_values() {
        let oid = ObjectId::parse_str("507f1f77bcf86cd799439011").unwrap();
        assert_eq!(
            data_from_bson(Bson::Int64(7)).unwrap(),
            DataValue::Number(7.0)
        );
        assert_eq!(
            data_from_bson(Bson::ObjectId(oid)).unwrap(),
            DataValue::String("507f1f77bcf86cd799439011".into())
        );
        assert_eq!(
            data_from_bson(Bson::DateTime(DateTime::from_millis(0))).unwrap(),
            DataValue::String("1970-01-01T00:00:00Z".into())
        );
        assert!(matches!(
            data_from_bson(Bson::MinKey),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn context_values_are_stored_like_ids() {
        let context = ConversationContext::new([
            (
                "orderId".to_string(),
                "507f1f77bcf86cd799439011".to_string(),
            ),
            ("gigId".to_string(), "g-1".to_string()),
        ])
        .unwrap();
        let stored = context_to_bson(&context);
        assert!(matches!(stored.get("orderId"), Some(Bson::ObjectId(_))));
        assert_eq!(context_from_bson(&stored).unwrap(), context);
    }
}
