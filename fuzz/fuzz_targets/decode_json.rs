//! Decodes arbitrary bytes as a JSON DynamicValue (and as stored state for
//! UpgradeResourceState) against a few schema types; whatever decodes must
//! re-encode and decode to the same value.
#![no_main]

use hikube_provider::plugin::value::{Type, decode_json, encode_json, upgrade_json_state};
use libfuzzer_sys::fuzz_target;

fn types() -> Vec<Type> {
    vec![
        Type::Dynamic,
        Type::Number,
        Type::String,
        Type::Bool,
        Type::list(Type::String),
        Type::map(Type::Number),
        Type::tuple([Type::Bool, Type::Number, Type::Dynamic]),
        Type::object_with_optional(
            [
                ("name", Type::String),
                ("count", Type::Number),
                ("enabled", Type::Bool),
                ("tags", Type::set(Type::String)),
                (
                    "gpus",
                    Type::list(Type::object([
                        ("model", Type::String),
                        ("count", Type::Number),
                    ])),
                ),
                ("extra", Type::Dynamic),
            ],
            ["extra"],
        ),
    ]
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let types = types();
    let ty = &types[selector as usize % types.len()];
    for decoded in [decode_json(bytes, ty), upgrade_json_state(bytes, ty)] {
        if let Ok(v) = decoded {
            let again = encode_json(&v, ty).expect("a decoded value must re-encode");
            let back = decode_json(&again, ty).expect("a re-encoded value must decode");
            assert_eq!(back, v);
        }
    }
});
