//! Malformed templates get CloudFormation's ValidationError messages.

use cairn_template::{Catalog, Template, validate};

struct Types;

impl Catalog for Types {
    fn knows(&self, t: &str) -> bool {
        matches!(
            t,
            "AWS::S3::Bucket" | "AWS::S3::BucketPolicy" | "AWS::SNS::Topic"
        )
    }
    fn has_attribute(&self, t: &str, a: &str) -> bool {
        matches!(
            (t, a),
            ("AWS::S3::Bucket", "Arn") | ("AWS::SNS::Topic", "TopicName")
        )
    }
}

fn check(body: &str) -> Result<(), String> {
    let t = Template::parse(body).map_err(|e| e.to_string())?;
    validate(&t, &Types).map_err(|e| e.to_string())
}

#[test]
fn messages() {
    let cases: &[(&str, &str)] = &[
        (
            "{\"Resources\": ",
            "Template format error: JSON not well-formed. (line 1, column 14)",
        ),
        (
            "Resources:\n  A: [1,\n",
            "Template format error: YAML not well-formed. (line 3, column 1)",
        ),
        (
            "Parameters: {}\n",
            "Template format error: At least one Resources member must be defined.",
        ),
        (
            &format!(
                "Description: {}\nResources:\n  A: {{Type: AWS::SNS::Topic}}\n",
                "d".repeat(1025)
            ),
            "Template format error: 'Description' length is greater than 1024.",
        ),
        (
            "Resources: {}\n",
            "Template format error: At least one Resources member must be defined.",
        ),
        (
            &format!(
                "Resources:\n  {}: {{Type: AWS::SNS::Topic}}\n",
                "L".repeat(256)
            ),
            &format!(
                "Template format error: Resource name {} is longer than the maximum of 255 characters",
                "L".repeat(256)
            ),
        ),
        (
            &format!(
                "Parameters:\n  {}: {{Type: String}}\nResources:\n  A: {{Type: AWS::SNS::Topic}}\n",
                "P".repeat(256)
            ),
            &format!(
                "Template format error: Parameter name {} is longer than the maximum of 255 characters",
                "P".repeat(256)
            ),
        ),
        (
            &format!(
                "Mappings:\n  M:\n    k: {{{}}}\nResources:\n  A: {{Type: AWS::SNS::Topic}}\n",
                (0..201)
                    .map(|i| format!("a{i}: b"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "Template format error: Mapping attribute count 201 of M.k is greater than max value allowed 200",
        ),
        (
            "Resource:\n  A: {Type: AWS::SNS::Topic}\n",
            "Template format error: Invalid template property or properties [Resource]",
        ),
        (
            "Resources:\n  A: {Properties: {}}\n",
            "Template format error: [/Resources/A] Every Resources object must contain a Type member.",
        ),
        (
            "Resources:\n  my-topic: {Type: AWS::SNS::Topic}\n",
            "Template format error: Resource name my-topic is non alphanumeric.",
        ),
        (
            "Resources:\n  A: {Type: AWS::SNS::Topic, Propertes: {}}\n",
            "Template format error: Invalid template resource property 'Propertes'",
        ),
        (
            "Resources:\n  A: {Type: AWS::EC2::Instance}\n  B: {Type: AWS::Foo::Bar}\n",
            "Template format error: Unrecognized resource types: [AWS::EC2::Instance, AWS::Foo::Bar]",
        ),
        (
            "Resources:\n  A: {Type: AWS::S3::Bucket, Properties: {BucketName: !Ref Nope}}\n",
            "Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template",
        ),
        (
            "Resources:\n  A: {Type: AWS::SNS::Topic, DependsOn: Zed}\n",
            "Template format error: Unresolved resource dependencies [Zed] in the Resources block of the template",
        ),
        (
            "Resources:\n  A: {Type: AWS::SNS::Topic}\nOutputs:\n  O: {Value: !Ref B}\n",
            "Template format error: Unresolved resource dependencies [B] in the Outputs block of the template",
        ),
        (
            "Resources:\n  A: {Type: AWS::SNS::Topic, Properties: {TopicName: !GetAtt B.Arn}}\n",
            "Template error: instance of Fn::GetAtt references undefined resource B",
        ),
        (
            "Resources:\n  A: {Type: AWS::S3::Bucket}\n  B: {Type: AWS::SNS::Topic, Properties: {TopicName: !GetAtt A.Nope}}\n",
            "Template error: resource A does not support attribute type Nope in Fn::GetAtt",
        ),
        (
            "Resources:\n  A: {Type: AWS::SNS::Topic, Properties: {TopicName: !If [Nope, a, b]}}\n",
            "Template error: unresolved condition dependency Nope in Fn::If",
        ),
        (
            "Resources:\n  A: {Type: AWS::SNS::Topic, Properties: {TopicName: !Sub '${aws:username}'}}\n",
            "Template format error: Unresolved resource dependencies [aws:username] in the Resources block of the template",
        ),
        (
            "Resources:\n  A: {Type: AWS::SNS::Topic, Properties: {TopicName: !Ref B}}\n  B: {Type: AWS::SNS::Topic, Properties: {TopicName: !GetAtt A.TopicName}}\n",
            "Template format error: Circular dependency between resources: [A, B]",
        ),
        (
            "Resources:\n  A: {Type: AWS::SNS::Topic, Properties: {TopicName: {\"Fn::Foo\": x}}}\n",
            "Template format error: Encountered unsupported function: Fn::Foo Supported functions are: [Fn::Base64, Fn::GetAtt, Fn::GetAZs, Fn::ImportValue, Fn::Join, Fn::Split, Fn::FindInMap, Fn::Select, Ref, Fn::Equals, Fn::If, Fn::Not, Condition, Fn::And, Fn::Or, Fn::Contains, Fn::EachMemberEquals, Fn::EachMemberIn, Fn::ValueOf, Fn::ValueOfAll, Fn::RefAll, Fn::Sub, Fn::Cidr]",
        ),
        (
            "Parameters:\n  P: {Default: x}\nResources:\n  A: {Type: AWS::SNS::Topic}\n",
            "Template format error: Every Parameters object must contain a Type member.",
        ),
        (
            "Parameters:\n  P: {Type: Strng}\nResources:\n  A: {Type: AWS::SNS::Topic}\n",
            "Template format error: Unrecognized parameter type: Strng",
        ),
        (
            "Parameters:\n  P: {Type: String, Default: [a]}\nResources:\n  A: {Type: AWS::SNS::Topic}\n",
            "Template format error: Every Default member must be a string.",
        ),
        (
            "Conditions:\n  C: !Equals [!Ref A, x]\nResources:\n  A: {Type: AWS::SNS::Topic}\n",
            "Template format error: Unresolved dependencies [A]. Cannot reference resources in the Conditions block of the template",
        ),
        (
            "Resources:\n  A: {Type: AWS::SNS::Topic}\nOutputs:\n  O: {Description: x}\n",
            "Template format error: Every Outputs member must contain a Value object",
        ),
        (
            "Resources:\n  A: {Type: AWS::SNS::Topic}\nOutputs:\n  O: {Value: x, Export: {Nom: y}}\n",
            "Template format error: Output O is malformed. The Name field of every Export member must be specified and consist only of alphanumeric characters, colons, or hyphens.",
        ),
        (
            "AWSTemplateFormatVersion: '2011-01-01'\nResources:\n  A: {Type: AWS::SNS::Topic}\n",
            "Template format error: 2011-01-01 is not a supported value for AWSTemplateFormatVersion.",
        ),
        (
            "Resources:\n  A: {Type: AWS::SNS::Topic, Properties: {TopicName: !FindInMap [M, a, b]}}\n",
            "Template error: Mapping named 'M' is not present in the 'Mappings' section of template.",
        ),
    ];
    let mut failures = Vec::new();
    for (body, want) in cases {
        match check(body) {
            Err(got) if got == *want => {}
            other => failures.push(format!("{body:?}\n  want {want}\n  got  {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_guides_template_is_valid() {
    let body = include_str!("../../../compat/cfn/05-01-CloudTrail.yml");
    let t = Template::parse(body).unwrap();
    struct All;
    impl Catalog for All {
        fn knows(&self, _: &str) -> bool {
            true
        }
        fn has_attribute(&self, _: &str, _: &str) -> bool {
            true
        }
    }
    validate(&t, &All).unwrap();
    let ids: Vec<&str> = t.resources.iter().map(|r| r.logical_id.as_str()).collect();
    assert_eq!(ids.len(), 3);
}

/// Malformed function arguments are refused when the template is submitted (as
/// ValidateTemplate and CreateStack refuse them), not when a stack first evaluates them.
#[test]
fn malformed_function_arguments_are_refused_at_validation() {
    let topic = |name: &str| {
        format!(
            "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties: {{TopicName: {name}}}\n"
        )
    };
    let refused = [
        (
            "{'Fn::Join': [',', 'abc']}",
            "every Fn::Join object requires two parameters",
        ),
        (
            "{'Fn::Join': [',']}",
            "every Fn::Join object requires two parameters",
        ),
        (
            "{'Fn::FindInMap': ['M']}",
            "every Fn::FindInMap object requires three parameters",
        ),
        (
            "{'Fn::Select': ['x', ['a']]}",
            "Fn::Select requires a list argument with two elements",
        ),
        (
            "{'Fn::Select': [0]}",
            "Fn::Select requires a list argument with two elements",
        ),
        (
            "{'Fn::Split': ['', 'a,b']}",
            "every Fn::Split object requires two parameters",
        ),
        (
            "{'Fn::Base64': {a: 1, b: 2}}",
            "every Fn::Base64 object requires a string",
        ),
        ("{'Fn::Cidr': ['10.0.0.0/16', 2]}", "Fn::Cidr requires"),
    ];
    for (expr, message) in refused {
        let e = check(&topic(expr)).unwrap_err();
        assert!(e.starts_with("Template error: "), "{expr}: {e}");
        assert!(e.contains(message), "{expr}: {e}");
    }
    // What is known only at evaluation is left to it; literal shapes that fit pass.
    for ok in [
        "{'Fn::Join': ['-', [a, b]]}",
        "{'Fn::Join': ['-', {'Fn::Split': [',', 'a,b']}]}",
        "{'Fn::Select': [1, [a, b]]}",
        "{'Fn::Select': ['1', {'Fn::GetAZs': ''}]}",
        "{'Fn::Base64': {'Fn::Sub': 'x'}}",
        "{'Fn::Select': [{'Ref': 'AWS::AccountId'}, [a]]}",
    ] {
        check(&topic(ok)).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
}

/// cfn9: ValidateTemplate accepted conditions naming each other in a circle, which CreateStack
/// then refused.
#[test]
fn circular_conditions_are_refused_at_validation() {
    let body = "Conditions:\n  A: !Condition B\n  B: !Not [!Condition A]\nResources:\n  T: {Type: AWS::SNS::Topic}\n";
    let e = check(body).unwrap_err();
    assert!(
        e.starts_with("Template format error: Circular dependency between conditions: ["),
        "{e}"
    );
    let fine = "Conditions:\n  A: !Equals [a, a]\n  B: !Not [!Condition A]\nResources:\n  T: {Type: AWS::SNS::Topic}\n";
    check(fine).unwrap();
}
