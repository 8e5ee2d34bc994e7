//! `make bench`: how fast the provider is ready for Terraform, and how much
//! memory it holds, measured on the release binary started exactly as
//! Terraform starts it (cookie, protocol versions, client certificate).
//!
//! Reports startup-to-handshake time (median, p90, max over N runs) and peak
//! resident memory (VmHWM) after serving the schema, plus codec throughput.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hikube_provider::plugin::value::{Type, Value, decode_msgpack, encode_msgpack};

const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

fn client_pem() -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.self_signed(&key).unwrap().pem()
}

fn binary() -> String {
    std::env::var("HIKUBE_BENCH_BINARY").unwrap_or_else(|_| {
        let release = "target/release/terraform-provider-hikube";
        if std::path::Path::new(release).exists() {
            release.into()
        } else {
            env!("CARGO_BIN_EXE_terraform-provider-hikube").into()
        }
    })
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let bin = binary();
    let pem = client_pem();
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let mut times = Vec::new();
    let mut hwm = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let mut child = Command::new(&bin)
            .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env("PLUGIN_CLIENT_CERT", &pem)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start provider");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        times.push(start.elapsed());
        assert!(line.starts_with("1|6|"), "handshake: {line}");
        std::thread::sleep(Duration::from_millis(50));
        if let Some(k) = vm_hwm_kib(child.id()) {
            hwm.push(k);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    times.sort();
    hwm.sort();
    println!("binary: {bin}");
    println!(
        "startup to handshake ({runs} runs): median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.9).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3
    );
    if !hwm.is_empty() {
        println!(
            "peak resident memory after handshake: median {:.1} MiB, max {:.1} MiB",
            hwm[hwm.len() / 2] as f64 / 1024.0,
            *hwm.last().unwrap() as f64 / 1024.0
        );
    }

    // Codec throughput on a state-sized object (30 VMs worth of attributes).
    let item = Type::object([
        ("name", Type::String),
        ("instance_type", Type::String),
        ("gpus", Type::list(Type::object([("name", Type::String)]))),
        ("external_ports", Type::list(Type::Number)),
        ("running", Type::Bool),
    ]);
    let ty = Type::list(item);
    let v = Value::List(
        (0..30)
            .map(|i| {
                Value::object([
                    ("name", Value::string(format!("vm-{i}"))),
                    ("instance_type", Value::string("u1.2xlarge")),
                    (
                        "gpus",
                        Value::List(vec![Value::object([(
                            "name",
                            Value::string("nvidia.com/A100"),
                        )])]),
                    ),
                    (
                        "external_ports",
                        Value::List(vec![Value::number_i64(22), Value::number_i64(8888)]),
                    ),
                    ("running", Value::Bool(true)),
                ])
            })
            .collect(),
    );
    let bytes = encode_msgpack(&v, &ty).unwrap();
    let n = 2000;
    let t = Instant::now();
    for _ in 0..n {
        let d = decode_msgpack(&bytes, &ty).unwrap();
        let e = encode_msgpack(&d, &ty).unwrap();
        assert_eq!(e.len(), bytes.len());
    }
    let per = t.elapsed() / n;
    println!(
        "msgpack decode+encode of a {} byte value: {:.1} us per round trip",
        bytes.len(),
        per.as_secs_f64() * 1e6
    );
}
