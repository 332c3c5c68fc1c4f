//! Open-ended data that the domain carries without interpreting, such as a notification's
//! extra fields. A small tree of values, so the core stays free of any JSON library.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub enum DataValue {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<DataValue>),
    Map(BTreeMap<String, DataValue>),
}

impl DataValue {
    pub fn empty_map() -> Self {
        DataValue::Map(BTreeMap::new())
    }

    /// Builds a map from string pairs: the common case for data the core makes itself.
    pub fn map_of<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Self {
        DataValue::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), DataValue::String(v)))
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&DataValue> {
        match self {
            DataValue::Map(m) => m.get(key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            DataValue::String(s) => Some(s),
            _ => None,
        }
    }
}
