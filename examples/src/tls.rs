//! TLS with rustls and the ring provider (never aws-lc): a self-signed certificate generated at
//! start with rcgen (valid for [`DEFAULT_VALIDITY`], one year), or a certificate and key read
//! from PEM files ([`server_config_from_pem`], for a certificate a cluster CA signed); the
//! server config a webhook serves with, and a client config that trusts exactly that
//! certificate.
//!
//! ```
//! let cert = examples::tls::SelfSigned::generate(&examples::tls::default_names()).unwrap();
//! assert!(cert.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
//! let _server = cert.server_config().unwrap();
//! let _client = examples::tls::client_config(cert.cert_pem.as_bytes()).unwrap();
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Why a TLS setup failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Generating the certificate failed.
    #[error("generating the certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("rustls: {0}")]
    Rustls(#[from] rustls::Error),
    /// The PEM bundle could not be read.
    #[error("PEM: {0}")]
    Pem(#[from] rustls::pki_types::pem::Error),
    /// The PEM bundle holds no certificate.
    #[error("the CA bundle holds no certificate")]
    EmptyBundle,
    /// A certificate or key file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The system clock is before 1970 or the validity overflows.
    #[error("cannot compute the certificate's validity from the system clock")]
    Clock,
}

/// How long a generated certificate is valid: one year, what cert-manager and most cluster
/// policies accept for a serving certificate (rcgen's own default runs until the year 4096).
pub const DEFAULT_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);

/// How far before "now" a generated certificate becomes valid, for clocks that disagree a little.
const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// The ring crypto provider, chosen explicitly so the build never pulls in aws-lc.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Names a loopback webhook answers to: `localhost` and `127.0.0.1`.
///
/// In a cluster, add the Service's DNS names (`<name>.<namespace>.svc`) too.
pub fn default_names() -> Vec<String> {
    vec!["localhost".into(), "127.0.0.1".into()]
}

/// A self-signed certificate and its private key, generated in memory.
///
/// The certificate is its own CA: give [`cert_pem`](Self::cert_pem) to clients as the CA bundle
/// (in Kubernetes: the `caBundle` of a webhook configuration or of a CRD's conversion webhook).
pub struct SelfSigned {
    /// The certificate, PEM.
    pub cert_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
    key_pem: String,
}

impl std::fmt::Debug for SelfSigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never print the private key
        f.debug_struct("SelfSigned")
            .field("cert_pem", &self.cert_pem)
            .finish_non_exhaustive()
    }
}

impl SelfSigned {
    /// The private key, PEM (PKCS#8). Keep it secret; it is here to write the key file a
    /// server started with [`server_config_from_pem`] reads.
    pub fn key_pem(&self) -> String {
        self.key_pem.clone()
    }

    /// A fresh certificate for `names` (DNS names or IP addresses, as subject alternative names),
    /// valid from a few minutes ago for [`DEFAULT_VALIDITY`].
    pub fn generate(names: &[String]) -> Result<Self, TlsError> {
        Self::generate_valid_for(names, DEFAULT_VALIDITY)
    }

    /// [`generate`](Self::generate) with another lifetime.
    pub fn generate_valid_for(names: &[String], validity: Duration) -> Result<Self, TlsError> {
        let since_epoch = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|_| TlsError::Clock)?;
        let epoch = rcgen::date_time_ymd(1970, 1, 1);
        let start = since_epoch.checked_sub(CLOCK_SKEW).ok_or(TlsError::Clock)?;
        let end = since_epoch.checked_add(validity).ok_or(TlsError::Clock)?;
        let mut params = rcgen::CertificateParams::new(names.to_vec())?;
        params.not_before = epoch
            .checked_add(start.try_into().map_err(|_| TlsError::Clock)?)
            .ok_or(TlsError::Clock)?;
        params.not_after = epoch
            .checked_add(end.try_into().map_err(|_| TlsError::Clock)?)
            .ok_or(TlsError::Clock)?;
        let signing_key = rcgen::KeyPair::generate()?;
        let cert = params.self_signed(&signing_key)?;
        Ok(SelfSigned {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key_der: PrivatePkcs8KeyDer::from(signing_key.serialize_der()),
            key_pem: signing_key.serialize_pem(),
        })
    }

    /// A server config with this certificate, offering ALPN `h2` and `http/1.1`.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        server_config(
            vec![self.cert_der.clone()],
            PrivateKeyDer::Pkcs8(self.key_der.clone_key()),
        )
    }
}

/// A server config (ALPN `h2` and `http/1.1`) from a PEM certificate chain (the serving
/// certificate first, then any intermediates) and a PEM private key (PKCS#8, PKCS#1 or SEC1):
/// a serving certificate a cluster's CA signed, or one cert-manager wrote into a Secret.
///
/// ```
/// let cert = examples::tls::SelfSigned::generate(&examples::tls::default_names()).unwrap();
/// # let key_pem = cert.key_pem();
/// let config = examples::tls::server_config_from_pem(cert.cert_pem.as_bytes(), key_pem.as_bytes());
/// assert!(config.is_ok());
/// assert!(examples::tls::server_config_from_pem(b"", key_pem.as_bytes()).is_err());
/// ```
pub fn server_config_from_pem(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(cert_chain_pem).collect::<Result<Vec<_>, _>>()?;
    if chain.is_empty() {
        return Err(TlsError::EmptyBundle);
    }
    server_config(chain, PrivateKeyDer::from_pem_slice(key_pem)?)
}

/// [`server_config_from_pem`] with the certificate chain and the key read from files
/// (`tls.crt` and `tls.key` of a `kubernetes.io/tls` Secret, for example).
pub fn server_config_from_files(
    cert_chain: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<ServerConfig>, TlsError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_owned(),
            source,
        })
    };
    server_config_from_pem(&read(cert_chain)?, &read(key)?)
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A client config that trusts only the certificates in `ca_pem` (ALPN `http/1.1`).
pub fn client_config(ca_pem: &[u8]) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert?)?;
    }
    if roots.is_empty() {
        return Err(TlsError::EmptyBundle);
    }
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
