//! AutoMTLS as go-plugin does it: a fresh self-signed server certificate per
//! run, and a client verifier that *requires* the one certificate Terraform
//! handed us in `PLUGIN_CLIENT_CERT`.
//!
//! Terraform's client certificate is a self-signed ECDSA P-521 certificate
//! flagged as a CA. Stock webpki verification refuses it (a CA used as an end
//! entity) and rustls' `ring` provider cannot check P-521 signatures, so a
//! stock setup tends to end up with optional, i.e. absent, client
//! authentication. We pin the exact DER instead and verify the handshake
//! signature with aws-lc-rs, which supports P-521/SHA-512.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// Errors while preparing the TLS configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `PLUGIN_CLIENT_CERT` did not hold a PEM certificate.
    #[error("PLUGIN_CLIENT_CERT does not contain a PEM certificate")]
    NoClientCert,
    /// The PEM text could not be parsed.
    #[error("failed to parse PLUGIN_CLIENT_CERT: {0}")]
    BadPem(String),
    /// Generating our server certificate failed.
    #[error("failed to generate the server certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("failed to build the TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The crypto provider used everywhere in the plugin (aws-lc-rs, for P-521).
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Install aws-lc-rs as the process-wide rustls provider (idempotent).
/// kube-rs' rustls client also picks it up from here.
pub fn install_default_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// A server certificate and its key, generated for this run only.
pub struct ServerIdentity {
    /// DER of the certificate (printed base64 in the handshake line).
    pub cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
}

impl ServerIdentity {
    /// Generate a self-signed P-256 certificate for `localhost`, the name
    /// go-plugin's client expects.
    pub fn generate() -> Result<Self, TlsError> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "terraform-provider-hikube");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let now = std::time::SystemTime::now();
        params.not_before = (now - std::time::Duration::from_secs(30)).into();
        params.not_after = (now + std::time::Duration::from_secs(60 * 60 * 24 * 365 * 10)).into();
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert_der: cert.der().clone(),
            key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }
}

/// Parse the first certificate of a PEM bundle.
pub fn parse_pem_cert(pem: &str) -> Result<CertificateDer<'static>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    let mut iter = CertificateDer::pem_slice_iter(pem.as_bytes());
    match iter.next() {
        Some(Ok(c)) => Ok(c),
        Some(Err(e)) => Err(TlsError::BadPem(e.to_string())),
        None => Err(TlsError::NoClientCert),
    }
}

/// Accepts exactly one client certificate (byte for byte) and nothing else.
#[derive(Debug)]
pub struct PinnedClientCert {
    expected: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientCert {
    /// A verifier pinned to `expected`.
    pub fn new(expected: CertificateDer<'static>, provider: &CryptoProvider) -> Self {
        Self {
            expected,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            tracing::warn!(
                "refused a TLS client whose certificate is not the one Terraform announced"
            );
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The server side TLS configuration: our identity, Terraform's pinned client
/// certificate required, HTTP/2 only.
pub fn server_config(
    identity: &ServerIdentity,
    client_cert: CertificateDer<'static>,
) -> Result<rustls::ServerConfig, TlsError> {
    let provider = crypto_provider();
    let verifier = Arc::new(PinnedClientCert::new(client_cert, &provider));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![identity.cert_der.clone()],
            PrivateKeyDer::Pkcs8(identity.key_der.clone_key()),
        )?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_identity_is_a_parsable_certificate() {
        let id = ServerIdentity::generate().unwrap();
        assert!(id.cert_der.len() > 100);
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &id.cert_der)
        );
        assert_eq!(parse_pem_cert(&pem).unwrap(), id.cert_der);
    }

    #[test]
    fn empty_pem_is_refused() {
        assert!(matches!(parse_pem_cert(""), Err(TlsError::NoClientCert)));
    }

    #[test]
    fn verifier_pins_exact_der_and_offers_p521() {
        let a = ServerIdentity::generate().unwrap();
        let b = ServerIdentity::generate().unwrap();
        let v = PinnedClientCert::new(a.cert_der.clone(), &crypto_provider());
        assert!(v.client_auth_mandatory());
        assert!(
            v.verify_client_cert(&a.cert_der, &[], UnixTime::now())
                .is_ok()
        );
        assert!(
            v.verify_client_cert(&b.cert_der, &[], UnixTime::now())
                .is_err()
        );
        assert!(
            v.supported_verify_schemes()
                .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
        );
    }
}
