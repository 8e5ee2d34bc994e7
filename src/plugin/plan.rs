//! The generic planner, the part every resource shares: defaults for
//! Optional+Computed attributes, unknown computed values on create and on
//! change, prior values kept where asked, null write-only values, and the
//! list of attributes whose change forces a replacement.

use std::collections::BTreeMap;

use super::diag::AttrPath;
use super::framework::{Plan, PlanRequest};
use super::schema::{AttrKind, Attribute, Block, Nesting, Schema};
use super::value::Value;

/// Plan a change with the schema's rules; resources refine the result in
/// `Resource::modify_plan`.
pub fn plan(schema: &Schema, req: &PlanRequest) -> Plan {
    if req.proposed_new_state.is_null() {
        return Plan {
            planned_state: Value::Null,
            ..Default::default()
        };
    }
    let creating = req.prior_state.is_null();
    let first = plan_block(
        &schema.block,
        &req.prior_state,
        &req.config,
        &req.proposed_new_state,
        creating,
        false,
    );
    let changed = !creating && first != req.prior_state;
    if changed && let (Value::Object(a), Value::Object(b)) = (&first, &req.prior_state) {
        let differing: Vec<&String> = a.keys().filter(|k| a.get(*k) != b.get(*k)).collect();
        tracing::debug!(?differing, "planned change");
    }
    let planned_state = if changed {
        plan_block(
            &schema.block,
            &req.prior_state,
            &req.config,
            &req.proposed_new_state,
            creating,
            true,
        )
    } else {
        first
    };
    let mut requires_replace = Vec::new();
    if !creating {
        collect_replacements(
            &schema.block.attributes,
            &req.prior_state,
            &planned_state,
            AttrPath::default(),
            &mut requires_replace,
        );
    }
    Plan {
        planned_state,
        requires_replace,
        ..Default::default()
    }
}

fn plan_block(
    block: &Block,
    prior: &Value,
    config: &Value,
    proposed: &Value,
    creating: bool,
    changed: bool,
) -> Value {
    let mut out = BTreeMap::new();
    for a in &block.attributes {
        let v = plan_attr(
            a,
            prior.get(&a.name),
            config.get(&a.name),
            proposed.get(&a.name),
            creating,
            changed,
        );
        out.insert(a.name.clone(), v);
    }
    for b in &block.blocks {
        out.insert(b.type_name.clone(), proposed.get(&b.type_name).clone());
    }
    Value::Object(out)
}

fn plan_attr(
    a: &Attribute,
    prior: &Value,
    config: &Value,
    proposed: &Value,
    creating: bool,
    changed: bool,
) -> Value {
    if a.write_only {
        return Value::Null;
    }
    if a.computed && config.is_null() {
        if let Some(d) = &a.default {
            return d.clone();
        }
        if creating {
            return Value::unknown();
        }
        if a.use_state_for_unknown {
            return prior.clone();
        }
        return if changed {
            Value::unknown()
        } else {
            proposed.clone()
        };
    }
    // Set in configuration (or not computed): Terraform's proposal is the
    // configuration; fill defaults inside nested attributes.
    match (&a.kind, proposed) {
        (AttrKind::Nested(Nesting::Single, attrs), Value::Object(_)) => {
            plan_nested(attrs, prior, config, proposed, creating)
        }
        (AttrKind::Nested(Nesting::List, attrs), Value::List(items)) => Value::List(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let p = prior
                        .as_list()
                        .and_then(|l| l.get(i))
                        .unwrap_or(&Value::Null);
                    let c = config
                        .as_list()
                        .and_then(|l| l.get(i))
                        .unwrap_or(&Value::Null);
                    if item.is_known() && !item.is_null() {
                        plan_nested(attrs, p, c, item, creating)
                    } else {
                        item.clone()
                    }
                })
                .collect(),
        ),
        _ => proposed.clone(),
    }
}

