//! The plan-time validation corpus (`tests/validation/`), run through the
//! real Terraform CLI.
//!
//! Each `bad/*.tf` holds one configuration (resources and data sources only;
//! the provider block is added here) and, in its header, the diagnostics it
//! must produce:
//!
//! ```text
//! # expect: error | gpus[0].name | Unknown GPU type
//! # expect[validate]: warning | name | Name too long for older Cozystack
//! # phase: plan
//! ```
//!
//! `severity | attribute path | summary substring [| detail substring]`. `expect[validate]` and
//! `expect[plan]` apply to one run only. Without `# phase: plan` the file is
//! checked by `terraform validate` (offline rules) and then by `terraform
//! plan`; with it, by `terraform plan` only (rules that need the cluster's
//! lists). Every diagnostic the provider returns must be expected (nothing
//! more, nothing less), a run with an expected error must fail and one
//! without must succeed, a configuration rejected offline must cause no API
//! request at all, and no run may write to the API.
//!
//! Terraform's own JSON diagnostics cannot name a nested attribute (it points
//! `gpus[1].name` at the resource's top-level `name`), so the attribute path
//! is read where the provider sends it: each diagnostic is also logged by the
//! provider (`diagnostic_attribute=...`, terraform-plugin-go's format) and
//! `TF_LOG_PROVIDER=WARN` makes Terraform print those lines on stderr. Each
//! expected diagnostic must appear in both places with the same summary and
//! detail, and for a top-level attribute (or one in the `timeouts` block)
//! Terraform's snippet must show that attribute's line.
//!
//! `good/*.tf` must validate and plan with no diagnostic at all, unless a
//! `# expect: warning | ...` line allows one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use crate::harness::*;

/// The GPUs the corpus test bed offers: Hikube's three models, with 2 L40S
/// free per node, and no H200 (so `nvidia.com/H200` is "not offered").
pub const CORPUS_GPUS: &str =
    "nvidia.com/AD102GL_L40S=2,nvidia.com/GA100_A100_PCIE_80GB=8,nvidia.com/H100_94GB=4";

static CORPUS_LOCK: Mutex<()> = Mutex::new(());

/// The test bed the corpus runs against (GPUs limited to [`CORPUS_GPUS`]).
/// Only read-only tests use it; hold the guard while using it, so that the
/// request log the corpus inspects is its own.
pub fn corpus_target() -> (&'static Target, MutexGuard<'static, ()>) {
    let guard = CORPUS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    (target("v1", &["--gpus", CORPUS_GPUS]), guard)
}

fn corpus_dir(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/validation")
        .join(kind)
}

/// Which Terraform command a check applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run_ {
    Validate,
    Plan,
}

/// One expected diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expect {
    severity: String,
    path: String,
    summary: String,
    /// A substring of the detail (may be empty).
    detail: String,
    only: Option<Run_>,
}

/// One corpus file.
#[derive(Debug, Clone)]
struct Case {
    name: String,
    body: String,
    expects: Vec<Expect>,
    plan_only: bool,
    types: BTreeSet<String>,
}

fn parse_case(path: &Path) -> Result<Case, String> {
    let body = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    let mut expects = Vec::new();
    let mut plan_only = false;
    let mut types = BTreeSet::new();
    for line in body.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("# phase:") {
            match rest.trim() {
                "plan" => plan_only = true,
                "validate" => {}
                other => return Err(format!("{name}: unknown phase `{other}`")),
            }
        } else if let Some(rest) = l.strip_prefix("# expect") {
            let (only, rest) = if let Some(r) = rest.strip_prefix("[validate]:") {
                (Some(Run_::Validate), r)
            } else if let Some(r) = rest.strip_prefix("[plan]:") {
                (Some(Run_::Plan), r)
            } else if let Some(r) = rest.strip_prefix(':') {
                (None, r)
            } else {
                return Err(format!("{name}: malformed expectation `{l}`"));
            };
            let parts: Vec<&str> = rest.split('|').map(str::trim).collect();
            let (severity, path, summary, detail) = match parts[..] {
                [s, p, m] => (s, p, m, ""),
                [s, p, m, d] => (s, p, m, d),
                _ => {
                    return Err(format!(
                        "{name}: expectation `{l}` is not `severity | path | summary [| detail]`"
                    ));
                }
            };
            if !matches!(severity, "error" | "warning") || summary.is_empty() {
                return Err(format!(
                    "{name}: expectation `{l}` needs a severity (error|warning) and a summary"
                ));
            }
            expects.push(Expect {
                severity: severity.into(),
                path: path.into(),
                summary: summary.into(),
                detail: detail.into(),
                only,
            });
        } else if let Some(rest) = l
            .strip_prefix("resource \"")
            .or_else(|| l.strip_prefix("data \""))
            && let Some(t) = rest.split('"').next()
        {
            types.insert(t.to_string());
        }
    }
    Ok(Case {
        name,
        body,
        expects,
        plan_only,
        types,
    })
}

