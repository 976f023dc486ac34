//! Template parsing, validation and evaluation never panic, whatever the body.

use cairn_template::{Catalog, Evaluator, NoResources, Pseudo, Template, params, validate};
use proptest::prelude::*;

struct Any;

impl Catalog for Any {
    fn knows(&self, t: &str) -> bool {
        t.starts_with("AWS::")
    }
    fn has_attribute(&self, _: &str, a: &str) -> bool {
        a == "Arn"
    }
}

fn exercise(body: &str) {
    let Ok(t) = Template::parse(body) else { return };
    let _ = validate(&t, &Any);
    let Ok(values) = params::resolve(&t.parameters, &[], None, "us-east-1") else {
        return;
    };
    let pseudo = Pseudo {
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        stack_name: "s".into(),
        stack_id: "id".into(),
        notification_arns: vec![],
    };
    if let Ok(ev) = Evaluator::new(&t, pseudo, &values) {
        let _ = ev.order();
        for r in ev.active_resources() {
            let _ = ev.resolve(&r.properties, &NoResources);
        }
        let _ = ev.outputs(&NoResources);
    }
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("!Ref ".to_owned()),
        Just("!GetAtt A.Arn".to_owned()),
        Just("!Sub '${A}-${AWS::Region}-${!x}'".to_owned()),
        Just("!Join [',', [a, b]]".to_owned()),
        Just("!Select [1, [a]]".to_owned()),
        Just("!Split ['', x]".to_owned()),
        Just("!If [C, a, !Ref AWS::NoValue]".to_owned()),
        Just("!Equals [a, a]".to_owned()),
        Just("!Cidr ['10.0.0.0/8', 300, 99]".to_owned()),
        Just("!FindInMap [M, k, a]".to_owned()),
        Just("!Base64 x".to_owned()),
        Just("!GetAZs ''".to_owned()),
        Just("!ImportValue e".to_owned()),
        Just("{Fn::Not: [true]}".to_owned()),
        Just("[".to_owned()),
        Just("}".to_owned()),
        Just("\n  ".to_owned()),
        "[A-Za-z0-9:!{}\\[\\],.' $-]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(body in ".{0,400}") {
        exercise(&body);
    }

    #[test]
    fn template_shaped_bodies_never_panic(tokens in proptest::collection::vec(token(), 0..12)) {
        let body = format!(
            "Parameters:\n  P: {{Type: String, Default: x}}\nMappings:\n  M: {{k: {{a: v}}}}\nConditions:\n  C: {}\nResources:\n  A:\n    Type: AWS::S3::Bucket\n    Properties:\n      X: {}\nOutputs:\n  O:\n    Value: {}\n",
            tokens.first().cloned().unwrap_or_default(),
            tokens.get(1..).map(|t| t.join(" ")).unwrap_or_default(),
            tokens.last().cloned().unwrap_or_default(),
        );
        exercise(&body);
    }

    #[test]
    fn json_shaped_bodies_never_panic(v in proptest::collection::vec("[\\[\\]{}\":,a-zA-Z0-9 ]{0,6}", 0..30)) {
        exercise(&format!("{{\"Resources\": {}}}", v.concat()));
    }
}
