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

/// Reads an HPACK integer with an `n`-bit prefix at `b[*i..]`; `None` when truncated or above
/// 2^28 (no header field this client reads is that long).
fn get_int(b: &[u8], i: &mut usize, n: u8) -> Option<usize> {
    let max = (1usize << n) - 1;
    let mut v = usize::from(*b.get(*i)?) & max;
    *i += 1;
    if v < max {
        return Some(v);
    }
    for shift in (0..28).step_by(7) {
        let byte = *b.get(*i)?;
        *i += 1;
        v += usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The header block `b` with every Huffman-coded string literal replaced by its plain octets
/// (`Ok(None)`: there was none, use `b` as it is); `Err` when the block is malformed.
///
/// `loona-hpack` keeps the decoder's dynamic table, but builds its Huffman code table anew for
/// every Huffman string (hash maps of 257 entries, about 20 µs: most of the client's CPU per
/// response in the first profile); `httlib-huffman` decodes with precomputed tables.
pub(crate) fn unhuffman(b: &[u8]) -> Result<Option<Vec<u8>>, ()> {
    // A first pass: is there any Huffman string at all?
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        let first = b[i];
        let strings = if first & 0x80 != 0 {
            get_int(b, &mut i, 7).ok_or(())?;
            0
        } else if first & 0xc0 == 0x40 {
            let idx = get_int(b, &mut i, 6).ok_or(())?;
            if idx == 0 { 2 } else { 1 }
        } else if first & 0xe0 == 0x20 {
            get_int(b, &mut i, 5).ok_or(())?;
            0
        } else {
            let idx = get_int(b, &mut i, 4).ok_or(())?;
            if idx == 0 { 2 } else { 1 }
        };
        for _ in 0..strings {
            let start = i;
            let huff = *b.get(i).ok_or(())? & 0x80 != 0;
            let len = get_int(b, &mut i, 7).ok_or(())?;
            let end = i.checked_add(len).filter(|&e| e <= b.len()).ok_or(())?;
            if huff {
                let o = out.get_or_insert_with(|| Vec::with_capacity(b.len() * 2));
                o.extend_from_slice(&b[copied..start]);
                let mut plain = Vec::with_capacity(len * 8 / 5 + 1);
                httlib_huffman::decode(
                    &b[i..end],
                    &mut plain,
                    httlib_huffman::DecoderSpeed::FourBits,
                )
                .map_err(|_| ())?;
                put_str(o, &plain);
                copied = end;
            }
            i = end;
        }
    }
    Ok(out.map(|mut o| {
        o.extend_from_slice(&b[copied..]);
        o
    }))
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
    fn huffman_strings_are_replaced_by_their_octets() {
        // RFC 7541 C.4.1: `:method GET`, `:scheme http`, `:path /`, `:authority` Huffman-coded.
        let block = [
            0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab,
            0x90, 0xf4, 0xff,
        ];
        let plain = unhuffman(&block).unwrap().unwrap();
        let mut d = loona_hpack::Decoder::new();
        let a = d.decode(&plain).unwrap();
        let mut d = loona_hpack::Decoder::new();
        assert_eq!(a, d.decode(&block).unwrap());
        assert_eq!(a[3], (b":authority".to_vec(), b"www.example.com".to_vec()));
        // No Huffman string: nothing to rewrite. Truncated or bad input: an error, no panic.
        assert_eq!(unhuffman(&[0x82, 0x86]), Ok(None));
        for cut in 0..block.len() - 1 {
            let _ = unhuffman(&block[..cut]);
        }
        assert_eq!(unhuffman(&[0x41, 0x85, 0xff]), Err(()));
        assert_eq!(unhuffman(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Err(()));
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