fn load(kind: &str) -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir(kind))
        .unwrap_or_else(|e| panic!("tests/validation/{kind}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| parse_case(p).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// A diagnostic as the provider logged it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ProviderDiag {
    severity: String,
    attribute: String,
    summary: String,
    detail: String,
}

/// `key=value key="quoted \"value\""` pairs of an hclog text line.
fn hclog_fields(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ' ' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        if chars.next() != Some('=') {
            continue;
        }
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some('n') => val.push('\n'),
                        Some('t') => val.push('\t'),
                        Some(o) => val.push(o),
                        None => {}
                    },
                    '"' => break,
                    c => val.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ' ' {
                    break;
                }
                val.push(c);
                chars.next();
            }
        }
        out.insert(key, val);
    }
    out
}

/// The diagnostics the provider logged (deduplicated: Terraform validates
/// a configuration more than once during plan).
fn provider_diags(stderr: &str) -> Vec<ProviderDiag> {
    let mut set = BTreeSet::new();
    for line in stderr.lines() {
        let Some(i) = line.find("Response contains ") else {
            continue;
        };
        let Some(j) = line[i..].find(" diagnostic: ") else {
            continue;
        };
        let f = hclog_fields(&line[i + j + " diagnostic: ".len()..]);
        set.insert(ProviderDiag {
            severity: match f.get("diagnostic_severity").map(String::as_str) {
                Some("ERROR") => "error".into(),
                Some("WARNING") => "warning".into(),
                other => format!("{other:?}"),
            },
            attribute: f.get("diagnostic_attribute").cloned().unwrap_or_default(),
            summary: f.get("diagnostic_summary").cloned().unwrap_or_default(),
            detail: f.get("diagnostic_detail").cloned().unwrap_or_default(),
        });
    }
    set.into_iter().collect()
}

/// Diagnostics Terraform printed that concern the configuration (not the
/// dev_overrides notice).
fn terraform_diags(r: &Run) -> Vec<JsonDiag> {
    r.diagnostics()
        .into_iter()
        .filter(|d| d.summary != "Provider development overrides are in effect")
        .collect()
}

/// The last step of a path Terraform can point at: a top-level attribute,
/// or an attribute of the `timeouts` block. `None` for nested attributes.
fn pointable_attr(path: &str) -> Option<&str> {
    if path.contains('[') {
        return None;
    }
    match path.split('.').collect::<Vec<_>>()[..] {
        [one] => Some(one),
        ["timeouts", op] => Some(op),
        _ => None,
    }
}

/// Compare one run's output with the expectations; the problems found.
fn check(case: &Case, which: Run_, r: &Run) -> Vec<String> {
    let label = format!(
        "{} ({})",
        case.name,
        if which == Run_::Validate {
            "validate"
        } else {
            "plan"
        }
    );
    let mut problems = Vec::new();
    let logged = provider_diags(&r.stderr);
    let shown = terraform_diags(r);
    let expects: Vec<&Expect> = case
        .expects
        .iter()
        .filter(|e| e.only.is_none_or(|o| o == which))
        .collect();
    let mut matched: BTreeSet<usize> = BTreeSet::new();
    for e in &expects {
        let found = logged.iter().enumerate().find(|(_, d)| {
            d.severity == e.severity
                && d.attribute == e.path
                && d.summary.contains(&e.summary)
                && d.detail.contains(&e.detail)
        });
        let Some((i, d)) = found else {
            problems.push(format!(
                "{label}: expected {} at `{}` with summary containing {:?} and detail containing {:?}; the provider returned: {:#?}",
                e.severity, e.path, e.summary, e.detail, logged
            ));
            continue;
        };
        matched.insert(i);
        if !d.detail.contains("Fix: ") {
            problems.push(format!(
                "{label}: `{}` at `{}` has no `Fix:` in its detail: {:?}",
                d.summary,
                d.path_text(),
                d.detail
            ));
        }
        let on_screen = shown
            .iter()
            .filter(|s| s.severity == d.severity && s.summary == d.summary && s.detail == d.detail)
            .collect::<Vec<_>>();
        if on_screen.is_empty() {
            problems.push(format!(
                "{label}: `{}` is in the provider log but not in Terraform's output: {shown:#?}",
                d.summary
            ));
        } else if let Some(attr) = pointable_attr(&e.path) {
            // An attribute the configuration leaves unset (the default
            // instance type) is pointed at the block's first line.
            let set = case.body.lines().any(|l| {
                l.trim_start()
                    .strip_prefix(attr)
                    .is_some_and(|rest| rest.trim_start().starts_with(['=', '{']))
            });
            let points = |s: &&JsonDiag| {
                let code = s.snippet.trim_start();
                if set {
                    code.starts_with(attr)
                } else {
                    code.starts_with("resource \"") || code.starts_with("data \"")
                }
            };
            if !on_screen.iter().any(points) {
                problems.push(format!(
                    "{label}: Terraform does not point `{}` at the `{attr}` line{}: {on_screen:#?}",
                    d.summary,
                    if set {
                        ""
                    } else {
                        " (unset: the block's first line)"
                    }
                ));
            }
        }
    }
    for (i, d) in logged.iter().enumerate() {
        if !matched.contains(&i) {
            problems.push(format!(
                "{label}: unexpected diagnostic: {} at `{}`: {}: {}",
                d.severity, d.attribute, d.summary, d.detail
            ));
        }
    }
    for s in &shown {
        if !logged
            .iter()
            .any(|d| d.summary == s.summary && d.detail == s.detail)
        {
            problems.push(format!(
                "{label}: Terraform reported a diagnostic the provider did not: {s:?}"
            ));
        }
    }
    let want_error = expects.iter().any(|e| e.severity == "error");
    let failed = match which {
        Run_::Validate => !r.ok,
        Run_::Plan => r.code == 1,
    };
    if want_error != failed {
        problems.push(format!(
            "{label}: exit code {} but {} expected:\n{}",
            r.code,
            if want_error {
                "an error was"
            } else {
                "success was"
            },
            r.all()
        ));
    }
    problems
}

