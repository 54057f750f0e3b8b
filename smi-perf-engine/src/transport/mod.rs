//! The built-in transports: each is a [`LaneFactory`](crate::LaneFactory) whose lanes send one
//! request at a time.
//!
//! | module | protocol | lanes |
//! | --- | --- | --- |
//! | [`h1`] | `HTTP` (generator `builtin`) | the engine's own HTTP/1.1 client: one keep-alive connection per endpoint per lane, requests encoded once, responses parsed with `httparse` |
//! | [`hyper_h1`] | `HTTP` (generator `hyper`) | hyper's HTTP/1.1 client, for comparison |
//! | [`h2`] | `HTTP2`, `gRPC` | the one HTTP/2 transport, hand-written on tokio (HPACK decoding by `loona-hpack`): `streamsPerConnection` lanes share a connection; plain requests ([`h2::Http2Exchange`]) and gRPC unary calls ([`grpc::GrpcExchange`]) ride it |
//! | [`grpc`] | `gRPC` | gRPC framing, the call `spec.grpc` describes, the answer's status |
//! | [`tcp`] | `TCP` | write the payload, read the expected bytes back |
//! | [`udp`] | `UDP` | one datagram out, the echo matched by sequence number |
//! | `tls` | | the rustls client configuration (feature `tls`) |
//!
//! Every connection-oriented transport dials through one dialer (TCP with `TCP_NODELAY`, then
//! TLS for `https`).

mod dial;
pub mod grpc;
pub mod h1;
mod h1loop;
pub mod h2;
mod h2frame;
pub mod hyper_h1;
#[cfg(target_os = "linux")]
mod riding;
pub mod tcp;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
pub mod udp;

/// Bytes of a request head as HTTP/1.1 writes it: the request line, `headers`, the blank line
/// and, with a body of `body` bytes, its `content-length` field (an estimate for HTTP/2, whose
/// header block is compressed).
pub(crate) fn head_len(
    method: &http::Method,
    path: &str,
    headers: &http::HeaderMap,
    body: usize,
) -> u64 {
    let fields: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    let length_field = if body == 0 {
        0
    } else {
        18 + body.to_string().len()
    };
    (method.as_str().len() + path.len() + 11 + fields + 2 + length_field) as u64
}
