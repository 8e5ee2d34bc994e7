//! The provider as Terraform sees it: schema, provider-block validation,
//! configuration sources.

use crate::harness::*;

const HEADER: &str =
    "terraform {\n  required_providers {\n    hikube = { source = \"hikube/hikube\" }\n  }\n}\n";

#[test]
fn providers_schema_lists_the_provider_and_its_types() {
    let w = Workdir::new(&format!("{HEADER}\nprovider \"hikube\" {{}}\n"));
    let r = w.tf(&["providers", "schema", "-json"]);
    r.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let p = &our_schema(&v);
    let attrs = p["provider"]["block"]["attributes"]
        .as_object()
        .expect("provider attributes");
    for a in [
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
    ] {
        assert!(attrs.contains_key(a), "missing provider attribute {a}");
        assert!(
            !attrs[a]["description"].as_str().unwrap_or("").is_empty(),
            "{a} has no description"
        );
    }
    assert_eq!(attrs["token"]["sensitive"], true);
    assert_eq!(attrs["client_key"]["sensitive"], true);
    assert!(
        p["provider"]["block"]["block_types"]["exec"].is_object(),
        "exec block"
    );
    let resources = p["resource_schemas"]
        .as_object()
        .map(|m| m.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    let data = p["data_source_schemas"]
        .as_object()
        .map(|m| m.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    for want in crate::REGISTERED_RESOURCES {
        assert!(
            resources.contains(&want.to_string()),
            "resource {want} not in {resources:?}"
        );
    }
    for want in crate::REGISTERED_DATA_SOURCES {
        assert!(
            data.contains(&want.to_string()),
            "data source {want} not in {data:?}"
        );
    }
}

#[test]
fn bad_provider_attribute_is_reported_with_its_name() {
    let ds = crate::REGISTERED_DATA_SOURCES.first().copied();
    let Some(ds) = ds else { return };
    let w = Workdir::new(&format!(
        "{HEADER}\nprovider \"hikube\" {{\n  host            = \"https://127.0.0.1:1\"\n  token           = \"t\"\n  request_timeout = \"ten seconds\"\n}}\n\ndata \"{ds}\" \"x\" {{}}\n"
    ));
    let r = w.tf(&["validate", "-json", "-no-color"]);
    assert!(!r.ok, "validate must fail:\n{}", r.all());
    let diags = r.diagnostics();
    let d = diags
        .iter()
        .find(|d| d.summary == "Invalid request_timeout")
        .unwrap_or_else(|| panic!("{diags:#?}"));
    assert!(
        d.snippet.contains("request_timeout"),
        "diagnostic points at the attribute: {d:?}"
    );
    assert!(d.detail.contains("Fix"), "{d:?}");
}

#[test]
fn unknown_attribute_is_rejected_by_schema() {
    let Some(ds) = crate::REGISTERED_DATA_SOURCES.first().copied() else {
        return;
    };
    let w = Workdir::new(&format!(
        "{HEADER}\nprovider \"hikube\" {{\n  kubeconfig = \"x\"\n}}\n\ndata \"{ds}\" \"x\" {{}}\n"
    ));
    let r = w.tf(&["validate", "-no-color"]);
    assert!(!r.ok);
    assert!(r.all().contains("kubeconfig"), "{}", r.all());
}

#[test]
fn unknown_provider_configuration_is_a_clear_error_at_plan() {
    let t = target("v1", &[]);
    let w = Workdir::new(&format!(
        "{HEADER}\nresource \"terraform_data\" \"ns\" {{\n  input = \"tenant-root\"\n}}\n\nprovider \"hikube\" {{\n  kubeconfig_path = \"{}\"\n  namespace       = terraform_data.ns.output\n}}\n\nresource \"hikube_gpu_vm\" \"vm\" {{\n  name          = \"{}\"\n  instance_type = \"u1.2xlarge\"\n  gpus          = [{{ name = \"L40S\" }}]\n}}\n",
        t.kubeconfig.display(),
        unique("defer")
    ));
    let r = w.plan(&[]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.all().contains("Provider configuration is not known yet"),
        "{}",
        r.all()
    );
    assert!(
        t.writes_to("/vminstances")
            .iter()
            .all(|(_, p)| !p.contains("defer")),
        "no write"
    );
}

#[test]
fn tf_log_shows_provider_logs_and_never_the_token() {
    let t = target("v1", &[]);
    let token = std::fs::read_to_string(t.kubeconfig.parent().unwrap().join("token"))
        .unwrap()
        .trim()
        .to_string();
    let kc = std::fs::read_to_string(&t.kubeconfig).unwrap();
    let server = kc
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .trim()
        .to_string();
    let w = Workdir::new(&format!(
        "{HEADER}\nprovider \"hikube\" {{\n  host      = \"{server}\"\n  token     = \"{token}\"\n  insecure  = true\n  namespace = \"tenant-root\"\n}}\n\nresource \"hikube_gpu_vm\" \"vm\" {{\n  name          = \"{}\"\n  instance_type = \"u1.2xlarge\"\n  gpus          = [{{ name = \"L40S\" }}]\n  cloud_init    = \"#cloud-config\\npassword: hunter2-secret\\n\"\n}}\n",
        unique("logs")
    ))
    .env("TF_LOG", "trace");
    let r = w.plan(&[]);
    assert_eq!(r.code, 2, "{}", r.all());
    let all = r.all();
    assert!(
        all.contains("provider.terraform-provider-hikube"),
        "provider logs reach Terraform's log"
    );
    assert!(
        all.contains("provider configured"),
        "debug line about the configuration source"
    );
    assert!(
        all.contains("[DEBUG] provider.terraform-provider-hikube: provider configured"),
        "logged at DEBUG level"
    );
    assert!(
        !all.contains(&token),
        "the token must never appear in logs or plan output"
    );
    assert!(
        !all.contains("hunter2-secret"),
        "cloud-init must never appear in logs or plan output"
    );
}

#[test]
fn debug_mode_serves_terraform_through_reattach() {
    use std::io::BufRead;
    let t = target("v1", &[]);
    let mut child = std::process::Command::new(PROVIDER_BIN)
        .arg("--debug")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut reattach = None;
    for _ in 0..6 {
        let mut l = String::new();
        reader.read_line(&mut l).unwrap();
        if let Some(v) = l.split("TF_REATTACH_PROVIDERS='").nth(1) {
            reattach = v.split('\'').next().map(str::to_string);
            break;
        }
    }
    let reattach = reattach.expect("reattach line");
    let w = Workdir::for_target(
        t,
        &format!(
            "resource \"hikube_gpu_vm\" \"vm\" {{\n  name          = \"{}\"\n  instance_type = \"u1.2xlarge\"\n  gpus          = [{{ name = \"L40S\" }}]\n}}\n",
            unique("dbg")
        ),
    )
    .env("TF_REATTACH_PROVIDERS", &reattach);
    let r = w.plan(&[]);
    let alive = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        r.code,
        2,
        "plan through the reattached provider: {}",
        r.all()
    );
    assert!(
        r.stdout.contains("hikube_gpu_vm.vm will be created"),
        "{}",
        r.stdout
    );
    assert!(alive, "the debug-mode provider outlives a Terraform run");
}

/// Every attribute of every schema is described in the docs page of its
/// resource or data source (docs/ is written by hand: this keeps it honest).
#[test]
fn docs_describe_every_attribute() {
    let w = Workdir::new(&format!("{HEADER}\nprovider \"hikube\" {{}}\n"));
    let r = w.tf(&["providers", "schema", "-json"]);
    r.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let p = &our_schema(&v);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let mut pages = vec![("index.md".to_string(), p["provider"].clone())];
    for (kind, dir) in [
        ("resource_schemas", "resources"),
        ("data_source_schemas", "data-sources"),
    ] {
        for (name, schema) in p[kind].as_object().unwrap() {
            pages.push((
                format!("{dir}/{}.md", name.trim_start_matches("hikube_")),
                schema.clone(),
            ));
        }
    }
    fn names(block: &serde_json::Value, out: &mut Vec<String>) {
        for (n, a) in block["attributes"].as_object().into_iter().flatten() {
            out.push(n.clone());
            for (inner, _) in a["nested_type"]["attributes"]
                .as_object()
                .into_iter()
                .flatten()
            {
                out.push(inner.clone());
            }
        }
        for (n, b) in block["block_types"].as_object().into_iter().flatten() {
            out.push(n.clone());
            names(&b["block"], out);
        }
    }
    let mut missing = Vec::new();
    for (page, schema) in pages {
        let text = std::fs::read_to_string(root.join(&page))
            .unwrap_or_else(|_| panic!("docs/{page} missing"));
        let mut attrs = Vec::new();
        names(&schema["block"], &mut attrs);
        for a in attrs {
            if !text.contains(&format!("- `{a}`")) {
                missing.push(format!("{page}: {a}"));
            }
        }
        if page.starts_with("resources/") {
            assert!(text.contains("## Import"), "{page} has no import section");
            assert!(text.contains("## Example Usage"), "{page} has no example");
        }
    }
    assert!(
        missing.is_empty(),
        "attributes not described in docs: {missing:#?}"
    );
}
