//! Provider configuration: the `provider "hikube"` block, its environment
//! fallbacks, and how they resolve to one Kubernetes client configuration.
//!
//! Precedence, per setting: the attribute, then its environment variable,
//! then the kubeconfig. `~/.kube/config` is used only when nothing at all
//! was configured, and the debug log always says which source won.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use kube::config::{
    AuthInfo, Cluster, Context, ExecConfig, KubeConfigOptions, Kubeconfig, NamedAuthInfo,
    NamedCluster, NamedContext,
};

use crate::plugin::diag::{AttrPath, Diagnostics};
use crate::plugin::schema::{Attribute, Block, NestedBlock, Schema, parse_duration};
use crate::plugin::value::{Type, Value};

/// Default per-request timeout.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The provider block schema.
pub fn schema() -> Schema {
    Schema::new(
        Block::new(
            "The Hikube provider manages GPU virtual machines and GPU node groups on Hikube \
             (Cozystack). It talks to the Kubernetes API that Hikube exposes for your tenant. \
             All attributes are optional: with none set, the provider reads `HIKUBE_KUBECONFIG`, \
             then `KUBECONFIG`, and only then `~/.kube/config`.",
        )
        .attr(Attribute::string("kubeconfig_path").optional().description(
            "Path to a kubeconfig file. Environment fallback: `HIKUBE_KUBECONFIG`, then `KUBECONFIG` \
             (first file of the list).",
        ))
        .attr(Attribute::string("kubeconfig_context").optional().description(
            "Context to use from the kubeconfig. Default: the kubeconfig's current context. \
             Environment fallback: `HIKUBE_CONTEXT`.",
        ))
        .attr(Attribute::string("namespace").optional().description(
            "Tenant namespace used by resources that do not set `namespace`, e.g. `tenant-root` or \
             `tenant-myteam`. Default: `HIKUBE_NAMESPACE`, then the kubeconfig context's namespace.",
        ))
        .attr(Attribute::string("host").optional().description(
            "URL of the Kubernetes API server, e.g. `https://api.hikube.cloud:6443`. Overrides the \
             kubeconfig's server. Environment fallback: `HIKUBE_HOST`.",
        ))
        .attr(Attribute::string("token").optional().sensitive().description(
            "Bearer token (for example a tenant ServiceAccount token). Environment fallback: `HIKUBE_TOKEN`.",
        ))
        .attr(Attribute::string("client_certificate").optional().description(
            "PEM-encoded client certificate for TLS client authentication.",
        ))
        .attr(Attribute::string("client_key").optional().sensitive().description(
            "PEM-encoded private key matching `client_certificate`.",
        ))
        .attr(Attribute::string("cluster_ca_certificate").optional().description(
            "PEM-encoded CA certificate of the API server.",
        ))
        .attr(Attribute::bool("insecure").optional().description(
            "Skip verification of the API server's certificate. Default `false`. Never use it in production.",
        ))
        .attr(Attribute::string("request_timeout").optional().description(
            "Timeout of each API request, as a duration such as `30s` or `2m`. Default `30s`.",
        ))
        .block(NestedBlock::single(
            "exec",
            Block::new(
                "Obtain credentials from an exec plugin, such as kubelogin for OIDC \
                 (`command = \"kubectl\"`, `args = [\"oidc-login\", \"get-token\", ...]`).",
            )
            .attr(Attribute::string("api_version").required().description(
                "API version of the exec credential, e.g. `client.authentication.k8s.io/v1beta1`.",
            ))
            .attr(Attribute::string("command").required().description("Command to run."))
            .attr(Attribute::typed("args", Type::List(Box::new(Type::String))).optional().description("Arguments."))
            .attr(Attribute::typed("env", Type::Map(Box::new(Type::String))).optional().description(
                "Extra environment variables for the command.",
            )),
        )),
    )
}

/// Exec plugin settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecSettings {
    /// ExecCredential API version.
    pub api_version: String,
    /// Command.
    pub command: String,
    /// Arguments.
    pub args: Vec<String>,
    /// Environment.
    pub env: BTreeMap<String, String>,
}

