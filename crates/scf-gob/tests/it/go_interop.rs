//! Property tests against Go's own encoding/gob: what Go encodes, this crate decodes to the
//! same values, and what this crate encodes, Go decodes to the same values, for
//! scf-go-lib's messages with arbitrary contents (several per stream, so that type
//! definitions are sent once and reused).

use crate::common::{self, Request, Response};

use proptest::prelude::*;
use scf_gob::{messages, Encoder};
use serde_json::json;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    }
}

fn batch() -> impl Strategy<Value = (Vec<Request>, Vec<Response>)> {
    (
        prop::collection::vec(common::request(), 0..4),
        prop::collection::vec(common::response(), 0..4),
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn what_go_encodes_decodes_to_the_same_messages((requests, responses) in batch()) {
        let Some(bin) = common::gobcheck() else { return Ok(()) };
        let input = json!({
            "Requests": requests.iter().map(common::request_json).collect::<Vec<_>>(),
            "Responses": responses.iter().map(common::response_json).collect::<Vec<_>>(),
        });
        let stream = common::unhex(&common::run(bin, &["encode"], &input.to_string()));
        let values = common::decode_stream(&stream);
        prop_assert_eq!(values.len(), requests.len() + responses.len());
        let (req_values, resp_values) = values.split_at(requests.len());
        let decoded: Vec<Request> = req_values.iter().map(common::request_from).collect();
        prop_assert_eq!(decoded, requests);
        let decoded: Vec<Response> = resp_values.iter().map(common::response_from).collect();
        prop_assert_eq!(decoded, responses);
    }

    #[test]
    fn what_this_crate_encodes_go_decodes_to_the_same_messages((requests, responses) in batch()) {
        let Some(bin) = common::gobcheck() else { return Ok(()) };
        let mut encoder = Encoder::new();
        let mut stream = Vec::new();
        for r in &requests {
            stream.extend(encoder.encode(messages::invoke_request(), &common::request_value(r)).unwrap());
        }
        for r in &responses {
            stream.extend(encoder.encode(messages::invoke_response(), &common::response_value(r)).unwrap());
        }
        let n = requests.len().to_string();
        let m = responses.len().to_string();
        let out = common::run(bin, &["decode", &n, &m], &common::hex(&stream));
        let got: serde_json::Value = serde_json::from_str(&out).unwrap();
        let expected = json!({
            "Requests": requests.iter().map(common::request_json).collect::<Vec<_>>(),
            "Responses": responses.iter().map(common::response_json).collect::<Vec<_>>(),
        });
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn type_definitions_are_sent_once_per_stream() {
    let mut encoder = Encoder::new();
    let value = common::request_value(&Request::default());
    let first = encoder.encode(messages::invoke_request(), &value).unwrap();
    let second = encoder.encode(messages::invoke_request(), &value).unwrap();
    assert!(
        first.len() > second.len() * 4,
        "{} vs {}",
        first.len(),
        second.len()
    );
    // The second is the value alone: its length (5), the type id 65 (a signed integer:
    // 0xFF 0x82), the field delta of Deadline (field 3: delta 4), the empty Deadline
    // struct (Go always sends struct fields) and the end of the struct.
    assert_eq!(second, [5, 0xFF, 0x82, 4, 0, 0]);
}
