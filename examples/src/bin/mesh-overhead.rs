//! How much latency does one proxy hop add? Runs the same PerformanceTest twice — against the
//! engine's embedded target directly, and through a TCP proxy on loopback (the smallest
//! possible "sidecar": accept, connect upstream, `copy_bidirectional`) — and prints the latency
//! the hop adds at each percentile with the engine's compare report.
//!
//! Both sides run the **Open model at the same fixed arrival rate** (`--rate`, default 500 rps),
//! which must be below either side's capacity: latency is only comparable under the same load.
//! (A closed loop runs each side as fast as it goes, so the proxied side gets a lower rate and
//! its "added latency" compares two different loads.) The program says when a side could not
//! keep the rate (sends dropped or achieved rate below 95 % of it) and the comparison is void.
//!
//! ```text
//! cargo run -p examples --bin mesh-overhead -- --rate 500 --duration 5s --connections 4
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
use smi_types::perf::{LoadModel, PerformanceTest, PerformanceTestResult, PerformanceTestSpec};
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

#[derive(Parser)]
#[command(about = "Latency added by one TCP proxy hop, per percentile")]
struct Args {
    /// How long each run applies load (GEP-2257 duration).
    #[arg(long, default_value = "2s")]
    duration: String,
    /// Arrival rate of both runs, requests per second (Open model).
    #[arg(long, default_value_t = 500)]
    rate: i64,
    /// Connections each run spreads the arrivals over.
    #[arg(long, default_value_t = 4)]
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
        .load_model(LoadModel::Open)
        .rps(args.rate)
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

    println!(
        "both runs: Open model, the same fixed arrival rate of {} rps over {} connection(s), latency from the intended send",
        args.rate, args.connections
    );
    let direct = run("direct", target.http_addr, &args).await?;
    let proxied = run("proxied", proxy, &args).await?;
    let mut void = false;
    for r in [&direct, &proxied] {
        let x = &r.record;
        let achieved: f64 = x.actual_rps.parse().unwrap_or(0.0);
        if x.dropped_or_late > 0 || achieved < 0.95 * args.rate as f64 {
            void = true;
            println!(
                "{}: could not keep {} rps (achieved {achieved:.1} ok/s, {} dropped): above its capacity",
                r.metadata.name.as_deref().unwrap_or("?"),
                args.rate,
                x.dropped_or_late
            );
        }
    }
    for w in report::compare_warnings(&direct, &proxied) {
        println!("warning: {w}");
    }
    println!();
    if void {
        println!(
            "the rate is above a side's capacity: lower --rate; the table below compares different loads"
        );
    } else {
        println!(
            "both sides kept {} rps: below capacity, the same load",
            args.rate
        );
    }
    print!("{}", report::compare(&direct, &proxied));

    proxy_task.abort();
    target.shutdown();
    Ok(())
}
