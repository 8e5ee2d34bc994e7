//! Protocol-level tests: start the real provider binary exactly as
//! Terraform does (magic cookie, protocol versions, a client certificate
//! generated the way go-plugin generates it) and talk to it over gRPC with
//! clients generated from our own proto files.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use hikube_provider::plugin::pb::plugin as gp;
use hikube_provider::plugin::pb::tfplugin6 as pb;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tonic::transport::{Channel, Endpoint, Uri};

const BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-hikube");
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A client certificate made like go-plugin's `generateCert`: ECDSA P-521,
/// self-signed, CN/SAN localhost, O HashiCorp, flagged as a CA.
struct ClientIdentity {
    pem: String,
    der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

fn go_plugin_style_cert() -> ClientIdentity {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "HashiCorp");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyAgreement,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity {
        pem: cert.pem(),
        der: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
    }
}

struct Plugin {
    child: Child,
    network: String,
    addr: String,
    server_cert: Option<CertificateDer<'static>>,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(envs: &[(&str, &str)]) -> Plugin {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TMPDIR", std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start provider");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let parts: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(parts.len(), 6, "handshake line {line:?}");
    assert_eq!(parts[0], "1", "core protocol version");
    assert_eq!(parts[1], "6", "plugin protocol version");
    assert_eq!(parts[4], "grpc");
    let server_cert = if parts[5].is_empty() {
        None
    } else {
        Some(CertificateDer::from(
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(parts[5])
                .expect("raw std base64"),
        ))
    };
    Plugin {
        child,
        network: parts[2].into(),
        addr: parts[3].into(),
        server_cert,
    }
}

fn tls_envs(cert: &ClientIdentity) -> Vec<(&'static str, String)> {
    vec![
        ("TF_PLUGIN_MAGIC_COOKIE", COOKIE.to_string()),
        ("PLUGIN_PROTOCOL_VERSIONS", "5,6".to_string()),
        ("PLUGIN_CLIENT_CERT", cert.pem.clone()),
        ("PLUGIN_MIN_PORT", "10000".to_string()),
        ("PLUGIN_MAX_PORT", "25000".to_string()),
    ]
}

fn start_tls(cert: &ClientIdentity, extra: &[(&str, &str)]) -> Plugin {
    let envs = tls_envs(cert);
    let mut all: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    start(&all)
}

/// Trusts exactly the certificate from the handshake line, as go-plugin does.
#[derive(Debug)]
struct PinnedServer(
    CertificateDer<'static>,
    rustls::crypto::WebPkiSupportedAlgorithms,
);

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _i: &[CertificateDer<'_>],
        _n: &ServerName<'_>,
        _o: &[u8],
        _t: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.0.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "not the announced server certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.1)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.1)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.1.supported_schemes()
    }
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> Io for T {}

async fn dial(network: &str, addr: &str) -> std::io::Result<Box<dyn Io>> {
    Ok(if network == "unix" {
        Box::new(tokio::net::UnixStream::connect(addr).await?)
    } else {
        Box::new(tokio::net::TcpStream::connect(addr).await?)
    })
}

/// Connect as Terraform does; `client` is the certificate to present (None:
/// present none).
async fn connect(
    p: &Plugin,
    client: Option<&ClientIdentity>,
) -> Result<Channel, tonic::transport::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(PinnedServer(
        p.server_cert.clone().expect("server cert"),
        provider.signature_verification_algorithms,
    ));
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match client {
        Some(c) => builder
            .with_client_auth_cert(vec![c.der.clone()], PrivateKeyDer::Pkcs8(c.key.clone_key()))
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let (network, addr) = (p.network.clone(), p.addr.clone());
    Endpoint::try_from("http://localhost")
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let (connector, network, addr) = (connector.clone(), network.clone(), addr.clone());
            async move {
                let io = dial(&network, &addr).await?;
                let tls = connector
                    .connect(ServerName::try_from("localhost").unwrap(), io)
                    .await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
}

async fn connect_plaintext(p: &Plugin) -> Result<Channel, tonic::transport::Error> {
    let (network, addr) = (p.network.clone(), p.addr.clone());
    Endpoint::try_from("http://localhost")
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let (network, addr) = (network.clone(), addr.clone());
            async move { Ok::<_, std::io::Error>(TokioIo::new(dial(&network, &addr).await?)) }
        }))
        .await
}

async fn health(ch: Channel) -> Result<i32, tonic::Status> {
    let mut c = tonic_health::pb::health_client::HealthClient::new(ch);
    let r = c
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await?;
    Ok(r.into_inner().status)
}

