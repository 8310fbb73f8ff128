//! HTTP header maps that keep the sender's spelling but look up case-insensitively.

use std::collections::btree_map::{self, BTreeMap};
use std::fmt;

use serde::{Deserialize, Serialize};

/// A header map as SCF events carry it: a JSON object from header name to value.
///
/// The documented samples spell header names `Accept-Language`, real API Gateway events
/// send them lowercase (`accept-language`), so [`get`](Self::get) ignores ASCII case while
/// the map keeps every key exactly as it arrived, so that serializing gives back the same
/// JSON.
///
/// `V` is `String` for request headers and [`HeaderValue`] for response headers, where a
/// value may also be an array of strings.
///
/// ```
/// use scf_event::Headers;
///
/// let headers: Headers = serde_json::from_str(r#"{"content-type":"text/html"}"#).unwrap();
/// assert_eq!(headers.get("Content-Type").map(String::as_str), Some("text/html"));
/// assert_eq!(serde_json::to_string(&headers).unwrap(), r#"{"content-type":"text/html"}"#);
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Headers<V = String> {
    map: BTreeMap<String, V>,
}

impl<V> Default for Headers<V> {
    fn default() -> Self {
        Self {
            map: BTreeMap::new(),
        }
    }
}

impl<V: fmt::Debug> fmt::Debug for Headers<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.map.iter()).finish()
    }
}

impl<V> Headers<V> {
    /// An empty header map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of header `name`, ignoring ASCII case.
    ///
    /// An exact match wins; otherwise the first key (in byte order) equal to `name`
    /// ignoring case is used.
    pub fn get(&self, name: &str) -> Option<&V> {
        self.map.get(name).or_else(|| {
            self.map
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value)
        })
    }

    /// The value of header `name` as spelled exactly, case included.
    pub fn get_exact(&self, name: &str) -> Option<&V> {
        self.map.get(name)
    }

    /// Whether a header `name` exists, ignoring ASCII case.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets header `name` to `value`.
    ///
    /// Keys that differ from `name` only in case are removed first, so a map never holds
    /// two spellings of a header that was set through this method. Returns the previous
    /// value if there was one.
    pub fn insert(&mut self, name: impl Into<String>, value: V) -> Option<V> {
        let name = name.into();
        let previous = self.remove(&name);
        self.map.insert(name, value);
        previous
    }

    /// Removes every spelling of header `name`; returns the value of the one
    /// [`get`](Self::get) would have returned.
    pub fn remove(&mut self, name: &str) -> Option<V> {
        let keys: Vec<String> = self
            .map
            .keys()
            .filter(|key| key.eq_ignore_ascii_case(name))
            .cloned()
            .collect();
        let mut found = self.map.remove(name);
        for key in keys {
            let value = self.map.remove(&key);
            if found.is_none() {
                found = value;
            }
        }
        found
    }

    /// Number of header keys (spellings that differ in case count separately).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Iterates over `(name, value)` with names as they arrived.
    pub fn iter(&self) -> btree_map::Iter<'_, String, V> {
        self.map.iter()
    }

    /// The underlying map, keys as they arrived.
    pub fn as_map(&self) -> &BTreeMap<String, V> {
        &self.map
    }

    /// Consumes the headers and returns the underlying map.
    pub fn into_map(self) -> BTreeMap<String, V> {
        self.map
    }
}

impl<V> From<BTreeMap<String, V>> for Headers<V> {
    fn from(map: BTreeMap<String, V>) -> Self {
        Self { map }
    }
}

/// Collects pairs as they are, keeping every spelling (unlike [`Headers::insert`]).
impl<K: Into<String>, V> FromIterator<(K, V)> for Headers<V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self {
            map: iter.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        }
    }
}

impl<V> IntoIterator for Headers<V> {
    type Item = (String, V);
    type IntoIter = btree_map::IntoIter<String, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.into_iter()
    }
}

impl<'a, V> IntoIterator for &'a Headers<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = btree_map::Iter<'a, String, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.iter()
    }
}

/// A response header value: one string, or an array of strings for a header sent
/// several times (`"Set-Cookie": ["a=1", "b=2"]`).
///
/// Serializes back to the shape it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HeaderValue {
    /// `"Content-Type": "text/html"`
    Single(String),
    /// `"Key": ["value1", "value2"]`
    Multi(Vec<String>),
}

impl Default for HeaderValue {
    fn default() -> Self {
        Self::Single(String::new())
    }
}

impl HeaderValue {
    /// Every value, in order: one for [`Single`](Self::Single), all for
    /// [`Multi`](Self::Multi).
    pub fn values(&self) -> Vec<&str> {
        match self {
            Self::Single(value) => vec![value.as_str()],
            Self::Multi(values) => values.iter().map(String::as_str).collect(),
        }
    }

    /// The first value, if any.
    pub fn first(&self) -> Option<&str> {
        match self {
            Self::Single(value) => Some(value),
            Self::Multi(values) => values.first().map(String::as_str),
        }
    }
}

impl From<String> for HeaderValue {
    fn from(value: String) -> Self {
        Self::Single(value)
    }
}

impl From<&str> for HeaderValue {
    fn from(value: &str) -> Self {
        Self::Single(value.to_owned())
    }
}

impl From<Vec<String>> for HeaderValue {
    fn from(values: Vec<String>) -> Self {
        Self::Multi(values)
    }
}
