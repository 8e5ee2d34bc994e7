//! Serving the plugin the way go-plugin clients (Terraform, OpenTofu)
//! expect: magic cookie, protocol negotiation, AutoMTLS, a unix socket or a
//! loopback port, the handshake line on stdout, the health service, the
//! controller's Shutdown, and a debug mode for reattaching.

use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine;
use futures::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status, Streaming};

use super::framework::Provider;
use super::pb::plugin as gp;
use super::pb::tfplugin6::provider_server::ProviderServer;
use super::server::ProviderService;
use super::tls;

/// The cookie every go-plugin client for Terraform sets.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// Its value.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The plugin protocol version we serve.
pub const PROTOCOL_VERSION: u32 = 6;
/// go-plugin's core protocol version.
const CORE_PROTOCOL_VERSION: u32 = 1;

/// Why the plugin could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Started by hand rather than by Terraform.
    #[error(
        "This binary is a plugin for Terraform and OpenTofu (provider hikube/hikube).\n\
         It is not meant to be run directly: reference it from a Terraform configuration\n\
         and run `terraform init` / `terraform plan`. To debug it, run it with --debug."
    )]
    NotStartedByTerraform,
    /// Terraform speaks none of our protocol versions.
    #[error(
        "Incompatible plugin protocol: Terraform offers version(s) {offered:?}, this provider serves version {PROTOCOL_VERSION}. \
         Use Terraform 1.0 or later (or OpenTofu)."
    )]
    IncompatibleVersion {
        /// What the client offered.
        offered: String,
    },
    /// TLS setup failed.
    #[error("failed to set up TLS: {0}")]
    Tls(#[from] tls::TlsError),
    /// Listening failed.
    #[error("failed to listen: {0}")]
    Io(#[from] std::io::Error),
    /// No free port in the range Terraform allowed.
    #[error("no free port between PLUGIN_MIN_PORT={0} and PLUGIN_MAX_PORT={1}")]
    NoPort(u16, u16),
    /// The gRPC server failed.
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Provider address printed for `TF_REATTACH_PROVIDERS` in debug mode.
    pub provider_address: String,
    /// Debug mode: no cookie, no TLS, print reattach settings, run until
    /// interrupted.
    pub debug: bool,
}

/// Serve a provider until Terraform shuts us down.
pub async fn serve(provider: Arc<dyn Provider>, cfg: ServeConfig) -> Result<(), ServeError> {
    tls::install_default_provider();
    if !cfg.debug {
        check_cookie()?;
        negotiate_version(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref())?;
    }

    let shutdown = CancellationToken::new();
    let (listener, network, addr) = listen()?;

    let tls = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !cfg.debug && !pem.trim().is_empty() => {
            let client = tls::parse_pem_cert(&pem)?;
            let identity = tls::ServerIdentity::generate()?;
            let config = tls::server_config(&identity, client)?;
            Some((Arc::new(config), identity.cert_der))
        }
        _ => None,
    };

    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;

    let incoming = accept_loop(
        listener,
        tls.as_ref().map(|(c, _)| c.clone()),
        shutdown.clone(),
    );

    // Only now is everything ready: tell the client where we are.
    let cert = tls
        .as_ref()
        .map(|(_, der)| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    if cfg.debug {
        print_reattach(&cfg.provider_address, &network, &addr);
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|{network}|{addr}|grpc|{cert}"
        )?;
        out.flush()?;
    }
    tracing::debug!(network = %network, address = %addr, tls = tls.is_some(), "plugin server listening");

    spawn_signal_handlers(shutdown.clone(), cfg.debug);

    let service = ProviderService::new(provider);
    let result = tonic::transport::Server::builder()
        .add_service(health)
        .add_service(
            ProviderServer::new(service)
                .max_decoding_message_size(256 * 1024 * 1024)
                .max_encoding_message_size(256 * 1024 * 1024),
        )
        .add_service(gp::grpc_controller_server::GrpcControllerServer::new(
            Controller {
                shutdown: shutdown.clone(),
            },
        ))
        .add_service(gp::grpc_stdio_server::GrpcStdioServer::new(Stdio {
            shutdown: shutdown.clone(),
        }))
        .add_service(gp::grpc_broker_server::GrpcBrokerServer::new(Broker {
            shutdown: shutdown.clone(),
        }))
        .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());
    // Graceful stop waits for clients to hang up; never wait forever.
    let grace = {
        let s = shutdown.clone();
        async move {
            s.cancelled().await;
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        }
    };
    let result = tokio::select! {
        r = result => r,
        _ = grace => {
            tracing::debug!("clients still connected 3s after shutdown; stopping anyway");
            Ok(())
        }
    };
    if network == "unix" {
        let _ = std::fs::remove_file(&addr);
    }
    tracing::debug!("plugin server stopped");
    result.map_err(Into::into)
}

