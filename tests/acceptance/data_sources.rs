//! `hikube_gpu_types` and `hikube_instance_types` through the real Terraform
//! CLI: merged with the test bed's lists, and the catalog alone when a
//! cluster does not publish them.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use serde_json::Value as Json;

use crate::harness::*;
use crate::validation_corpus::corpus_target;

const HEADER: &str =
    "terraform {\n  required_providers {\n    hikube = { source = \"hikube/hikube\" }\n  }\n}\n";

/// Apply a configuration made of data sources and outputs; its outputs.
fn outputs(w: &Workdir) -> Json {
    w.apply(&[]).assert_ok();
    let r = w.tf(&["output", "-json"]);
    r.assert_ok();
    let v: Json = serde_json::from_str(&r.stdout).unwrap();
    let mut out = serde_json::Map::new();
    for (k, o) in v.as_object().unwrap() {
        out.insert(k.clone(), o["value"].clone());
    }
    Json::Object(out)
}

fn by_model<'a>(gpus: &'a Json, model: &str) -> &'a Json {
    gpus.as_array()
        .unwrap()
        .iter()
        .find(|g| g["model"] == model)
        .unwrap_or_else(|| panic!("{model} not in {gpus:#}"))
}

fn names(types: &Json) -> Vec<String> {
    types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn gpu_types_merge_what_the_cluster_offers() {
    let (t, _guard) = corpus_target();
    t.clear_requests();
    let w = Workdir::for_target(
        t,
        r#"
data "hikube_gpu_types" "all" {}

data "hikube_gpu_types" "h100" {
  model = "nvidia.com/H100"
}

output "all" {
  value = data.hikube_gpu_types.all
}

output "h100" {
  value = data.hikube_gpu_types.h100.gpus
}
"#,
    );
    let o = outputs(&w);
    let all = &o["all"];
    assert_eq!(all["source"], "cluster");
    assert_eq!(all["id"], t.namespace.as_str());
    let gpus = &all["gpus"];
    let models: Vec<&str> = gpus
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["model"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["L40S", "A100", "H100", "H200", "A10", "A400"]);
    let l40s = by_model(gpus, "L40S");
    assert_eq!(l40s["resource_name"], "nvidia.com/AD102GL_L40S");
    assert_eq!(l40s["offered"], true);
    assert_eq!(l40s["available"], 2);
    assert_eq!(l40s["int8_tops"], 362);
    assert_eq!(l40s["architecture"], "Ada Lovelace");
    assert_eq!(l40s["memory_gb"], 48);
    assert!(
        l40s["names"]
            .as_array()
            .unwrap()
            .contains(&Json::from("nvidia.com/L40S"))
    );
    let h200 = by_model(gpus, "H200");
    assert_eq!(h200["offered"], false);
    assert_eq!(h200["available"], 0);
    assert_eq!(h200["int8_tops"], Json::Null, "no invented figure");
    assert_eq!(h200["offered_names"], serde_json::json!([]));
    let h100 = o["h100"].as_array().unwrap();
    assert_eq!(h100.len(), 1, "{h100:#?}");
    assert_eq!(h100[0]["resource_name"], "nvidia.com/H100_94GB");
    assert_eq!(h100[0]["available"], 4);
    let writes: Vec<_> = t
        .requests()
        .into_iter()
        .filter(|(m, _)| m != "GET")
        .collect();
    assert!(writes.is_empty(), "a data source wrote: {writes:?}");
    assert!(
        t.requests()
            .iter()
            .any(|(_, p)| p.ends_with("/options/gpu")),
        "the GPU list was not read: {:?}",
        t.requests()
    );
}

#[test]
fn instance_types_pick_the_smallest_fitting_type_from_the_cluster_list() {
    let (t, _guard) = corpus_target();
    let w = Workdir::for_target(
        t,
        r#"
data "hikube_instance_types" "two_gpus" {
  series   = "u1"
  min_vcpu = 8 * 2
}

data "hikube_instance_types" "gpu_included" {
  gpu_included = true
}

data "hikube_instance_types" "big_memory" {
  min_memory   = "100Gi"
  gpu_included = false
}

data "hikube_instance_types" "all" {}

output "two_gpus" {
  value = data.hikube_instance_types.two_gpus
}

output "gpu_included" {
  value = data.hikube_instance_types.gpu_included.instance_types
}

output "big_memory" {
  value = data.hikube_instance_types.big_memory.instance_types[*].name
}

output "all" {
  value = data.hikube_instance_types.all.instance_types[*].name
}
"#,
    );
    let o = outputs(&w);
    assert_eq!(o["two_gpus"]["source"], "cluster");
    let two = &o["two_gpus"]["instance_types"];
    assert_eq!(names(two), ["u1.4xlarge", "u1.8xlarge"]);
    assert_eq!(two[0]["vcpu"], 16);
    assert_eq!(two[0]["memory"], "64Gi");
    assert_eq!(two[0]["memory_bytes"], 64u64 << 30);
    assert_eq!(two[0]["gpu"], Json::Null);
    assert_eq!(two[0]["gpu_included"], false);
    assert_eq!(two[0]["series"], "u1");
    // gn1 keeps its built-in GPU although the cluster's list does not say.
    let gn1 = &o["gpu_included"];
    assert_eq!(
        names(gn1),
        ["gn1.xlarge", "gn1.2xlarge", "gn1.4xlarge", "gn1.8xlarge"]
    );
    assert!(
        gn1.as_array()
            .unwrap()
            .iter()
            .all(|t| t["gpu"] == "nvidia.com/A400")
    );
    // The test bed's list has no m1 `1gi` variants, no rt1 and no d1: the
    // cluster's list is authoritative.
    let big: Vec<String> = serde_json::from_value(o["big_memory"].clone()).unwrap();
    assert_eq!(
        big,
        [
            "m1.4xlarge",
            "o1.8xlarge",
            "u1.8xlarge",
            "m1.8xlarge",
            "n1.8xlarge",
            "s1.8xlarge"
        ]
    );
    let all: Vec<String> = serde_json::from_value(o["all"].clone()).unwrap();
    assert!(
        !all.iter()
            .any(|n| n.starts_with("d1.") || n.starts_with("rt1.")),
        "{all:?}"
    );
    assert!(all.contains(&"s1.3large".to_string()));
}

/// A one-route HTTP server answering every request with `status` and a
/// Kubernetes Status body: a cluster without the options endpoints (404),
/// one that forbids them (403), or a broken one (500).
fn fake_cluster(status: u16) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            let reason = match status {
                404 => "NotFound",
                403 => "Forbidden",
                _ => "InternalError",
            };
            let body = format!(
                "{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"fake: {reason}\",\"reason\":\"{reason}\",\"code\":{status}}}"
            );
            let _ = write!(
                s,
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

fn without_options_body(host: &str) -> String {
    format!(
        r#"{HEADER}
provider "hikube" {{
  host            = "{host}"
  token           = "test-token"
  namespace       = "tenant-root"
  request_timeout = "5s"
}}

data "hikube_gpu_types" "all" {{}}

data "hikube_instance_types" "d1" {{
  series = "d1"
}}

output "gpus" {{
  value = data.hikube_gpu_types.all
}}

output "d1" {{
  value = data.hikube_instance_types.d1
}}
"#
    )
}

#[test]
fn data_sources_answer_from_the_catalog_when_the_cluster_has_no_lists() {
    let w = Workdir::new(&without_options_body(&fake_cluster(404)));
    let o = outputs(&w);
    assert_eq!(o["gpus"]["source"], "catalog");
    let gpus = &o["gpus"]["gpus"];
    assert_eq!(gpus.as_array().unwrap().len(), 6);
    let a100 = by_model(gpus, "A100");
    assert_eq!(a100["resource_name"], "nvidia.com/GA100_A100_PCIE_80GB");
    assert_eq!(a100["offered"], Json::Null);
    assert_eq!(a100["available"], Json::Null);
    assert_eq!(a100["offered_names"], Json::Null);
    assert_eq!(o["d1"]["source"], "catalog");
    assert_eq!(
        names(&o["d1"]["instance_types"])[..2],
        ["d1.nano", "d1.micro"]
    );
}

#[test]
fn a_forbidden_list_is_a_warning_and_a_broken_cluster_an_error() {
    let w = Workdir::new(&without_options_body(&fake_cluster(403)));
    let r = w.apply(&[]);
    r.assert_ok();
    assert!(
        r.all().contains("Cannot read the cluster's GPU list"),
        "{}",
        r.all()
    );
    assert!(
        r.all()
            .contains("Cannot read the cluster's instance type list"),
        "{}",
        r.all()
    );
    let w = Workdir::new(&without_options_body(&fake_cluster(500)));
    let r = w.tf(&["plan", "-no-color", "-input=false"]);
    assert!(!r.ok, "{}", r.all());
    assert!(
        r.all().contains("Failed to read the cluster's GPU list"),
        "{}",
        r.all()
    );
}
