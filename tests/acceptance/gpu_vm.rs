//! `hikube_gpu_vm` end to end: real Terraform, real provider, the test bed
//! in both Cozystack generations.

use std::time::Duration;

use serde_json::json;

use crate::harness::*;

fn vm_path(t: &Target, name: &str) -> String {
    let plural = if t.profile == "v0" {
        "virtualmachines"
    } else {
        "vminstances"
    };
    format!(
        "/apis/apps.cozystack.io/v1alpha1/namespaces/{}/{plural}/{name}",
        t.namespace
    )
}

fn disk_path(t: &Target, name: &str) -> String {
    format!(
        "/apis/apps.cozystack.io/v1alpha1/namespaces/{}/vmdisks/{name}",
        t.namespace
    )
}

fn gone(t: &Target, path: &str) {
    eventually(
        Duration::from_secs(20),
        &format!("{path} to be deleted"),
        || t.get(path).is_none().then_some(()),
    );
}

/// The seed's three examples, applied as a user would, then checked in the
/// API, planned again (no changes) and destroyed (nothing left).
fn seed_examples(profile: &str) {
    let t = target(profile, &[]);
    for (example, name, want) in [
        (
            "vm-gpu",
            "vm-gpu",
            json!({"instanceType": "u1.2xlarge", "gpus": [{"name": "nvidia.com/AD102GL_L40S"}]}),
        ),
        (
            "ai-workstation",
            "ai-workstation",
            json!({"instanceType": "u1.2xlarge", "gpus": [{"name": "nvidia.com/GA100_A100_PCIE_80GB"}], "external": true, "externalMethod": "PortList", "externalPorts": [22, 8888]}),
        ),
        (
            "multi-gpu-vm",
            "multi-gpu-vm",
            json!({"instanceType": "u1.8xlarge", "gpus": [{"name": "nvidia.com/H100_94GB"}, {"name": "nvidia.com/H100_94GB"}, {"name": "nvidia.com/H100_94GB"}, {"name": "nvidia.com/H100_94GB"}]}),
        ),
    ] {
        let w = Workdir::from_example(t, example);
        w.apply(&[]).assert_ok();
        w.assert_no_changes();
        let obj = t
            .get(&vm_path(t, name))
            .unwrap_or_else(|| panic!("{name} not in the API"));
        for (k, v) in want.as_object().unwrap() {
            assert_eq!(&obj["spec"][k], v, "{profile} {name}: spec.{k}");
        }
        assert_eq!(
            obj["status"]["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["type"] == "Ready")
                .unwrap()["status"],
            "True"
        );
        if example == "ai-workstation" {
            // The seed's `size` reaches the API as `storage`.
            let storage = if profile == "v0" {
                obj["spec"]["systemDisk"]["storage"].clone()
            } else {
                t.get(&disk_path(t, name)).unwrap()["spec"]["storage"].clone()
            };
            assert_eq!(storage, "200Gi");
            assert!(
                obj["spec"]["cloudInit"]
                    .as_str()
                    .unwrap()
                    .starts_with("#cloud-config")
            );
            let vals = w.resource_values("hikube_gpu_vm.ai_workstation");
            assert!(
                vals["external_ip"]
                    .as_str()
                    .is_some_and(|ip| ip.starts_with("192.0.2.")),
                "{vals}"
            );
            assert_eq!(
                vals["api_kind"],
                if profile == "v0" {
                    "VirtualMachine"
                } else {
                    "VMInstance"
                }
            );
        }
        w.destroy().assert_ok();
        gone(t, &vm_path(t, name));
        if profile == "v1" {
            gone(t, &disk_path(t, name));
        }
    }
}

#[test]
fn seed_examples_v0() {
    seed_examples("v0");
}

#[test]
fn seed_examples_v1() {
    seed_examples("v1");
}

fn body(name: &str, instance_type: &str, gpus: &[&str], image: &str) -> String {
    let gpus: Vec<String> = gpus
        .iter()
        .map(|g| format!("{{ name = \"{g}\" }}"))
        .collect();
    format!(
        "resource \"hikube_gpu_vm\" \"vm\" {{\n  name          = \"{name}\"\n  instance_type = \"{instance_type}\"\n  gpus          = [{}]\n  system_disk = {{\n    size  = \"20Gi\"\n    image = \"{image}\"\n  }}\n}}\n",
        gpus.join(", ")
    )
}

fn lifecycle(profile: &str) {
    let t = target(profile, &[]);
    let name = unique("life");
    let w = Workdir::for_target(t, &body(&name, "u1.2xlarge", &["L40S"], "ubuntu"));
    w.apply(&[]).assert_ok();
    w.assert_no_changes();

    // In place: a bigger type and a second GPU.
    w.write_body(t, &body(&name, "u1.4xlarge", &["L40S", "L40S"], "ubuntu"));
    assert_eq!(
        w.planned_actions(),
        vec![("hikube_gpu_vm.vm".to_string(), vec!["update".to_string()])]
    );
    w.apply(&[]).assert_ok();
    let obj = t.get(&vm_path(t, &name)).unwrap();
    assert_eq!(obj["spec"]["instanceType"], "u1.4xlarge");
    assert_eq!(obj["spec"]["gpus"].as_array().unwrap().len(), 2);
    w.assert_no_changes();

    // A new image replaces the VM.
    w.write_body(t, &body(&name, "u1.4xlarge", &["L40S", "L40S"], "fedora"));
    let actions = w.planned_actions();
    assert_eq!(actions.len(), 1);
    assert!(
        actions[0].1.contains(&"delete".to_string())
            && actions[0].1.contains(&"create".to_string()),
        "{actions:?}"
    );
    let plan = w.plan(&[]);
    assert!(
        plan.stdout.contains("forces replacement"),
        "{}",
        plan.stdout
    );
    w.apply(&[]).assert_ok();
    w.assert_no_changes();

    // Drift: an out-of-band change shows in the plan.
    t.request(
        "PATCH",
        &vm_path(t, &name),
        Some(&json!({"spec": {"instanceType": "u1.xlarge"}})),
    )
    .expect("patch");
    let plan = w.plan(&[]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.stdout.contains("\"u1.xlarge\" -> \"u1.4xlarge\""),
        "{}",
        plan.stdout
    );
    w.apply(&[]).assert_ok();
    w.assert_no_changes();

    // Deleted out of band: the plan recreates it.
    t.request("DELETE", &vm_path(t, &name), None);
    gone(t, &vm_path(t, &name));
    let actions = w.planned_actions();
    assert_eq!(
        actions,
        vec![("hikube_gpu_vm.vm".to_string(), vec!["create".to_string()])]
    );

    // Import: a fresh state adopts the live object, then plans no changes.
    w.apply(&[]).assert_ok();
    let w2 = Workdir::for_target(t, &body(&name, "u1.4xlarge", &["L40S", "L40S"], "fedora"));
    w2.tf(&[
        "import",
        "-no-color",
        "hikube_gpu_vm.vm",
        &format!("{}/{name}", t.namespace),
    ])
    .assert_ok();
    w2.assert_no_changes();
    let bad = w2.tf(&["import", "-no-color", "hikube_gpu_vm.other", "no-slash"]);
    assert!(!bad.ok);

    // Destroy leaves nothing behind.
    w.destroy().assert_ok();
    assert!(t.get(&vm_path(t, &name)).is_none());
    if profile == "v1" {
        assert!(t.get(&disk_path(t, &name)).is_none());
    }
}

#[test]
fn lifecycle_v0() {
    lifecycle("v0");
}

#[test]
fn lifecycle_v1() {
    lifecycle("v1");
}

#[test]
fn existing_object_gets_an_import_hint_and_is_not_touched() {
    let t = target("v1", &[]);
    let name = unique("taken");
    // Someone else's VM of that name (Cozystack answers 500 "already exists").
    t.request(
        "POST",
        &format!("/apis/apps.cozystack.io/v1alpha1/namespaces/{}/vminstances", t.namespace),
        Some(&json!({"apiVersion": "apps.cozystack.io/v1alpha1", "kind": "VMInstance", "metadata": {"name": name}, "spec": {"instanceType": "u1.medium"}})),
    )
    .expect("create");
    t.request(
        "POST",
        &format!("/apis/apps.cozystack.io/v1alpha1/namespaces/{}/vmdisks", t.namespace),
        Some(&json!({"apiVersion": "apps.cozystack.io/v1alpha1", "kind": "VMDisk", "metadata": {"name": name}, "spec": {"source": {"image": {"name": "ubuntu"}}}})),
    )
    .expect("create disk");
    let w = Workdir::for_target(t, &body(&name, "u1.2xlarge", &["L40S"], "ubuntu"));
    let r = w.apply(&[]);
    assert!(!r.ok);
    assert!(
        r.all().contains("terraform import hikube_gpu_vm"),
        "{}",
        r.all()
    );
    let obj = t.get(&vm_path(t, &name)).unwrap();
    assert_eq!(
        obj["spec"]["instanceType"], "u1.medium",
        "the existing object must be left alone"
    );
    t.request("DELETE", &vm_path(t, &name), None);
    t.request("DELETE", &disk_path(t, &name), None);
}

#[test]
fn transient_5xx_and_dropped_connections_converge_without_duplicates() {
    let t = target("v1", &["--ready-delay", "200ms"]);
    if skip_on_real_cluster(t, "transient faults") {
        return;
    }
    let name = unique("flaky");
    let w = Workdir::for_target(t, &body(&name, "u1.2xlarge", &["L40S"], "ubuntu"));
    t.set_faults(&json!({"status500_next": 3}));
    w.apply(&[]).assert_ok();
    t.set_faults(&json!({"drop_next": 2}));
    w.assert_no_changes();
    let list = t
        .get(&format!(
            "/apis/apps.cozystack.io/v1alpha1/namespaces/{}/vminstances",
            t.namespace
        ))
        .unwrap();
    let count = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["metadata"]["name"] == name.as_str())
        .count();
    assert_eq!(count, 1);
    t.set_faults(&json!({"status500_next": 0, "drop_next": 0}));
    w.destroy().assert_ok();
    assert!(t.get(&vm_path(t, &name)).is_none());
}