fn check_cookie() -> Result<(), ServeError> {
    match std::env::var(MAGIC_COOKIE_KEY) {
        Ok(v) if v == MAGIC_COOKIE_VALUE => Ok(()),
        _ => Err(ServeError::NotStartedByTerraform),
    }
}

/// Pick protocol 6 from `PLUGIN_PROTOCOL_VERSIONS` (absent means the
/// client's default, which for Terraform's provider plugins is ours).
pub fn negotiate_version(offered: Option<&str>) -> Result<u32, ServeError> {
    let Some(offered) = offered.filter(|s| !s.trim().is_empty()) else {
        return Ok(PROTOCOL_VERSION);
    };
    if offered
        .split(',')
        .filter_map(|v| v.trim().parse::<u32>().ok())
        .any(|v| v == PROTOCOL_VERSION)
    {
        Ok(PROTOCOL_VERSION)
    } else {
        Err(ServeError::IncompatibleVersion {
            offered: offered.to_string(),
        })
    }
}

enum Listener {
    Unix(tokio::net::UnixListener),
    Tcp(tokio::net::TcpListener),
}

fn listen() -> Result<(Listener, String, String), ServeError> {
    // go-plugin uses a unix socket on unix systems; a loopback port when
    // asked to (HIKUBE_PLUGIN_TCP=1, used by tests) or when PLUGIN_MIN_PORT
    // is set without a usable socket directory.
    let want_tcp = std::env::var("HIKUBE_PLUGIN_TCP").is_ok_and(|v| v == "1");
    if !want_tcp {
        let dir = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let path = dir.join(format!("plugin{}-{}", std::process::id(), nonce()));
        let _ = std::fs::remove_file(&path);
        if let Ok(l) = tokio::net::UnixListener::bind(&path) {
            return Ok((Listener::Unix(l), "unix".into(), path.display().to_string()));
        }
    }
    let min: u16 = std::env::var("PLUGIN_MIN_PORT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10000);
    let max: u16 = std::env::var("PLUGIN_MAX_PORT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25000);
    for port in min..=max {
        let std_listener = match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(l) => l,
            Err(_) => continue,
        };
        std_listener.set_nonblocking(true)?;
        let l = tokio::net::TcpListener::from_std(std_listener)?;
        return Ok((Listener::Tcp(l), "tcp".into(), format!("127.0.0.1:{port}")));
    }
    Err(ServeError::NoPort(min, max))
}

fn nonce() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

/// Accept connections; with TLS, finish the handshake (requiring the pinned
/// client certificate) before gRPC sees the connection. A failed handshake
/// drops that connection only.
fn accept_loop(
    listener: Listener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) -> ReceiverStream<Result<Conn, std::io::Error>> {
    let (tx, rx) = mpsc::channel(16);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let accepted: std::io::Result<Box<dyn Io>> = tokio::select! {
                _ = shutdown.cancelled() => break,
                r = async {
                    match &listener {
                        Listener::Unix(l) => l.accept().await.map(|(s, _)| Box::new(s) as Box<dyn Io>),
                        Listener::Tcp(l) => l.accept().await.map(|(s, _)| {
                            let _ = s.set_nodelay(true);
                            Box::new(s) as Box<dyn Io>
                        }),
                    }
                } => r,
            };
            let stream = match accepted {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            };
            let tx = tx.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let conn = match acceptor {
                    None => Conn(stream),
                    Some(a) => match a.accept(stream).await {
                        Ok(t) => Conn(Box::new(t)),
                        Err(e) => {
                            tracing::warn!(error = %e, "refused a connection: TLS handshake failed (client certificate missing or not the one Terraform announced)");
                            return;
                        }
                    },
                };
                let _ = tx.send(Ok(conn)).await;
            });
        }
    });
    ReceiverStream::new(rx)
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// An accepted connection (plain or TLS, unix or TCP).
struct Conn(Box<dyn Io>);

