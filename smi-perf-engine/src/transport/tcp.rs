//! Built-in TCP lanes: write the payload, read until the expected number of bytes came back.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::driver::{Lane, LaneFactory, Stage};
use crate::plan::RunPlan;
use crate::stats::{ErrorKind, Outcome};

/// Makes one TCP lane per connection.
#[derive(Clone, Copy, Debug, Default)]
pub struct TcpFactory;

impl LaneFactory for TcpFactory {
    type Lane = TcpLane;
    fn lanes(&self, plan: &RunPlan, conn: u32) -> Vec<TcpLane> {
        let e = &plan.endpoints[conn as usize % plan.endpoints.len()];
        vec![TcpLane {
            addr: e.authority(),
            payload: plan.body.clone(),
            expect: plan.expect_bytes,
            stream: None,
            buf: vec![0; 16 * 1024].into_boxed_slice(),
            connecting: false,
        }]
    }
}

/// A TCP lane (its read buffer is allocated once).
#[derive(Debug)]
pub struct TcpLane {
    addr: String,
    payload: bytes::Bytes,
    expect: u64,
    stream: Option<TcpStream>,
    buf: Box<[u8]>,
    /// The current request is opening the connection (for [`Lane::timeout_kind`]).
    connecting: bool,
}

impl TcpLane {
    async fn exchange(&mut self) -> Result<u64, (ErrorKind, u64)> {
        if self.stream.is_none() {
            self.connecting = true;
            let s = TcpStream::connect(&self.addr)
                .await
                .map_err(|e| (ErrorKind::from_io(&e), 0))?;
            self.connecting = false;
            let _ = s.set_nodelay(true);
            self.stream = Some(s);
        }
        let s = self.stream.as_mut().expect("connected above");
        s.write_all(&self.payload)
            .await
            .map_err(|e| (ErrorKind::from_io(&e), 0))?;
        let sent = self.payload.len() as u64;
        let mut got = 0u64;
        while got < self.expect {
            let want = (self.expect - got).min(self.buf.len() as u64) as usize;
            match s.read(&mut self.buf[..want]).await {
                Ok(0) => return Err((ErrorKind::Reset, sent)),
                Ok(n) => got += n as u64,
                Err(e) => return Err((ErrorKind::from_io(&e), sent)),
            }
        }
        Ok(got)
    }
}

impl Lane for TcpLane {
    async fn prepare(&mut self) {
        if let Ok(s) = TcpStream::connect(&self.addr).await {
            let _ = s.set_nodelay(true);
            self.stream = Some(s);
        }
    }

    async fn request(&mut self) -> Outcome {
        match self.exchange().await {
            Ok(received) => Outcome::Response {
                status: 200,
                sent: self.payload.len() as u64,
                received,
            },
            Err((kind, sent)) => {
                self.stream = None;
                Outcome::Error { kind, sent }
            }
        }
    }

    fn timeout_kind(&self) -> ErrorKind {
        if self.connecting {
            Stage::Connect
        } else {
            Stage::Exchange
        }
        .timeout_kind()
    }

    fn reset(&mut self) {
        self.stream = None;
        self.connecting = false;
    }
}
