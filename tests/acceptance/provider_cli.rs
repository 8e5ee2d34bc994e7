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
    let p = &v["provider_schemas"]["registry.terraform.io/hikube/hikube"];
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
