//! Starting a webhook binary on loopback and talking to it.
#![allow(dead_code)] // each test file uses a different part

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// A webhook process; killed when dropped.
pub struct Webhook {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The URL path it prints.
    pub path: String,
    /// Its certificate (the CA bundle to trust), when it serves TLS.
    pub cert_pem: Option<Vec<u8>>,
    _dir: tempfile::TempDir,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Webhook {
    /// Starts `bin` on an ephemeral port with `--cert-out` (unless `--plain-http` is in `args`)
    /// and waits for its `listening on <url>` line. The process exits by itself after 60 s.
    pub fn start(bin: &str, args: &[&str]) -> Webhook {
        Self::start_with_stderr(bin, args, Stdio::inherit())
    }

    /// [`start`](Self::start) with the process's stderr connected to `stderr` (read it back
    /// with [`stderr`](Self::stderr) when piped).
    pub fn start_with_stderr(bin: &str, args: &[&str], stderr: Stdio) -> Webhook {
        let dir = tempfile::tempdir().unwrap();
        let cert: PathBuf = dir.path().join("cert.pem");
        let tls = !args.contains(&"--plain-http");
        // a certificate given with --tls-cert is the one to trust; otherwise --cert-out
        let given = args
            .iter()
            .position(|a| *a == "--tls-cert")
            .map(|i| PathBuf::from(args[i + 1]));
        let mut cmd = Command::new(bin);
        cmd.args(["--port", "0", "--exit-after", "60"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr);
        if tls && given.is_none() {
            cmd.arg("--cert-out").arg(&cert);
        }
        let mut child = cmd.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        let (scheme, rest) = url.split_once("://").unwrap();
        assert_eq!(scheme, if tls { "https" } else { "http" });
        let (addr, path) = rest.split_at(rest.find('/').unwrap());
        let addr: SocketAddr = addr.parse().unwrap();
        assert!(addr.ip().is_loopback() && addr.port() != 0);
        let cert_pem = tls.then(|| std::fs::read(given.as_ref().unwrap_or(&cert)).unwrap());
        Webhook {
            child,
            addr,
            path: path.to_owned(),
            cert_pem,
            _dir: dir,
        }
    }

    /// The process's stderr, when it was started with a pipe (once).
    pub fn stderr(&mut self) -> Option<std::process::ChildStderr> {
        self.child.stderr.take()
    }

    /// The process, to send it signals.
    pub fn child(&self) -> &Child {
        &self.child
    }

    /// Waits (at most `within`) for the process to exit by itself.
    pub fn wait_exit(&mut self, within: std::time::Duration) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still running after {within:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// POSTs `body` to the printed URL and returns the status and the JSON answer.
    pub async fn post(&self, body: &Value) -> (u16, Value) {
        let (status, bytes) = examples::serve::post_json(
            self.addr,
            self.cert_pem.as_deref(),
            &self.path,
            serde_json::to_vec(body).unwrap(),
        )
        .await
        .unwrap();
        (
            status.as_u16(),
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes))),
        )
    }
}