/// The provider block, decoded, with environment fallbacks applied.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProviderConfig {
    /// Kubeconfig path and where it came from.
    pub kubeconfig_path: Option<(PathBuf, &'static str)>,
    /// Context name.
    pub context: Option<String>,
    /// Default namespace.
    pub namespace: Option<String>,
    /// API server URL.
    pub host: Option<String>,
    /// Bearer token.
    pub token: Option<String>,
    /// Client certificate PEM.
    pub client_certificate: Option<String>,
    /// Client key PEM.
    pub client_key: Option<String>,
    /// CA PEM.
    pub cluster_ca_certificate: Option<String>,
    /// Skip TLS verification.
    pub insecure: bool,
    /// Exec plugin.
    pub exec: Option<ExecSettings>,
    /// Request timeout.
    pub request_timeout: Duration,
}

impl std::fmt::Debug for ProviderConfig {
    // Hand-written so that secrets can never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("kubeconfig_path", &self.kubeconfig_path)
            .field("context", &self.context)
            .field("namespace", &self.namespace)
            .field("host", &self.host)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field(
                "client_certificate",
                &self.client_certificate.as_ref().map(|_| "<set>"),
            )
            .field(
                "client_key",
                &self.client_key.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "cluster_ca_certificate",
                &self.cluster_ca_certificate.as_ref().map(|_| "<set>"),
            )
            .field("insecure", &self.insecure)
            .field("exec", &self.exec.as_ref().map(|e| &e.command))
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// Where values come from when not set in HCL.
pub trait Env {
    /// Read one variable.
    fn var(&self, key: &str) -> Option<String>;
    /// The home directory.
    fn home(&self) -> Option<PathBuf>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
    fn home(&self) -> Option<PathBuf> {
        std::env::var_os("HOME").map(PathBuf::from)
    }
}

fn opt_str(config: &Value, name: &str) -> Option<String> {
    config
        .get(name)
        .as_str()
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

/// Offline checks of the provider block.
pub fn validate(config: &Value) -> Diagnostics {
    let mut d = Diagnostics::new();
    if let Some(t) = config.get("request_timeout").as_str()
        && let Err(e) = parse_duration(t)
    {
        d.error_at(
            AttrPath::root("request_timeout"),
            "Invalid request_timeout",
            format!("{e}. Fix: write a duration such as \"30s\" or \"2m\"."),
        );
    }
    if let Some(h) = config.get("host").as_str()
        && !(h.starts_with("https://") || h.starts_with("http://"))
    {
        d.error_at(
            AttrPath::root("host"),
            "Invalid host",
            format!("`{h}` is not a URL. Fix: write the API server URL with its scheme, e.g. \"https://api.example.com:6443\"."),
        );
    }
    let cert = !config.get("client_certificate").is_null();
    let key = !config.get("client_key").is_null();
    if cert != key {
        let (set, missing) = if cert {
            ("client_certificate", "client_key")
        } else {
            ("client_key", "client_certificate")
        };
        d.error_at(
            AttrPath::root(missing),
            "Incomplete client certificate",
            format!("`{set}` is set but `{missing}` is not. Fix: set both, or neither."),
        );
    }
    for pem_attr in ["client_certificate", "cluster_ca_certificate"] {
        if let Some(p) = config.get(pem_attr).as_str()
            && !p.contains("-----BEGIN")
        {
            d.error_at(
                AttrPath::root(pem_attr),
                "Not a PEM certificate",
                format!("`{pem_attr}` must hold PEM text starting with -----BEGIN CERTIFICATE-----. Fix: use file(\"ca.pem\") or the decoded kubeconfig data."),
            );
        }
    }
    if let Some(p) = config.get("client_key").as_str()
        && !p.contains("-----BEGIN")
    {
        d.error_at(
            AttrPath::root("client_key"),
            "Not a PEM key",
            "`client_key` must hold PEM text (-----BEGIN ... PRIVATE KEY-----). Fix: use file(\"client.key\").",
        );
    }
    d
}

impl ProviderConfig {
    /// Decode the provider block and apply environment fallbacks. The value
    /// must be wholly known.
    pub fn from_value(config: &Value, env: &dyn Env) -> Result<Self, Diagnostics> {
        let d = validate(config);
        if d.has_errors() {
            return Err(d);
        }
        let kubeconfig_path = if let Some(p) = opt_str(config, "kubeconfig_path") {
            Some((expand_home(&p, env), "the kubeconfig_path attribute"))
        } else if let Some(p) = env.var("HIKUBE_KUBECONFIG") {
            Some((expand_home(&p, env), "HIKUBE_KUBECONFIG"))
        } else {
            env.var("KUBECONFIG").and_then(|p| {
                p.split(':')
                    .find(|s| !s.is_empty())
                    .map(|s| (expand_home(s, env), "KUBECONFIG"))
            })
        };
        let exec = match config.get("exec") {
            Value::Null => None,
            e => Some(ExecSettings {
                api_version: opt_str(e, "api_version").unwrap_or_default(),
                command: opt_str(e, "command").unwrap_or_default(),
                args: e
                    .get("args")
                    .as_list()
                    .map(|l| {
                        l.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                env: e
                    .get("env")
                    .as_map()
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
        };
        let request_timeout = match opt_str(config, "request_timeout") {
            Some(t) => parse_duration(&t).map_err(|e| {
                let mut d = Diagnostics::new();
                d.error_at(
                    AttrPath::root("request_timeout"),
                    "Invalid request_timeout",
                    e,
                );
                d
            })?,
            None => DEFAULT_REQUEST_TIMEOUT,
        };
        Ok(Self {
            kubeconfig_path,
            context: opt_str(config, "kubeconfig_context").or_else(|| env.var("HIKUBE_CONTEXT")),
            namespace: opt_str(config, "namespace").or_else(|| env.var("HIKUBE_NAMESPACE")),
            host: opt_str(config, "host").or_else(|| env.var("HIKUBE_HOST")),
            token: opt_str(config, "token").or_else(|| env.var("HIKUBE_TOKEN")),
            client_certificate: opt_str(config, "client_certificate"),
            client_key: opt_str(config, "client_key"),
            cluster_ca_certificate: opt_str(config, "cluster_ca_certificate"),
            insecure: config.get("insecure").as_bool().unwrap_or(false),
            exec,
            request_timeout,
        })
    }

    fn has_explicit_credentials(&self) -> bool {
        self.host.is_some()
    }

    /// Resolve to one kubeconfig (a single context named `hikube`) and say
    /// where it came from. No network access.
    pub fn resolve(&self, env: &dyn Env) -> Result<Resolved, ConfigError> {
        let (base, mut source) = if let Some((path, origin)) = &self.kubeconfig_path {
            let kc = Kubeconfig::read_from(path).map_err(|e| ConfigError::Kubeconfig {
                path: path.clone(),
                origin,
                source: Box::new(e),
            })?;
            (
                Some(kc),
                format!("kubeconfig {} (from {origin})", path.display()),
            )
        } else if self.has_explicit_credentials() {
            (None, "the host attribute / HIKUBE_HOST".to_string())
        } else {
            let default = env.home().map(|h| h.join(".kube").join("config"));
            match default {
                Some(p) if p.exists() => {
                    let kc = Kubeconfig::read_from(&p).map_err(|e| ConfigError::Kubeconfig {
                        path: p.clone(),
                        origin: "the default location",
                        source: Box::new(e),
                    })?;
                    (
                        Some(kc),
                        format!(
                            "kubeconfig {} (default location: nothing else was configured)",
                            p.display()
                        ),
                    )
                }
                _ => return Err(ConfigError::NothingConfigured),
            }
        };

        let (mut cluster, mut auth, mut namespace) =
            (Cluster::default(), AuthInfo::default(), None);
        if let Some(kc) = &base {
            let ctx_name = self
                .context
                .clone()
                .or_else(|| kc.current_context.clone())
                .ok_or(ConfigError::NoContext)?;
            let ctx = kc
                .contexts
                .iter()
                .find(|c| c.name == ctx_name)
                .and_then(|c| c.context.clone())
                .ok_or_else(|| ConfigError::UnknownContext {
                    name: ctx_name.clone(),
                    known: kc.contexts.iter().map(|c| c.name.clone()).collect(),
                })?;
            cluster = kc
                .clusters
                .iter()
                .find(|c| c.name == ctx.cluster)
                .and_then(|c| c.cluster.clone())
                .ok_or_else(|| ConfigError::Incomplete(format!("context {ctx_name:?} names cluster {:?}, which the kubeconfig does not define", ctx.cluster)))?;
            if let Some(user) = &ctx.user {
                auth = kc
                    .auth_infos
                    .iter()
                    .find(|a| &a.name == user)
                    .and_then(|a| a.auth_info.clone())
                    .ok_or_else(|| ConfigError::Incomplete(format!("context {ctx_name:?} names user {user:?}, which the kubeconfig does not define")))?;
            }
            namespace = ctx.namespace.clone();
            source.push_str(&format!(", context {ctx_name:?}"));
        }

        // Explicit settings override the kubeconfig's.
        if let Some(h) = &self.host {
            cluster.server = Some(h.clone());
            cluster.certificate_authority = None;
            cluster.certificate_authority_data = None;
        }
        if let Some(ca) = &self.cluster_ca_certificate {
            cluster.certificate_authority = None;
            cluster.certificate_authority_data = Some(b64(ca));
        }
        if self.insecure {
            cluster.insecure_skip_tls_verify = Some(true);
        }
        let explicit_auth =
            self.token.is_some() || self.client_certificate.is_some() || self.exec.is_some();
        if explicit_auth {
            auth = AuthInfo::default();
        }
        if let Some(t) = &self.token {
            auth.token = Some(t.clone().into());
        }
        if let (Some(c), Some(k)) = (&self.client_certificate, &self.client_key) {
            auth.client_certificate_data = Some(b64(c));
            auth.client_key_data = Some(b64(k).into());
        }
        if let Some(e) = &self.exec {
            auth.exec = Some(ExecConfig {
                api_version: Some(e.api_version.clone()),
                command: Some(e.command.clone()),
                args: Some(e.args.clone()),
                env: if e.env.is_empty() {
                    None
                } else {
                    Some(
                        e.env
                            .iter()
                            .map(|(k, v)| {
                                HashMap::from([
                                    ("name".to_string(), k.clone()),
                                    ("value".to_string(), v.clone()),
                                ])
                            })
                            .collect(),
                    )
                },
                drop_env: None,
                install_hint: None,
                interactive_mode: None,
                provide_cluster_info: false,
                cluster: None,
                other: Default::default(),
            });
        }
        if cluster.server.is_none() {
            return Err(ConfigError::Incomplete(
                "no API server URL: set `host` or use a kubeconfig whose cluster has a server"
                    .into(),
            ));
        }
        if let Some(ns) = &self.namespace {
            namespace = Some(ns.clone());
        }
        let kubeconfig = Kubeconfig {
            clusters: vec![NamedCluster {
                name: "hikube".into(),
                cluster: Some(cluster),
                other: Default::default(),
            }],
            auth_infos: vec![NamedAuthInfo {
                name: "hikube".into(),
                auth_info: Some(auth),
                other: Default::default(),
            }],
            contexts: vec![NamedContext {
                name: "hikube".into(),
                context: Some(Context {
                    cluster: "hikube".into(),
                    user: Some("hikube".into()),
                    namespace: namespace.clone(),
                    extensions: None,
                    other: Default::default(),
                }),
                other: Default::default(),
            }],
            current_context: Some("hikube".into()),
            ..Default::default()
        };
        Ok(Resolved {
            kubeconfig,
            namespace,
            source,
            request_timeout: self.request_timeout,
        })
    }
}

/// A resolved client configuration.
#[derive(Clone)]
pub struct Resolved {
    /// One-context kubeconfig.
    pub kubeconfig: Kubeconfig,
    /// Default namespace, if any source named one.
    pub namespace: Option<String>,
    /// Human description of where the settings came from (for debug logs).
    pub source: String,
    /// Per-request timeout.
    pub request_timeout: Duration,
}

impl Resolved {
    /// The server URL.
    pub fn server(&self) -> Option<&str> {
        self.kubeconfig
            .clusters
            .first()?
            .cluster
            .as_ref()?
            .server
            .as_deref()
    }

    /// Build the kube-rs configuration (no network access; exec plugins run
    /// on first use).
    pub async fn kube_config(&self) -> Result<kube::Config, ConfigError> {
        let mut cfg = kube::Config::from_custom_kubeconfig(
            self.kubeconfig.clone(),
            &KubeConfigOptions::default(),
        )
        .await
        .map_err(|e| ConfigError::Build(Box::new(e)))?;
        cfg.read_timeout = Some(self.request_timeout);
        cfg.write_timeout = Some(self.request_timeout);
        cfg.connect_timeout = Some(self.request_timeout.min(Duration::from_secs(30)));
        Ok(cfg)
    }
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

fn expand_home(p: &str, env: &dyn Env) -> PathBuf {
    match (p.strip_prefix("~/"), env.home()) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(p),
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No source at all.
    #[error(
        "no Kubernetes credentials configured: set `kubeconfig_path` (or HIKUBE_KUBECONFIG / KUBECONFIG), \
         or `host` with `token`, client certificates or an `exec` block"
    )]
    NothingConfigured,
    /// Reading the kubeconfig failed.
    #[error("failed to read kubeconfig {} (from {origin}): {source}", path.display())]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// Which setting named it.
        origin: &'static str,
        /// Cause.
        #[source]
        source: Box<kube::config::KubeconfigError>,
    },
    /// No context given and none current.
    #[error("the kubeconfig has no current context: set `kubeconfig_context` (or HIKUBE_CONTEXT)")]
    NoContext,
    /// The context does not exist.
    #[error(
        "context {name:?} is not in the kubeconfig (it has: {known:?}): fix `kubeconfig_context` or HIKUBE_CONTEXT"
    )]
    UnknownContext {
        /// Requested.
        name: String,
        /// Available.
        known: Vec<String>,
    },
    /// Something is missing.
    #[error("{0}")]
    Incomplete(String),
    /// kube-rs refused the configuration.
    #[error("failed to build the Kubernetes client configuration: {0}")]
    Build(#[source] Box<kube::config::KubeconfigError>),
}

#[cfg(test)]
mod tests {
    use super::*;

    struct FakeEnv(BTreeMap<&'static str, String>, Option<PathBuf>);
    impl Env for FakeEnv {
        fn var(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn home(&self) -> Option<PathBuf> {
            self.1.clone()
        }
    }

    fn cfg(pairs: &[(&str, Value)]) -> Value {
        let names = [
            "kubeconfig_path",
            "kubeconfig_context",
            "namespace",
            "host",
            "token",
            "client_certificate",
            "client_key",
            "cluster_ca_certificate",
            "insecure",
            "request_timeout",
            "exec",
        ];
        Value::Object(
            names
                .iter()
                .map(|n| {
                    let v = pairs
                        .iter()
                        .find(|(k, _)| k == n)
                        .map(|(_, v)| v.clone())
                        .unwrap_or(Value::Null);
                    (n.to_string(), v)
                })
                .collect(),
        )
    }

    const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: a
contexts:
- name: a
  context: {cluster: c1, user: u1, namespace: tenant-a}
- name: b
  context: {cluster: c2, user: u2}
clusters:
- name: c1
  cluster: {server: "https://one.example:6443"}
- name: c2
  cluster: {server: "https://two.example:6443"}
users:
- name: u1
  user: {token: secret-one}
- name: u2
  user: {token: secret-two}
"#;

    fn write_kubeconfig() -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), KUBECONFIG).unwrap();
        f
    }

    #[test]
    fn nothing_configured_is_an_error_not_localhost() {
        let env = FakeEnv(BTreeMap::new(), Some(PathBuf::from("/nonexistent-home")));
        let c = ProviderConfig::from_value(&cfg(&[]), &env).unwrap();
        assert!(matches!(
            c.resolve(&env),
            Err(ConfigError::NothingConfigured)
        ));
    }

    #[test]
    fn attribute_beats_env_and_env_beats_kubeconfig() {
        let f = write_kubeconfig();
        let mut vars = BTreeMap::new();
        vars.insert("HIKUBE_KUBECONFIG", f.path().display().to_string());
        vars.insert("KUBECONFIG", "/nope".to_string());
        vars.insert("HIKUBE_NAMESPACE", "tenant-env".to_string());
        let env = FakeEnv(vars, None);
        let c = ProviderConfig::from_value(&cfg(&[]), &env).unwrap();
        let r = c.resolve(&env).unwrap();
        assert_eq!(r.server(), Some("https://one.example:6443"));
        assert_eq!(r.namespace.as_deref(), Some("tenant-env"));
        assert!(r.source.contains("HIKUBE_KUBECONFIG"), "{}", r.source);

        let c = ProviderConfig::from_value(
            &cfg(&[
                ("kubeconfig_context", Value::string("b")),
                ("namespace", Value::string("tenant-x")),
            ]),
            &env,
        )
        .unwrap();
        let r = c.resolve(&env).unwrap();
        assert_eq!(r.server(), Some("https://two.example:6443"));
        assert_eq!(r.namespace.as_deref(), Some("tenant-x"));
    }

    #[test]
    fn context_namespace_is_the_default() {
        let f = write_kubeconfig();
        let env = FakeEnv(BTreeMap::new(), None);
        let c = ProviderConfig::from_value(
            &cfg(&[(
                "kubeconfig_path",
                Value::string(f.path().display().to_string()),
            )]),
            &env,
        )
        .unwrap();
        assert_eq!(
            c.resolve(&env).unwrap().namespace.as_deref(),
            Some("tenant-a")
        );
    }

    #[test]
    fn unknown_context_names_the_known_ones() {
        let f = write_kubeconfig();
        let env = FakeEnv(BTreeMap::new(), None);
        let c = ProviderConfig::from_value(
            &cfg(&[
                (
                    "kubeconfig_path",
                    Value::string(f.path().display().to_string()),
                ),
                ("kubeconfig_context", Value::string("zzz")),
            ]),
            &env,
        )
        .unwrap();
        let e = c.resolve(&env).err().unwrap().to_string();
        assert!(e.contains("zzz") && e.contains("\"a\""), "{e}");
    }

    #[test]
    fn explicit_host_and_token_override() {
        let f = write_kubeconfig();
        let mut vars = BTreeMap::new();
        vars.insert("KUBECONFIG", format!("{}:/other", f.path().display()));
        vars.insert("HIKUBE_TOKEN", "from-env".to_string());
        let env = FakeEnv(vars, None);
        let c = ProviderConfig::from_value(
            &cfg(&[("host", Value::string("https://three.example"))]),
            &env,
        )
        .unwrap();
        let r = c.resolve(&env).unwrap();
        assert_eq!(r.server(), Some("https://three.example"));
        let auth = r.kubeconfig.auth_infos[0].auth_info.clone().unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(auth.token.unwrap().expose_secret(), "from-env");
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let env = FakeEnv(BTreeMap::new(), None);
        let c = ProviderConfig::from_value(
            &cfg(&[
                ("host", Value::string("https://h")),
                ("token", Value::string("s3cr3t-token")),
            ]),
            &env,
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t-token"));
    }

    #[test]
    fn validation_names_attributes() {
        let d = validate(&cfg(&[
            ("request_timeout", Value::string("ten")),
            ("host", Value::string("api.example.com")),
            (
                "client_certificate",
                Value::string("-----BEGIN CERTIFICATE-----"),
            ),
        ]));
        let paths: Vec<String> = d
            .iter()
            .filter_map(|d| d.attribute.as_ref().map(|p| p.to_string()))
            .collect();
        assert!(paths.contains(&"request_timeout".to_string()));
        assert!(paths.contains(&"host".to_string()));
        assert!(paths.contains(&"client_key".to_string()));
    }
}
