//! Smithy RPC v2 CBOR for CloudWatch (spec monitoring.md §3.1), the protocol the model lists
//! first and SDKs that support it prefer: `POST /service/GraniteServiceVersion20100801/
//! operation/<Op>`, a CBOR map with the members AWS JSON 1.0 uses, timestamps as tag 1 and
//! epoch seconds. Requests become the JSON value the other protocols give the operations, and
//! answers are the same [`Out`] tree rendered as CBOR; only this edge knows CBOR.

use cairn_model::budget::{Budget, Counted};
use ciborium::value::{Integer, Value as Cbor};
use serde_json::{Map, Number, Value};

use super::output::Out;

/// The path prefix of RPC v2 CBOR requests; the operation name follows it.
pub const PATH_PREFIX: &str = "/service/GraniteServiceVersion20100801/operation/";

/// CBOR's tag for epoch-seconds timestamps.
const EPOCH_TAG: u64 = 1;

/// Deepest nesting taken (CloudWatch's shapes are shallow).
const MAX_DEPTH: usize = 32;

/// The operation a request path names, if it is an RPC v2 path of this service.
pub fn operation(path: &str) -> Option<&str> {
    path.strip_prefix(PATH_PREFIX)
        .filter(|op| !op.is_empty() && op.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A request body as the JSON value the operations read. An empty body is an empty input.
pub fn request(body: &[u8]) -> Result<Value, String> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    // Counted first, without building anything: a small body cannot ask for a huge tree.
    let (counted, exceeded) = Budget::count_owned(crate::json::MAX_BODY_VALUES, usize::MAX, || {
        ciborium::de::from_reader::<Counted, _>(body)
    });
    if let Err(e) = counted {
        return Err(if exceeded {
            format!("it holds more than {} values", crate::json::MAX_BODY_VALUES)
        } else {
            described(&e)
        });
    }
    let mut rest = body;
    let value: Cbor = ciborium::de::from_reader(&mut rest).map_err(|e| described(&e))?;
    if !rest.is_empty() {
        // One data item is the whole body, as JSON services refuse `{}xyz`.
        return Err(format!("{} bytes follow the request's map", rest.len()));
    }
    match to_json(value, 0)? {
        v @ Value::Object(_) => Ok(v),
        _ => Err("the request body is not a CBOR map".to_owned()),
    }
}

/// A CBOR decoding error in words, without the decoder's internals.
fn described<T: std::fmt::Debug>(e: &ciborium::de::Error<T>) -> String {
    match e {
        ciborium::de::Error::Io(_) => "the body ends before its last item".to_owned(),
        ciborium::de::Error::Syntax(at) => format!("a malformed item at byte {at}"),
        ciborium::de::Error::Semantic(Some(at), what) => format!("{what} (at byte {at})"),
        ciborium::de::Error::Semantic(None, what) => what.clone(),
        ciborium::de::Error::RecursionLimitExceeded => "items nest too deeply".to_owned(),
    }
}

fn to_json(value: Cbor, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("the request body nests too deeply".to_owned());
    }
    Ok(match value {
        Cbor::Null => Value::Null,
        Cbor::Bool(b) => Value::Bool(b),
        Cbor::Integer(i) => {
            let wide = i128::from(i);
            i64::try_from(wide)
                .map(Value::from)
                .or_else(|_| u64::try_from(wide).map(Value::from))
                .map_err(|_| "an integer is out of range".to_owned())?
        }
        // CBOR carries NaN and the infinities natively; they reach the operation as the JSON
        // protocols send them, strings it reads as numbers, so its own check answers
        // (`InvalidParameterValue`), not a `SerializationException` (alarms7).
        Cbor::Float(f) => Number::from_f64(f).map_or_else(
            || {
                Value::String(
                    if f.is_nan() {
                        "NaN"
                    } else if f > 0.0 {
                        "Infinity"
                    } else {
                        "-Infinity"
                    }
                    .to_owned(),
                )
            },
            Value::Number,
        ),
        Cbor::Text(s) => Value::String(s),
        // No CloudWatch input member is a blob (the model's only blob is GetMetricWidgetImage's
        // output): a byte string is refused, never read as its base64 text where the model
        // wants a string (hostile6).
        Cbor::Bytes(_) => return Err("a byte string where no input member takes one".to_owned()),
        Cbor::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| to_json(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Cbor::Map(entries) => {
            let mut map = Map::new();
            for (k, v) in entries {
                let Cbor::Text(key) = k else {
                    return Err("a map key is not a string".to_owned());
                };
                map.insert(key, to_json(v, depth + 1)?);
            }
            Value::Object(map)
        }
        // Timestamps (tag 1) are epoch seconds, as AWS JSON 1.0 carries them.
        Cbor::Tag(_, inner) => to_json(*inner, depth + 1)?,
        _ => return Err("an unsupported CBOR item".to_owned()),
    })
}

/// An answer as CBOR bytes (an empty map when the operation has no result members).
pub fn response(out: Option<&Out>) -> Vec<u8> {
    let value = out.map_or_else(|| Cbor::Map(Vec::new()), from_out);
    encode(&value)
}

/// An error body: `__type` (the shape) and `message`.
pub fn error(shape: &str, message: &str) -> Vec<u8> {
    encode(&Cbor::Map(vec![
        (
            Cbor::Text("__type".to_owned()),
            Cbor::Text(format!("com.amazonaws.cloudwatch#{shape}")),
        ),
        (
            Cbor::Text("message".to_owned()),
            Cbor::Text(message.to_owned()),
        ),
    ]))
}

fn encode(value: &Cbor) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail for values built here.
    if ciborium::ser::into_writer(value, &mut bytes).is_err() {
        bytes.clear();
    }
    bytes
}

