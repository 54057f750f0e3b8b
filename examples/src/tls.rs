//! TLS with rustls and the ring provider (never aws-lc): a self-signed certificate generated at
//! start with rcgen, the server config a webhook serves with, and a client config that trusts
//! exactly that certificate.
//!
//! ```
//! let cert = examples::tls::SelfSigned::generate(&examples::tls::default_names()).unwrap();
//! assert!(cert.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
//! let _server = cert.server_config().unwrap();
//! let _client = examples::tls::client_config(cert.cert_pem.as_bytes()).unwrap();
//! ```

use std::sync::Arc;

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
}

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
    /// A fresh certificate for `names` (DNS names or IP addresses, as subject alternative names).
    pub fn generate(names: &[String]) -> Result<Self, TlsError> {
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(names.to_vec())?;
        Ok(SelfSigned {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key_der: PrivatePkcs8KeyDer::from(signing_key.serialize_der()),
        })
    }

    /// A server config with this certificate, offering ALPN `h2` and `http/1.1`.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![self.cert_der.clone()],
                PrivateKeyDer::Pkcs8(self.key_der.clone_key()),
            )?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
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