fn plan_nested(
    attrs: &[Attribute],
    prior: &Value,
    config: &Value,
    proposed: &Value,
    creating: bool,
) -> Value {
    let mut out = BTreeMap::new();
    for a in attrs {
        let p = prior.get(&a.name);
        let v = if a.computed && config.get(&a.name).is_null() {
            if let Some(d) = &a.default {
                d.clone()
            } else if !p.is_null() && !creating {
                p.clone()
            } else {
                Value::unknown()
            }
        } else {
            plan_attr(
                a,
                p,
                config.get(&a.name),
                proposed.get(&a.name),
                creating,
                false,
            )
        };
        out.insert(a.name.clone(), v);
    }
    Value::Object(out)
}

fn collect_replacements(
    attrs: &[Attribute],
    prior: &Value,
    planned: &Value,
    path: AttrPath,
    out: &mut Vec<AttrPath>,
) {
    for a in attrs {
        let p = prior.get(&a.name);
        let n = planned.get(&a.name);
        let here = {
            let mut x = path.clone();
            x.0.push(super::diag::PathStep::Attr(a.name.clone()));
            x
        };
        if a.requires_replace && p != n {
            out.push(here.clone());
            continue;
        }
        if let AttrKind::Nested(Nesting::Single, inner) = &a.kind {
            collect_replacements(inner, p, n, here, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::schema::Attribute;

    fn schema() -> Schema {
        Schema::new(
            Block::new("t")
                .attr(Attribute::string("id").computed().use_state_for_unknown())
                .attr(Attribute::string("name").required().requires_replace())
                .attr(Attribute::bool("running").default(Value::Bool(true)))
                .attr(Attribute::string("status").computed())
                .attr(Attribute::string("secret").optional().write_only()),
        )
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn create_fills_defaults_and_unknowns() {
        let config = obj(&[
            ("id", Value::Null),
            ("name", Value::string("a")),
            ("running", Value::Null),
            ("status", Value::Null),
            ("secret", Value::string("s")),
        ]);
        let p = plan(
            &schema(),
            &PlanRequest {
                prior_state: Value::Null,
                proposed_new_state: config.clone(),
                config,
                prior_identity: None,
            },
        );
        let s = &p.planned_state;
        assert!(!s.get("id").is_known());
        assert_eq!(s.get("running"), &Value::Bool(true));
        assert!(!s.get("status").is_known());
        assert!(s.get("secret").is_null());
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn no_change_keeps_computed_and_change_marks_unknown() {
        let prior = obj(&[
            ("id", Value::string("ns/a")),
            ("name", Value::string("a")),
            ("running", Value::Bool(true)),
            ("status", Value::string("ok")),
            ("secret", Value::Null),
        ]);
        let config = obj(&[
            ("id", Value::Null),
            ("name", Value::string("a")),
            ("running", Value::Null),
            ("status", Value::Null),
            ("secret", Value::Null),
        ]);
        let p = plan(
            &schema(),
            &PlanRequest {
                prior_state: prior.clone(),
                proposed_new_state: prior.clone(),
                config: config.clone(),
                prior_identity: None,
            },
        );
        assert_eq!(p.planned_state, prior);

        let mut cfg2 = config.clone();
        if let Value::Object(m) = &mut cfg2 {
            m.insert("running".into(), Value::Bool(false));
            m.insert("name".into(), Value::string("b"));
        }
        let mut proposed = prior.clone();
        if let Value::Object(m) = &mut proposed {
            m.insert("running".into(), Value::Bool(false));
            m.insert("name".into(), Value::string("b"));
        }
        let p = plan(
            &schema(),
            &PlanRequest {
                prior_state: prior,
                proposed_new_state: proposed,
                config: cfg2,
                prior_identity: None,
            },
        );
        assert_eq!(p.planned_state.get("id"), &Value::string("ns/a"));
        assert!(!p.planned_state.get("status").is_known());
        assert_eq!(p.requires_replace, vec![AttrPath::root("name")]);
    }
}
