//! HTTP/2 framing (RFC 9113 §4, §6) and the one HPACK representation the client sends (RFC 7541
//! §6.2.2, literal without indexing, no Huffman): what the hand-written HTTP/2 lane
//! ([`super::h2`]) writes and the frame header it reads. No state here.

/// The client connection preface.
pub(crate) const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Bytes of a frame header.
pub(crate) const HEAD_LEN: usize = 9;

/// Frame types.
pub(crate) mod kind {
    pub(crate) const DATA: u8 = 0;
    pub(crate) const HEADERS: u8 = 1;
    pub(crate) const RST_STREAM: u8 = 3;
    pub(crate) const SETTINGS: u8 = 4;
    pub(crate) const PUSH_PROMISE: u8 = 5;
    pub(crate) const PING: u8 = 6;
    pub(crate) const GOAWAY: u8 = 7;
    pub(crate) const WINDOW_UPDATE: u8 = 8;
    pub(crate) const CONTINUATION: u8 = 9;
}

/// Frame flags.
pub(crate) mod flag {
    pub(crate) const END_STREAM: u8 = 0x1;
    pub(crate) const ACK: u8 = 0x1;
    pub(crate) const END_HEADERS: u8 = 0x4;
    pub(crate) const PADDED: u8 = 0x8;
    pub(crate) const PRIORITY: u8 = 0x20;
}

/// Settings identifiers.
pub(crate) mod setting {
    pub(crate) const ENABLE_PUSH: u16 = 2;
    pub(crate) const MAX_CONCURRENT_STREAMS: u16 = 3;
    pub(crate) const INITIAL_WINDOW_SIZE: u16 = 4;
    pub(crate) const MAX_FRAME_SIZE: u16 = 5;
    pub(crate) const MAX_HEADER_LIST_SIZE: u16 = 6;
}

/// Error codes (RFC 9113 §7).
pub(crate) mod code {
    pub(crate) const PROTOCOL_ERROR: u32 = 1;
    pub(crate) const FLOW_CONTROL_ERROR: u32 = 3;
    pub(crate) const REFUSED_STREAM: u32 = 7;
    pub(crate) const FRAME_SIZE_ERROR: u32 = 6;
    pub(crate) const CANCEL: u32 = 8;
    pub(crate) const COMPRESSION_ERROR: u32 = 9;
}

/// Largest flow-control window (2^31 - 1).
pub(crate) const MAX_WINDOW: i64 = (1 << 31) - 1;

/// A frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) len: usize,
    pub(crate) kind: u8,
    pub(crate) flags: u8,
    pub(crate) stream: u32,
}

impl Head {
    /// Reads a frame header from the first [`HEAD_LEN`] bytes of `b` (the reserved bit of the
    /// stream identifier is ignored, as RFC 9113 §4.1 says).
    pub(crate) fn parse(b: &[u8]) -> Head {
        Head {
            len: (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]),
            kind: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }
}

/// Appends a frame header.
pub(crate) fn put_head(out: &mut Vec<u8>, len: usize, kind: u8, flags: u8, stream: u32) {
    debug_assert!(len < 1 << 24);
    out.extend_from_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags]);
    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
}

