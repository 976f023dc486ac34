"""CloudFormation `TemplateURL`: a template kept in a Cairn bucket, named by any URL form S3
documents or by the path-style URL the CLI builds from its endpoint (`aws cloudformation
deploy --s3-bucket`, used for templates over the 51,200-byte `TemplateBody` limit). The
template is read as the caller: without `s3:GetObject` on it the call fails as AWS's does,
and the read is a GetObject data event invoked by CloudFormation."""

import json
import os
import subprocess
import tempfile

import pytest
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, SECRET, err

BUCKET = "templates-bucket"
SMALL = json.dumps({
    "Parameters": {"Secret": {"Type": "String", "NoEcho": True, "Default": "x"}},
    "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "from-url"}}},
    "Outputs": {"Arn": {"Value": {"Ref": "Topic"}}}})


def big_template(n_bytes):
    """A valid template over `n_bytes`: one topic, with a long description of padding."""
    pad = "x" * n_bytes
    return json.dumps({"Description": pad[:1024], "Metadata": {"Pad": pad},
                       "Resources": {"Topic": {"Type": "AWS::SNS::Topic",
                                               "Properties": {"TopicName": "big-one"}}}})


@pytest.fixture(scope="module")
def setup(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="dir/small template.json", Body=SMALL.encode())
    # Data events are recorded when a trail selects them.
    s3.create_bucket(Bucket="trail-bucket")
    from conftest import cloudtrail_policy
    s3.put_bucket_policy(Bucket="trail-bucket", Policy=cloudtrail_policy("trail-bucket"))
    ct = cairn.client("cloudtrail")
    ct.create_trail(Name="data", S3BucketName="trail-bucket")
    ct.put_event_selectors(TrailName="data", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{BUCKET}/"]}]}])
    ct.start_logging(Name="data")
    return cairn


def test_every_url_form_creates_the_stack_and_the_read_is_recorded(setup):
    cairn = setup
    cfn = cairn.client("cloudformation")
    key = "dir/small%20template.json"
    urls = [f"{cairn.endpoint}/{BUCKET}/{key}",
            f"https://{BUCKET}.s3.us-east-1.amazonaws.com/{key}",
            f"https://s3.amazonaws.com/{BUCKET}/{key}"]
    for i, url in enumerate(urls):
        name = f"url-stack-{i}"
        cfn.create_stack(StackName=name, TemplateURL=url)
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
        assert cfn.get_template(StackName=name)["TemplateBody"] == json.loads(SMALL)
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    summary = cfn.get_template_summary(TemplateURL=urls[1])
    assert summary["ResourceTypes"] == ["AWS::SNS::Topic"]
    assert [p["ParameterKey"] for p in cfn.validate_template(TemplateURL=urls[0])["Parameters"]] \
        == ["Secret"]

    reads = [r for r in cairn.records("Data") if r["eventName"] == "GetObject"
             and r["requestParameters"]["key"] == "dir/small template.json"]
    assert len(reads) == 5, reads
    for r in reads:
        assert r["userIdentity"]["invokedBy"] == "cloudformation.amazonaws.com"
        assert r["sourceIPAddress"] == "cloudformation.amazonaws.com"
        assert r["userIdentity"]["arn"] == "arn:aws:iam::123456789012:root"
    made = [r for r in cairn.records("Management") if r["eventName"] == "CreateStack"
            and r["requestParameters"]["stackName"] == "url-stack-0"]
    assert made[0]["requestParameters"]["templateURL"] == urls[0]
    assert "errorCode" not in made[0]


def test_a_template_over_the_body_limit_deploys_through_the_bucket(setup):
    cairn = setup
    body = big_template(60_000)
    assert len(body) > 51_200
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "big.json")
        with open(path, "w") as f:
            f.write(body)
        # The CLI uploads the template with an S3 client of its own, which takes its
        # endpoint from the environment (as `cairn env` sets it), not from --endpoint-url.
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET,
                   AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_ENDPOINT_URL=cairn.endpoint)
        out = subprocess.run(["aws", "cloudformation", "deploy", "--template-file", path,
                              "--stack-name", "big-stack", "--s3-bucket", BUCKET,
                              "--s3-prefix", "cfn"], env=env, capture_output=True, text=True)
    assert "Successfully created/updated stack - big-stack" in out.stdout, out.stderr
    cfn = cairn.client("cloudformation")
    assert cfn.describe_stacks(StackName="big-stack")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    # boto3 parses a JSON TemplateBody.
    assert cfn.get_template(StackName="big-stack")["TemplateBody"] == json.loads(body)
    # The same template inline is over TemplateBody's limit.
    with pytest.raises(ClientError) as e:
        cfn.validate_template(TemplateBody=body)
    assert err(e) == ("ValidationError", 400)


