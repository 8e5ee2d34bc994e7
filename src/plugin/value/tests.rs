//! Byte fixtures (checked against go-cty's encoder behaviour) and property
//! tests for the value model and both codecs.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;

fn num(s: &str) -> Number {
    s.parse().unwrap()
}

fn enc(v: &Value, ty: &Type) -> Vec<u8> {
    encode_msgpack(v, ty).unwrap()
}

/// Encodes, checks the bytes, and checks that decoding gives `v` back.
fn fixture(v: Value, ty: Type, want: &[u8]) {
    let got = enc(&v, &ty);
    assert_eq!(got, want, "encoding of {v:?} as {ty:?}");
    assert_eq!(
        decode_msgpack(want, &ty).unwrap(),
        v,
        "decoding {want:02x?}"
    );
}

// ------------------------------------------------------------ msgpack bytes

#[test]
fn msgpack_primitives() {
    fixture(Value::Null, Type::String, &[0xc0]);
    fixture(Value::Bool(true), Type::Bool, &[0xc3]);
    fixture(Value::Bool(false), Type::Bool, &[0xc2]);
    fixture(Value::string("x"), Type::String, &[0xa1, b'x']);
    fixture(Value::string(""), Type::String, &[0xa0]);
    let s32 = "a".repeat(32);
    let mut want = vec![0xd9, 32];
    want.extend_from_slice(s32.as_bytes());
    fixture(Value::string(s32), Type::String, &want);
    let s256 = "b".repeat(256);
    let mut want = vec![0xda, 0x01, 0x00];
    want.extend_from_slice(s256.as_bytes());
    fixture(Value::string(s256), Type::String, &want);
}

#[test]
fn msgpack_integers() {
    let cases: &[(i64, &[u8])] = &[
        (0, &[0x00]),
        (1, &[0x01]),
        (127, &[0x7f]),
        (128, &[0xcc, 0x80]),
        (255, &[0xcc, 0xff]),
        (256, &[0xcd, 0x01, 0x00]),
        (65536, &[0xce, 0x00, 0x01, 0x00, 0x00]),
        (1 << 32, &[0xcf, 0, 0, 0, 1, 0, 0, 0, 0]),
        (-1, &[0xff]),
        (-32, &[0xe0]),
        (-33, &[0xd0, 0xdf]),
        (-128, &[0xd0, 0x80]),
        (-129, &[0xd1, 0xff, 0x7f]),
        (-32769, &[0xd2, 0xff, 0xff, 0x7f, 0xff]),
        (i64::MIN, &[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]),
    ];
    for (n, want) in cases {
        fixture(Value::number_i64(*n), Type::Number, want);
    }
}

#[test]
fn msgpack_non_integers() {
    // Exactly representable, not integral: float64.
    fixture(
        Value::Number(num("0.5")),
        Type::Number,
        &[0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0],
    );
    fixture(
        Value::Number(num("-2.25")),
        Type::Number,
        &[0xcb, 0xc0, 0x02, 0x00, 0, 0, 0, 0, 0],
    );
    // Not exactly representable: decimal text.
    fixture(
        Value::Number(num("0.1")),
        Type::Number,
        &[0xa3, b'0', b'.', b'1'],
    );
    // Integral but outside i64 (even when exactly a float64): text.
    let big = "9223372036854775808000";
    let mut want = vec![0xa0 | big.len() as u8];
    want.extend_from_slice(big.as_bytes());
    fixture(Value::Number(num(big)), Type::Number, &want);
    let two64 = "18446744073709551616";
    let mut want = vec![0xa0 | two64.len() as u8];
    want.extend_from_slice(two64.as_bytes());
    fixture(Value::Number(num(two64)), Type::Number, &want);
}