#[test]
fn chart_failure_is_reported_and_the_vm_kept_as_tainted() {
    // The test bed offers no such instance type from the cluster's point of
    // view only when the catalog does not know it; use a valid catalog type
    // that the cluster lacks.
    let t = target("v1", &["--instancetypes", "u1.medium,u1.2xlarge"]);
    if skip_on_real_cluster(t, "chart failure") {
        return;
    }
    let name = unique("fail");
    let w = Workdir::for_target(
        t,
        &format!(
            "resource \"hikube_gpu_vm\" \"vm\" {{\n  name          = \"{name}\"\n  instance_type = \"u1.4xlarge\"\n  gpus          = [{{ name = \"L40S\" }}]\n  wait_for_ready = true\n  timeouts {{\n    create = \"20s\"\n  }}\n}}\n"
        ),
    );
    let r = w.apply(&[]);
    assert!(!r.ok, "{}", r.all());
    let out = r.all();
    assert!(out.contains("u1.4xlarge"), "{out}");
    let state = w.tf(&["state", "list"]);
    assert!(
        state.stdout.contains("hikube_gpu_vm.vm"),
        "kept in state: {}",
        state.all()
    );
    w.destroy().assert_ok();
    assert!(t.get(&vm_path(t, &name)).is_none(), "nothing orphaned");
}

