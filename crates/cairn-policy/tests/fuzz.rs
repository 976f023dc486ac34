//! Property tests: `Document::parse` never panics on arbitrary text or on arbitrary
//! policy-shaped JSON, and evaluating whatever parses never panics on arbitrary requests.

mod common;

use cairn_policy::{
    Context, Document, PolicyKind, PolicySet, PolicySource, Principal, Request, SourcedPolicy,
    authorize, simulate,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const KINDS: [PolicyKind; 4] = [
    PolicyKind::Identity,
    PolicyKind::Resource,
    PolicyKind::Trust,
    PolicyKind::KeyPolicy,
];

fn text_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_owned()),
        Just("s3:*".to_owned()),
        Just("cloudtrail:Get*".to_owned()),
        Just("sts:AssumeRole".to_owned()),
        Just("arn:aws:s3:::b/*".to_owned()),
        Just("arn:aws:cloudtrail:*:111122223333:trail/${aws:username}-*".to_owned()),
        Just("arn:aws:iam::111122223333:root".to_owned()),
        Just("arn:aws:iam::111122223333:user/alice".to_owned()),
        Just("111122223333".to_owned()),
        Just("${*}${?}${$}${".to_owned()),
        Just("10.0.0.0/8".to_owned()),
        Just("2026-11-22T11:39:09Z".to_owned()),
        "[a-zA-Z0-9:*?/${}\\-_. ]{0,24}",
        any::<String>(),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        text_piece().prop_map(Value::String),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        Just(Value::Null),
    ]
}

fn list_or_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        scalar(),
        prop::collection::vec(scalar(), 0..4).prop_map(Value::Array),
    ]
}

fn operator() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("StringEquals"),
        Just("StringNotLike"),
        Just("ForAllValues:StringLike"),
        Just("ForAnyValue:StringEqualsIgnoreCase"),
        Just("NumericLessThanIfExists"),
        Just("DateGreaterThan"),
        Just("Bool"),
        Just("BinaryEquals"),
        Just("IpAddress"),
        Just("NotIpAddress"),
        Just("ArnLike"),
        Just("Null"),
        Just("Weird"),
    ]
    .prop_map(str::to_owned)
}

fn condition() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (
            operator(),
            prop::collection::vec((text_piece(), list_or_scalar()), 0..3),
        ),
        0..3,
    )
    .prop_map(|ops| {
        let mut m = Map::new();
        for (op, keys) in ops {
            m.insert(op, Value::Object(keys.into_iter().collect()));
        }
        Value::Object(m)
    })
}

fn principal() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("*")),
        list_or_scalar().prop_map(|v| json!({"AWS": v})),
        list_or_scalar().prop_map(|v| json!({"Service": v})),
        scalar(),
    ]
}

fn action() -> impl Strategy<Value = Value> {
    let valid = prop_oneof![
        Just("*"),
        Just("s3:GetObject"),
        Just("cloudtrail:*"),
        Just("cloudtrail:Get*"),
        Just("sts:AssumeRole"),
        Just("kms:Decrypt"),
        Just("iam:?ass*"),
    ]
    .prop_map(|a| json!(a));
    prop_oneof![
        6 => valid.clone(),
        2 => prop::collection::vec(valid, 1..4).prop_map(Value::Array),
        1 => list_or_scalar(),
    ]
}

fn resource() -> impl Strategy<Value = Value> {
    let valid = prop_oneof![
        Just("*"),
        Just("arn:aws:s3:::b/*"),
        Just("arn:aws:s3:::b"),
        Just("arn:aws:cloudtrail:*:111122223333:trail/${aws:username}-*"),
        Just("arn:aws:iam::111122223333:role/ops"),
        Just("arn:aws:kms:us-east-1:111122223333:key/*"),
    ]
    .prop_map(|a| json!(a));
    prop_oneof![
        6 => valid.clone(),
        2 => prop::collection::vec(valid, 1..3).prop_map(Value::Array),
        1 => list_or_scalar(),
    ]
}

