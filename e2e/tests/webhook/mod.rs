//! Running an `examples` webhook binary where the test API server can call it: built with
//! cargo, serving a certificate for 127.0.0.1 signed by the control plane's CA
//! (`target/controlplane/ca.crt`/`ca.key`, with `openssl`, which the control plane script needs
//! too), on a free loopback port.
#![allow(dead_code)] // each test uses a part

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use smi_e2e::workspace_root;

/// A running webhook process; killed when dropped.
pub struct Webhook {
    child: Child,
    /// `https://127.0.0.1:PORT/path` as the binary printed it.
    pub url: String,
    /// The PEM CA bundle the API server must trust (the control plane's CA).
    pub ca_bundle: Vec<u8>,
    /// Its stderr (one line per review for the conversion webhook).
    pub log: PathBuf,
}

impl Webhook {
    /// The process id (for its CPU time in `/proc/PID/stat`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => workspace_root().join("target"),
    }
}

/// Builds `examples`' binary `bin` (a no-op when it is up to date) and returns its path.
pub fn build(bin: &str) -> PathBuf {
    build_with(bin, false)
}

/// [`build`], optimised (`--release`) when `release`.
pub fn build_with(bin: &str, release: bool) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    // the variables cargo sets for this test process would make the build look different from
    // `cargo build -p examples` (a rebuild each time): the build gets the caller's environment
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if (k.starts_with("CARGO_") && !matches!(&*k, "CARGO_HOME" | "CARGO_TARGET_DIR"))
            || matches!(&*k, "OUT_DIR" | "RUST_TEST_THREADS" | "CARGO")
        {
            cmd.env_remove(&*k);
        }
    }
    cmd.args(["build", "--quiet", "-p", "examples", "--bin", bin]);
    if release {
        cmd.arg("--release");
    }
    let status = cmd
        .current_dir(workspace_root())
        .status()
        .unwrap_or_else(|e| panic!("running {cargo} build -p examples --bin {bin}: {e}"));
    assert!(
        status.success(),
        "cargo build -p examples --bin {bin} failed"
    );
    let profile = if release { "release" } else { "debug" };
    let path = target_dir().join(profile).join(bin);
    assert!(path.exists(), "{} missing after the build", path.display());
    path
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (openssl is needed, as for the control plane)"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A serving certificate and key for 127.0.0.1 signed by the control plane's CA, written in
/// `dir`; returns (cert, key, CA PEM).
pub fn serving_cert(dir: &Path) -> (PathBuf, PathBuf, Vec<u8>) {
    let cp = workspace_root().join("target").join("controlplane");
    let (ca_crt, ca_key) = (cp.join("ca.crt"), cp.join("ca.key"));
    let ca = std::fs::read(&ca_crt).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (start the control plane: {})",
            ca_crt.display(),
            smi_e2e::START_COMMAND
        )
    });
    std::fs::create_dir_all(dir).unwrap();
    let (key, csr, crt, ext) = (
        dir.join("tls.key"),
        dir.join("tls.csr"),
        dir.join("tls.crt"),
        dir.join("tls.ext"),
    );
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n",
    )
    .unwrap();
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-sha256",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&csr));
    run(Command::new("openssl")
        .args(["x509", "-req", "-sha256", "-days", "2", "-set_serial", "7"])
        .arg("-in")
        .arg(&csr)
        .arg("-CA")
        .arg(&ca_crt)
        .arg("-CAkey")
        .arg(&ca_key)
        .arg("-extfile")
        .arg(&ext)
        .arg("-out")
        .arg(&crt));
    (crt, key, ca)
}

/// Builds and starts `bin` with a CA-signed certificate (files and its log, `stderr.log`, under
/// `target/e2e/<bin>`) and
/// with `extra` arguments; waits for its `listening on <url>` line.
pub fn start(bin: &str, extra: &[&str]) -> Webhook {
    start_with(bin, extra, false, 600)
}

/// [`start`] with the binary built `release` or not, stopping by itself after `exit_after_s`
/// seconds.
pub fn start_with(bin: &str, extra: &[&str], release: bool, exit_after_s: u64) -> Webhook {
    let path = build_with(bin, release);
    let dir = target_dir().join("e2e").join(bin);
    let (crt, key, ca_bundle) = serving_cert(&dir);
    let log_path = dir.join("stderr.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(path)
        .args(["--port", "0", "--exit-after", &exit_after_s.to_string()])
        .arg("--tls-cert")
        .arg(&crt)
        .arg("--tls-key")
        .arg(&key)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap_or_else(|e| panic!("starting {bin}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{bin}: unexpected first line {line:?}"))
        .to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    Webhook {
        child,
        url,
        ca_bundle,
        log: log_path,
    }
}