#[test]
fn msgpack_number_decoding_variants() {
    let d = |b: &[u8]| decode_msgpack(b, &Type::Number).unwrap();
    assert_eq!(
        d(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        Value::Number(Number::from_u64(u64::MAX))
    );
    assert_eq!(d(&[0xcc, 0x05]), Value::number_i64(5));
    assert_eq!(d(&[0xd3, 0, 0, 0, 0, 0, 0, 0, 7]), Value::number_i64(7));
    assert_eq!(
        d(&[0xca, 0x3f, 0xc0, 0x00, 0x00]),
        Value::Number(num("1.5"))
    );
    // 0.1 as a float64 is its exact binary value, and re-encodes as float64.
    let f01 = [0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a];
    let v = d(&f01);
    assert_eq!(
        v,
        Value::Number(num(
            "0.1000000000000000055511151231257827021181583404541015625"
        ))
    );
    assert_eq!(enc(&v, &Type::Number), f01);
    // Numbers as text in str, str8 or bin.
    assert_eq!(d(&[0xa3, b'1', b'e', b'3']), Value::number_i64(1000));
    assert_eq!(d(&[0xd9, 2, b'-', b'7']), Value::number_i64(-7));
    assert_eq!(d(&[0xc4, 3, b'0', b'.', b'1']), Value::Number(num("0.1")));
    // Integral float re-encodes as int (as cty does).
    let v = d(&[0xcb, 0x40, 0x00, 0, 0, 0, 0, 0, 0]);
    assert_eq!(v, Value::number_i64(2));
    assert_eq!(enc(&v, &Type::Number), [0x02]);
    // Infinity and NaN are rejected.
    assert!(decode_msgpack(&[0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0], &Type::Number).is_err());
    assert!(decode_msgpack(&[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], &Type::Number).is_err());
    assert!(decode_msgpack(&[0xa3, b'a', b'b', b'c'], &Type::Number).is_err());
    assert!(decode_msgpack(&[0xc3], &Type::Number).is_err());
}

#[test]
fn msgpack_collections_and_objects() {
    fixture(
        Value::object([("a", Value::string("x"))]),
        Type::object([("a", Type::String)]),
        &[0x81, 0xa1, b'a', 0xa1, b'x'],
    );
    // Attributes are written in sorted order.
    fixture(
        Value::object([("b", Value::number_i64(1)), ("a", Value::Bool(true))]),
        Type::object([("b", Type::Number), ("a", Type::Bool)]),
        &[0x82, 0xa1, b'a', 0xc3, 0xa1, b'b', 0x01],
    );
    fixture(
        Value::List(vec![Value::string("a"), Value::Null]),
        Type::list(Type::String),
        &[0x92, 0xa1, b'a', 0xc0],
    );
    fixture(
        Value::Set(vec![Value::number_i64(3)]),
        Type::set(Type::Number),
        &[0x91, 0x03],
    );
    fixture(
        Value::Map(BTreeMap::from([
            ("z".to_string(), Value::Bool(false)),
            ("k".to_string(), Value::Bool(true)),
        ])),
        Type::map(Type::Bool),
        &[0x82, 0xa1, b'k', 0xc3, 0xa1, b'z', 0xc2],
    );
    fixture(
        Value::Tuple(vec![Value::string("a"), Value::number_i64(1)]),
        Type::tuple([Type::String, Type::Number]),
        &[0x92, 0xa1, b'a', 0x01],
    );
    // 16 elements: array16.
    let mut want = vec![0xdc, 0x00, 0x10];
    want.extend(std::iter::repeat_n(0xc3, 16));
    fixture(
        Value::List(vec![Value::Bool(true); 16]),
        Type::list(Type::Bool),
        &want,
    );
    // Encoding fills missing attributes with null.
    let ty = Type::object([("a", Type::String), ("b", Type::String)]);
    assert_eq!(
        enc(&Value::object([("a", Value::string("x"))]), &ty),
        [0x82, 0xa1, b'a', 0xa1, b'x', 0xa1, b'b', 0xc0]
    );
}

#[test]
fn msgpack_object_decoding_rules() {
    let ty = Type::object_with_optional([("a", Type::String), ("b", Type::Number)], ["b"]);
    // Absent attributes are null.
    let v = decode_msgpack(&[0x81, 0xa1, b'a', 0xa1, b'x'], &ty).unwrap();
    assert_eq!(
        v,
        Value::object([("a", Value::string("x")), ("b", Value::Null)])
    );
    let v = decode_msgpack(&[0x80], &ty).unwrap();
    assert_eq!(v, Value::object([("a", Value::Null), ("b", Value::Null)]));
    // Unknown attributes are an error naming the attribute.
    let e = decode_msgpack(&[0x81, 0xa1, b'c', 0xc0], &ty).unwrap_err();
    assert!(e.to_string().contains("unsupported attribute \"c\""), "{e}");
}

#[test]
fn msgpack_error_paths() {
    let ty = Type::object([("gpus", Type::list(Type::object([("name", Type::String)])))]);
    // {gpus: [{name: 5}]}
    let bytes = [
        0x81, 0xa4, b'g', b'p', b'u', b's', 0x91, 0x81, 0xa4, b'n', b'a', b'm', b'e', 0x05,
    ];
    let e = decode_msgpack(&bytes, &ty).unwrap_err();
    assert_eq!(e.path(), Some(".gpus[0].name"));
    assert!(e.to_string().contains(".gpus[0].name"), "{e}");
    assert!(e.to_string().contains("string is required"), "{e}");

    let v = Value::object([(
        "gpus",
        Value::List(vec![Value::object([("name", Value::Bool(true))])]),
    )]);
    let e = encode_msgpack(&v, &ty).unwrap_err();
    assert_eq!(e.path(), Some(".gpus[0].name"));
    let e = v.conforms(&ty).unwrap_err();
    assert_eq!(e.path(), Some(".gpus[0].name"));

    let mty = Type::map(Type::Number);
    let e = decode_msgpack(&[0x81, 0xa1, b'k', 0xc3], &mty).unwrap_err();
    assert_eq!(e.path(), Some("[\"k\"]"));
    // Truncated input and trailing bytes.
    assert!(decode_msgpack(&[0x92, 0x01], &Type::list(Type::Number)).is_err());
    assert!(decode_msgpack(&[0x01, 0x02], &Type::Number).is_err());
    assert!(decode_msgpack(&[], &Type::Number).is_err());
    // Tuple length mismatch.
    assert!(decode_msgpack(&[0x91, 0x01], &Type::tuple([Type::Number, Type::Number])).is_err());
}

#[test]
fn msgpack_unknowns() {
    fixture(Value::unknown(), Type::String, &[0xd4, 0x00, 0x00]);
    fixture(Value::unknown(), Type::Dynamic, &[0xd4, 0x00, 0x00]);
    fixture(
        Value::unknown(),
        Type::object([("a", Type::String)]),
        &[0xd4, 0x00, 0x00],
    );
    // Not null: {1: false}.
    fixture(
        Value::unknown_not_null(),
        Type::String,
        &[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2],
    );
    // Not null + prefix "ab": {1: false, 2: "ab"} (7-byte payload -> ext8).
    fixture(
        Value::Unknown(Refinements {
            not_null: true,
            string_prefix: Some("ab".into()),
            ..Default::default()
        }),
        Type::String,
        &[0xc7, 0x07, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa2, b'a', b'b'],
    );
    // Number lower bound 0 inclusive: {3: [0, true]}.
    fixture(
        Value::Unknown(Refinements {
            number_lower: Some((Number::zero(), true)),
            ..Default::default()
        }),
        Type::Number,
        &[0xc7, 0x05, 0x0c, 0x81, 0x03, 0x92, 0x00, 0xc3],
    );
    // Number range [0, 1): {3: [0, true], 4: [1, false]} (9-byte payload -> ext8).
    fixture(
        Value::Unknown(Refinements {
            number_lower: Some((Number::zero(), true)),
            number_upper: Some((Number::from_i64(1), false)),
            ..Default::default()
        }),
        Type::Number,
        &[
            0xc7, 0x09, 0x0c, 0x82, 0x03, 0x92, 0x00, 0xc3, 0x04, 0x92, 0x01, 0xc2,
        ],
    );
    // List length between 1 and 2, not null.
    fixture(
        Value::Unknown(Refinements {
            not_null: true,
            length_lower: Some(1),
            length_upper: Some(2),
            ..Default::default()
        }),
        Type::list(Type::String),
        &[0xc7, 0x07, 0x0c, 0x83, 0x01, 0xc2, 0x05, 0x01, 0x06, 0x02],
    );
    // Refinements that don't apply to the type are dropped on encode.
    assert_eq!(
        enc(
            &Value::Unknown(Refinements {
                string_prefix: Some("x".into()),
                ..Default::default()
            }),
            &Type::Number
        ),
        [0xd4, 0x00, 0x00]
    );
    assert_eq!(
        enc(&Value::unknown_not_null(), &Type::Dynamic),
        [0xd4, 0x00, 0x00]
    );
    // Long prefixes are truncated to 255 bytes.
    let long = Value::Unknown(Refinements {
        string_prefix: Some("a".repeat(1000)),
        ..Default::default()
    });
    let v = decode_msgpack(&enc(&long, &Type::String), &Type::String).unwrap();
    assert_eq!(
        v,
        Value::Unknown(Refinements {
            string_prefix: Some("a".repeat(255)),
            ..Default::default()
        })
    );
}

#[test]
fn msgpack_unknown_decoding_variants() {
    let unknown = Value::unknown();
    // Any extension with length <= 1 is a plain unknown, whatever its type code.
    assert_eq!(
        decode_msgpack(&[0xc7, 0x00, 0x00], &Type::String).unwrap(),
        unknown
    );
    assert_eq!(
        decode_msgpack(&[0xd4, 0x05, 0x07], &Type::String).unwrap(),
        unknown
    );
    // Longer payloads need type 12.
    assert!(decode_msgpack(&[0xd6, 0x00, 0, 0, 0, 0], &Type::String).is_err());
    // Refinements under a dynamic type are ignored.
    assert_eq!(
        decode_msgpack(&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2], &Type::Dynamic).unwrap(),
        unknown
    );
    // Nullness true collapses into a known null.
    assert_eq!(
        decode_msgpack(&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3], &Type::String).unwrap(),
        Value::Null
    );
    // Unknown keys are skipped.
    assert_eq!(
        decode_msgpack(
            &[0xc7, 0x07, 0x0c, 0x82, 0x09, 0x92, 0x01, 0x02, 0x01, 0xc2],
            &Type::String
        )
        .unwrap(),
        Value::unknown_not_null()
    );
    // Refinements for the wrong type are errors.
    assert!(decode_msgpack(&[0xc7, 0x04, 0x0c, 0x81, 0x02, 0xa1, b'a'], &Type::Number).is_err());
    assert!(decode_msgpack(&[0xc7, 0x03, 0x0c, 0x81, 0x05, 0x01], &Type::String).is_err());
    assert!(
        decode_msgpack(
            &[0xc7, 0x05, 0x0c, 0x81, 0x03, 0x92, 0x00, 0xc3],
            &Type::String
        )
        .is_err()
    );
    // Payload that is not a map.
    assert!(decode_msgpack(&[0xd5, 0x0c, 0x01, 0x02], &Type::String).is_err());
    // An infinite number bound is no bound.
    let inf = [0xcb, 0xff, 0xf0, 0, 0, 0, 0, 0, 0];
    let mut b = vec![0xc7, 13, 0x0c, 0x81, 0x03, 0x92];
    b.extend_from_slice(&inf);
    b.push(0xc3);
    assert_eq!(decode_msgpack(&b, &Type::Number).unwrap(), unknown);
    // Bound given as text is accepted.
    assert_eq!(
        decode_msgpack(
            &[
                0xc7, 0x08, 0x0c, 0x81, 0x04, 0x92, 0xa3, b'0', b'.', b'1', 0xc2
            ],
            &Type::Number
        )
        .unwrap(),
        Value::Unknown(Refinements {
            number_upper: Some((num("0.1"), false)),
            ..Default::default()
        })
    );
    // Oversize refinement payload.
    let mut big = vec![0xc8, 0x04, 0x01, 0x0c, 0x81, 0x02, 0xda, 0x03, 0xfc];
    big.extend(std::iter::repeat_n(b'a', 0x3fc));
    assert!(decode_msgpack(&big, &Type::String).is_err());
}