fn from_out(out: &Out) -> Cbor {
    match out {
        Out::S(s) => Cbor::Text(s.clone()),
        Out::F(f) => Cbor::Float(*f),
        Out::I(i) => Cbor::Integer(Integer::from(*i)),
        Out::B(b) => Cbor::Bool(*b),
        Out::T(ms) => {
            let seconds = if ms % 1000 == 0 {
                Cbor::Integer(Integer::from(ms / 1000))
            } else {
                Cbor::Float(*ms as f64 / 1000.0)
            };
            Cbor::Tag(EPOCH_TAG, Box::new(seconds))
        }
        Out::L(items) => Cbor::Array(items.iter().map(from_out).collect()),
        Out::Map(entries) => Cbor::Map(
            entries
                .iter()
                .map(|(k, v)| (Cbor::Text(k.clone()), Cbor::Float(*v)))
                .collect(),
        ),
        Out::M(members) => Cbor::Map(
            members
                .iter()
                .map(|(k, v)| (Cbor::Text((*k).to_owned()), from_out(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cbor(value: &Cbor) -> Vec<u8> {
        encode(value)
    }

    #[test]
    fn requests_read_as_the_json_the_operations_take() {
        let body = cbor(&Cbor::Map(vec![
            (Cbor::Text("Namespace".into()), Cbor::Text("N".into())),
            (
                Cbor::Text("MetricData".into()),
                Cbor::Array(vec![Cbor::Map(vec![
                    (Cbor::Text("Value".into()), Cbor::Float(1.5)),
                    (
                        Cbor::Text("Timestamp".into()),
                        Cbor::Tag(1, Box::new(Cbor::Integer(1_704_067_200.into()))),
                    ),
                ])]),
            ),
        ]));
        assert_eq!(
            request(&body).unwrap(),
            serde_json::json!({"Namespace": "N", "MetricData": [{"Value": 1.5, "Timestamp": 1_704_067_200}]})
        );
        assert_eq!(request(&[]).unwrap(), serde_json::json!({}));
        // NaN and the infinities arrive as the JSON protocols send them (alarms7).
        let odd = cbor(&Cbor::Map(vec![
            (Cbor::Text("a".into()), Cbor::Float(f64::NAN)),
            (Cbor::Text("b".into()), Cbor::Float(f64::NEG_INFINITY)),
        ]));
        assert_eq!(
            request(&odd).unwrap(),
            serde_json::json!({"a": "NaN", "b": "-Infinity"})
        );
    }

    #[test]
    fn bad_bodies_are_refused_not_panicked_on() {
        for body in [
            &b"\xff\x00"[..],
            &cbor(&Cbor::Array(vec![])),
            &cbor(&Cbor::Map(vec![(Cbor::Integer(1.into()), Cbor::Null)])),
            // A byte string where the model wants a string (AlarmNames' items).
            &cbor(&Cbor::Map(vec![(
                Cbor::Text("AlarmNames".into()),
                Cbor::Array(vec![Cbor::Bytes(b"rootalarm".to_vec())]),
            )])),
        ] {
            assert!(request(body).is_err(), "{body:?}");
        }
        let mut deep = Cbor::Null;
        for _ in 0..100 {
            deep = Cbor::Array(vec![deep]);
        }
        let body = cbor(&Cbor::Map(vec![(Cbor::Text("x".into()), deep)]));
        assert!(request(&body).is_err());
        // Bytes after the map (garbage, or a second map) are refused, not ignored.
        let map = cbor(&Cbor::Map(vec![(Cbor::Text("x".into()), Cbor::Null)]));
        assert!(request(&map).is_ok());
        for tail in [&b"\xff\xfe"[..], &map[..]] {
            let body = [&map[..], tail].concat();
            assert!(request(&body).is_err(), "{body:?}");
        }
    }

    #[test]
    fn answers_carry_timestamps_as_tag_1() {
        let out = Out::M(vec![(
            "Datapoints",
            Out::L(vec![Out::M(vec![
                ("Timestamp", Out::T(1_704_067_200_000)),
                ("Sum", Out::F(2.0)),
            ])]),
        )]);
        let back: Cbor = ciborium::de::from_reader(&response(Some(&out))[..]).unwrap();
        let Cbor::Map(top) = back else { panic!() };
        let Cbor::Array(points) = &top[0].1 else {
            panic!()
        };
        let Cbor::Map(point) = &points[0] else {
            panic!()
        };
        assert_eq!(
            point[0].1,
            Cbor::Tag(1, Box::new(Cbor::Integer(1_704_067_200.into())))
        );
        assert_eq!(response(None), vec![0xa0]);
    }

    proptest::proptest! {
        /// Random bytes, and random CBOR-looking prefixes, are refused or read; never a panic.
        #[test]
        fn random_bodies_never_panic(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            head in proptest::prelude::any::<u8>(),
        ) {
            let _ = request(&body);
            let mut mapped = vec![0xa1, head];
            mapped.extend_from_slice(&body);
            let _ = request(&mapped);
        }
    }
}
