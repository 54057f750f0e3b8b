//! The wire [`Protocol`] and the target [`Endpoint`]s (B.4 rule 5).

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Wire protocol of the test traffic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Protocol {
    /// HTTP/1.1 (default).
    #[default]
    #[serde(rename = "HTTP")]
    Http,
    /// HTTP/2: h2c with prior knowledge over `http://`, ALPN `h2` over `https://`.
    #[serde(rename = "HTTP2")]
    Http2,
    /// gRPC (over HTTP/2).
    #[serde(rename = "GRPC")]
    Grpc,
    /// Raw TCP: send the payload, read back the expected number of bytes.
    #[serde(rename = "TCP")]
    Tcp,
    /// Raw UDP datagrams.
    #[serde(rename = "UDP")]
    Udp,
}

impl Protocol {
    /// The wire name (`"HTTP2"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "HTTP",
            Protocol::Http2 => "HTTP2",
            Protocol::Grpc => "GRPC",
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no [`Protocol`].
///
/// ```
/// use smi_types::perf::{Protocol, ProtocolError};
/// assert_eq!("h2".parse::<Protocol>(), Ok(Protocol::Http2));
/// let e = "quic".parse::<Protocol>().unwrap_err();
/// assert_eq!(e, ProtocolError { input: "quic".into() });
/// assert!(e.to_string().starts_with("unknown protocol \"quic\""));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown protocol {input:?} (expected HTTP, HTTP2, GRPC, TCP or UDP)")]
pub struct ProtocolError {
    /// The rejected input.
    pub input: String,
}

impl FromStr for Protocol {
    type Err = ProtocolError;
    /// Case-insensitive; accepts `http1`/`h2` aliases.
    fn from_str(s: &str) -> Result<Self, ProtocolError> {
        match s.to_ascii_uppercase().as_str() {
            "HTTP" | "HTTP1" | "HTTP/1.1" | "H1" => Ok(Protocol::Http),
            "HTTP2" | "H2" | "HTTP/2" | "H2C" => Ok(Protocol::Http2),
            "GRPC" => Ok(Protocol::Grpc),
            "TCP" => Ok(Protocol::Tcp),
            "UDP" => Ok(Protocol::Udp),
            _ => Err(ProtocolError {
                input: s.to_owned(),
            }),
        }
    }
}

/// Why a string is not an endpoint (of a protocol). Every variant carries the rejected input.
///
/// ```
/// use smi_types::perf::{Endpoint, EndpointError, Protocol};
/// let e = Endpoint::parse_for(Protocol::Tcp, "tcp://127.0.0.1").unwrap_err();
/// assert_eq!(e, EndpointError::NeedsPort { input: "tcp://127.0.0.1".into() });
/// assert_eq!(e.to_string(), r#""tcp://127.0.0.1" needs a port"#);
/// assert_eq!(e.input(), "tcp://127.0.0.1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// The scheme before `://` is empty or not `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
    #[error("{input:?} has an invalid scheme")]
    InvalidScheme {
        /// The rejected input.
        input: String,
    },
    /// `user:password@` in the authority.
    #[error("{input:?}: credentials in the URL are not supported")]
    Credentials {
        /// The rejected input.
        input: String,
    },
    /// `[` without its `]`.
    #[error("{input:?}: unclosed '['")]
    UnclosedBracket {
        /// The rejected input.
        input: String,
    },
    /// Something between `[` and `]` that is no IPv6 address.
    #[error("{input:?}: invalid IPv6 address")]
    InvalidIpv6 {
        /// The rejected input.
        input: String,
    },
    /// Something other than `:port` after `]`.
    #[error("{input:?}: junk after ']'")]
    JunkAfterBracket {
        /// The rejected input.
        input: String,
    },
    /// No host.
    #[error("{input:?} has an empty host")]
    EmptyHost {
        /// The rejected input.
        input: String,
    },
    /// A host with white space or a stray `:`.
    #[error("{input:?} has an invalid host")]
    InvalidHost {
        /// The rejected input.
        input: String,
    },
    /// A port that is not a number in 1–65535.
    #[error("{input:?}: port {port:?} is not in 1–65535")]
    InvalidPort {
        /// The rejected input.
        input: String,
        /// The port as written.
        port: String,
    },
    /// Neither a scheme nor a port: not an absolute URL nor `host:port`.
    #[error("{input:?} is not an absolute URL")]
    NotAbsolute {
        /// The rejected input.
        input: String,
    },
    /// A bare `host:port` where the protocol needs a scheme.
    #[error("{input:?} has no scheme; {protocol} needs one of {allowed:?}")]
    NoScheme {
        /// The rejected input.
        input: String,
        /// The protocol it was parsed for.
        protocol: Protocol,
        /// The schemes that protocol accepts.
        allowed: &'static [&'static str],
    },
    /// A scheme the protocol does not accept.
    #[error("scheme {scheme:?} is not allowed for {protocol} (allowed: {allowed:?})")]
    SchemeNotAllowed {
        /// The rejected input.
        input: String,
        /// Its (lower-case) scheme.
        scheme: String,
        /// The protocol it was parsed for.
        protocol: Protocol,
        /// The schemes that protocol accepts.
        allowed: &'static [&'static str],
    },
    /// A TCP, UDP or bare gRPC endpoint without a port.
    #[error("{input:?} needs a port")]
    NeedsPort {
        /// The rejected input.
        input: String,
    },
}

