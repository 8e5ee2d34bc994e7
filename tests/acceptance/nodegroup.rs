//! `hikube_gpu_nodegroup` end to end: the seed's node groups, 20 node
//! groups of one cluster applied in parallel against a last-writer-wins
//! API, drift, import, and plan-time validation.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value as Json, json};

use crate::harness::*;

const KUBERNETESES: &str = "/apis/apps.cozystack.io/v1alpha1/namespaces/tenant-root/kuberneteses";

fn disk_field(t: &Target) -> &'static str {
    if t.profile == "v0" {
        "ephemeralStorage"
    } else {
        "diskSize"
    }
}

/// A node group the cluster definition itself holds (not ours).
fn existing_entry(t: &Target) -> Json {
    json!({"minReplicas": 0, "maxReplicas": 2, "instanceType": "u1.large", disk_field(t): "30Gi", "roles": ["ingress-nginx"]})
}

/// Create the parent `Kubernetes` app (with one node group of its own) and
/// wait until it is Ready.
fn create_cluster(t: &Target, name: &str) -> Json {
    let body = json!({
        "apiVersion": "apps.cozystack.io/v1alpha1",
        "kind": "Kubernetes",
        "metadata": {"name": name, "namespace": t.namespace},
        "spec": {"nodeGroups": {"cluster-own": existing_entry(t)}},
    });
    t.request("POST", KUBERNETESES, Some(&body))
        .expect("create the Kubernetes app");
    eventually(Duration::from_secs(60), "the cluster to be Ready", || {
        let obj = cluster(t, name)?;
        let ready = obj["status"]["conditions"]
            .as_array()?
            .iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        ready.then_some(obj)
    })
}

fn cluster(t: &Target, name: &str) -> Option<Json> {
    t.get(&format!("{KUBERNETESES}/{name}"))
}

