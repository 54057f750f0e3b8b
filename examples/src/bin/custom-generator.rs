//! A load generator plug-in written outside the engine crate: Redis-style `PING` → `+PONG`
//! over TCP, plugged into a run of the perf engine. The example brings its own tiny loopback
//! server that answers `PING`, so it needs nothing else running.
//!
//! ```text
//! cargo run -p examples --bin custom-generator -- --duration 2s --connections 4
//! ```
//!
//! It shows the three pieces a plug-in author writes:
//!
//! 1. a [`Lane`]: one connection that sends a request and waits for the whole answer;
//! 2. a [`LaneFactory`]: the lanes of each connection of the plan;
//! 3. the [`LoadGenerator`] itself: a registry name, its [`Capabilities`], and `run`, which
//!    hands the lanes to the engine's [`drive`] so the load models, warm-up, timeouts and
//!    histograms come for free.
//!
//! Then it first asks for a combination the plug-in does not support (the Open model), which
//! the registry rejects before any traffic is sent, and prints the error; then it runs a short
//! closed-model test through a [`Session`] (the engine's whole run: checks, the plug-in from
//! the registry, live progress on stderr through [`Session::on_event`]) and prints the result
//! summary and a `result: requests=… failed=…` line.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Parser;
use smi_perf_engine::{
    BoxFuture, Capabilities, ErrorKind, Event, Lane, LaneFactory, LoadGenerator, Outcome, Registry,
    RunContext, RunPlan, RunStats, Session, drive, report, run_spec_with,
};
use smi_types::perf::{LoadModel, PerformanceTest, PerformanceTestSpec, Protocol};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

const PING: &[u8] = b"PING\r\n";
const PONG: &[u8] = b"+PONG\r\n";
/// Longest answer line read (a Redis error line is short).
const MAX_LINE: u64 = 512;

#[derive(Parser)]
#[command(about = "Run a Redis-style PING load with a custom LoadGenerator")]
struct Args {
    /// How long to apply load (GEP-2257 duration).
    #[arg(long, default_value = "1s")]
    duration: String,
    /// Concurrent connections (Closed model: each waits for its PONG).
    #[arg(long, default_value_t = 2)]
    connections: i32,
}

// ---- the plug-in -------------------------------------------------------------------------

/// The generator. It is also its own lane factory.
struct RedisPing;

impl LoadGenerator for RedisPing {
    fn name(&self) -> &str {
        "redis-ping"
    }

    fn capabilities(&self) -> Capabilities {
        // Only what is implemented: the registry refuses anything else before the run.
        Capabilities::new([Protocol::Tcp], [LoadModel::Closed])
    }

    fn run(
        &self,
        plan: Arc<RunPlan>,
        ctx: RunContext,
    ) -> BoxFuture<'static, smi_perf_engine::Result<RunStats>> {
        Box::pin(async move { drive(Arc::new(RedisPing), plan, ctx).await })
    }
}

impl LaneFactory for RedisPing {
    type Lane = PingLane;
    fn lanes(&self, plan: &RunPlan, conn: u32) -> Vec<PingLane> {
        let endpoint = &plan.endpoints[conn as usize % plan.endpoints.len()];
        vec![PingLane {
            addr: endpoint.authority(),
            conn: None,
            line: Vec::with_capacity(64),
        }]
    }
}

async fn connect(addr: &str) -> std::io::Result<BufReader<TcpStream>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(BufReader::new(stream))
}

/// The engine's error class of an I/O error (`connectRefused`, `reset`, ...).
fn kind(e: std::io::Error) -> ErrorKind {
    ErrorKind::from_io(&e)
}

/// One connection sending `PING` and reading `+PONG`.
struct PingLane {
    addr: String,
    conn: Option<BufReader<TcpStream>>,
    line: Vec<u8>,
}