impl EndpointError {
    /// The rejected input.
    pub fn input(&self) -> &str {
        match self {
            EndpointError::InvalidScheme { input }
            | EndpointError::Credentials { input }
            | EndpointError::UnclosedBracket { input }
            | EndpointError::InvalidIpv6 { input }
            | EndpointError::JunkAfterBracket { input }
            | EndpointError::EmptyHost { input }
            | EndpointError::InvalidHost { input }
            | EndpointError::InvalidPort { input, .. }
            | EndpointError::NotAbsolute { input }
            | EndpointError::NoScheme { input, .. }
            | EndpointError::SchemeNotAllowed { input, .. }
            | EndpointError::NeedsPort { input } => input,
        }
    }
}

/// A parsed endpoint: scheme, host, port and the path-and-query (B.4 rule 5).
///
/// ```
/// use smi_types::perf::{Endpoint, Protocol};
/// let e = Endpoint::parse_for(Protocol::Http, "http://[::1]:8080/a?b").unwrap();
/// assert_eq!((e.scheme.as_str(), e.host.as_str(), e.port, e.path.as_str()), ("http", "::1", Some(8080), "/a?b"));
/// assert!(Endpoint::parse_for(Protocol::Tcp, "tcp://127.0.0.1").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Lower-case scheme (`http`, `https`, `grpc`, `tcp`, `udp`; empty for a bare `host:port`).
    pub scheme: String,
    /// Host without IPv6 brackets.
    pub host: String,
    /// Port, when given.
    pub port: Option<u16>,
    /// Path and query (`/` when empty).
    pub path: String,
}

impl Endpoint {
    /// Parses `url` and checks the scheme is allowed for `protocol`.
    pub fn parse_for(protocol: Protocol, url: &str) -> Result<Endpoint, EndpointError> {
        let e = Endpoint::parse(url)?;
        let allowed: &[&str] = match protocol {
            Protocol::Http | Protocol::Http2 => &["http", "https"],
            Protocol::Grpc => &["http", "https", "grpc", ""],
            Protocol::Tcp => &["tcp"],
            Protocol::Udp => &["udp"],
        };
        if !allowed.contains(&e.scheme.as_str()) {
            return Err(if e.scheme.is_empty() {
                EndpointError::NoScheme {
                    input: url.to_owned(),
                    protocol,
                    allowed,
                }
            } else {
                EndpointError::SchemeNotAllowed {
                    input: url.to_owned(),
                    scheme: e.scheme,
                    protocol,
                    allowed,
                }
            });
        }
        if matches!(protocol, Protocol::Tcp | Protocol::Udp | Protocol::Grpc)
            && e.port.is_none()
            && (e.scheme == "tcp" || e.scheme == "udp" || e.scheme.is_empty())
        {
            return Err(EndpointError::NeedsPort {
                input: url.to_owned(),
            });
        }
        Ok(e)
    }

