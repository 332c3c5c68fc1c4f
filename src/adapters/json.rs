//! The domain's open-ended data (`DataValue`) as JSON, with one set of rules for every
//! adapter that writes or reads it (REST bodies, socket payloads, SQL JSON columns, events
//! crossing to other nodes):
//! - a JSON number becomes an `f64`, so integers beyond ±2^53 round (send such ids as strings);
//! - a whole `f64` within ±2^53 is written as an integer (`3`, not `3.0`), as the
//!   JavaScript that sent it would, so that it reads back as it was sent;
//! - NaN and the infinities have no JSON form and are written as `null`;
//! - no string may hold a NUL (U+0000): PostgreSQL cannot store one in text or `jsonb`, so
//!   every store refuses it alike at the door (`contains_nul`).

use serde_json::{Number, Value};

use crate::domain::DataValue;

/// Every whole `f64` below this magnitude is an exact integer.
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;

pub fn data_from_json(value: &Value) -> DataValue {
    match value {
        Value::Null => DataValue::Null,
        Value::Bool(b) => DataValue::Bool(*b),
        // Every JSON number has an f64 reading (large integers round).
        Value::Number(n) => n.as_f64().map_or(DataValue::Null, DataValue::Number),
        Value::String(s) => DataValue::String(s.clone()),
        Value::Array(items) => DataValue::List(items.iter().map(data_from_json).collect()),
        Value::Object(map) => DataValue::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), data_from_json(v)))
                .collect(),
        ),
    }
}

pub fn data_to_json(value: &DataValue) -> Value {
    match value {
        DataValue::Null => Value::Null,
        DataValue::Bool(b) => Value::Bool(*b),
        DataValue::Number(n) => number_to_json(*n),
        DataValue::String(s) => Value::String(s.clone()),
        DataValue::List(items) => Value::Array(items.iter().map(data_to_json).collect()),
        DataValue::Map(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), data_to_json(v)))
                .collect(),
        ),
    }
}

fn number_to_json(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < EXACT_INTEGERS {
        #[allow(clippy::cast_possible_truncation)] // whole and within ±2^53: exact
        return Value::from(n as i64);
    }
    Number::from_f64(n).map_or(Value::Null, Value::Number)
}

/// What a client is told when its payload holds a NUL.
pub const NUL_REFUSED: &str = "strings must not contain NUL (U+0000) characters";

/// Whether any string of `value`, key or value, holds a NUL character. Linear in the size of
/// `value`, with its own stack rather than recursion.
pub fn contains_nul(value: &Value) -> bool {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::String(s) if s.contains('\0') => return true,
            Value::Array(items) => pending.extend(items),
            Value::Object(map) => {
                if map.keys().any(|k| k.contains('\0')) {
                    return true;
                }
                pending.extend(map.values());
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    fn round_trip(value: Value) -> Value {
        data_to_json(&data_from_json(&value))
    }

    #[test]
    fn integers_come_back_as_integers_up_to_two_to_the_53() {
        for n in [
            0i64,
            1,
            -7,
            42,
            9_007_199_254_740_991,
            -9_007_199_254_740_991,
        ] {
            let back = round_trip(json!(n));
            assert_eq!(back, json!(n), "{n}");
            assert!(back.is_i64(), "{n} came back as {back}");
        }
    }

    #[test]
    fn integers_beyond_two_to_the_53_round_and_stay_numbers() {
        // 2^53 + 1 has no f64: it reads as 2^53, which is written in float form.
        let back = round_trip(json!(9_007_199_254_740_993u64));
        assert_eq!(back.as_f64(), Some(9_007_199_254_740_992.0));
        assert_eq!(round_trip(json!(u64::MAX)).as_f64(), Some(u64::MAX as f64));
        assert_eq!(round_trip(json!(i64::MIN)).as_f64(), Some(i64::MIN as f64));
    }

    #[test]
    fn floats_keep_their_value() {
        for f in [1.25, -0.5, 1e300, -1e-300, 0.1] {
            assert_eq!(round_trip(json!(f)), json!(f), "{f}");
        }
        // A whole float is an integer on the wire, as JavaScript writes it.
        assert_eq!(data_to_json(&DataValue::Number(3.0)), json!(3));
        assert_eq!(data_to_json(&DataValue::Number(-0.0)), json!(0));
    }

    #[test]
    fn numbers_json_cannot_hold_become_null() {
        for n in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(data_to_json(&DataValue::Number(n)), Value::Null);
        }
    }

    #[test]
    fn nested_values_round_trip() {
        let value = json!({
            "s": "x", "b": false, "n": null, "i": 42, "neg": -7, "f": 1.25,
            "list": [1, "two", [3.5, { "deep": [] }]], "map": { "deep": { "er": true } },
            "empty": {}, "unicode": "héllo ✓",
        });
        assert_eq!(round_trip(value.clone()), value);
        let DataValue::Map(map) = data_from_json(&value) else {
            panic!("an object is a map");
        };
        assert_eq!(map.get("i"), Some(&DataValue::Number(42.0)));
        assert_eq!(
            data_from_json(&json!({ "a": { "b": [null] } })),
            DataValue::Map(BTreeMap::from([(
                "a".to_owned(),
                DataValue::Map(BTreeMap::from([(
                    "b".to_owned(),
                    DataValue::List(vec![DataValue::Null])
                )]))
            )]))
        );
    }

    #[test]
    fn nul_is_found_in_any_string_or_key() {
        assert!(!contains_nul(&json!({ "a": ["b", { "c": "d" }], "n": 1 })));
        assert!(contains_nul(&json!("a\0b")));
        assert!(contains_nul(&json!({ "a": [1, { "c": "x\0" }] })));
        assert!(contains_nul(&json!({ "k\0": 1 })));
    }
}
