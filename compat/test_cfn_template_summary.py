"""GetTemplateSummary names, for each resource type a template declares, the properties a
resource import identifies it by (its schema's `primaryIdentifier`), as CloudFormation does;
a type CloudFormation cannot import (an access key, CDK metadata) is listed without them.
Before, every type answered an empty `ResourceIdentifiers`."""

TEMPLATE = """
Resources:
  Group: {Type: AWS::Logs::LogGroup, Properties: {LogGroupName: summary-group}}
  Filter:
    Type: AWS::Logs::MetricFilter
    Properties:
      LogGroupName: !Ref Group
      FilterPattern: "{ $.errorCode = * }"
      MetricTransformations: [{MetricName: M, MetricNamespace: N, MetricValue: "1"}]
  Bucket: {Type: AWS::S3::Bucket}
  Other: {Type: AWS::S3::Bucket}
  User: {Type: AWS::IAM::User}
  Key: {Type: AWS::IAM::AccessKey, Properties: {UserName: !Ref User}}
"""


def test_summary_lists_import_identifiers_per_type(cairn):
    cfn = cairn.client("cloudformation")
    summary = cfn.get_template_summary(TemplateBody=TEMPLATE)
    by_type = {s["ResourceType"]: s for s in summary["ResourceIdentifierSummaries"]}
    assert set(by_type) == {"AWS::Logs::LogGroup", "AWS::Logs::MetricFilter", "AWS::S3::Bucket",
                            "AWS::IAM::User", "AWS::IAM::AccessKey"}
    assert by_type["AWS::Logs::LogGroup"]["ResourceIdentifiers"] == ["LogGroupName"]
    assert by_type["AWS::Logs::MetricFilter"]["ResourceIdentifiers"] == \
        ["LogGroupName", "FilterName"]
    assert by_type["AWS::S3::Bucket"]["ResourceIdentifiers"] == ["BucketName"]
    assert sorted(by_type["AWS::S3::Bucket"]["LogicalResourceIds"]) == ["Bucket", "Other"]
    assert by_type["AWS::IAM::User"]["ResourceIdentifiers"] == ["UserName"]
    assert "ResourceIdentifiers" not in by_type["AWS::IAM::AccessKey"]
    assert by_type["AWS::IAM::AccessKey"]["LogicalResourceIds"] == ["Key"]
