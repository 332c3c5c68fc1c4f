//! Generated client input: JSON values of every kind, weighted towards the near-valid (the
//! field names a dialect reads, ids that look real and ids of things that exist, the values
//! enumerated fields take) with plain noise mixed in: numbers at and past every bound,
//! strings with control characters, NUL, unicode and great length, nesting beyond what the
//! JSON parser admits.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Map, Number, Value, json};

use super::vocabulary::{ALL, WORDS};
use crate::adapters::inbound::dialects::fixtures::{ALICE, BOB, ROOM};

/// The ids worth guessing: the fixtures' and those of `existing` things (conversations,
/// users) a target set up, so that some requests get past "not found".
pub fn ids(existing: &[&str]) -> Vec<String> {
    [ALICE, BOB, ROOM]
        .iter()
        .chain(existing)
        .map(|id| (*id).to_owned())
        .collect()
}

/// An id: one of `known`, one of the shapes families use (ObjectId, UUID, a short name), or
/// a near miss (blank, whitespace inside, one character too long).
pub fn id(known: Vec<String>) -> BoxedStrategy<String> {
    let near_miss = (
        select(known.clone()),
        select(&["", " ", "\n", "\0", "\u{85}"][..]),
    )
        .prop_map(|(id, extra)| format!("{id}{extra}"));
    prop_oneof![
        6 => select(known),
        2 => "[0-9a-f]{24}",
        1 => "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        1 => "[a-zA-Z0-9_-]{1,12}",
        1 => near_miss,
        1 => select(&["", " ", "a b"][..]).prop_map(str::to_owned),
        1 => (128usize..=129).prop_map(|n| "a".repeat(n)),
    ]
    .boxed()
}

/// Any string a client might send, ids and enumerated words most often.
pub fn string(known: Vec<String>) -> BoxedStrategy<String> {
    let edge = select(
        &[
            "",
            " ",
            "\t\n",
            "\0",
            "a\0b",
            "\u{202e}evil",
            "\u{feff}",
            "😀",
            "\u{7f}",
            "\\u0000",
        ][..],
    )
    .prop_map(str::to_owned);
    // Strings with a NUL are refused before anything else looks at the payload, so they
    // are kept rare enough for most payloads to get further.
    prop_oneof![
        12 => id(known),
        8 => select(WORDS).prop_map(str::to_owned),
        // Printable unicode.
        8 => any::<String>(),
        // Any characters, control ones and NUL among them.
        1 => vec(any::<char>(), 0..16).prop_map(String::from_iter),
        2 => edge,
        // Very long: past the id limit, the body limit, the frame limit.
        1 => (100usize..20_000, any::<char>()).prop_map(|(n, c)| c.to_string().repeat(n)),
    ]
    .boxed()
}

/// Numbers at the bounds the readers check (negative, fractional, past u32 and u64, huge
/// floats) and ordinary small ones.
pub fn number() -> BoxedStrategy<Value> {
    let edges = select(vec![
        json!(0),
        json!(-1),
        json!(1),
        json!(-0.0),
        json!(0.5),
        json!(20),
        json!(200),
        json!(201),
        json!(u32::MAX),
        json!(u64::from(u32::MAX) + 1),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(9_007_199_254_740_993_u64),
        json!(1e300),
        json!(-1e300),
        json!(5e-324),
    ]);
    prop_oneof![
        3 => (0u64..300).prop_map(Value::from),
        2 => edges,
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        // NaN and the infinities have no JSON form: they come out as null.
        1 => any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
    ]
    .boxed()
}

/// An object key: mostly a field `fields` names, sometimes another parser's, sometimes
/// anything.
pub fn key(fields: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        6 => select(fields).prop_map(str::to_owned),
        2 => select(ALL).prop_map(str::to_owned),
        1 => "[a-zA-Z_]{1,12}",
        1 => any::<String>(),
    ]
    .boxed()
}

