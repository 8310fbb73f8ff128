//! Bytes that are not a gob stream are refused with an error, never a panic; values this
//! crate writes read back the same.

use crate::common;

use proptest::prelude::*;
use scf_gob::{messages, split_message, Decoder, Encoder, GobError, Type, Value};

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut decoder = Decoder::new();
        let mut rest = &bytes[..];
        while let Ok(Some((message, used))) = split_message(rest) {
            let _ = decoder.decode_message(message);
            rest = &rest[used..];
        }
    }

    #[test]
    fn a_truncated_message_is_an_error_not_a_panic(r in common::response(), cut in 0usize..64) {
        let mut encoder = Encoder::new();
        let bytes = encoder.encode(messages::invoke_response(), &common::response_value(&r)).unwrap();
        let mut decoder = Decoder::new();
        let mut rest = &bytes[..];
        let mut values = Vec::new();
        while let Some((message, used)) = split_message(rest).unwrap() {
            let cut_here = cut.min(message.len());
            let _ = decoder.decode_message(&message[..cut_here]);
            if let Ok(Some(v)) = decoder.decode_message(message) {
                values.push(v);
            }
            rest = &rest[used..];
        }
        prop_assert_eq!(values.len(), 1);
        prop_assert_eq!(common::response_from(&values[0]), r);
    }

    #[test]
    fn values_round_trip_through_this_crate(r in common::request()) {
        let mut encoder = Encoder::new();
        let bytes = encoder.encode(messages::invoke_request(), &common::request_value(&r)).unwrap();
        let values = common::decode_stream(&bytes);
        prop_assert_eq!(common::request_from(&values[0]), r);
    }
}

#[test]
fn a_value_that_does_not_fit_its_type_names_the_field() {
    let mut encoder = Encoder::new();
    let err = encoder
        .encode(
            messages::invoke_request(),
            &Value::record([("MemoryLimitInMb", Value::String("128".into()))]),
        )
        .unwrap_err();
    assert!(matches!(err, GobError::Mismatch(_)));
    assert!(
        err.to_string().contains("InvokeRequest.MemoryLimitInMb"),
        "{err}"
    );
    let err = encoder
        .encode(
            messages::invoke_request(),
            &Value::record([("Nope", Value::Int(1))]),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("InvokeRequest has no field Nope"),
        "{err}"
    );
}

#[test]
fn a_value_of_an_undefined_type_is_corrupt() {
    // Type id 65 (the signed integer 65 is the unsigned 130: 0xFF 0x82), then a delta.
    let err = Decoder::new()
        .decode_message(&[0xFF, 0x82, 0x00])
        .unwrap_err();
    assert!(err.to_string().contains("type id 65"), "{err}");
}

#[test]
fn singletons_and_slices_of_scalars_round_trip() {
    let mut encoder = Encoder::new();
    let mut bytes = encoder
        .encode(&Type::String, &Value::String("héllo".into()))
        .unwrap();
    bytes.extend(
        encoder
            .encode(
                &Type::slice(Type::Int),
                &Value::List(vec![Value::Int(-1), Value::Int(300)]),
            )
            .unwrap(),
    );
    let values = common::decode_stream(&bytes);
    assert_eq!(values[0], Value::String("héllo".into()));
    assert_eq!(
        values[1],
        Value::List(vec![Value::Int(-1), Value::Int(300)])
    );
}