impl PingLane {
    async fn ping(&mut self) -> Result<u64, ErrorKind> {
        if self.conn.is_none() {
            self.conn = Some(connect(&self.addr).await.map_err(kind)?);
        }
        let conn = self.conn.as_mut().ok_or(ErrorKind::Other)?;
        conn.get_mut().write_all(PING).await.map_err(kind)?;
        self.line.clear();
        let n = (&mut *conn)
            .take(MAX_LINE)
            .read_until(b'\n', &mut self.line)
            .await
            .map_err(kind)?;
        match n {
            0 => Err(ErrorKind::Reset),
            _ if self.line == PONG => Ok(n as u64),
            _ => Err(ErrorKind::Protocol), // an -ERR line, or garbage
        }
    }
}

impl Lane for PingLane {
    async fn prepare(&mut self) {
        // connect before the clock starts; a failure shows up on the first request instead
        self.conn = connect(&self.addr).await.ok();
    }

    async fn request(&mut self) -> Outcome {
        match self.ping().await {
            Ok(received) => Outcome::Response {
                status: 200,
                sent: PING.len() as u64,
                received,
            },
            Err(kind) => {
                self.conn = None; // reconnect on the next request
                Outcome::Error { kind, sent: 0 }
            }
        }
    }

    fn reset(&mut self) {
        self.conn = None;
    }
}

// ---- a tiny loopback server that answers PING ---------------------------------------------

/// Starts the server on `127.0.0.1:<free port>`. It accepts at most 1024 connections, drops a
/// connection idle for 10 s, and stops when the returned task is aborted.
async fn start_pong_server(
    accepted: Arc<AtomicU64>,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new(); // aborted with this task
        for _ in 0..1024 {
            let Ok((stream, _)) = listener.accept().await else {
                break;
            };
            accepted.fetch_add(1, Ordering::Relaxed);
            conns.spawn(pong(stream));
        }
        while conns.join_next().await.is_some() {}
    });
    Ok((addr, task))
}

async fn pong(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut line = Vec::with_capacity(64);
    loop {
        line.clear();
        let mut limited = (&mut read).take(MAX_LINE);
        match tokio::time::timeout(
            Duration::from_secs(10),
            limited.read_until(b'\n', &mut line),
        )
        .await
        {
            Ok(Ok(n)) if n > 0 => {}
            _ => return, // closed, failed or idle
        }
        let answer: &[u8] = if line.trim_ascii().eq_ignore_ascii_case(b"PING") {
            PONG
        } else {
            b"-ERR unknown command\r\n"
        };
        if write.write_all(answer).await.is_err() {
            return;
        }
    }
}

// ---- the run -----------------------------------------------------------------------------

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let accepted = Arc::new(AtomicU64::new(0));
    let (addr, server) = start_pong_server(accepted.clone()).await?;

    let mut registry = Registry::with_builtins();
    registry.register(Arc::new(RedisPing));
    let spec = PerformanceTestSpec::tcp(format!("tcp://{addr}")).load_generator("redis-ping");

    // 1. Asking for what the plug-in cannot do fails before any connection is made.
    let open = spec
        .clone()
        .load_model(LoadModel::Open)
        .rps(1000)
        .duration("1s");
    match run_spec_with(&registry, &open, RunContext::default()).await {
        Err(e) => println!("rejected before the run: {e}"),
        Ok(_) => return Err("the Open model should have been rejected".into()),
    }
    println!(
        "connections the rejected run made: {}",
        accepted.load(Ordering::Relaxed)
    );

    // 2. A short closed-model run, as a Session: everything is checked before it starts, the
    //    plug-in comes from the registry, progress arrives four times a second.
    let closed = spec
        .connections(args.connections)
        .warmup("100ms")
        .duration(args.duration);
    let done = Session::new(PerformanceTest::new("redis-ping", closed))
        .registry(registry)
        .on_event(Duration::from_millis(250), |e| {
            if let Event::Progress(p) = e {
                eprintln!("progress: {} requests, {} failed", p.requests, p.errors);
            }
        })
        .run()
        .await?;
    let result = done.result;
    println!();
    print!("{}", report::summary(&result));
    let r = &result.record;
    println!(
        "result: requests={} succeeded={} failed={} generator={}",
        r.requests_total, r.requests_succeeded, r.requests_failed, r.load_generator
    );

    server.abort();
    Ok(())
}
