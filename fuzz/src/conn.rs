//! Shared pieces of the connection targets (`h1_conn`, `h2_conn`): the runtime, a loopback
//! server that hands every connection to the target's own handler, writing in pieces, draining,
//! and the engine's run with its count check.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use smi_perf_engine::{Registry, RunContext, RunPlan, run_plan};
use smi_types::perf::PerformanceTestSpec;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The targets' current-thread runtime, made once.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime")
    })
}

/// The piece size a mode byte's bits 4–7 give: 0, the whole input at once; else that many bytes
/// with a yield between pieces (so that what the client reads arrives split).
pub fn piece(mode: u8) -> usize {
    match mode >> 4 {
        0 => usize::MAX,
        n => usize::from(n),
    }
}

/// A loopback listener whose every connection runs `handle`: its address and the accepting task
/// (abort it when the run is over).
pub async fn serve<F, Fut>(handle: F) -> (SocketAddr, JoinHandle<()>)
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    let server = tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(handle(s));
        }
    });
    (addr, server)
}

/// Writes `bytes` to `s` in pieces of `piece` bytes (see [`piece`]); `false` when the client is
/// gone.
pub async fn write_in_pieces(s: &mut TcpStream, bytes: &[u8], piece: usize) -> bool {
    for chunk in bytes.chunks(piece.min(bytes.len().max(1))) {
        if s.write_all(chunk).await.is_err() {
            return false;
        }
        if piece != usize::MAX {
            tokio::task::yield_now().await;
        }
    }
    true
}

/// Reads until the client closes: closing with its bytes unread would reset the connection, and
/// the client could lose what was sent before the reset.
pub async fn drain(s: &mut TcpStream) {
    let mut sink = [0u8; 4096];
    while let Ok(n) = s.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
}

/// Runs `spec` with `ctx` on the engine (`run_plan`) and checks what a misbehaving server must
/// never cause: a failed run (a panic in the engine fails it with `LanePanicked`), a run that
/// does not end within its own timeouts (8 s: every request of these specs ends within its
/// 100 ms timeout, a retry on a new connection included), or a request counted other than once
/// (succeeded + failed + cut off = `requests`).
pub async fn run_counted(spec: PerformanceTestSpec, ctx: RunContext, requests: i64) {
    let plan = RunPlan::from_spec(&spec).expect("a valid plan");
    let registry = Registry::with_builtins();
    let run = run_plan(&registry, plan, "", "", ctx);
    let result = tokio::time::timeout(Duration::from_secs(8), run)
        .await
        .expect("the run ends within its timeouts");
    let r = result.expect("a misbehaving server fails requests, not the run");
    let rec = &r.record;
    assert_eq!(
        rec.requests_succeeded + rec.requests_failed + rec.requests_cut_off,
        requests,
        "{rec:?}"
    );
}