fn node_groups(t: &Target, name: &str) -> serde_json::Map<String, Json> {
    cluster(t, name).expect("cluster")["spec"]["nodeGroups"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

fn keys(t: &Target, name: &str) -> BTreeSet<String> {
    node_groups(t, name).keys().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn delete_cluster(t: &Target, name: &str) {
    let _ = t.request("DELETE", &format!("{KUBERNETESES}/{name}"), None);
}

fn gpu_names(entry: &Json) -> Vec<String> {
    entry["gpus"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|g| g["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

const TIMEOUTS: &str =
    "  timeouts {\n    create = \"2m\"\n    update = \"2m\"\n    delete = \"2m\"\n  }\n";

fn seed_body(cl: &str) -> String {
    format!(
        r#"
resource "hikube_gpu_nodegroup" "gpu_workers" {{
  cluster       = "{cl}"
  name          = "gpu-workers"
  min_replicas  = 1
  max_replicas  = 5
  instance_type = "u1.xlarge"
  disk_size     = "100Gi"
  gpus          = [{{ name = "nvidia.com/L40S" }}]
{TIMEOUTS}}}

resource "hikube_gpu_nodegroup" "gpu_intensive" {{
  cluster       = "{cl}"
  name          = "gpu-intensive"
  min_replicas  = 1
  max_replicas  = 2
  instance_type = "u1.4xlarge"
  gpus          = [for i in range(4) : {{ name = "nvidia.com/A100" }}]
{TIMEOUTS}}}

resource "hikube_gpu_nodegroup" "gpu_inference" {{
  cluster       = "{cl}"
  name          = "gpu-inference"
  min_replicas  = 2
  max_replicas  = 10
  instance_type = "u1.large"
  gpus          = [{{ name = "nvidia.com/L40S" }}]
{TIMEOUTS}}}

resource "hikube_gpu_nodegroup" "gpu_training" {{
  cluster       = "{cl}"
  name          = "gpu-training"
  min_replicas  = 1
  max_replicas  = 3
  instance_type = "u1.4xlarge"
  gpus          = [{{ name = "nvidia.com/A100" }}, {{ name = "nvidia.com/A100" }}]
{TIMEOUTS}}}
"#
    )
}

fn seed_examples(profile: &str, flags: &[&str]) {
    let t = target(profile, flags);
    let cl = unique("ng-seed");
    create_cluster(t, &cl);
    let before = node_groups(t, &cl);
    let w = Workdir::for_target(t, &seed_body(&cl));
    w.apply(&[]).assert_ok();

    let groups = node_groups(t, &cl);
    assert_eq!(
        groups.keys().cloned().collect::<BTreeSet<_>>(),
        set(&[
            "md0",
            "cluster-own",
            "gpu-workers",
            "gpu-intensive",
            "gpu-inference",
            "gpu-training"
        ])
    );
    for (k, v) in &before {
        assert_eq!(
            &groups[k], v,
            "entry {k} that was there before must be untouched"
        );
    }
    let df = disk_field(t);
    let workers = &groups["gpu-workers"];
    assert_eq!(
        (
            workers["minReplicas"].as_i64(),
            workers["maxReplicas"].as_i64()
        ),
        (Some(1), Some(5))
    );
    assert_eq!(workers["instanceType"], "u1.xlarge");
    assert_eq!(workers[df], "100Gi", "{workers}");
    assert_eq!(gpu_names(workers), vec!["nvidia.com/AD102GL_L40S"]);
    assert_eq!(
        gpu_names(&groups["gpu-intensive"]),
        vec!["nvidia.com/GA100_A100_PCIE_80GB"; 4]
    );
    assert_eq!(groups["gpu-intensive"]["instanceType"], "u1.4xlarge");
    assert_eq!(
        (
            groups["gpu-inference"]["minReplicas"].as_i64(),
            groups["gpu-inference"]["maxReplicas"].as_i64()
        ),
        (Some(2), Some(10))
    );
    assert_eq!(
        gpu_names(&groups["gpu-training"]),
        vec!["nvidia.com/GA100_A100_PCIE_80GB"; 2]
    );

    let s = w.resource_values("hikube_gpu_nodegroup.gpu_workers");
    assert_eq!(s["id"], format!("tenant-root/{cl}/gpu-workers"));
    assert_eq!(
        s["gpus"][0]["name"], "nvidia.com/L40S",
        "the user's spelling stays in state"
    );
    assert_eq!(s["ready"], true);
    assert_eq!(s["disk_size"], "100Gi");
    w.assert_no_changes();

    w.destroy().assert_ok();
    assert_eq!(keys(t, &cl), set(&["md0", "cluster-own"]));
    assert_eq!(node_groups(t, &cl)["cluster-own"], before["cluster-own"]);
    delete_cluster(t, &cl);
}

#[test]
fn nodegroup_seed_examples_v0() {
    seed_examples("v0", &[]);
}

#[test]
fn nodegroup_seed_examples_v1_lww() {
    seed_examples("v1", &["--lww"]);
}

fn pools_body(cl: &str, n: usize) -> String {
    format!(
        r#"
resource "hikube_gpu_nodegroup" "pool" {{
  count         = {n}
  cluster       = "{cl}"
  name          = format("pool-%02d", count.index)
  max_replicas  = 3
  instance_type = "u1.xlarge"
  gpus          = [for i in range(count.index % 2) : {{ name = "L40S" }}]
{TIMEOUTS}}}
"#
    )
}

fn pools(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("pool-{i:02}")).collect()
}

#[test]
fn nodegroup_twenty_in_parallel_last_writer_wins() {
    let t = target("v1", &["--lww"]);
    let cl = unique("ng-par");
    create_cluster(t, &cl);
    let w = Workdir::for_target(t, &pools_body(&cl, 20));
    w.apply(&["-parallelism=20"]).assert_ok();

    let mut want: BTreeSet<String> = pools(20).into_iter().collect();
    want.extend(set(&["md0", "cluster-own"]));
    assert_eq!(keys(t, &cl), want, "all 20 node groups must be present");
    let patches = t.writes_to(&format!("kuberneteses/{cl}")).len();
    eprintln!("20 node groups took {patches} writes");
    w.assert_no_changes();

    w.write_body(t, &pools_body(&cl, 10));
    w.apply(&["-parallelism=20"]).assert_ok();
    let mut want: BTreeSet<String> = pools(10).into_iter().collect();
    want.extend(set(&["md0", "cluster-own"]));
    assert_eq!(
        keys(t, &cl),
        want,
        "exactly the other 10 and the cluster's own entries"
    );
    w.assert_no_changes();
    delete_cluster(t, &cl);
}

fn one_body(cl: &str, extra: &str) -> String {
    format!(
        r#"
resource "hikube_gpu_nodegroup" "x" {{
  cluster       = "{cl}"
  name          = "gpu-pool"
  min_replicas  = 1
  max_replicas  = 3
  instance_type = "u1.2xlarge"
  disk_size     = "50Gi"
  gpus          = [{{ name = "H100" }}]
{extra}}}
"#
    )
}

#[test]
fn nodegroup_drift_removal_and_import_v0() {
    let t = target("v0", &[]);
    let cl = unique("ng-drift");
    create_cluster(t, &cl);
    let path = format!("{KUBERNETESES}/{cl}");
    let addr = "hikube_gpu_nodegroup.x";
    let w = Workdir::for_target(t, &one_body(&cl, ""));
    w.apply(&[]).assert_ok();
    assert_eq!(node_groups(t, &cl)["gpu-pool"]["ephemeralStorage"], "50Gi");
    w.assert_no_changes();

    // A change to an entry we do not own is not drift.
    t.request(
        "PATCH",
        &path,
        Some(&json!({"spec": {"nodeGroups": {"cluster-own": {"maxReplicas": 4}}}})),
    )
    .expect("patch");
    w.assert_no_changes();

    // Out-of-band edit of our entry: an in-place update, which restores it.
    t.request(
        "PATCH",
        &path,
        Some(&json!({"spec": {"nodeGroups": {"gpu-pool": {"maxReplicas": 7}}}})),
    )
    .expect("patch");
    assert_eq!(
        w.planned_actions(),
        vec![(addr.to_string(), vec!["update".to_string()])]
    );
    w.apply(&[]).assert_ok();
    assert_eq!(node_groups(t, &cl)["gpu-pool"]["maxReplicas"], 3);
    assert_eq!(
        node_groups(t, &cl)["cluster-own"]["maxReplicas"],
        4,
        "never touches the others"
    );

    // Out-of-band removal of our key: recreated.
    t.request(
        "PATCH",
        &path,
        Some(&json!({"spec": {"nodeGroups": {"gpu-pool": null}}})),
    )
    .expect("patch");
    assert_eq!(
        w.planned_actions(),
        vec![(addr.to_string(), vec!["create".to_string()])]
    );
    w.apply(&[]).assert_ok();
    assert!(node_groups(t, &cl).contains_key("gpu-pool"));

    // Import round trip into a fresh working directory.
    let w2 = Workdir::for_target(t, &one_body(&cl, ""));
    let bad = w2.tf(&["import", "-no-color", addr, "gpu-pool"]);
    assert!(!bad.ok);
    assert!(
        bad.all().contains("<namespace>/<cluster>/<name>"),
        "{}",
        bad.all()
    );
    let missing = w2.tf(&[
        "import",
        "-no-color",
        addr,
        &format!("tenant-root/{cl}/nope"),
    ]);
    assert!(!missing.ok, "{}", missing.all());
    w2.tf(&[
        "import",
        "-no-color",
        addr,
        &format!("tenant-root/{cl}/gpu-pool"),
    ])
    .assert_ok();
    let s = w2.resource_values(addr);
    assert_eq!(s["cluster"], cl.as_str());
    assert_eq!(s["max_replicas"], 3);
    w2.assert_no_changes();

    // The parent cluster disappearing removes the node group from state.
    delete_cluster(t, &cl);
    eventually(Duration::from_secs(30), "the cluster to be deleted", || {
        cluster(t, &cl).is_none().then_some(())
    });
    assert_eq!(
        w.planned_actions(),
        vec![(addr.to_string(), vec!["create".to_string()])]
    );
}

#[test]
fn nodegroup_invalid_input_fails_at_plan_without_write() {
    let t = target("v1", &["--lww"]);
    if skip_on_real_cluster(t, "no-write checks") {
        return;
    }
    let cl = unique("ng-bad");
    create_cluster(t, &cl);
    let body = format!(
        r#"
resource "hikube_gpu_nodegroup" "min_above_max" {{
  cluster      = "{cl}"
  name         = "min-above-max"
  min_replicas = 5
  max_replicas = 2
}}

resource "hikube_gpu_nodegroup" "too_small" {{
  cluster       = "{cl}"
  name          = "too-small"
  instance_type = "u1.small"
  gpus          = [{{ name = "L40S" }}]
}}

resource "hikube_gpu_nodegroup" "half_sized" {{
  cluster   = "{cl}"
  name      = "half-sized"
  resources = {{ cpu = "8" }}
}}
"#
    );
    let w = Workdir::for_target(t, &body);
    let r = w.tf(&["plan", "-json", "-no-color", "-input=false"]);
    assert!(!r.ok, "plan must fail:\n{}", r.all());
    let diags = r.diagnostics();
    let errors: Vec<_> = diags.iter().filter(|d| d.severity == "error").collect();
    let has = |summary: &str, snippet: &str| {
        errors.iter().any(|d| {
            d.summary.contains(summary) && d.snippet.contains(snippet) && d.detail.contains("Fix")
        })
    };
    assert!(
        has("min_replicas is above max_replicas", "min_replicas"),
        "{errors:#?}"
    );
    assert!(has("Not enough memory", "instance_type"), "{errors:#?}");
    assert!(
        has("resources.memory is missing", "resources = {"),
        "{errors:#?}"
    );

    // A GPU the cluster does not offer passes offline validation (a
    // warning) and fails at plan, when the provider asks the cluster.
    let w = Workdir::for_target(
        t,
        &format!(
            "resource \"hikube_gpu_nodegroup\" \"unknown_gpu\" {{\n  cluster = \"{cl}\"\n  name = \"unknown-gpu\"\n  gpus = [\n    {{ name = \"nvidia.com/B9000\" }},\n  ]\n}}\n"
        ),
    );
    let r = w.tf(&["plan", "-json", "-no-color", "-input=false"]);
    assert!(!r.ok, "plan must fail:\n{}", r.all());
    let diags = r.diagnostics();
    assert!(
        diags.iter().any(|d| d.severity == "error"
            && d.detail.contains("B9000")
            && d.snippet.contains("gpus")),
        "{diags:#?}"
    );

    assert!(
        t.writes_to(&format!("kuberneteses/{cl}")).is_empty(),
        "no API write at plan"
    );
    assert!(keys(t, &cl) == set(&["md0", "cluster-own"]));

    // A missing parent cluster: a clear error naming it and the namespace.
    let w = Workdir::for_target(t, &one_body("no-such-cluster", ""));
    let r = w.apply(&[]);
    assert!(!r.ok);
    assert!(
        r.all().contains(
            "Kubernetes cluster \"no-such-cluster\" not found in namespace \"tenant-root\""
        ),
        "{}",
        r.all()
    );
    delete_cluster(t, &cl);
}

#[test]
fn nodegroup_import_block_by_identity_v1() {
    let (major, minor) = terraform_version();
    if (major, minor) < (1, 12) {
        eprintln!("SKIPPED: import by identity needs Terraform >= 1.12 (have {major}.{minor})");
        return;
    }
    let t = target("v1", &[]);
    let cl = unique("ident");
    create_cluster(t, &cl);
    let body = one_body(&cl, "");
    let w = Workdir::for_target(t, &body);
    w.apply(&[]).assert_ok();
    let w2 = Workdir::for_target(
        t,
        &format!(
            "{body}\nimport {{\n  to       = hikube_gpu_nodegroup.x\n  identity = {{ namespace = \"{}\", cluster = \"{cl}\", name = \"gpu-pool\" }}\n}}\n",
            t.namespace
        ),
    );
    let r = w2.apply(&[]);
    r.assert_ok();
    assert!(r.stdout.contains("1 imported"), "{}", r.stdout);
    w2.assert_no_changes();
    w.destroy().assert_ok();
    assert!(!keys(t, &cl).contains("gpu-pool"));
    delete_cluster(t, &cl);
}
