//! Intrinsic functions and conditions as a table: a template's output value (YAML short forms
//! and JSON long forms) → the value CloudFormation resolves it to.

use cairn_template::{Evaluator, Given, Lookup, Pseudo, Template, params};
use serde_json::{Value, json};

struct Made;

impl Lookup for Made {
    fn physical_id(&self, id: &str) -> Option<String> {
        (id == "Bucket").then(|| "stack-bucket-1a2b3c".to_owned())
    }
    fn attribute(&self, id: &str, attr: &str) -> Result<Value, String> {
        match (id, attr) {
            ("Bucket", "Arn") => Ok(json!("arn:aws:s3:::stack-bucket-1a2b3c")),
            _ => Err(format!(
                "resource {id} does not support attribute type {attr} in Fn::GetAtt"
            )),
        }
    }
    fn export(&self, name: &str) -> Option<String> {
        (name == "shared-topic").then(|| "arn:aws:sns:us-east-1:123456789012:shared".to_owned())
    }
}

const PRELUDE: &str = r#"
Parameters:
  Env: {Type: String, Default: prod, AllowedValues: [dev, prod]}
  Names: {Type: CommaDelimitedList, Default: "a,b,c"}
  Size: {Type: Number, Default: 3}
Mappings:
  RegionMap:
    us-east-1: {Short: use1, Zones: [x, y]}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Equals [!Ref Size, 3]]
  Either: !Or [!Condition IsDev, !Equals [a, b]]
  InUsEast: !Equals [!Ref "AWS::Region", us-east-1]
Resources:
  Bucket: {Type: AWS::S3::Bucket}
"#;

fn resolve(expr: &str) -> Result<Value, String> {
    first_output(&format!("{PRELUDE}Outputs:\n  Out:\n    Value: {expr}\n"))
}

/// The pseudo parameters of the stack `demo` in us-east-1.
fn demo() -> Pseudo {
    Pseudo {
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        stack_name: "demo".into(),
        stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/demo/abc".into(),
        notification_arns: vec![],
    }
}

/// The first output of a template `body` (parameters at their defaults).
fn first_output(body: &str) -> Result<Value, String> {
    let t = Template::parse(body).map_err(|e| e.to_string())?;
    let values =
        params::resolve(&t.parameters, &[], None, "us-east-1").map_err(|e| e.to_string())?;
    let ev = Evaluator::new(&t, demo(), &values).map_err(|e| e.to_string())?;
    let outs = ev.outputs(&Made).map_err(|e| e.to_string())?;
    Ok(outs
        .into_iter()
        .next()
        .map(|(_, v, _)| v)
        .unwrap_or(Value::Null))
}

