//! The histogram codec: HdrHistogram V2 + deflate, base64, as results carry it
//! (`histogram.encoding: HdrHistogram-V2-deflate-base64`), decoded with bounds so that a result
//! file cannot make the decoder allocate without limit.

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use smi_types::perf::{EncodedHistogram, HISTOGRAM_ENCODING};

use crate::error::{Error, Result};

/// Encodes a histogram as HdrHistogram V2 + deflate, base64.
pub fn encode_histogram(h: &Histogram<u64>) -> Result<EncodedHistogram> {
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .map_err(|e| Error::Histogram(e.to_string()))?;
    Ok(EncodedHistogram {
        encoding: HISTOGRAM_ENCODING.into(),
        data: base64::engine::general_purpose::STANDARD.encode(buf),
    })
}

/// Decodes an [`EncodedHistogram`].
pub fn decode_histogram(e: &EncodedHistogram) -> Result<Histogram<u64>> {
    if e.encoding != HISTOGRAM_ENCODING {
        return Err(Error::Histogram(format!(
            "unknown encoding {:?}",
            e.encoding
        )));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&e.data)
        .map_err(|err| Error::Histogram(err.to_string()))?;
    let v2 = inflate_bounded(&bytes)?;
    // hdrhistogram zero-fills the payload length the header declares before reading it: a
    // 60-byte input could make it allocate 4 GiB (fuzz/FINDINGS.md F1). Check it first.
    let declared = v2
        .get(4..8)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(|| Error::Histogram("histogram header is truncated".into()))?;
    let present = v2.len().saturating_sub(V2_HEADER_LEN);
    if declared > present {
        return Err(Error::Histogram(format!(
            "histogram declares a {declared}-byte payload but only {present} bytes follow"
        )));
    }
    Deserializer::new()
        .deserialize(&mut v2.as_slice())
        .map_err(|err| Error::Histogram(err.to_string()))
}

/// Size of the V2 header before the counts payload.
const V2_HEADER_LEN: usize = 40;
/// Cookie of the deflate-compressed V2 form (HdrHistogram's `0x1c849304 | 0x10`).
const V2_COMPRESSED_COOKIE: [u8; 4] = 0x1c84_9314_u32.to_be_bytes();
/// Inflated V2 histograms larger than this are refused (a 60 s, 3-digit histogram is ~50 KiB).
const MAX_INFLATED_HISTOGRAM: u64 = 64 << 20;

/// The uncompressed V2 bytes of `bytes` (inflated with a size cap when compressed).
fn inflate_bounded(bytes: &[u8]) -> Result<Vec<u8>> {
    use std::io::Read as _;
    if bytes.get(..4) != Some(&V2_COMPRESSED_COOKIE[..]) {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(bytes.get(8..).unwrap_or_default())
        .take(MAX_INFLATED_HISTOGRAM + 1)
        .read_to_end(&mut out)
        .map_err(|err| Error::Histogram(format!("histogram does not inflate: {err}")))?;
    if out.len() as u64 > MAX_INFLATED_HISTOGRAM {
        return Err(Error::Histogram(format!(
            "inflated histogram is larger than {MAX_INFLATED_HISTOGRAM} bytes"
        )));
    }
    Ok(out)
}
