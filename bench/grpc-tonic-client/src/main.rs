//! `grpc-tonic-client ADDR CONNS STREAMS SECS`: CONNS HTTP/2 connections (tonic channels), each
//! with STREAMS concurrent callers doing grpc.health.v1.Health/Check back to back for SECS
//! seconds on a current-thread runtime; prints `requests N ok M`.

use std::time::{Duration, Instant};

use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, addr, conns, streams, secs] = &args[..] else {
        eprintln!("usage: grpc-tonic-client ADDR CONNS STREAMS SECS");
        std::process::exit(2);
    };
    let (conns, streams, secs): (usize, usize, u64) = (
        conns.parse().expect("CONNS"),
        streams.parse().expect("STREAMS"),
        secs.parse().expect("SECS"),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (n, ok) = rt.block_on(async {
        let end = Instant::now() + Duration::from_secs(secs);
        let mut tasks = Vec::new();
        for _ in 0..conns {
            let channel = Endpoint::from_shared(format!("http://{addr}"))
                .expect("address")
                .connect()
                .await
                .expect("connect");
            for _ in 0..streams {
                let mut client = HealthClient::new(channel.clone());
                tasks.push(tokio::spawn(async move {
                    let (mut n, mut ok) = (0u64, 0u64);
                    while Instant::now() < end {
                        let r = client
                            .check(HealthCheckRequest {
                                service: String::new(),
                            })
                            .await;
                        n += 1;
                        ok += u64::from(r.is_ok());
                    }
                    (n, ok)
                }));
            }
        }
        let mut total = (0, 0);
        for t in tasks {
            let (n, ok) = t.await.expect("task");
            total.0 += n;
            total.1 += ok;
        }
        total
    });
    println!("requests {n} ok {ok}");
}
