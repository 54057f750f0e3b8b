//! Target 7: the built-in HTTP/1.1 lane's response reader (`smi_perf_engine::read_response`),
//! the engine's own parser of what a server sends back.
//!
//! The input is the byte stream a server would send on one keep-alive connection. Up to eight
//! responses are read from it in a row, as the lane would; the first input byte picks whether the
//! request was `HEAD` (no bodies). Checked: no panic, no hang (an in-memory stream never blocks,
//! so every loop must end on the end of input), the bytes said to be received never exceed the
//! input, and the read buffer stays within the documented bound (`MAX_HEAD` plus one read, with
//! growth slack) whatever lengths the input declares.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use smi_perf_engine::{MAX_HEAD, read_response};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, wire)) = data.split_first() else {
        return;
    };
    let head_method = mode & 1 == 1;
    runtime().block_on(async {
        let mut stream = wire;
        let mut buf = bytes::BytesMut::new();
        let mut total = 0u64;
        for _ in 0..8 {
            let Ok(r) = read_response(&mut stream, &mut buf, head_method).await else {
                break;
            };
            total += r.received;
            assert!(total <= wire.len() as u64, "{total} > {}", wire.len());
            assert!((200..=999).contains(&r.status), "{r:?}");
            if !r.keep_alive {
                break;
            }
        }
        assert!(
            buf.capacity() <= 4 * MAX_HEAD,
            "buffer grew to {}",
            buf.capacity()
        );
    });
});