fn wait_exit(p: &mut Plugin, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if let Some(s) = p.child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn run_by_hand_it_explains_itself_and_exits_non_zero() {
    let out = Command::new(BIN)
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plugin for Terraform"), "stderr: {err}");
    assert!(out.stdout.is_empty(), "nothing may be printed on stdout");
}

#[test]
fn wrong_cookie_is_refused() {
    let out = Command::new(BIN)
        .env("TF_PLUGIN_MAGIC_COOKIE", "nope")
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn incompatible_protocol_versions_are_refused() {
    let out = Command::new(BIN)
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Incompatible plugin protocol"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_with_terraform_certificate_serves_health_schema_and_shutdown() {
    let cert = go_plugin_style_cert();
    let mut p = start_tls(&cert, &[]);
    assert_eq!(p.network, "unix");
    let ch = connect(&p, Some(&cert))
        .await
        .expect("mTLS connection with the announced certificate");
    assert_eq!(
        health(ch.clone()).await.unwrap(),
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    let mut provider = pb::provider_client::ProviderClient::new(ch.clone());
    let schema = provider
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    let attrs: Vec<String> = schema
        .provider
        .unwrap()
        .block
        .unwrap()
        .attributes
        .into_iter()
        .map(|a| a.name)
        .collect();
    for want in [
        "kubeconfig_path",
        "namespace",
        "host",
        "token",
        "insecure",
        "request_timeout",
    ] {
        assert!(
            attrs.contains(&want.to_string()),
            "missing {want} in {attrs:?}"
        );
    }
    let funcs = provider
        .get_functions(pb::get_functions::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(funcs.functions.is_empty() && funcs.diagnostics.is_empty());
    let unimpl = provider
        .call_function(pb::call_function::Request::default())
        .await
        .unwrap_err();
    assert_eq!(unimpl.code(), tonic::Code::Unimplemented);

    // StopProvider cancels work but the server keeps serving.
    let stop = provider
        .stop_provider(pb::stop_provider::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(stop.error.is_empty());
    assert!(health(ch.clone()).await.is_ok());

    let mut controller = gp::grpc_controller_client::GrpcControllerClient::new(ch);
    controller.shutdown(gp::Empty {}).await.unwrap();
    let status = wait_exit(&mut p, Duration::from_secs(10)).expect("exits after Shutdown");
    assert!(status.success(), "{status:?}");
    assert!(!std::path::Path::new(&p.addr).exists(), "socket removed");
}

#[tokio::test]
async fn a_different_client_certificate_is_refused() {
    let cert = go_plugin_style_cert();
    let other = go_plugin_style_cert();
    let p = start_tls(&cert, &[]);
    let refused = match connect(&p, Some(&other)).await {
        Err(_) => true,
        Ok(ch) => health(ch).await.is_err(),
    };
    assert!(
        refused,
        "a certificate other than PLUGIN_CLIENT_CERT must be refused"
    );
    // The server survives refused clients.
    let ch = connect(&p, Some(&cert)).await.unwrap();
    assert!(health(ch).await.is_ok());
}

#[tokio::test]
async fn no_client_certificate_is_refused() {
    let cert = go_plugin_style_cert();
    let p = start_tls(&cert, &[]);
    let refused = match connect(&p, None).await {
        Err(_) => true,
        Ok(ch) => health(ch).await.is_err(),
    };
    assert!(refused, "a client without certificate must be refused");
}

#[tokio::test]
async fn plaintext_is_refused_when_tls_is_on() {
    let cert = go_plugin_style_cert();
    let p = start_tls(&cert, &[]);
    let refused = match connect_plaintext(&p).await {
        Err(_) => true,
        Ok(ch) => health(ch).await.is_err(),
    };
    assert!(refused, "plaintext gRPC must be refused");
}

#[tokio::test]
async fn tcp_listener_stays_within_the_allowed_port_range() {
    let cert = go_plugin_style_cert();
    let p = start_tls(
        &cert,
        &[
            ("HIKUBE_PLUGIN_TCP", "1"),
            ("PLUGIN_MIN_PORT", "23100"),
            ("PLUGIN_MAX_PORT", "23199"),
        ],
    );
    assert_eq!(p.network, "tcp");
    let port: u16 = p.addr.rsplit(':').next().unwrap().parse().unwrap();
    assert!(p.addr.starts_with("127.0.0.1:"));
    assert!((23100..=23199).contains(&port), "port {port}");
    let ch = connect(&p, Some(&cert)).await.unwrap();
    assert!(health(ch).await.is_ok());
}

#[test]
fn debug_mode_prints_reattach_settings() {
    let mut child = Command::new(BIN)
        .arg("--debug")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    for _ in 0..4 {
        let mut l = String::new();
        reader.read_line(&mut l).unwrap();
        text.push_str(&l);
    }
    let _ = child.kill();
    let _ = child.wait();
    let json = text
        .split("TF_REATTACH_PROVIDERS='")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("reattach line");
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let entry = &v["registry.terraform.io/hikube/hikube"];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Addr"]["Network"], "unix");
}