fn statement() -> impl Strategy<Value = Value> {
    (
        prop_oneof![8 => Just(json!("Allow")), 4 => Just(json!("Deny")), 1 => Just(json!("allow")), 1 => scalar()],
        prop::option::weighted(0.95, action()),
        prop::bool::weighted(0.2),
        prop::option::weighted(0.6, resource()),
        prop::bool::weighted(0.2),
        prop::option::weighted(0.5, principal()),
        prop::bool::weighted(0.1),
        prop::option::weighted(0.5, condition()),
        prop::option::weighted(0.2, "[A-Za-z0-9 ]{0,8}".prop_map(Value::String)),
    )
        .prop_map(|(effect, action, not_action, resource, not_resource, principal, not_principal, cond, sid)| {
            let mut m = Map::new();
            m.insert("Effect".to_owned(), effect);
            let mut put = |k: &str, v: Option<Value>| {
                if let Some(v) = v {
                    m.insert(k.to_owned(), v);
                }
            };
            put(if not_action { "NotAction" } else { "Action" }, action);
            put(if not_resource { "NotResource" } else { "Resource" }, resource);
            put(if not_principal { "NotPrincipal" } else { "Principal" }, principal);
            put("Condition", cond);
            put("Sid", sid);
            Value::Object(m)
        })
}

fn document() -> impl Strategy<Value = String> {
    (
        prop::option::weighted(0.9, prop_oneof![4 => Just(json!("2012-10-17")), 2 => Just(json!("2008-10-17")), 1 => scalar()]),
        prop_oneof![
            3 => statement(),
            6 => prop::collection::vec(statement(), 0..4).prop_map(Value::Array),
            1 => scalar(),
        ],
    )
        .prop_map(|(version, statements)| {
            let mut m = Map::new();
            if let Some(v) = version {
                m.insert("Version".into(), v);
            }
            m.insert("Statement".into(), statements);
            Value::Object(m).to_string()
        })
}

fn principals() -> Vec<Principal> {
    vec![
        common::user("alice"),
        common::session("ops", "s1"),
        common::root(),
        common::service("cloudtrail.amazonaws.com"),
        Principal::Anonymous,
    ]
}

fn exercise(doc: &Document, action: &str, resource: &str, ctx: &Context) {
    for p in principals() {
        let policy = SourcedPolicy {
            source: PolicySource::CustomerManaged,
            id: "p",
            document: doc,
        };
        let identity = [policy];
        let as_identity = PolicySet {
            identity: &identity,
            ..Default::default()
        };
        let as_resource = PolicySet {
            resource: Some(SourcedPolicy {
                source: PolicySource::Resource,
                ..policy
            }),
            ..Default::default()
        };
        for set in [&as_identity, &as_resource] {
            let req = Request {
                principal: &p,
                action,
                resource,
                context: ctx,
            };
            let fast = authorize(&req, set);
            let traced = simulate(&req, set);
            assert_eq!(fast.eval_decision(), traced.decision.eval_decision());
        }
    }
}

fn context() -> impl Strategy<Value = Context> {
    prop::collection::vec(
        (text_piece(), prop::collection::vec(text_piece(), 0..3)),
        0..5,
    )
    .prop_map(|entries| {
        let mut c = Context::new();
        for (k, v) in entries {
            c.insert_values(&k, v);
        }
        c
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        for kind in KINDS {
            let _ = Document::parse(&text, kind);
        }
    }

    #[test]
    fn arbitrary_policies_never_panic(text in document(), action in text_piece(), resource in text_piece(), ctx in context()) {
        for kind in KINDS {
            if let Ok(doc) = Document::parse(&text, kind) {
                exercise(&doc, &action, &resource, &ctx);
            }
        }
    }
}

#[test]
fn many_generated_policies_are_accepted() {
    // The generator must reach the evaluator, or the property above proves little.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = document();
    let mut accepted = 0;
    for _ in 0..2000 {
        let text = strategy.new_tree(&mut runner).unwrap().current();
        if KINDS.iter().any(|k| Document::parse(&text, *k).is_ok()) {
            accepted += 1;
        }
    }
    assert!(accepted > 20, "only {accepted} generated documents parsed");
}