impl ProviderDiag {
    fn path_text(&self) -> &str {
        &self.attribute
    }
}

fn workdir(t: &Target, case: &Case) -> Workdir {
    let w = Workdir::for_target(t, "").env("TF_LOG_PROVIDER", "WARN");
    std::fs::write(w.dir.path().join("corpus.tf"), &case.body).unwrap();
    w
}

fn validate(w: &Workdir) -> Run {
    w.tf(&["validate", "-json", "-no-color"])
}

fn plan(w: &Workdir) -> Run {
    w.tf(&[
        "plan",
        "-json",
        "-no-color",
        "-input=false",
        "-lock=false",
        "-detailed-exitcode",
    ])
}

/// Writes among the requests the test bed saw since the last clear.
fn writes(t: &Target) -> Vec<(String, String)> {
    t.requests()
        .into_iter()
        .filter(|(m, _)| m != "GET")
        .collect()
}

/// The resource and data source types the provider registers.
fn registered_types(t: &Target) -> BTreeSet<String> {
    let w = Workdir::for_target(t, "");
    let r = w.tf(&["providers", "schema", "-json"]);
    r.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let p = &our_schema(&v);
    let mut out = BTreeSet::new();
    for kind in ["resource_schemas", "data_source_schemas"] {
        if let Some(m) = p[kind].as_object() {
            out.extend(m.keys().cloned());
        }
    }
    out
}

/// Split off the cases that use a type the provider does not register yet.
fn runnable(cases: Vec<Case>, registered: &BTreeSet<String>, kind: &str) -> Vec<Case> {
    let (run, skip): (Vec<Case>, Vec<Case>) = cases
        .into_iter()
        .partition(|c| c.types.is_subset(registered));
    for c in &skip {
        let missing: Vec<&String> = c.types.difference(registered).collect();
        println!(
            "SKIPPED {kind}/{}.tf: provider does not register {missing:?}",
            c.name
        );
    }
    run
}

#[test]
fn corpus_has_enough_cases_and_well_formed_headers() {
    let bad = load("bad");
    let good = load("good");
    assert!(bad.len() >= 40, "only {} bad configurations", bad.len());
    assert!(good.len() >= 8, "only {} good configurations", good.len());
    for c in &bad {
        assert!(!c.expects.is_empty(), "{}: no `# expect:` line", c.name);
        assert!(
            !c.types.is_empty(),
            "{}: no resource or data source",
            c.name
        );
    }
    for c in &good {
        assert!(
            c.expects.iter().all(|e| e.severity == "warning"),
            "{}: a good configuration expects an error",
            c.name
        );
    }
}

