//! Field paths as a manifest spells them: `spec.backends[1].weight`.

use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// One step of a [`Path`] (the path type of smi-types' YAML reader).
pub use smi_types::yaml::Seg;

/// A field path. Displays as `spec.backends[1].weight`; keys that are not simple identifiers
/// display quoted: `metadata.annotations["example.com/x"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Path(Vec<Seg>);

impl From<Vec<Seg>> for Path {
    fn from(segs: Vec<Seg>) -> Path {
        Path(segs)
    }
}

impl Path {
    /// The empty (root) path.
    pub fn root() -> Self {
        Path(Vec::new())
    }
    /// Segments.
    pub fn segs(&self) -> &[Seg] {
        &self.0
    }
    /// `true` for the root.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Appends a segment.
    pub fn push(&mut self, s: Seg) {
        self.0.push(s)
    }
    /// Removes the last segment.
    pub fn pop(&mut self) -> Option<Seg> {
        self.0.pop()
    }
    /// The last segment, mutably.
    pub fn last_mut(&mut self) -> Option<&mut Seg> {
        self.0.last_mut()
    }
    /// A new path with a key appended.
    pub fn key(&self, k: &str) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_owned()));
        p
    }
    /// A new path with an index appended.
    pub fn index(&self, i: usize) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
    /// The value at this path.
    pub fn lookup<'v>(&self, mut v: &'v Value) -> Option<&'v Value> {
        for s in &self.0 {
            v = match s {
                Seg::Key(k) => v.as_object()?.get(k)?,
                Seg::Index(i) => v.as_array()?.get(*i)?,
            };
        }
        Some(v)
    }
}

fn simple(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'$')
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if simple(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Key(k) => write!(f, "[{}]", serde_json::Value::from(k.as_str()))?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Error parsing a path string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid field path `{0}`")]
pub struct PathParseError(String);

impl FromStr for Path {
    type Err = PathParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || PathParseError(s.to_owned());
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'.' => i += 1,
                b'[' => {
                    let end = s[i..].find(']').ok_or_else(err)? + i;
                    let inner = &s[i + 1..end];
                    if inner.starts_with('"') {
                        // quoted key; find the closing `"]`
                        let close = s[i..].find("\"]").ok_or_else(err)? + i;
                        let k: String =
                            serde_json::from_str(&s[i + 1..close + 1]).map_err(|_| err())?;
                        out.push(Seg::Key(k));
                        i = close + 2;
                    } else {
                        out.push(Seg::Index(inner.parse().map_err(|_| err())?));
                        i = end + 1;
                    }
                }
                _ => {
                    let end = s[i..].find(['.', '[']).map_or(s.len(), |e| e + i);
                    out.push(Seg::Key(s[i..end].to_owned()));
                    i = end;
                }
            }
        }
        Ok(Path(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn round_trip() {
        for s in [
            "spec.backends[1].weight",
            "metadata.annotations[\"a.b/c\"]",
            "[0].x",
            "",
        ] {
            let p: Path = s.parse().unwrap();
            assert_eq!(p.to_string(), s);
        }
    }
}