def test_bad_urls_missing_objects_and_large_templates_are_refused_and_recorded(setup):
    cairn = setup
    cfn = cairn.client("cloudformation")
    s3 = cairn.client("s3")
    cases = [
        (f"{cairn.endpoint}/{BUCKET}/nope.json",
         "TemplateURL must reference a valid S3 object to which you have access."),
        (f"{cairn.endpoint}/no-such-bucket-here/t.json",
         "TemplateURL must reference a valid S3 object to which you have access."),
        (f"http://{BUCKET}.s3.amazonaws.com/dir/small%20template.json",
         "TemplateURL must be a supported URL."),
        ("https://example.com.s3-website-us-east-1.amazonaws.com/t.json",
         "TemplateURL must be a supported URL."),
        ("s3://templates-bucket/t.json", "TemplateURL must be a supported URL."),
    ]
    for url, message in cases:
        with pytest.raises(ClientError) as e:
            cfn.create_stack(StackName="never", TemplateURL=url)
        assert err(e) == ("ValidationError", 400), url
        assert e.value.response["Error"]["Message"] == message, url
    s3.put_object(Bucket=BUCKET, Key="huge.json", Body=big_template(1024 * 1024).encode())
    with pytest.raises(ClientError) as e:
        cfn.validate_template(TemplateURL=f"{cairn.endpoint}/{BUCKET}/huge.json")
    assert e.value.response["Error"]["Message"] == "Template may not exceed 1048576 bytes in size."
    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName="never", TemplateBody=SMALL,
                         TemplateURL=f"{cairn.endpoint}/{BUCKET}/dir/small%20template.json")
    assert e.value.response["Error"]["Message"] == \
        "You cannot specify both TemplateURL and TemplateBody"
    refused = [r for r in cairn.records("Management")
               if r["eventName"] == "CreateStack" and r["requestParameters"]["stackName"] == "never"]
    assert len(refused) == len(cases) + 1
    assert all(r["errorCode"] == "ValidationError" for r in refused)
    with pytest.raises(ClientError):
        cfn.describe_stacks(StackName="never")


def test_the_template_is_read_with_the_callers_own_permissions(setup):
    cairn = setup
    iam = cairn.client("iam")
    iam.create_user(UserName="deployer")
    iam.put_user_policy(UserName="deployer", PolicyName="cfn-only", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["cloudformation:*", "sns:*"], "Resource": "*"}]}))
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    cfn = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "cloudformation")
    url = f"{cairn.endpoint}/{BUCKET}/dir/small%20template.json"
    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName="denied-read", TemplateURL=url)
    assert err(e) == ("ValidationError", 400)
    assert e.value.response["Error"]["Message"].startswith("S3 error: Access Denied")
    denied = [r for r in cairn.records("Data") if r["eventName"] == "GetObject"
              and r["userIdentity"].get("userName") == "deployer"]
    assert [r.get("errorCode") for r in denied] == ["AccessDenied"]
    assert denied[0]["userIdentity"]["invokedBy"] == "cloudformation.amazonaws.com"

    # Allowed to read the object, the same user's stack is made from it.
    iam.put_user_policy(UserName="deployer", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{BUCKET}/dir/*"}]}))
    cfn.create_stack(StackName="allowed-read", TemplateURL=url.replace(
        "small%20template", "small template").replace(" ", "%20"))
    cfn.get_waiter("stack_create_complete").wait(StackName="allowed-read",
                                                 WaiterConfig={"Delay": 1})


def test_a_call_cloudformation_denies_reads_no_template(setup):
    cairn = setup
    iam = cairn.client("iam")
    iam.create_user(UserName="reader-only")
    iam.put_user_policy(UserName="reader-only", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="reader-only")["AccessKey"]
    cfn = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "cloudformation")
    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName="not-allowed",
                         TemplateURL=f"{cairn.endpoint}/{BUCKET}/dir/small%20template.json")
    assert err(e) == ("AccessDenied", 403)
    reads = [r for r in cairn.records("Data") if r["eventName"] == "GetObject"
             and r["userIdentity"].get("userName") == "reader-only"]
    assert reads == []


def test_the_read_is_the_buckets_regions_event(setup):
    cairn = setup
    s3 = cairn.client("s3", region="eu-west-1")
    s3.create_bucket(Bucket="eu-templates",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="eu-templates", Key="t.json", Body=SMALL.encode())
    ct = cairn.client("cloudtrail")
    ct.create_trail(Name="everywhere", S3BucketName="trail-bucket", IsMultiRegionTrail=True)
    ct.put_event_selectors(TrailName="everywhere", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::eu-templates/"]}]}])
    ct.start_logging(Name="everywhere")
    cfn = cairn.client("cloudformation")
    cfn.validate_template(TemplateURL="https://eu-templates.s3.eu-west-1.amazonaws.com/t.json")
    reads = [r for r in cairn.records("Data") if r["eventName"] == "GetObject"
             and r["requestParameters"]["bucketName"] == "eu-templates"]
    assert [r["awsRegion"] for r in reads] == ["eu-west-1"]


def test_both_sources_and_unreadable_templates(setup):
    cairn = setup
    cfn = cairn.client("cloudformation")
    url = f"{cairn.endpoint}/{BUCKET}/dir/small%20template.json"
    # ValidateTemplate uses TemplateBody when both are given; GetTemplateSummary takes one.
    other = json.dumps({"Resources": {"Q": {"Type": "AWS::SNS::Topic"}}})
    assert cfn.validate_template(TemplateBody=other, TemplateURL=url)["Parameters"] == []
    with pytest.raises(ClientError) as e:
        cfn.get_template_summary(TemplateBody=other, TemplateURL=url)
    assert err(e) == ("ValidationError", 400)
    # A template that cannot be read says nothing of which parameters are NoEcho: every
    # value is masked in the record.
    with pytest.raises(ClientError):
        cfn.create_stack(StackName="masked", TemplateURL=f"{cairn.endpoint}/{BUCKET}/missing.json",
                         Parameters=[{"ParameterKey": "Secret", "ParameterValue": "hunter2"}])
    made = [r for r in cairn.records("Management") if r["eventName"] == "CreateStack"
            and r["requestParameters"]["stackName"] == "masked"]
    assert made[0]["requestParameters"]["parameters"][0]["parameterValue"] == "****"
    assert "hunter2" not in json.dumps(made)