/// Any JSON value, nested a few levels, with objects keyed mostly by `fields`.
pub fn value(fields: &'static [&'static str], known: Vec<String>) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => number(),
        5 => string(known).prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            1 => vec(inner.clone(), 0..6).prop_map(Value::Array),
            2 => object(fields, inner),
        ]
    })
    .boxed()
}

/// A value for a field a parser reads: a scalar of the kinds fields hold most often, now
/// and then anything.
pub fn field_value(fields: &'static [&'static str], known: Vec<String>) -> BoxedStrategy<Value> {
    prop_oneof![
        8 => id(known.clone()).prop_map(Value::String),
        3 => select(WORDS).prop_map(Value::from),
        2 => number(),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        // Lists of ids (participants, media).
        1 => vec(id(known.clone()), 0..4).prop_map(Value::from),
        2 => value(fields, known),
    ]
    .boxed()
}

/// The near-valid shape: an object holding each of `fields` or not, with a stray key or
/// two.
pub fn shaped(fields: &'static [&'static str], known: Vec<String>) -> BoxedStrategy<Value> {
    let entries: Vec<_> = fields
        .iter()
        .map(|field| {
            option::weighted(0.7, field_value(fields, known.clone()))
                .prop_map(move |value| value.map(|v| ((*field).to_owned(), v)))
        })
        .collect();
    let stray = vec((key(fields), value(fields, known)), 0..2);
    (entries, stray)
        .prop_map(|(entries, stray)| {
            Value::Object(entries.into_iter().flatten().chain(stray).collect())
        })
        .boxed()
}

/// An object of `fields`-ish keys with values from `values`.
pub fn object(
    fields: &'static [&'static str],
    values: impl Strategy<Value = Value> + 'static,
) -> BoxedStrategy<Value> {
    vec((key(fields), values), 0..8)
        .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>()))
        .boxed()
}

/// What a client sends as an event's argument or a request body: an object most often (of
/// the fields the parser reads, or of any keys), a bare id (as several events take), any
/// value, and now and then one nested deeper than the JSON parser admits (128 levels).
pub fn payload(fields: &'static [&'static str], known: Vec<String>) -> BoxedStrategy<Value> {
    let values = value(fields, known.clone());
    prop_oneof![
        6 => shaped(fields, known.clone()),
        2 => object(fields, values.clone()),
        3 => id(known).prop_map(Value::String),
        2 => values,
        1 => deep(),
    ]
    .boxed()
}

/// `example` (a valid payload) as is or changed a little, one to three times: a field
/// dropped, given another value, or one added; a bare value replaced or wrapped in an
/// object. Near-valid input gets past the first checks and finds the edges of the later
/// ones.
pub fn near(
    example: Value,
    fields: &'static [&'static str],
    known: Vec<String>,
) -> BoxedStrategy<Value> {
    let change = (
        0u8..4,
        any::<Index>(),
        key(fields),
        field_value(fields, known),
    );
    let base = example.clone();
    let changed = vec(change, 1..4).prop_map(move |changes| {
        changes
            .into_iter()
            .fold(base.clone(), |value, (op, at, key, new)| match value {
                Value::Object(mut map) if !map.is_empty() && op < 3 => {
                    let existing = map.keys().nth(at.index(map.len())).cloned();
                    match (op, existing) {
                        (0, Some(k)) => {
                            map.remove(&k);
                        }
                        (1, Some(k)) => {
                            map.insert(k, new);
                        }
                        _ => {
                            map.insert(key, new);
                        }
                    }
                    Value::Object(map)
                }
                Value::Object(mut map) => {
                    map.insert(key, new);
                    Value::Object(map)
                }
                other if op == 0 => json!({ key: other }),
                _ => new,
            })
    });
    prop_oneof![1 => Just(example), 3 => changed].boxed()
}

/// Arrays and objects nested 100 to 200 levels around a string.
pub fn deep() -> BoxedStrategy<Value> {
    (100usize..200, any::<bool>())
        .prop_map(|(depth, arrays)| {
            (0..depth).fold(json!("x"), |inner, _| {
                if arrays {
                    Value::Array(vec![inner])
                } else {
                    json!({ "text": inner })
                }
            })
        })
        .boxed()
}
