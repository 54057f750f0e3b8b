//! Target 9: the built-in HTTP/1.1 generator, closed loop and Open model — the event loop
//! (`smi_perf_engine::transport::h1loop`: non-blocking connects, partial writes, edge-triggered
//! reads, deadlines, the retry on a connection closed while idle, answers read at the timer's
//! wake-ups) and the task-per-connection driver — against a server that sends arbitrary bytes.
//!
//! Each input is a mode byte and what a server sends on every connection the client opens to it,
//! over loopback TCP. The server reads one request head, writes the bytes (in pieces of 1–15
//! bytes with a yield between them when mode bits 4–7 say so, so that answers arrive split),
//! then closes its side when mode bit 3 is set, or else keeps reading and drops what it reads.
//! The client is the engine itself: `run_plan` with a plan of 6 requests and a 100 ms request
//! timeout — mode bits 1–2: 0, 1, 2 a closed loop on 1–3 connections, 3 the Open model at
//! 200 requests a second on 2 — on the event loop or, with mode bit 0, on the
//! task-per-connection driver. Checked: no panic (a panicking loop thread or lane
//! fails the run with `LanePanicked`), no hang (the run ends within its own timeouts), and every
//! request counted exactly once (succeeded + failed + cut off = requested).
#![no_main]

use libfuzzer_sys::fuzz_target;
use smi_fuzz::conn::{drain, piece, run_counted, runtime, serve, write_in_pieces};
use smi_perf_engine::RunContext;
use smi_types::perf::{Duration as SpecDuration, LoadModel, PerformanceTestSpec, RequestSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Requests per run: two rounds on three connections, or a reconnect or two.
const REQUESTS: i64 = 6;

/// Reads from `s` until a request head (up to its blank line) arrived, or the client closed, or
/// it sent more than 64 KiB.
async fn await_request(s: &mut tokio::net::TcpStream) -> bool {
    let mut got = Vec::new();
    let mut sink = [0u8; 4096];
    loop {
        if got.windows(4).any(|w| w == b"\r\n\r\n") {
            return true;
        }
        match s.read(&mut sink).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&sink[..n]),
        }
        if got.len() > 64 << 10 {
            return false;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, wire)) = data.split_first() else {
        return;
    };
    let event_loop = mode & 1 == 0;
    let open = (mode >> 1) & 3 == 3;
    let connections = if open {
        2
    } else {
        1 + i32::from((mode >> 1) & 3)
    };
    let close = mode & 8 != 0;
    let piece = piece(mode);
    let wire = wire.to_vec();
    runtime().block_on(async {
        let (addr, server) = serve(move |mut s| {
            let wire = wire.clone();
            async move {
                if !await_request(&mut s).await || !write_in_pieces(&mut s, &wire, piece).await {
                    return;
                }
                if close {
                    let _ = s.shutdown().await;
                }
                drain(&mut s).await;
            }
        })
        .await;
        let mut spec = PerformanceTestSpec::http(format!("http://{addr}/"));
        if open {
            spec = spec.load_model(LoadModel::Open).rps(200);
        }
        let spec = spec
            .requests(REQUESTS)
            .connections(connections)
            .request(RequestSpec {
                timeout: Some(SpecDuration::new_unchecked("100ms")),
                ..Default::default()
            });
        let ctx = RunContext::default().with_event_loop(event_loop);
        run_counted(spec, ctx, REQUESTS).await;
        server.abort();
    });
});