    /// Parses `scheme://host[:port][/path]` or a bare `host:port`.
    pub fn parse(url: &str) -> Result<Endpoint, EndpointError> {
        let (scheme, rest) = match url.find("://") {
            Some(i) => {
                let s = &url[..i];
                if s.is_empty()
                    || !s
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
                    || !s.as_bytes()[0].is_ascii_alphabetic()
                {
                    return Err(EndpointError::InvalidScheme { input: url.into() });
                }
                (s.to_ascii_lowercase(), &url[i + 3..])
            }
            None => (String::new(), url),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.contains('@') {
            return Err(EndpointError::Credentials { input: url.into() });
        }
        let (host, port) = if let Some(r) = authority.strip_prefix('[') {
            let close = r
                .find(']')
                .ok_or_else(|| EndpointError::UnclosedBracket { input: url.into() })?;
            let host = &r[..close];
            if host.is_empty()
                || !host
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
            {
                return Err(EndpointError::InvalidIpv6 { input: url.into() });
            }
            let after = &r[close + 1..];
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| EndpointError::JunkAfterBracket { input: url.into() })?,
                ),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(EndpointError::EmptyHost { input: url.into() });
        }
        if host
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b == b':' && !authority.starts_with('['))
        {
            return Err(EndpointError::InvalidHost { input: url.into() });
        }
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u32>() {
                Ok(n) if (1..=65535).contains(&n) && !p.is_empty() => Some(n as u16),
                _ => {
                    return Err(EndpointError::InvalidPort {
                        input: url.into(),
                        port: p.into(),
                    });
                }
            },
        };
        if scheme.is_empty() && port.is_none() {
            return Err(EndpointError::NotAbsolute { input: url.into() });
        }
        let path = if path.is_empty() {
            "/".to_owned()
        } else {
            path.to_owned()
        };
        Ok(Endpoint {
            scheme,
            host: host.to_owned(),
            port,
            path,
        })
    }

    /// The port, or the scheme's default (80 for http, 443 for https/grpc).
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(match self.scheme.as_str() {
            "https" => 443,
            "grpc" => 443,
            _ => 80,
        })
    }

    /// `host:port`, bracketing IPv6 hosts.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port_or_default())
        } else {
            format!("{}:{}", self.host, self.port_or_default())
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::perf::v1alpha1::*;

    #[test]
    fn parse_errors_are_typed_and_keep_their_messages() {
        // The CLI and the engine print these; the texts are the ones the String errors had.
        let e = "quic".parse::<Protocol>().unwrap_err();
        assert_eq!(e.input, "quic");
        assert_eq!(
            e.to_string(),
            r#"unknown protocol "quic" (expected HTTP, HTTP2, GRPC, TCP or UDP)"#
        );
        for (protocol, url, msg) in [
            (
                Protocol::Http,
                "1http://x/",
                r#""1http://x/" has an invalid scheme"#,
            ),
            (
                Protocol::Http,
                "http://u@x/",
                r#""http://u@x/": credentials in the URL are not supported"#,
            ),
            (
                Protocol::Http,
                "http://[::1/",
                r#""http://[::1/": unclosed '['"#,
            ),
            (
                Protocol::Http,
                "http://[zz]/",
                r#""http://[zz]/": invalid IPv6 address"#,
            ),
            (
                Protocol::Http,
                "http://[::1]x/",
                r#""http://[::1]x/": junk after ']'"#,
            ),
            (
                Protocol::Http,
                "http:///",
                r#""http:///" has an empty host"#,
            ),
            (
                Protocol::Http,
                "http://a b/",
                r#""http://a b/" has an invalid host"#,
            ),
            (
                Protocol::Http,
                "http://x:0/",
                r#""http://x:0/": port "0" is not in 1–65535"#,
            ),
            (Protocol::Grpc, "x", r#""x" is not an absolute URL"#),
            (
                Protocol::Http,
                "x:80",
                r#""x:80" has no scheme; HTTP needs one of ["http", "https"]"#,
            ),
            (
                Protocol::Tcp,
                "udp://x:1",
                r#"scheme "udp" is not allowed for TCP (allowed: ["tcp"])"#,
            ),
            (Protocol::Udp, "udp://x", r#""udp://x" needs a port"#),
        ] {
            let e = Endpoint::parse_for(protocol, url).unwrap_err();
            assert_eq!((e.input(), e.to_string().as_str()), (url, msg));
        }
        let ratio = Threshold::max(ThresholdMetric::ErrorRate, "x");
        let rps = Threshold::min(ThresholdMetric::Rps, "x");
        let p99 = Threshold::max(ThresholdMetric::LatencyP99, "x");
        for (t, limit, err, msg) in [
            (
                &ratio,
                "x",
                LimitError::NotANumber { input: "x".into() },
                r#""x" is not a number"#,
            ),
            (
                &ratio,
                "1.5",
                LimitError::NotARatio {
                    input: "1.5".into(),
                },
                "1.5 is not in [0, 1]",
            ),
            (
                &rps,
                "-1",
                LimitError::Negative { input: "-1".into() },
                "-1 is negative",
            ),
        ] {
            let e = t.parse_limit(limit).unwrap_err();
            assert_eq!((e.input(), e.to_string().as_str()), (limit, msg));
            assert_eq!(e, err);
        }
        let e = p99.parse_limit("1.5s").unwrap_err();
        assert_eq!(e.input(), "1.5s");
        assert!(
            matches!(&e, LimitError::Duration(d) if d.input == "1.5s"),
            "{e:?}"
        );
        assert!(
            e.to_string().starts_with(r#"invalid duration "1.5s""#),
            "{e}"
        );
    }
}