#[test]
fn msgpack_dynamic() {
    // ["string" (bin), "hi"]
    let mut want = vec![0x92, 0xc4, 8];
    want.extend_from_slice(b"\"string\"");
    want.extend_from_slice(&[0xa2, b'h', b'i']);
    fixture(
        Value::Dynamic(Box::new(Type::String), Box::new(Value::string("hi"))),
        Type::Dynamic,
        &want,
    );
    // A plain value under a dynamic type gets its implied type.
    assert_eq!(enc(&Value::string("hi"), &Type::Dynamic), want);
    // The type may also arrive as str.
    let mut alt = vec![0x92, 0xa8];
    alt.extend_from_slice(b"\"string\"");
    alt.extend_from_slice(&[0xa2, b'h', b'i']);
    assert_eq!(
        decode_msgpack(&alt, &Type::Dynamic).unwrap(),
        Value::Dynamic(Box::new(Type::String), Box::new(Value::string("hi")))
    );
    // Null and unknown are not wrapped.
    fixture(Value::Null, Type::Dynamic, &[0xc0]);
    // Typed unknown under dynamic.
    let mut want = vec![0x92, 0xc4, 8];
    want.extend_from_slice(b"\"string\"");
    want.extend_from_slice(&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2]);
    fixture(
        Value::Dynamic(Box::new(Type::String), Box::new(Value::unknown_not_null())),
        Type::Dynamic,
        &want,
    );
    // Object attribute of dynamic type holding a list of numbers.
    let ty = Type::object([("d", Type::Dynamic)]);
    let v = Value::object([(
        "d",
        Value::Dynamic(
            Box::new(Type::list(Type::Number)),
            Box::new(Value::List(vec![Value::number_i64(1)])),
        ),
    )]);
    let bytes = enc(&v, &ty);
    let tj = br#"["list","number"]"#;
    let mut want = vec![0x81, 0xa1, b'd', 0x92, 0xc4, tj.len() as u8];
    want.extend_from_slice(tj);
    want.extend_from_slice(&[0x91, 0x01]);
    assert_eq!(bytes, want);
    assert_eq!(decode_msgpack(&bytes, &ty).unwrap(), v);
    // Accessors look through the wrapper.
    assert_eq!(v.get("d").as_list().unwrap()[0].as_i64(), Some(1));
    // Wrong arity.
    assert!(decode_msgpack(&[0x91, 0xc4, 0x01, b'x'], &Type::Dynamic).is_err());
    assert!(decode_msgpack(&[0x92, 0xa3, b'x', b'y', b'z', 0xc0], &Type::Dynamic).is_err());
}

