//! HTTPS for the scrape server: a certificate chain and key from PEM files, and optionally a
//! client certificate that must chain to given authorities.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

/// A TLS protocol version the server may speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

/// Where the server's identity and the trusted client authorities come from.
#[derive(Clone, Debug, Default)]
pub struct TlsFiles {
    /// The server's certificate chain, PEM, leaf first.
    pub cert_chain: PathBuf,
    /// The server's private key, PEM (PKCS#8, PKCS#1 or SEC1), unencrypted.
    pub private_key: PathBuf,
    /// PEM files of authorities a client certificate must chain to; with none, clients are not
    /// asked for a certificate.
    pub client_ca_files: Vec<PathBuf>,
    /// Whether a client must present a certificate that chains to `client_ca_files`.
    pub client_auth_required: bool,
    /// The lowest version offered (default TLS 1.2).
    pub min_version: Option<TlsVersion>,
    /// The highest version offered (default TLS 1.3).
    pub max_version: Option<TlsVersion>,
}

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read or held nothing usable.
    #[error("cannot load {what} from {}: {reason}", path.display())]
    Load {
        /// What was being loaded.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        reason: String,
    },
    /// Client authentication was required but no authority was given to check against.
    #[error("client certificates are required but no certificate authority was given")]
    NoClientAuthorities,
    /// The version bounds leave nothing this server speaks (TLS 1.2 and 1.3).
    #[error("no TLS version between the minimum and the maximum is supported (TLS 1.2 and 1.3 are)")]
    NoVersion,
    /// rustls refused the configuration (a key that does not match the certificate, say).
    #[error("invalid TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

impl TlsFiles {
    /// The rustls server configuration these files describe.
    ///
    /// # Errors
    /// A file that cannot be read or parsed, or a configuration rustls refuses.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let min = self.min_version.unwrap_or(TlsVersion::Tls12);
        let max = self.max_version.unwrap_or(TlsVersion::Tls13);
        let versions: Vec<&'static rustls::SupportedProtocolVersion> =
            [(TlsVersion::Tls12, &rustls::version::TLS12), (TlsVersion::Tls13, &rustls::version::TLS13)]
                .into_iter()
                .filter(|(v, _)| (min..=max).contains(v))
                .map(|(_, v)| v)
                .collect();
        if versions.is_empty() {
            return Err(TlsError::NoVersion);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder =
            rustls::ServerConfig::builder_with_provider(Arc::clone(&provider)).with_protocol_versions(&versions)?;
        let builder = if self.client_auth_required {
            let mut roots = RootCertStore::empty();
            for path in &self.client_ca_files {
                for cert in certificates(path, "client certificate authorities")? {
                    roots.add(cert)?;
                }
            }
            if roots.is_empty() {
                return Err(TlsError::NoClientAuthorities);
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let chain = certificates(&self.cert_chain, "the server certificate chain")?;
        let key = PrivateKeyDer::from_pem_file(&self.private_key)
            .map_err(|e| load_error("the private key", &self.private_key, &e))?;
        let mut config = builder.with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// A client configuration for HTTPS requests (a push to a Pushgateway, say): the server must
/// chain to an authority in `ca_file`; with `identity` (certificate chain and key, PEM), the
/// client presents it when asked.
///
/// # Errors
/// A file that cannot be read or parsed, or a configuration rustls refuses.
pub fn client_config(ca_file: &Path, identity: Option<(&Path, &Path)>) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(ca_file, "server certificate authorities")? {
        roots.add(cert)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::DEFAULT_VERSIONS)?
        .with_root_certificates(roots);
    let mut config = match identity {
        Some((cert, key)) => {
            let chain = certificates(cert, "the client certificate chain")?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| load_error("the client key", key, &e))?;
            builder.with_client_auth_cert(chain, key)?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn certificates(path: &Path, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| load_error(what, path, &e))?;
    if certs.is_empty() {
        return Err(TlsError::Load { what, path: path.to_owned(), reason: "no certificate in the file".into() });
    }
    Ok(certs)
}

fn load_error(what: &'static str, path: &Path, error: &impl std::fmt::Display) -> TlsError {
    TlsError::Load { what, path: path.to_owned(), reason: error.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_names_itself() {
        let files = TlsFiles { cert_chain: "/nonexistent/cert.pem".into(), ..TlsFiles::default() };
        let err = files.server_config().unwrap_err();
        assert!(matches!(err, TlsError::Load { .. }));
        assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
    }

    #[test]
    fn versions_outside_what_rustls_speaks_are_refused() {
        let files = TlsFiles {
            min_version: Some(TlsVersion::Tls13),
            max_version: Some(TlsVersion::Tls12),
            ..TlsFiles::default()
        };
        assert!(matches!(files.server_config(), Err(TlsError::NoVersion)));
    }

    #[test]
    fn required_client_auth_needs_an_authority() {
        let files = TlsFiles { client_auth_required: true, ..TlsFiles::default() };
        assert!(matches!(files.server_config(), Err(TlsError::NoClientAuthorities)));
    }
}
