//! How much latency does one proxy hop add? Runs the same PerformanceTest twice — against the
//! engine's embedded target directly, and through a TCP proxy on loopback (the smallest
//! possible "sidecar": accept, connect upstream, `copy_bidirectional`) — and prints the latency
//! the hop adds at each percentile with the engine's compare report.
//!
//! ```text
//! cargo run -p examples --bin mesh-overhead -- --duration 5s --connections 4
//! ```
//!
//! Prints one line per run (`direct: requests=… rps=… p50_ms=… p99_ms=… errors=0 …`), then the
//! table from [`smi_perf_engine::report::compare`]: `base` is direct, `mesh` is through the
//! proxy, `added` is the difference. To measure a real mesh, point the second endpoint at the
//! same service behind the mesh's sidecar instead of the example proxy.

use std::net::SocketAddr;

use clap::Parser;
use smi_perf_engine::serve::{self, ServeOptions};
use smi_perf_engine::{RunContext, report, run_test};
use smi_types::perf::{PerformanceTest, PerformanceTestResult, PerformanceTestSpec};
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

#[derive(Parser)]
#[command(about = "Latency added by one TCP proxy hop, per percentile")]
struct Args {
    /// How long each run applies load (GEP-2257 duration).
    #[arg(long, default_value = "2s")]
    duration: String,
    /// Concurrent connections (Closed model).
    #[arg(long, default_value_t = 1)]
    connections: i32,
}

/// Starts a TCP proxy on `127.0.0.1:<free port>` forwarding every connection to `upstream`.
/// It accepts at most 1024 connections and stops when the returned task is aborted.
async fn start_proxy(upstream: SocketAddr) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new(); // aborted with this task
        for _ in 0..1024 {
            let Ok((mut inbound, _)) = listener.accept().await else {
                break;
            };
            conns.spawn(async move {
                let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = (inbound.set_nodelay(true), outbound.set_nodelay(true));
                let _ = copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
        while conns.join_next().await.is_some() {}
    });
    Ok((addr, task))
}

async fn run(
    name: &str,
    target: SocketAddr,
    args: &Args,
) -> smi_perf_engine::Result<PerformanceTestResult> {
    let spec = PerformanceTestSpec::http(format!("http://{target}/"))
        .connections(args.connections)
        .warmup("200ms")
        .duration(&*args.duration);
    let result = run_test(&PerformanceTest::new(name, spec), RunContext::default()).await?;
    println!(
        "{name}: requests={} {}",
        result.record.requests_total,
        report::peers_line(&result)
    );
    Ok(result)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    // The engine's embedded HTTP/1.1 + h2c target, in this process, on a free loopback port.
    let target = serve::start(ServeOptions::default()).await?;
    let (proxy, proxy_task) = start_proxy(target.http_addr).await?;

    let direct = run("direct", target.http_addr, &args).await?;
    let proxied = run("proxied", proxy, &args).await?;
    println!();
    print!("{}", report::compare(&direct, &proxied));

    proxy_task.abort();
    target.shutdown();
    Ok(())
}
