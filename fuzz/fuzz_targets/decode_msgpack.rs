//! Decodes arbitrary bytes as a msgpack DynamicValue against a few schema
//! types; whatever decodes must re-encode and decode to the same value.
#![no_main]

use hikube_provider::plugin::value::{Type, decode_msgpack, encode_msgpack};
use libfuzzer_sys::fuzz_target;

fn types() -> Vec<Type> {
    vec![
        Type::Dynamic,
        Type::Number,
        Type::String,
        Type::list(Type::String),
        Type::set(Type::Number),
        Type::map(Type::Number),
        Type::tuple([Type::Bool, Type::Number, Type::Dynamic]),
        Type::object_with_optional(
            [
                ("name", Type::String),
                ("count", Type::Number),
                ("enabled", Type::Bool),
                ("tags", Type::set(Type::String)),
                ("labels", Type::map(Type::String)),
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
    if let Ok(v) = decode_msgpack(bytes, ty) {
        let again = encode_msgpack(&v, ty).expect("a decoded value must re-encode");
        let back = decode_msgpack(&again, ty).expect("a re-encoded value must decode");
        assert_eq!(back, v);
    }
});
