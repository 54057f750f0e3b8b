//! HTTPRouteGroup `headers`: an ordered map that reads both wire forms (trap 1 of the spec).

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The two shapes `headers` takes on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HeadersForm {
    /// `headers: [{user-agent: ".*Android.*"}, {cookie: "…"}]` — what smi-sdk-go marshals and what
    /// its CRDs (and OSM's copies) accept.
    #[default]
    List,
    /// `headers: {user-agent: ".*Android.*", cookie: "…"}` — the current spec docs and
    /// smi-controller-sdk.
    Map,
}

static DEFAULT_FORM: AtomicU8 = AtomicU8::new(0);

/// Header conditions of an `HTTPMatch`: header name → regular expression for its value.
///
/// Deserializes both the list-of-one-key-maps form and the map form, keeps the header order,
/// and remembers the form it was read in so that a round-trip writes the same form back.
/// Values built in code use [`HttpHeaders::default_form`] (the list form unless changed with
/// [`HttpHeaders::set_default_form`]) unless a form is set with [`HttpHeaders::with_form`].
///
/// Equality compares entries (order-insensitive) and the remembered form.
///
/// ```
/// use smi_types::headers::{HeadersForm, HttpHeaders};
/// let list: HttpHeaders = serde_json::from_str(r#"[{"user-agent": ".*Android.*"}]"#).unwrap();
/// let map: HttpHeaders = serde_json::from_str(r#"{"user-agent": ".*Android.*"}"#).unwrap();
/// assert_eq!(list.get("user-agent"), map.get("user-agent"));
/// assert_eq!(map.form(), Some(HeadersForm::Map));
/// assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"user-agent":".*Android.*"}"#);
/// let built = HttpHeaders::new().header("cookie", "type=insider");
/// assert_eq!(serde_json::to_string(&built).unwrap(), r#"[{"cookie":"type=insider"}]"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpHeaders {
    entries: IndexMap<String, String>,
    form: Option<HeadersForm>,
}

impl HttpHeaders {
    /// No headers; serialized in the default form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a header condition, keeping insertion order.
    pub fn header(mut self, name: impl Into<String>, value_regex: impl Into<String>) -> Self {
        self.entries.insert(name.into(), value_regex.into());
        self
    }

    /// Fixes the form this value serializes in.
    pub fn with_form(mut self, form: HeadersForm) -> Self {
        self.form = Some(form);
        self
    }

    /// The form this value was read in or set to (`None`: the global default applies).
    pub fn form(&self) -> Option<HeadersForm> {
        self.form
    }

    /// The form used when serializing (own form, else the global default).
    pub fn effective_form(&self) -> HeadersForm {
        self.form.unwrap_or_else(Self::default_form)
    }

    /// Sets the process-wide default form for values without a form of their own.
    pub fn set_default_form(form: HeadersForm) {
        DEFAULT_FORM.store(u8::from(form == HeadersForm::Map), Ordering::Relaxed);
    }

    /// The process-wide default form ([`HeadersForm::List`] unless changed).
    pub fn default_form() -> HeadersForm {
        if DEFAULT_FORM.load(Ordering::Relaxed) == 1 {
            HeadersForm::Map
        } else {
            HeadersForm::List
        }
    }

    /// The regex for header `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries.get(name).map(String::as_str)
    }

    /// Header conditions in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of header conditions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no header conditions.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl FromIterator<(String, String)> for HttpHeaders {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        HttpHeaders {
            entries: iter.into_iter().collect(),
            form: None,
        }
    }
}

struct One<'a>(&'a str, &'a str);

impl Serialize for One<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(1))?;
        m.serialize_entry(self.0, self.1)?;
        m.end()
    }
}

impl Serialize for HttpHeaders {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.effective_form() {
            HeadersForm::List => {
                let mut seq = serializer.serialize_seq(Some(self.entries.len()))?;
                for (k, v) in &self.entries {
                    seq.serialize_element(&One(k, v))?;
                }
                seq.end()
            }
            HeadersForm::Map => {
                let mut m = serializer.serialize_map(Some(self.entries.len()))?;
                for (k, v) in &self.entries {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
    }
}

struct HeadersVisitor;

impl<'de> Visitor<'de> for HeadersVisitor {
    type Value = HttpHeaders;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("headers as a list of one-key maps or as a map of header name to regex")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<HttpHeaders, A::Error> {
        let mut entries = IndexMap::new();
        while let Some(item) = seq.next_element::<IndexMap<String, String>>()? {
            if item.len() != 1 {
                return Err(de::Error::custom(format!(
                    "each item of the headers list must have exactly one key, found {}",
                    item.len()
                )));
            }
            for (k, v) in item {
                if entries.insert(k.clone(), v).is_some() {
                    return Err(de::Error::custom(format!("duplicate header `{k}`")));
                }
            }
        }
        Ok(HttpHeaders {
            entries,
            form: Some(HeadersForm::List),
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HttpHeaders, A::Error> {
        let mut entries = IndexMap::new();
        while let Some((k, v)) = map.next_entry::<String, String>()? {
            if entries.insert(k.clone(), v).is_some() {
                return Err(de::Error::custom(format!("duplicate header `{k}`")));
            }
        }
        Ok(HttpHeaders {
            entries,
            form: Some(HeadersForm::Map),
        })
    }
}

impl<'de> Deserialize<'de> for HttpHeaders {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(HeadersVisitor)
    }
}

/// The schema is the list form, the only one smi-sdk-go-based meshes can read (see the crate docs,
/// "Decisions"): structural CRD schemas cannot express "array or object" at one node.
impl JsonSchema for HttpHeaders {
    fn schema_name() -> Cow<'static, str> {
        "HttpHeaders".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Header conditions, all of which must hold: a list of one-key objects, header name -> regular expression for its value.",
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "minProperties": 1,
                "maxProperties": 1
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_multi_key_items_and_duplicates() {
        assert!(serde_json::from_str::<HttpHeaders>(r#"[{"a":"1","b":"2"}]"#).is_err());
        assert!(serde_json::from_str::<HttpHeaders>(r#"[{"a":"1"},{"a":"2"}]"#).is_err());
        assert!(serde_json::from_str::<HttpHeaders>("3").is_err());
    }

    #[test]
    fn global_default_form_applies_to_values_without_a_form() {
        let built = HttpHeaders::new().header("a", "1");
        let read: HttpHeaders = serde_json::from_str(r#"[{"a":"1"}]"#).unwrap();
        HttpHeaders::set_default_form(HeadersForm::Map);
        let map = serde_json::to_string(&built).unwrap();
        let still_list = serde_json::to_string(&read).unwrap();
        HttpHeaders::set_default_form(HeadersForm::List);
        assert_eq!(map, r#"{"a":"1"}"#);
        assert_eq!(still_list, r#"[{"a":"1"}]"#);
        assert_eq!(serde_json::to_string(&built).unwrap(), r#"[{"a":"1"}]"#);
    }

    #[test]
    fn keeps_order_and_form() {
        let src = r#"[{"z":"1"},{"a":"2"}]"#;
        let h: HttpHeaders = serde_json::from_str(src).unwrap();
        assert_eq!(serde_json::to_string(&h).unwrap(), src);
        let src = r#"{"z":"1","a":"2"}"#;
        let h: HttpHeaders = serde_json::from_str(src).unwrap();
        assert_eq!(serde_json::to_string(&h).unwrap(), src);
        let list = h.clone().with_form(HeadersForm::List);
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            r#"[{"z":"1"},{"a":"2"}]"#
        );
    }
}