// --------------------------------------------------------------- type JSON

#[test]
fn type_json() {
    let cases = [
        (Type::String, r#""string""#),
        (Type::Number, r#""number""#),
        (Type::Bool, r#""bool""#),
        (Type::Dynamic, r#""dynamic""#),
        (Type::list(Type::String), r#"["list","string"]"#),
        (Type::set(Type::Number), r#"["set","number"]"#),
        (Type::map(Type::Bool), r#"["map","bool"]"#),
        (
            Type::tuple([Type::String, Type::Number]),
            r#"["tuple",["string","number"]]"#,
        ),
        (Type::tuple([]), r#"["tuple",[]]"#),
        (
            Type::object([("b", Type::String), ("a", Type::Number)]),
            r#"["object",{"a":"number","b":"string"}]"#,
        ),
        (
            Type::object_with_optional(
                [("a", Type::String), ("b", Type::list(Type::Dynamic))],
                ["b"],
            ),
            r#"["object",{"a":"string","b":["list","dynamic"]},["b"]]"#,
        ),
    ];
    for (ty, json) in cases {
        assert_eq!(String::from_utf8(ty.to_json_bytes()).unwrap(), json);
        assert_eq!(Type::from_json(json.as_bytes()).unwrap(), ty);
    }
    for bad in [
        r#""str""#,
        r#"["list"]"#,
        r#"["list","string","x"]"#,
        r#"["object",[]]"#,
        r#"["object",{},["x"]]"#,
        "1",
        "",
        r#"["nope","x"]"#,
    ] {
        assert!(Type::from_json(bad.as_bytes()).is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------- JSON

#[test]
fn json_encoding() {
    let ty = Type::object([
        ("n", Type::Number),
        ("s", Type::String),
        ("l", Type::list(Type::Bool)),
        ("m", Type::map(Type::Number)),
        ("d", Type::Dynamic),
        ("z", Type::String),
    ]);
    let v = Value::object([
        ("n", Value::Number(num("9223372036854775808000.5"))),
        ("s", Value::string("a\"b\n")),
        ("l", Value::List(vec![Value::Bool(true), Value::Null])),
        (
            "m",
            Value::Map(BTreeMap::from([("x".into(), Value::Number(num("0.1")))])),
        ),
        (
            "d",
            Value::Dynamic(Box::new(Type::String), Box::new(Value::string("hi"))),
        ),
    ]);
    let out = String::from_utf8(encode_json(&v, &ty).unwrap()).unwrap();
    assert_eq!(
        out,
        r#"{"d":{"value":"hi","type":"string"},"l":[true,null],"m":{"x":0.1},"n":9223372036854775808000.5,"s":"a\"b\n","z":null}"#
    );
    let back = decode_json(out.as_bytes(), &ty).unwrap();
    let mut expect = v.clone();
    if let Value::Object(m) = &mut expect {
        m.insert("z".into(), Value::Null);
    }
    assert_eq!(back, expect);
    // Unknown values can't be JSON.
    let e = encode_json(&Value::object([("s", Value::unknown())]), &ty).unwrap_err();
    assert_eq!(e.path(), Some(".s"));
}

#[test]
fn json_decoding() {
    let d = |s: &str, ty: &Type| decode_json(s.as_bytes(), ty);
    assert_eq!(
        d("12345678901234567890123", &Type::Number).unwrap(),
        Value::Number(num("12345678901234567890123"))
    );
    assert_eq!(d("0.1", &Type::Number).unwrap(), Value::Number(num("0.1")));
    assert_eq!(
        d("-1.5e-3", &Type::Number).unwrap(),
        Value::Number(num("-0.0015"))
    );
    assert_eq!(d(r#""12""#, &Type::Number).unwrap(), Value::number_i64(12));
    assert_eq!(d(r#""1""#, &Type::Bool).unwrap(), Value::Bool(true));
    assert_eq!(d(r#""false""#, &Type::Bool).unwrap(), Value::Bool(false));
    assert!(d(r#""yes""#, &Type::Bool).is_err());
    assert_eq!(d("12.50", &Type::String).unwrap(), Value::string("12.50"));
    assert_eq!(d("true", &Type::String).unwrap(), Value::string("true"));
    assert_eq!(
        d(r#""\u00e9\ud83d\ude00\/""#, &Type::String).unwrap(),
        Value::string("é😀/")
    );
    assert_eq!(
        d(r#""\ud800""#, &Type::String).unwrap(),
        Value::string("\u{fffd}")
    );
    assert_eq!(d(" null ", &Type::list(Type::String)).unwrap(), Value::Null);
    assert_eq!(
        d(r#"{"value":null,"type":"number"}"#, &Type::Dynamic).unwrap(),
        Value::Dynamic(Box::new(Type::Number), Box::new(Value::Null))
    );
    assert!(d(r#"{"value":1}"#, &Type::Dynamic).is_err());
    assert!(d(r#"{"type":"number"}"#, &Type::Dynamic).is_err());
    assert!(d(r#"{"value":1,"type":"number","x":1}"#, &Type::Dynamic).is_err());
    assert!(d("[1,2]", &Type::tuple([Type::Number])).is_err());
    assert!(d("01", &Type::Number).is_err());
    assert!(d("1.", &Type::Number).is_err());
    assert!(d("[1,]", &Type::list(Type::Number)).is_err());
    assert!(d("1 2", &Type::Number).is_err());
    assert!(d("\"a\u{1}\"", &Type::String).is_err());
    let ty = Type::object([("a", Type::list(Type::object([("b", Type::Number)])))]);
    let e = d(r#"{"a":[{"b":"x"}]}"#, &ty).unwrap_err();
    assert_eq!(e.path(), Some(".a[0].b"));
    let e = d(r#"{"a":[],"c":1}"#, &ty).unwrap_err();
    assert!(e.to_string().contains("unsupported attribute \"c\""), "{e}");
    let deep = "[".repeat(1000) + &"]".repeat(1000);
    assert!(d(&deep, &Type::list(Type::String)).is_err());
}

#[test]
fn json_state_upgrade() {
    let ty = Type::object([
        ("name", Type::String),
        ("size", Type::Number),
        ("disks", Type::list(Type::object([("id", Type::String)]))),
    ]);
    let raw = br#"{"name":"vm1","removed":{"x":[1,2]},"disks":[{"id":"d1","old":true}]}"#;
    let v = upgrade_json_state(raw, &ty).unwrap();
    assert_eq!(
        v,
        Value::object([
            ("name", Value::string("vm1")),
            ("size", Value::Null),
            (
                "disks",
                Value::List(vec![Value::object([("id", Value::string("d1"))])])
            ),
        ])
    );
    // Strict decoding rejects the same input.
    assert!(decode_json(raw, &ty).is_err());
    // Type errors still fail.
    assert!(upgrade_json_state(br#"{"name":[1]}"#, &ty).is_err());
}

// ------------------------------------------------------------ helpers

#[test]
fn value_helpers() {
    let v = Value::object([
        ("s", Value::string("x")),
        ("n", Value::number_i64(3)),
        ("b", Value::Bool(true)),
        ("l", Value::List(vec![Value::unknown()])),
        ("m", Value::Map(BTreeMap::new())),
    ]);
    assert_eq!(v.get("s").as_str(), Some("x"));
    assert_eq!(v.get("n").as_i64(), Some(3));
    assert_eq!(v.get("n").as_number(), Some(&Number::from_i64(3)));
    assert_eq!(v.get("b").as_bool(), Some(true));
    assert!(v.get("missing").is_null());
    assert!(Value::string("x").get("a").is_null());
    assert_eq!(v.get("l").as_list().map(<[Value]>::len), Some(1));
    assert!(v.get("m").as_map().unwrap().is_empty());
    assert!(v.as_object().is_some());
    assert!(v.is_known());
    assert!(!v.is_wholly_known());
    assert!(!Value::unknown().is_known());
    assert!(Value::Null.is_wholly_known());
    assert_eq!(null_for(&Type::String), Value::Null);
    assert_eq!(Value::number_i64(1).as_str(), None);
    assert_eq!(Value::Number(num("1.5")).as_i64(), None);

    let ty = Type::object([("s", Type::String), ("t", Type::Number)]);
    assert!(
        Value::object([("s", Value::string("x"))])
            .conforms(&ty)
            .is_ok()
    );
    assert!(
        Value::object([("u", Value::string("x"))])
            .conforms(&ty)
            .is_err()
    );
    assert!(
        Value::object([("s", Value::number_i64(1))])
            .conforms(&ty)
            .is_err()
    );
    assert!(Value::unknown().conforms(&ty).is_ok());
    assert!(
        Value::Tuple(vec![])
            .conforms(&Type::tuple([Type::String]))
            .is_err()
    );
    assert!(Value::string("x").conforms(&Type::Dynamic).is_ok());
}

// ------------------------------------------------------------ generators

fn arb_number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from_i64),
        any::<u64>().prop_map(Number::from_u64),
        any::<f64>().prop_filter_map("finite", Number::from_f64_exact),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
        "-?[0-9]{1,30}(\\.[0-9]{1,30})?(e-?[0-9]{1,2})?".prop_map(|s| s.parse::<Number>().unwrap()),
    ]
}

fn arb_type_no_dynamic(depth: u32) -> BoxedStrategy<Type> {
    let leaf = prop_oneof![Just(Type::Bool), Just(Type::Number), Just(Type::String)];
    leaf.prop_recursive(depth, 16, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Type::Tuple),
            proptest::collection::btree_map("[a-z_]{1,6}", inner, 0..4).prop_flat_map(|attrs| {
                let names: Vec<String> = attrs.keys().cloned().collect();
                proptest::sample::subsequence(names.clone(), 0..=names.len()).prop_map(move |opt| {
                    Type::Object {
                        attrs: attrs.clone(),
                        optional: opt.into_iter().collect::<BTreeSet<_>>(),
                    }
                })
            }),
        ]
    })
    .boxed()
}

fn arb_type() -> BoxedStrategy<Type> {
    let leaf = prop_oneof![
        Just(Type::Bool),
        Just(Type::Number),
        Just(Type::String),
        Just(Type::Dynamic)
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Type::Tuple),
            proptest::collection::btree_map("[a-z_]{1,6}", inner, 0..4).prop_map(|attrs| {
                Type::Object {
                    attrs,
                    optional: BTreeSet::new(),
                }
            }),
        ]
    })
    .boxed()
}

/// Refinements that survive a msgpack round trip for `ty`.
fn arb_refinements(ty: &Type) -> BoxedStrategy<Refinements> {
    let ty = ty.clone();
    (
        any::<bool>(),
        proptest::option::of("[a-z\u{e9}\u{1F600}]{1,20}"),
        proptest::option::of((arb_number(), any::<bool>())),
        proptest::option::of((arb_number(), any::<bool>())),
        proptest::option::of(1u64..10),
        proptest::option::of(0u64..u64::MAX),
    )
        .prop_map(move |(not_null, prefix, lo, hi, llo, lhi)| {
            Refinements {
                not_null,
                string_prefix: prefix,
                number_lower: lo,
                number_upper: hi,
                length_lower: llo,
                length_upper: lhi,
            }
            .restricted_to(&ty)
        })
        .boxed()
}

fn arb_value(ty: &Type, unknowns: bool) -> BoxedStrategy<Value> {
    let known = arb_known(ty, unknowns);
    if unknowns {
        prop_oneof![
            1 => Just(Value::Null),
            1 => arb_refinements(ty).prop_map(Value::Unknown),
            6 => known,
        ]
        .boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 6 => known].boxed()
    }
}

fn arb_known(ty: &Type, unknowns: bool) -> BoxedStrategy<Value> {
    match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::String => any::<String>().prop_map(Value::String).boxed(),
        Type::List(et) => proptest::collection::vec(arb_value(et, unknowns), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(et) => proptest::collection::vec(arb_value(et, unknowns), 0..4)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(et) => {
            proptest::collection::btree_map(any::<String>(), arb_value(et, unknowns), 0..4)
                .prop_map(Value::Map)
                .boxed()
        }
        Type::Tuple(ets) => ets
            .iter()
            .map(|t| arb_value(t, unknowns))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Object { attrs, .. } => attrs
            .iter()
            .map(|(k, t)| (Just(k.clone()), arb_value(t, unknowns)))
            .collect::<Vec<_>>()
            .prop_map(|kvs| Value::Object(kvs.into_iter().collect()))
            .boxed(),
        Type::Dynamic => arb_type_no_dynamic(2)
            .prop_flat_map(move |t| {
                arb_value(&t, unknowns)
                    .prop_map(move |v| Value::Dynamic(Box::new(t.clone()), Box::new(v)))
            })
            .boxed(),
    }
}

fn arb_typed_value(unknowns: bool) -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(move |t| (Just(t.clone()), arb_value(&t, unknowns)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn msgpack_round_trip((ty, v) in arb_typed_value(true)) {
        prop_assert!(v.conforms(&ty).is_ok());
        let bytes = encode_msgpack(&v, &ty).unwrap();
        let back = decode_msgpack(&bytes, &ty).unwrap();
        prop_assert_eq!(&back, &v);
        // Re-encoding is byte-identical.
        prop_assert_eq!(encode_msgpack(&back, &ty).unwrap(), bytes);
    }

    #[test]
    fn json_round_trip((ty, v) in arb_typed_value(false)) {
        let bytes = encode_json(&v, &ty).unwrap();
        // Always valid JSON.
        prop_assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_ok());
        let back = decode_json(&bytes, &ty).unwrap();
        prop_assert_eq!(&back, &v);
        prop_assert_eq!(encode_json(&back, &ty).unwrap(), bytes);
    }

    #[test]
    fn type_json_round_trip(ty in arb_type()) {
        prop_assert_eq!(Type::from_json(&ty.to_json_bytes()).unwrap(), ty);
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64), ty in arb_type()) {
        let _ = decode_msgpack(&bytes, &ty);
        let _ = decode_json(&bytes, &ty);
        let _ = upgrade_json_state(&bytes, &ty);
    }

    #[test]
    fn mutated_encodings_never_panic((ty, v) in arb_typed_value(true), idx in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = encode_msgpack(&v, &ty).unwrap();
        if !bytes.is_empty() {
            let i = idx % bytes.len();
            bytes[i] = byte;
        }
        if let Ok(d) = decode_msgpack(&bytes, &ty) {
            let again = encode_msgpack(&d, &ty).unwrap();
            prop_assert_eq!(decode_msgpack(&again, &ty).unwrap(), d);
        }
    }
}

/// Deterministic xorshift, so the random-bytes test is reproducible.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn fuzz_types() -> Vec<Type> {
    vec![
        Type::Dynamic,
        Type::Number,
        Type::list(Type::String),
        Type::map(Type::Number),
        Type::object_with_optional(
            [
                ("name", Type::String),
                ("count", Type::Number),
                ("tags", Type::set(Type::String)),
                (
                    "gpus",
                    Type::list(Type::object([("model", Type::String), ("n", Type::Number)])),
                ),
                ("extra", Type::Dynamic),
                ("pair", Type::tuple([Type::Bool, Type::Number])),
            ],
            ["extra"],
        ),
    ]
}

/// The same check the fuzz targets run, over a few thousand random inputs
/// (biased towards msgpack/JSON-looking bytes).
#[test]
fn random_bytes_do_not_panic_and_round_trip() {
    let mut rng = XorShift(0x9e3779b97f4a7c15);
    let types = fuzz_types();
    let alphabet: &[u8] = b"{}[],:\"0123456789.-eE truefalsnl\\u";
    for i in 0..4000 {
        let len = (rng.next() % 48) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                let r = rng.next();
                if i % 2 == 0 {
                    r as u8
                } else {
                    alphabet[(r % alphabet.len() as u64) as usize]
                }
            })
            .collect();
        for ty in &types {
            if let Ok(v) = decode_msgpack(&bytes, ty) {
                let again = encode_msgpack(&v, ty).expect("decoded value must re-encode");
                assert_eq!(decode_msgpack(&again, ty).unwrap(), v);
            }
            if let Ok(v) = decode_json(&bytes, ty) {
                let again = encode_json(&v, ty).expect("decoded value must re-encode");
                assert_eq!(decode_json(&again, ty).unwrap(), v);
            }
        }
    }
}