#[test]
fn the_checker_rejects_wrong_paths_summaries_and_extra_diagnostics() {
    let case = parse_case(&corpus_dir("bad").join("vm_gpu_second_of_two_unknown.tf")).unwrap();
    let line = |sev: &str, attr: &str, summary: &str| {
        format!(
            "2026-01-01T00:00:00.000Z [ERROR] provider.terraform-provider-hikube: Response contains {} diagnostic: diagnostic_attribute={attr} diagnostic_detail=\"d. Fix: x.\" diagnostic_severity={} diagnostic_summary=\"{summary}\" @module=hikube",
            if sev == "ERROR" { "error" } else { "warning" },
            sev
        )
    };
    let json = |summary: &str| {
        format!(
            "{{\"type\":\"diagnostic\",\"diagnostic\":{{\"severity\":\"error\",\"summary\":\"{summary}\",\"detail\":\"d. Fix: x.\",\"snippet\":{{\"code\":\"  name = \\\"x\\\"\"}}}}}}"
        )
    };
    let run = |stderr: String, stdout: String, ok: bool| Run {
        ok,
        code: if ok { 0 } else { 1 },
        stdout,
        stderr,
    };
    let right = run(
        line("ERROR", "gpus[1].name", "Unknown GPU type"),
        json("Unknown GPU type"),
        false,
    );
    assert_eq!(check(&case, Run_::Validate, &right), Vec::<String>::new());
    let wrong_index = run(
        line("ERROR", "gpus[0].name", "Unknown GPU type"),
        json("Unknown GPU type"),
        false,
    );
    assert!(!check(&case, Run_::Validate, &wrong_index).is_empty());
    let wrong_summary = run(
        line("ERROR", "gpus[1].name", "Invalid name"),
        json("Invalid name"),
        false,
    );
    assert!(!check(&case, Run_::Validate, &wrong_summary).is_empty());
    let as_warning = run(
        line("WARNING", "gpus[1].name", "Unknown GPU type"),
        json("Unknown GPU type"),
        true,
    );
    assert!(!check(&case, Run_::Validate, &as_warning).is_empty());
    let extra = run(
        format!(
            "{}\n{}",
            line("ERROR", "gpus[1].name", "Unknown GPU type"),
            line("ERROR", "name", "Invalid name")
        ),
        format!("{}\n{}", json("Unknown GPU type"), json("Invalid name")),
        false,
    );
    assert!(!check(&case, Run_::Validate, &extra).is_empty());
    let not_shown = run(
        line("ERROR", "gpus[1].name", "Unknown GPU type"),
        String::new(),
        false,
    );
    assert!(!check(&case, Run_::Validate, &not_shown).is_empty());
    let succeeded = run(
        line("ERROR", "gpus[1].name", "Unknown GPU type"),
        json("Unknown GPU type"),
        true,
    );
    assert!(!check(&case, Run_::Validate, &succeeded).is_empty());
}

#[test]
fn bad_configurations_fail_with_the_expected_diagnostics_and_no_api_write() {
    let (t, _guard) = corpus_target();
    if skip_on_real_cluster(t, "validation corpus (request log)") {
        return;
    }
    let registered = registered_types(t);
    let cases = runnable(load("bad"), &registered, "bad");
    let started = Instant::now();
    let mut problems = Vec::new();
    for case in &cases {
        let w = workdir(t, case);
        let offline_error = !case.plan_only
            && case
                .expects
                .iter()
                .any(|e| e.severity == "error" && e.only != Some(Run_::Plan));
        t.clear_requests();
        if !case.plan_only {
            let r = validate(&w);
            problems.extend(check(case, Run_::Validate, &r));
            let seen = t.requests();
            if !seen.is_empty() {
                problems.push(format!(
                    "{}: terraform validate made API requests: {seen:?}",
                    case.name
                ));
            }
        }
        let r = plan(&w);
        problems.extend(check(case, Run_::Plan, &r));
        let seen = t.requests();
        if offline_error && !seen.is_empty() {
            problems.push(format!(
                "{}: rejected offline, yet plan made API requests: {seen:?}",
                case.name
            ));
        }
        let w = writes(t);
        if !w.is_empty() {
            problems.push(format!("{}: plan wrote to the API: {w:?}", case.name));
        }
    }
    println!(
        "validation corpus: {} bad configurations checked in {:?}",
        cases.len(),
        started.elapsed()
    );
    assert!(
        problems.is_empty(),
        "{} problem(s):\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

#[test]
fn good_configurations_validate_and_plan_cleanly() {
    let (t, _guard) = corpus_target();
    if skip_on_real_cluster(t, "validation corpus (request log)") {
        return;
    }
    let registered = registered_types(t);
    let cases = runnable(load("good"), &registered, "good");
    let mut problems = Vec::new();
    for case in &cases {
        let w = workdir(t, case);
        t.clear_requests();
        problems.extend(check(case, Run_::Validate, &validate(&w)));
        let r = plan(&w);
        problems.extend(check(case, Run_::Plan, &r));
        if r.code != 2 && r.code != 0 {
            problems.push(format!("{}: plan exit code {}", case.name, r.code));
        }
        let w = writes(t);
        if !w.is_empty() {
            problems.push(format!("{}: plan wrote to the API: {w:?}", case.name));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}
