//! Target 8: the hand-written HTTP/2 transport (`smi_perf_engine::transport::h2`: frame layer,
//! HPACK decoding, flow control, stream bookkeeping, and the gRPC message scan on top) against a
//! server that sends arbitrary bytes.
//!
//! Each input is a mode byte and what a server sends on every connection the client opens to it,
//! over loopback TCP (the transport reads from a socket, not from a generic stream). The server
//! writes the first frame of the bytes, then (mode bit 3, when that frame is a whole SETTINGS)
//! waits until the client's first HEADERS frame arrived, as a server answers a request, then
//! writes the rest (in pieces of 1–15 bytes with a yield between them when mode bits 4–7 say so,
//! for partial frames), closes its side, and reads until the client closes. Without the wait,
//! the answers race the requests, and a frame for a stream the client has not opened yet is a
//! protocol error, as it should be.
//!
//! The client is the engine itself: `run_plan` with a closed-loop plan of 6 requests on one
//! connection shared by 1–3 lanes (mode bits 1–2), plain HTTP/2 or gRPC (mode bit 0), 100 ms
//! request timeout. So every path a run takes is the real one: handshake, stream starts,
//! reconnects after a dead connection, timeouts. Checked: no panic (a panicking connection task
//! would fail the run with `LanePanicked`), no hang (the run ends within its own timeouts), and
//! every request counted exactly once (succeeded + failed + cut off = requested).
#![no_main]

use libfuzzer_sys::fuzz_target;
use smi_fuzz::conn::{drain, piece, run_counted, runtime, serve, write_in_pieces};
use smi_perf_engine::RunContext;
use smi_types::perf::{Duration as SpecDuration, PerformanceTestSpec, RequestSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Requests per run: enough for two rounds on three lanes and a reconnect.
const REQUESTS: i64 = 6;

/// The length of the first frame of `wire` (its 9-byte head and payload) when `wire` holds it
/// whole.
fn first_frame_len(wire: &[u8]) -> Option<usize> {
    match wire {
        [a, b, c, ..] if wire.len() >= 9 => {
            Some(9 + u32::from_be_bytes([0, *a, *b, *c]) as usize).filter(|&n| n <= wire.len())
        }
        _ => None,
    }
}

/// Reads what the client sends (its 24-byte preface, then frames) until a whole HEADERS frame
/// arrived, or the client closed, or it sent more than 1 MiB.
async fn await_request(s: &mut tokio::net::TcpStream) {
    let mut got = Vec::new();
    let mut sink = [0u8; 4096];
    loop {
        let mut at = 24;
        while let Some(head) = got.get(at..at + 9) {
            let end = at + 9 + u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            if got.len() < end {
                break;
            }
            if head[3] == 1 {
                return;
            }
            at = end;
        }
        match s.read(&mut sink).await {
            Ok(0) | Err(_) => return,
            Ok(n) => got.extend_from_slice(&sink[..n]),
        }
        if got.len() > 1 << 20 {
            return;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, wire)) = data.split_first() else {
        return;
    };
    let grpc = mode & 1 == 1;
    let lanes = 1 + i32::from((mode >> 1) & 3) % 3;
    let wait = mode & 8 != 0;
    let piece = piece(mode);
    let wire = wire.to_vec();
    runtime().block_on(async {
        let (addr, server) = serve(move |mut s| {
            let wire = wire.clone();
            async move {
                let first = first_frame_len(&wire).unwrap_or(wire.len());
                if s.write_all(&wire[..first]).await.is_err() {
                    return;
                }
                // Only a whole SETTINGS frame lets the client start a request: after any other
                // first frame (or part of one) there is no request to wait for.
                if wait && first_frame_len(&wire).is_some() && wire[3..5] == [4, 0] {
                    await_request(&mut s).await;
                }
                if !write_in_pieces(&mut s, &wire[first..], piece).await {
                    return;
                }
                let _ = s.shutdown().await;
                drain(&mut s).await;
            }
        })
        .await;
        let url = format!("http://{addr}/");
        let spec = if grpc {
            PerformanceTestSpec::grpc(url)
        } else {
            PerformanceTestSpec::http2(url)
        }
        .requests(REQUESTS)
        .connections(1)
        .streams_per_connection(lanes)
        .request(RequestSpec {
            timeout: Some(SpecDuration::new_unchecked("100ms")),
            ..Default::default()
        });
        // The timeout is short because inputs that stall the client are common and legitimate
        // (`SETTINGS_MAX_CONCURRENT_STREAMS` 0, a window never opened): those requests time
        // out, and should, at a cost of one timeout each.
        run_counted(spec, RunContext::default(), REQUESTS).await;
        server.abort();
    });
});