#[test]
fn table() {
    let cases: &[(&str, Value)] = &[
        ("!Ref Bucket", json!("stack-bucket-1a2b3c")),
        ("!Ref Env", json!("prod")),
        ("!Ref Names", json!(["a", "b", "c"])),
        ("!Ref Size", json!("3")),
        ("!Ref AWS::AccountId", json!("123456789012")),
        ("!Ref AWS::Region", json!("us-east-1")),
        ("!Ref AWS::StackName", json!("demo")),
        (
            "!Ref AWS::StackId",
            json!("arn:aws:cloudformation:us-east-1:123456789012:stack/demo/abc"),
        ),
        ("!Ref AWS::Partition", json!("aws")),
        ("!Ref AWS::URLSuffix", json!("amazonaws.com")),
        (
            "!GetAtt Bucket.Arn",
            json!("arn:aws:s3:::stack-bucket-1a2b3c"),
        ),
        (
            "{\"Fn::GetAtt\": [Bucket, Arn]}",
            json!("arn:aws:s3:::stack-bucket-1a2b3c"),
        ),
        (
            "!Join ['', ['arn:aws:s3:::', !Ref Bucket, /AWSLogs/, !Ref AWS::AccountId, /*]]",
            json!("arn:aws:s3:::stack-bucket-1a2b3c/AWSLogs/123456789012/*"),
        ),
        ("!Join [',', !Ref Names]", json!("a,b,c")),
        (
            "!Sub 'arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}'",
            json!("arn:aws:s3:::stack-bucket-1a2b3c/${Literal}"),
        ),
        (
            "!Sub '${Bucket.Arn}/*'",
            json!("arn:aws:s3:::stack-bucket-1a2b3c/*"),
        ),
        (
            "!Sub ['${A}-${Env}', {A: !Ref AWS::Region}]",
            json!("us-east-1-prod"),
        ),
        ("!Select [1, !Ref Names]", json!("b")),
        ("!Select ['0', [x, y]]", json!("x")),
        ("!Split [',', 'a,b,,c']", json!(["a", "b", "", "c"])),
        ("!Select [2, !Split ['/', !Ref AWS::StackId]]", json!("abc")),
        ("!If [IsProd, big, small]", json!("big")),
        ("!If [IsDev, big, small]", json!("small")),
        ("!If [Both, yes, no]", json!("yes")),
        ("!If [Either, yes, no]", json!("no")),
        (
            "!If [InUsEast, !Ref AWS::Region, other]",
            json!("us-east-1"),
        ),
        (
            "[a, !If [IsDev, b, !Ref AWS::NoValue], c]",
            json!(["a", "c"]),
        ),
        (
            "{A: 1, B: !If [IsProd, !Ref AWS::NoValue, 2]}",
            json!({"A": 1}),
        ),
        (
            "!FindInMap [RegionMap, !Ref AWS::Region, Short]",
            json!("use1"),
        ),
        (
            "!FindInMap [RegionMap, us-east-1, Zones]",
            json!(["x", "y"]),
        ),
        (
            "!GetAZs ''",
            json!(["us-east-1a", "us-east-1b", "us-east-1c"]),
        ),
        (
            "!Select [0, !GetAZs {Ref: 'AWS::Region'}]",
            json!("us-east-1a"),
        ),
        (
            "!ImportValue shared-topic",
            json!("arn:aws:sns:us-east-1:123456789012:shared"),
        ),
        ("!Base64 hello", json!("aGVsbG8=")),
        ("!Base64 {'Fn::Sub': '${Env}'}", json!("cHJvZA==")),
        (
            "!Cidr ['10.0.0.0/16', 2, 8]",
            json!(["10.0.0.0/24", "10.0.1.0/24"]),
        ),
        (
            "!Select [1, !Cidr ['192.168.0.0/24', 4, 6]]",
            json!("192.168.0.64/26"),
        ),
        (
            "{\"Fn::Join\": [\"-\", [{\"Ref\": \"Env\"}, {\"Fn::Select\": [0, {\"Ref\": \"Names\"}]}]]}",
            json!("prod-a"),
        ),
    ];
    let mut failures = Vec::new();
    for (expr, want) in cases {
        match resolve(expr) {
            Ok(got) if &got == want => {}
            other => failures.push(format!("{expr}: want {want}, got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn two_short_forms_on_one_node_are_not_yaml() {
    // As the CloudFormation user guide warns: `!Base64 !Sub …` must nest a long form.
    assert!(
        resolve("!Base64 !Sub '${Env}'")
            .unwrap_err()
            .starts_with("Template format error: YAML not well-formed.")
    );
}

#[test]
fn evaluation_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "!Select [5, [a]]",
            "Template error: Fn::Select cannot select nonexistent value at index 5",
        ),
        (
            "!FindInMap [RegionMap, eu-west-1, Short]",
            "Template error: Unable to get mapping for RegionMap::eu-west-1::Short",
        ),
        ("!ImportValue nope", "No export named nope found."),
        (
            "!Join [',']",
            "Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.",
        ),
        (
            "!GetAtt Bucket.Nope",
            "Template error: resource Bucket does not support attribute type Nope in Fn::GetAtt",
        ),
        (
            "!Sub ['${a b}', {}]",
            "Template error: variable names in Fn::Sub syntax must contain only alphanumeric characters, underscores, periods, and colons",
        ),
    ];
    for (expr, want) in cases {
        assert_eq!(resolve(expr).unwrap_err(), *want, "{expr}");
    }
}

#[test]
fn parameters_take_given_values() {
    let body = format!("{PRELUDE}Outputs:\n  Out:\n    Value: !If [IsDev, dev-only, prod-only]\n");
    let t = Template::parse(&body).unwrap();
    let given = [Given {
        key: "Env".into(),
        value: Some("dev".into()),
        use_previous: false,
    }];
    let values = params::resolve(&t.parameters, &given, None, "us-east-1").unwrap();
    let pseudo = Pseudo {
        account_id: "1".into(),
        region: "eu-west-1".into(),
        stack_name: "s".into(),
        stack_id: "id".into(),
        notification_arns: vec![],
    };
    let ev = Evaluator::new(&t, pseudo, &values).unwrap();
    assert!(ev.condition("IsDev"));
    assert!(!ev.condition("InUsEast"));
    assert_eq!(ev.outputs(&Made).unwrap()[0].1, json!("dev-only"));
}

/// A template whose one output is `value`, with a 4,000-character parameter `Long`.
fn output_of(value: &str) -> Result<Value, String> {
    let long = "x".repeat(4000);
    first_output(&format!(
        "Parameters:\n  Long: {{Type: String, Default: {long}}}\nResources:\n  Bucket: {{Type: AWS::S3::Bucket}}\nOutputs:\n  Out:\n    Value: {value}\n"
    ))
}

#[test]
fn string_functions_are_bounded_one_by_one_and_in_all() {
    // Nested Fn::Base64 grows a third a level: refused before it encodes (recheck32).
    let mut nested = "{Ref: Long}".to_owned();
    for _ in 0..12 {
        nested = format!("{{\"Fn::Base64\": {nested}}}");
    }
    let err = output_of(&nested).unwrap_err();
    assert!(
        err.contains("Fn::Base64 makes a string longer than 65536"),
        "{err}"
    );
    let fine = output_of("{\"Fn::Base64\": {\"Fn::Base64\": {Ref: Long}}}").unwrap();
    assert_eq!(fine.as_str().unwrap().len(), 7116);
    // Strings each within the bound, adding up beyond 1 MiB.
    let join = format!(
        "{{\"Fn::Join\": [\"\", [{}]]}}",
        ["{Ref: Long}"; 15].join(", ")
    );
    let many = format!("[{}]", [join.as_str(); 20].join(", "));
    let err = output_of(&many).unwrap_err();
    assert!(
        err.contains("make more than 1048576 characters in all"),
        "{err}"
    );
    // What the references copy counts too: each Join here makes 60,000 and copies 60,000.
    let some = format!("[{}]", [join.as_str(); 8].join(", "));
    assert_eq!(output_of(&some).unwrap().as_array().unwrap().len(), 8);
    // A list of references is bounded as it is built (recheck32b: 130,000 `Ref`s to a 4 KiB
    // parameter were all copied before any check).
    let refs = format!(
        "{{\"Fn::Select\": [0, [{}]]}}",
        ["{Ref: Long}"; 300].join(", ")
    );
    let err = output_of(&refs).unwrap_err();
    assert!(err.contains("characters in all (Ref)"), "{err}");
}

/// The resources' order (what CreateStack and CreateChangeSet compute before anything is
/// made) of a template `body` with parameters at their defaults.
fn order_of(body: &str) -> Result<Vec<String>, String> {
    let t = Template::parse(body).map_err(|e| e.to_string())?;
    let values =
        params::resolve(&t.parameters, &[], None, "us-east-1").map_err(|e| e.to_string())?;
    let ev = Evaluator::new(&t, demo(), &values).map_err(|e| e.to_string())?;
    ev.order().map_err(|e| e.to_string())
}

#[test]
fn an_output_naming_a_left_out_resource_is_refused_before_anything_is_made() {
    let head = "Conditions:\n  No: !Equals [a, b]\nResources:\n  X: {Type: AWS::SNS::Topic, Condition: No}\n  Y: {Type: AWS::SNS::Topic}\n";
    assert_eq!(
        order_of(&format!("{head}Outputs:\n  O: {{Value: !Ref X}}\n")).unwrap_err(),
        "Template format error: Unresolved resource dependencies [X] in the Outputs block of the template"
    );
    // The same through GetAtt and an export name.
    assert!(
        order_of(&format!(
            "{head}Outputs:\n  O: {{Value: v, Export: {{Name: !GetAtt X.TopicName}}}}\n"
        ))
        .unwrap_err()
        .contains("[X] in the Outputs block")
    );
    // An output under the same condition, or an Fn::If choosing the other branch, is fine.
    assert_eq!(
        order_of(&format!(
            "{head}Outputs:\n  O: {{Value: !Ref X, Condition: No}}\n"
        ))
        .unwrap(),
        vec!["Y".to_owned()]
    );
    assert!(
        order_of(&format!(
            "{head}Outputs:\n  O: {{Value: !If [No, !Ref X, !Ref Y]}}\n"
        ))
        .is_ok()
    );
}