/// Appends a SETTINGS frame with `settings`.
pub(crate) fn put_settings(out: &mut Vec<u8>, settings: &[(u16, u32)]) {
    put_head(out, settings.len() * 6, kind::SETTINGS, 0, 0);
    for (id, v) in settings {
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Appends a WINDOW_UPDATE frame.
pub(crate) fn put_window_update(out: &mut Vec<u8>, stream: u32, increment: u32) {
    put_head(out, 4, kind::WINDOW_UPDATE, 0, stream);
    out.extend_from_slice(&(increment & 0x7fff_ffff).to_be_bytes());
}

/// Appends a RST_STREAM frame.
pub(crate) fn put_rst(out: &mut Vec<u8>, stream: u32, error: u32) {
    put_head(out, 4, kind::RST_STREAM, 0, stream);
    out.extend_from_slice(&error.to_be_bytes());
}

/// Appends a GOAWAY frame.
pub(crate) fn put_goaway(out: &mut Vec<u8>, last_stream: u32, error: u32) {
    put_head(out, 8, kind::GOAWAY, 0, 0);
    out.extend_from_slice(&(last_stream & 0x7fff_ffff).to_be_bytes());
    out.extend_from_slice(&error.to_be_bytes());
}

/// Appends an HPACK integer with an `n`-bit prefix; `first` holds the pattern bits above it.
fn put_int(out: &mut Vec<u8>, n: u8, first: u8, mut v: usize) {
    let max = (1usize << n) - 1;
    if v < max {
        out.push(first | v as u8);
        return;
    }
    out.push(first | max as u8);
    v -= max;
    while v >= 128 {
        out.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    out.push(v as u8);
}

/// Appends a string literal (no Huffman coding).
fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_int(out, 7, 0, s.len());
    out.extend_from_slice(s);
}

/// Appends a field as a literal without indexing: with the name given by static-table index
/// `name_index` when it is not 0, else with the name as a literal. The decoder keeps no state
/// for it, so a header block made of these can be encoded once and sent on every stream.
pub(crate) fn put_field(out: &mut Vec<u8>, name_index: usize, name: &[u8], value: &[u8]) {
    if name_index == 0 {
        out.push(0);
        put_str(out, name);
    } else {
        put_int(out, 4, 0, name_index);
    }
    put_str(out, value);
}

/// Static-table indexes (RFC 7541 Appendix A) of the request pseudo-header names.
pub(crate) mod name {
    pub(crate) const AUTHORITY: usize = 1;
    pub(crate) const METHOD: usize = 2;
    pub(crate) const PATH: usize = 4;
    pub(crate) const SCHEME: usize = 6;
}

/// A request header block, encoded once: the pseudo-header fields, then `headers` (names are
/// already lower case in an [`http::HeaderMap`]).
pub(crate) fn request_block(
    method: &str,
    scheme: &str,
    authority: &str,
    path: &str,
    headers: &http::HeaderMap,
) -> Vec<u8> {
    let mut b = Vec::with_capacity(64 + authority.len() + path.len());
    put_field(&mut b, name::METHOD, b"", method.as_bytes());
    put_field(&mut b, name::SCHEME, b"", scheme.as_bytes());
    put_field(&mut b, name::AUTHORITY, b"", authority.as_bytes());
    put_field(&mut b, name::PATH, b"", path.as_bytes());
    for (k, v) in headers {
        put_field(&mut b, 0, k.as_str().as_bytes(), v.as_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_block_decodes_to_its_fields() {
        let mut h = http::HeaderMap::new();
        h.insert(
            "x-long",
            http::HeaderValue::from_str(&"v".repeat(300)).unwrap(),
        );
        let block = request_block("GET", "http", "a:1", "/p", &h);
        let mut d = loona_hpack::Decoder::new();
        let got = d.decode(&block).unwrap();
        let want: Vec<(Vec<u8>, Vec<u8>)> = vec![
            (b":method".to_vec(), b"GET".to_vec()),
            (b":scheme".to_vec(), b"http".to_vec()),
            (b":authority".to_vec(), b"a:1".to_vec()),
            (b":path".to_vec(), b"/p".to_vec()),
            (b"x-long".to_vec(), "v".repeat(300).into_bytes()),
        ];
        assert_eq!(got, want);
        // Nothing was added to the decoder's dynamic table: the same block decodes the same.
        assert_eq!(d.decode(&block).unwrap(), want);
    }

    #[test]
    fn frame_heads_round_trip() {
        let mut b = Vec::new();
        put_head(
            &mut b,
            0x01_0203,
            kind::HEADERS,
            flag::END_HEADERS,
            0x8000_0005,
        );
        assert_eq!(b.len(), HEAD_LEN);
        assert_eq!(
            Head::parse(&b),
            Head {
                len: 0x01_0203,
                kind: kind::HEADERS,
                flags: flag::END_HEADERS,
                stream: 5
            }
        );
    }
}