#[test]
fn thirty_vms_with_parallelism_ten() {
    let t = target("v1", &[]);
    let prefix = unique("par");
    let mut body = String::new();
    for i in 0..30 {
        body.push_str(&format!(
            "resource \"hikube_gpu_vm\" \"vm{i}\" {{\n  name          = \"{prefix}-{i}\"\n  instance_type = \"u1.2xlarge\"\n  gpus          = [{{ name = \"L40S\" }}]\n}}\n"
        ));
    }
    let w = Workdir::for_target(t, &body);
    w.apply(&["-parallelism=10"]).assert_ok();
    for i in 0..30 {
        let v = w.resource_values(&format!("hikube_gpu_vm.vm{i}"));
        assert_eq!(v["ready"], true, "vm{i}: {v}");
    }
    w.assert_no_changes();
    w.destroy().assert_ok();
    for i in 0..30 {
        assert!(t.get(&vm_path(t, &format!("{prefix}-{i}"))).is_none());
    }
}

#[test]
fn import_block_by_identity() {
    let (major, minor) = terraform_version();
    if (major, minor) < (1, 12) {
        eprintln!("SKIPPED: import by identity needs Terraform >= 1.12 (have {major}.{minor})");
        return;
    }
    let t = target("v1", &[]);
    let name = unique("ident");
    let vm = body(&name, "u1.2xlarge", &["L40S"], "ubuntu");
    let w = Workdir::for_target(t, &vm);
    w.apply(&[]).assert_ok();
    let w2 = Workdir::for_target(
        t,
        &format!(
            "{vm}\nimport {{\n  to       = hikube_gpu_vm.vm\n  identity = {{ namespace = \"{}\", name = \"{name}\" }}\n}}\n",
            t.namespace
        ),
    );
    let r = w2.apply(&[]);
    r.assert_ok();
    assert!(r.stdout.contains("1 imported"), "{}", r.stdout);
    w2.assert_no_changes();
    w.destroy().assert_ok();
}

#[test]
fn interrupted_apply_converges_on_the_next_apply() {
    // A slow cluster: Ready comes 5s after each change.
    let t = target("v1", &["--ready-delay", "5s"]);
    let name = unique("intr");
    let w = Workdir::for_target(t, &body(&name, "u1.2xlarge", &["L40S"], "ubuntu"));
    let child = w.spawn_tf(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    // Wait until the VM exists, then Ctrl-C Terraform while it waits for Ready.
    eventually(Duration::from_secs(30), "the VM to be created", || {
        t.get(&vm_path(t, &name)).map(|_| ())
    });
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let started = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "an interrupted apply fails: {text}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "StopProvider ends the wait promptly: {text}"
    );
    // Whatever was written is in state, so nothing is orphaned ...
    let list = w.tf(&["state", "list"]);
    assert!(list.stdout.contains("hikube_gpu_vm.vm"), "{}", list.all());
    // ... and the next apply converges to exactly one Ready VM.
    w.apply(&[]).assert_ok();
    w.assert_no_changes();
    let all = t
        .get(&format!(
            "/apis/apps.cozystack.io/v1alpha1/namespaces/{}/vminstances",
            t.namespace
        ))
        .unwrap();
    let count = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["metadata"]["name"] == name.as_str())
        .count();
    assert_eq!(count, 1);
    assert_eq!(w.resource_values("hikube_gpu_vm.vm")["ready"], true);
    w.destroy().assert_ok();
}