impl Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

fn print_reattach(address: &str, network: &str, addr: &str) {
    let value = serde_json::json!({
        address: {
            "Protocol": "grpc",
            "ProtocolVersion": PROTOCOL_VERSION,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": {"Network": network, "String": addr},
        }
    });
    println!(
        "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n"
    );
    println!("\tTF_REATTACH_PROVIDERS='{value}'\n");
    println!("Stop the provider with Ctrl-C.");
    let _ = std::io::stdout().flush();
}

fn spawn_signal_handlers(shutdown: CancellationToken, debug: bool) {
    use tokio::signal::unix::{SignalKind, signal};
    tokio::spawn(async move {
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        loop {
            tokio::select! {
                _ = int.recv() => {
                    // Terraform forwards Ctrl-C to the process group and then
                    // calls StopProvider; like go-plugin we keep serving so
                    // that it can. In debug mode Ctrl-C is the way to stop.
                    if debug { shutdown.cancel(); break; }
                    tracing::debug!("interrupt received; waiting for StopProvider/Shutdown");
                }
                _ = term.recv() => { shutdown.cancel(); break; }
                _ = shutdown.cancelled() => break,
            }
        }
    });
}

struct Controller {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl gp::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _r: Request<gp::Empty>) -> Result<Response<gp::Empty>, Status> {
        tracing::debug!("GRPCController.Shutdown: stopping the server");
        let token = self.shutdown.clone();
        // Answer first, then stop: the client waits for this reply.
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            token.cancel();
        });
        Ok(Response::new(gp::Empty {}))
    }
}

struct Stdio {
    shutdown: CancellationToken,
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl gp::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = BoxStream<gp::StdioData>;

    async fn stream_stdio(
        &self,
        _r: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        // We never write to our own stdout/stderr except logs (which go to
        // stderr, read directly by the client): keep the stream open and
        // empty until shutdown.
        let token = self.shutdown.clone();
        let s = futures::stream::once(async move {
            token.cancelled().await;
            Err(Status::cancelled("plugin shutting down"))
        });
        Ok(Response::new(Box::pin(s)))
    }
}

struct Broker {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl gp::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = BoxStream<gp::ConnInfo>;

    async fn start_stream(
        &self,
        r: Request<Streaming<gp::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        // Terraform providers open no extra connections; drain what the
        // client sends and keep our side open until shutdown.
        let mut inbound = r.into_inner();
        let token = self.shutdown.clone();
        tokio::spawn(async move { while let Ok(Some(_)) = inbound.message().await {} });
        let s = futures::stream::once(async move {
            token.cancelled().await;
            Err(Status::cancelled("plugin shutting down"))
        });
        Ok(Response::new(Box::pin(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_negotiation() {
        assert_eq!(negotiate_version(None).unwrap(), 6);
        assert_eq!(negotiate_version(Some("5,6")).unwrap(), 6);
        assert_eq!(negotiate_version(Some("6")).unwrap(), 6);
        assert!(negotiate_version(Some("4,5")).is_err());
    }
}
