"""S3 operations Cairn does not carry out still pass the gate (issue: a user with no
permissions who tried `put-bucket-acl --acl public-read` got NotImplemented and left no
trace). Each is authorized for its own IAM action under the bucket's policy and recorded:
denied with AccessDenied, or answered NotImplemented; both are in event history under
S3's event name, so CIS's bucket-change and unauthorized-call filters count them."""

import datetime
import json

import botocore.exceptions
import pytest

ACCOUNT = "123456789012"
BUCKET = "unserved-ops"


def code(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def records(cairn, name):
    events = cairn.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
    return [json.loads(e["CloudTrailEvent"]) for e in events]


@pytest.fixture(scope="module")
def bob(cairn):
    cairn.client("s3").create_bucket(Bucket=BUCKET)
    iam = cairn.client("iam")
    iam.create_user(UserName="bob-unserved")
    key = iam.create_access_key(UserName="bob-unserved")["AccessKey"]
    return lambda service: cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], service)


def test_a_caller_without_permission_is_denied_and_recorded(cairn, bob):
    s3 = bob("s3")
    assert code(lambda: s3.put_bucket_acl(Bucket=BUCKET, ACL="public-read")) == ("AccessDenied", 403)
    assert code(lambda: s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]})) == ("AccessDenied", 403)
    acl = [r for r in records(cairn, "PutBucketAcl") if r["userIdentity"].get("userName") == "bob-unserved"]
    assert len(acl) == 1
    assert acl[0]["errorCode"] == "AccessDenied" and acl[0]["eventSource"] == "s3.amazonaws.com"
    assert "s3:PutBucketAcl" in acl[0]["errorMessage"]
    assert acl[0]["requestParameters"]["bucketName"] == BUCKET and "acl" in acl[0]["requestParameters"]
    assert acl[0]["managementEvent"] is True and acl[0]["readOnly"] is False
    cors = [r for r in records(cairn, "PutBucketCors") if r["userIdentity"].get("userName") == "bob-unserved"]
    assert cors and "s3:PutBucketCORS" in cors[0]["errorMessage"]


def test_an_allowed_caller_gets_not_implemented_recorded(cairn, bob):
    s3 = cairn.client("s3")
    # Setting an ACL is refused as S3 refuses it with ACLs disabled ("bucket owner enforced").
    acls_off = ("AccessControlListNotSupported", 400)
    assert code(lambda: s3.put_bucket_acl(Bucket=BUCKET, ACL="private")) == acls_off
    s3.put_object(Bucket=BUCKET, Key="acl-obj", Body=b"x")
    assert code(lambda: s3.put_object_acl(Bucket=BUCKET, Key="acl-obj", ACL="public-read")) == acls_off
    assert s3.get_object_acl(Bucket=BUCKET, Key="acl-obj")["Grants"][0]["Permission"] == "FULL_CONTROL"
    # Retention and legal holds are refused as in a bucket without Object Lock.
    no_lock = ("InvalidRequest", 400)
    assert code(lambda: s3.get_object_retention(Bucket=BUCKET, Key="acl-obj")) == no_lock
    assert code(lambda: s3.get_object_legal_hold(Bucket=BUCKET, Key="acl-obj")) == no_lock
    assert code(lambda: s3.put_object_legal_hold(Bucket=BUCKET, Key="acl-obj",
                                                 LegalHold={"Status": "ON"})) == no_lock
    assert code(lambda: s3.delete_bucket_replication(Bucket=BUCKET)) == ("NotImplemented", 501)
    assert code(lambda: s3.get_bucket_cors(Bucket=BUCKET)) == ("NoSuchCORSConfiguration", 404)
    root = [r for r in records(cairn, "PutBucketAcl") if r["userIdentity"]["type"] == "Root"]
    assert root and root[0]["errorCode"] == "AccessControlListNotSupported"
    assert root[0]["requestParameters"]["x-amz-acl"] == ["private"]
    assert records(cairn, "DeleteBucketReplication")[0]["errorCode"] == "NotImplemented"
    got = records(cairn, "GetBucketCors")[0]
    assert got["readOnly"] is True and got["errorCode"] == "NoSuchCORSConfiguration"
    # A missing bucket is named as such first.
    assert code(lambda: s3.put_bucket_acl(Bucket="no-such-unserved", ACL="private")) == ("NoSuchBucket", 404)


def test_a_bucket_policy_grant_reaches_unserved_operations(cairn, bob):
    cairn.client("s3").put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob-unserved"},
            "Action": "s3:PutBucketCORS", "Resource": f"arn:aws:s3:::{BUCKET}"}]}))
    s3 = bob("s3")
    assert code(lambda: s3.delete_bucket_cors(Bucket=BUCKET)) == ("NotImplemented", 501)
    assert code(lambda: s3.put_bucket_acl(Bucket=BUCKET, ACL="private")) == ("AccessDenied", 403)
    cairn.client("s3").delete_bucket_policy(Bucket=BUCKET)


def test_served_operations_are_unchanged(cairn, bob):
    s3 = cairn.client("s3")
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"
    assert s3.get_bucket_acl(Bucket=BUCKET)["Owner"]
    assert code(lambda: bob("s3").get_object(Bucket=BUCKET, Key="k")) == ("AccessDenied", 403)


def test_operations_newer_than_the_router_are_never_run_as_another(cairn, bob):
    """s3s does not know RenameObject, UpdateObjectEncryption, the ABAC or metadata
    configuration calls; it would route them to PutObject, CreateBucket or DeleteBucket.
    S3's model tells them apart: each is recorded under its own name, nothing changes."""
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="kept-bucket")
    s3.put_object(Bucket=BUCKET, Key="dst", Body=b"original")
    s3.put_object(Bucket=BUCKET, Key="src", Body=b"other")
    assert code(lambda: s3.delete_bucket_metadata_configuration(Bucket="kept-bucket")) == \
        ("NotImplemented", 501)
    s3.head_bucket(Bucket="kept-bucket")
    assert code(lambda: s3.rename_object(Bucket=BUCKET, Key="dst", RenameSource="src")) == \
        ("NotImplemented", 501)
    assert code(lambda: s3.update_object_encryption(
        Bucket=BUCKET, Key="dst", ObjectEncryption={"SSEKMS": {
            "KMSKeyArn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"}})) \
        == ("NotImplemented", 501)
    assert s3.get_object(Bucket=BUCKET, Key="dst")["Body"].read() == b"original"
    assert code(lambda: s3.put_bucket_abac(Bucket="made-by-abac", AbacStatus={"Status": "Enabled"})) \
        == ("NoSuchBucket", 404)
    assert "made-by-abac" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert code(lambda: s3.get_bucket_abac(Bucket=BUCKET)) == ("NotImplemented", 501)
    deleted = records(cairn, "DeleteBucketMetadataConfiguration")
    assert deleted and deleted[0]["errorCode"] == "NotImplemented"
    assert records(cairn, "DeleteBucket") == []
    assert records(cairn, "GetBucketAbac")[0]["readOnly"] is True
    # A caller without permission is denied under the operation's own action.
    assert code(lambda: bob("s3").delete_bucket_metadata_configuration(Bucket="kept-bucket")) == \
        ("AccessDenied", 403)


def test_a_post_the_router_cannot_route_is_authorized_and_recorded(cairn, bob):
    """`POST /bucket?metadataConfiguration` (CreateBucketMetadataConfiguration) names no
    operation s3s can route; it still passes the gate under its own name and action."""
    config = {"JournalTableConfiguration": {"RecordExpiration": {"Expiration": "DISABLED"}}}
    s3 = cairn.client("s3")
    assert code(lambda: s3.create_bucket_metadata_configuration(
        Bucket=BUCKET, MetadataConfiguration=config)) == ("NotImplemented", 501)
    assert code(lambda: bob("s3").create_bucket_metadata_configuration(
        Bucket=BUCKET, MetadataConfiguration=config)) == ("AccessDenied", 403)
    assert code(lambda: s3.create_bucket_metadata_configuration(
        Bucket="no-such-metadata", MetadataConfiguration=config)) == ("NoSuchBucket", 404)
    got = records(cairn, "CreateBucketMetadataConfiguration")
    assert sorted(r["errorCode"] for r in got) == ["AccessDenied", "NoSuchBucket", "NotImplemented"]
    denied = next(r for r in got if r["errorCode"] == "AccessDenied")
    assert "s3:CreateBucketMetadataConfiguration" in denied["errorMessage"]
    assert denied["requestParameters"]["bucketName"] == BUCKET
    assert "metadataConfiguration" in denied["requestParameters"]


def test_notification_configuration_reads_as_empty_and_writes_stay_unserved(cairn, bob):
    """A pipeline's read of a bucket's event notifications gets S3's empty configuration
    (Cairn keeps none), recorded as GetBucketNotification; setting one is NotImplemented."""
    s3 = cairn.client("s3")
    got = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    assert not any(k in got for k in ("TopicConfigurations", "QueueConfigurations",
                                      "LambdaFunctionConfigurations", "EventBridgeConfiguration"))
    legacy = s3.get_bucket_notification(Bucket=BUCKET)
    assert legacy["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert code(lambda: s3.get_bucket_notification_configuration(Bucket="no-such-unserved")) == (
        "NoSuchBucket", 404)
    assert code(lambda: bob("s3").get_bucket_notification_configuration(Bucket=BUCKET)) == (
        "AccessDenied", 403)
    assert code(lambda: s3.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={})) == ("NotImplemented", 501)
    got = [r for r in records(cairn, "GetBucketNotification") if r["userIdentity"]["type"] == "Root"
           and r["requestParameters"]["bucketName"] == BUCKET]
    assert len(got) == 2, got
    assert all("notification" in r["requestParameters"] and "errorCode" not in r for r in got)
    denied = [r for r in records(cairn, "GetBucketNotification")
              if r["userIdentity"].get("userName") == "bob-unserved"]
    assert denied and "s3:GetBucketNotification" in denied[0]["errorMessage"]


def test_an_object_subresource_on_a_bucket_path_never_creates_the_bucket(cairn):
    """`PUT /bucket?retention` (or `?legal-hold`, `?renameObject`, `?partNumber&uploadId`),
    the key left out, used to run as CreateBucket and create the bucket (model-driven fuzz
    tester); it is the object operation, which finds no bucket."""
    import urllib.error
    import urllib.request
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from conftest import ACCESS_KEY, SECRET
    s3 = cairn.client("s3")
    for i, query in enumerate(["retention", "legal-hold", "renameObject", "partNumber=1&uploadId=abc"]):
        url = f"{cairn.endpoint.rstrip('/')}/never-made-{i}?{query}"
        req = AWSRequest("PUT", url, data=b"")
        S3SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", "us-east-1").add_auth(req)
        prepared = req.prepare()
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(urllib.request.Request(
                prepared.url, data=b"", method="PUT", headers=dict(prepared.headers)), timeout=10)
        assert e.value.code == 404, (query, e.value.read())
    assert not [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("never-made")]
    # `DELETE /bucket?uploadId=x` (AbortMultipartUpload, the key left out) never deletes the
    # bucket.
    s3.create_bucket(Bucket="kept-empty")
    url = f"{cairn.endpoint.rstrip('/')}/kept-empty?uploadId=abc"
    req = AWSRequest("DELETE", url, data=b"")
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", "us-east-1").add_auth(req)
    prepared = req.prepare()
    try:
        urllib.request.urlopen(urllib.request.Request(
            prepared.url, method="DELETE", headers=dict(prepared.headers)), timeout=10)
    except urllib.error.HTTPError:
        pass
    s3.head_bucket(Bucket="kept-empty")


def test_configurations_cairn_does_not_keep_read_as_absent(cairn, bob):
    """Replication, Object Lock, website, server access logging and object ownership read as
    S3 reads a bucket without them (scanners judged buckets wrongly on NotImplemented); each
    read needs its own action and is recorded."""
    s3 = cairn.client("s3")
    assert code(lambda: s3.get_bucket_replication(Bucket=BUCKET)) == \
        ("ReplicationConfigurationNotFoundError", 404)
    assert code(lambda: s3.get_object_lock_configuration(Bucket=BUCKET)) == \
        ("ObjectLockConfigurationNotFoundError", 404)
    assert code(lambda: s3.get_bucket_website(Bucket=BUCKET)) == ("NoSuchWebsiteConfiguration", 404)
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=BUCKET)
    rules = s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert code(lambda: s3.get_bucket_logging(Bucket="no-such-bucket-here")) == ("NoSuchBucket", 404)
    # Bob may do nothing: each read is denied under its own action, and recorded.
    bob = bob("s3")
    assert code(lambda: bob.get_bucket_replication(Bucket=BUCKET)) == ("AccessDenied", 403)
    assert code(lambda: bob.get_bucket_ownership_controls(Bucket=BUCKET)) == ("AccessDenied", 403)
    denied = [r for r in records(cairn, "GetBucketReplication") if r.get("errorCode") == "AccessDenied"]
    assert denied and "s3:GetReplicationConfiguration" in denied[0]["errorMessage"]
    assert [r["errorCode"] for r in records(cairn, "GetBucketWebsite")] == ["NoSuchWebsiteConfiguration"]


def test_object_lock_is_refused_never_silently_dropped(cairn):
    """A bucket with Object Lock was made without it, and a COMPLIANCE retention was then
    deleted at once. Enabling it is refused (NotImplemented, nothing made), and a write asking
    for a lock is S3's answer for a bucket without Object Lock (nothing written)."""
    s3 = cairn.client("s3")
    assert code(lambda: s3.create_bucket(Bucket="locked-bkt", ObjectLockEnabledForBucket=True)) == \
        ("NotImplemented", 501)
    assert code(lambda: s3.head_bucket(Bucket="locked-bkt"))[1] == 404
    s3.create_bucket(Bucket="unlocked-bkt")
    retain = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    assert code(lambda: s3.put_object(Bucket="unlocked-bkt", Key="k", Body=b"x", ObjectLockMode="COMPLIANCE",
                                      ObjectLockRetainUntilDate=retain)) == ("InvalidRequest", 400)
    assert code(lambda: s3.put_object(Bucket="unlocked-bkt", Key="k", Body=b"x",
                                      ObjectLockLegalHoldStatus="ON")) == ("InvalidRequest", 400)
    assert code(lambda: s3.create_multipart_upload(Bucket="unlocked-bkt", Key="m", ObjectLockMode="GOVERNANCE",
                                                   ObjectLockRetainUntilDate=retain)) == ("InvalidRequest", 400)
    s3.put_object(Bucket="unlocked-bkt", Key="src", Body=b"x")
    assert code(lambda: s3.copy_object(Bucket="unlocked-bkt", Key="c", CopySource="unlocked-bkt/src",
                                       ObjectLockLegalHoldStatus="ON")) == ("InvalidRequest", 400)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="unlocked-bkt")["Contents"]]
    assert keys == ["src"]


def test_every_configuration_answer_carries_s3s_namespace(cairn):
    """S3 answers every XML document in its namespace; s3s left it off OwnershipControls,
    ServerSideEncryptionConfiguration and PublicAccessBlockConfiguration, which a
    namespace-aware parser then does not find (botocore, which ignores it, cannot tell)."""
    import urllib.request
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from conftest import ACCESS_KEY, SECRET
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="namespaced")
    s3.put_public_access_block(Bucket="namespaced", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    for query, root in [("ownershipControls", "OwnershipControls"),
                        ("encryption", "ServerSideEncryptionConfiguration"),
                        ("publicAccessBlock", "PublicAccessBlockConfiguration"),
                        ("versioning", "VersioningConfiguration")]:
        req = AWSRequest("GET", f"{cairn.endpoint.rstrip('/')}/namespaced?{query}")
        S3SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", "us-east-1").add_auth(req)
        prepared = req.prepare()
        body = urllib.request.urlopen(urllib.request.Request(
            prepared.url, headers=dict(prepared.headers)), timeout=10).read().decode()
        assert f'<{root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/"' in body, body


def test_settings_cairn_keeps_no_configuration_for_read_as_their_defaults(cairn, bob):
    """Transfer acceleration, requester pays, analytics/metrics/inventory/Intelligent-Tiering
    configurations and the policy status read as S3 reads a bucket without them (they were
    NotImplemented); each read needs its own action and is recorded."""
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="defaults-read")
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket="defaults-read")
    assert s3.get_bucket_request_payment(Bucket="defaults-read")["Payer"] == "BucketOwner"
    for call, member in [(s3.list_bucket_analytics_configurations, "AnalyticsConfigurationList"),
                         (s3.list_bucket_metrics_configurations, "MetricsConfigurationList"),
                         (s3.list_bucket_inventory_configurations, "InventoryConfigurationList"),
                         (s3.list_bucket_intelligent_tiering_configurations,
                          "IntelligentTieringConfigurationList")]:
        out = call(Bucket="defaults-read")
        assert not out.get(member) and out["IsTruncated"] is False
    assert code(lambda: s3.get_bucket_policy_status(Bucket="defaults-read")) == ("NoSuchBucketPolicy", 404)
    s3.put_bucket_policy(Bucket="defaults-read", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Resource": "arn:aws:s3:::defaults-read/*"}]}))
    assert s3.get_bucket_policy_status(Bucket="defaults-read")["PolicyStatus"]["IsPublic"] is False
    denied = bob("s3")
    assert code(lambda: denied.get_bucket_policy_status(Bucket="defaults-read")) == ("AccessDenied", 403)
    [record] = [r for r in records(cairn, "GetBucketPolicyStatus")
                if r["userIdentity"].get("userName") == "bob-unserved"]
    assert "s3:GetBucketPolicyStatus" in record["errorMessage"]


def test_an_objects_acl_reads_as_its_owners_full_control(cairn, bob):
    """With ACLs disabled (bucket owner enforced), S3 still answers ACL reads: the owner's
    FULL_CONTROL. GetObjectAcl was NotImplemented; it is authorized as s3:GetObjectAcl."""
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="acl-read")
    s3.put_object(Bucket="acl-read", Key="k", Body=b"v")
    acl = s3.get_object_acl(Bucket="acl-read", Key="k")
    assert acl["Owner"]["ID"] == ACCOUNT
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in acl["Grants"]] == [(ACCOUNT, "FULL_CONTROL")]
    assert code(lambda: s3.get_object_acl(Bucket="acl-read", Key="missing"))[0] == "NoSuchKey"
    assert code(lambda: bob("s3").get_object_acl(Bucket="acl-read", Key="k")) == ("AccessDenied", 403)


def test_object_annotations_from_newer_sdks_never_touch_the_object(cairn, bob):
    """The newest SDKs' object annotations (`PUT|GET|DELETE /bucket/key?annotation`, botocore
    1.44) are no PutObject, GetObject or DeleteObject: each answers NotImplemented under its
    own name, and the object is as it was. Before, PutObjectAnnotation overwrote the object
    with the annotation and DeleteObjectAnnotation deleted it."""
    import urllib3
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from conftest import ACCESS_KEY, SECRET

    s3 = cairn.client("s3")
    s3.put_object(Bucket=BUCKET, Key="annotated", Body=b"important,data\n")
    http = urllib3.PoolManager()

    def annotation(method, body=b""):
        url = f"{cairn.endpoint}/{BUCKET}/annotated?annotation&annotationName=team"
        req = AWSRequest(method, url, data=body)
        S3SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", "us-east-1").add_auth(req)
        return http.request(method, req.url, body=body or None, headers=dict(req.headers.items()))

    for method in ("PUT", "GET", "DELETE"):
        resp = annotation(method, b'{"team":"x"}' if method == "PUT" else b"")
        assert resp.status == 501, (method, resp.status, resp.data)
        assert b"<Code>NotImplemented</Code>" in resp.data
        assert s3.get_object(Bucket=BUCKET, Key="annotated")["Body"].read() == b"important,data\n"


def test_an_object_lock_header_the_router_does_not_know_is_refused(cairn, bob):
    """`x-amz-object-lock-event-hold` (newer SDKs) asks for Object Lock like the other
    `x-amz-object-lock-*` headers: no Cairn bucket has it, so the write is InvalidRequest
    "Bucket is missing Object Lock Configuration", not stored with the hold dropped."""
    s3 = cairn.client("s3")

    def event_hold(request, **_):
        request.headers["x-amz-object-lock-event-hold"] = "ON"

    s3.meta.events.register("before-sign.s3.PutObject", event_hold)
    s3.meta.events.register("before-sign.s3.CreateMultipartUpload", event_hold)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=BUCKET, Key="held", Body=b"x")
    assert e.value.response["Error"]["Code"] == "InvalidRequest"
    assert e.value.response["Error"]["Message"] == "Bucket is missing Object Lock Configuration"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_multipart_upload(Bucket=BUCKET, Key="held")
    assert e.value.response["Error"]["Code"] == "InvalidRequest"
    assert "held" not in [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_a_configuration_named_by_id_is_no_such_configuration(cairn, bob):
    """Get/Delete of an analytics, metrics, inventory or Intelligent-Tiering configuration by
    id (s3seven #5, left out last sessions; NotImplemented before): Cairn keeps none, so every
    id is S3's 404 NoSuchConfiguration, after the bucket is found and the caller authorized
    with the operation's own action; each call is recorded, a Delete as a write."""
    s3 = cairn.client("s3")
    calls = [(s3.get_bucket_analytics_configuration, "GetBucketAnalyticsConfiguration"),
             (s3.delete_bucket_analytics_configuration, "DeleteBucketAnalyticsConfiguration"),
             (s3.get_bucket_metrics_configuration, "GetBucketMetricsConfiguration"),
             (s3.delete_bucket_metrics_configuration, "DeleteBucketMetricsConfiguration"),
             (s3.get_bucket_inventory_configuration, "GetBucketInventoryConfiguration"),
             (s3.delete_bucket_inventory_configuration, "DeleteBucketInventoryConfiguration"),
             (s3.get_bucket_intelligent_tiering_configuration,
              "GetBucketIntelligentTieringConfiguration"),
             (s3.delete_bucket_intelligent_tiering_configuration,
              "DeleteBucketIntelligentTieringConfiguration")]
    for call, name in calls:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call(Bucket=BUCKET, Id="cfg-1")
        err = e.value.response["Error"]
        assert (err["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == \
            ("NoSuchConfiguration", 404), name
        assert err["Message"] == "The specified configuration does not exist."
        assert code(lambda: call(Bucket="no-such-unserved", Id="cfg-1")) == ("NoSuchBucket", 404)
        got = [r for r in records(cairn, name) if r["requestParameters"].get("bucketName") == BUCKET]
        assert got and got[0]["errorCode"] == "NoSuchConfiguration", name
        assert got[0]["requestParameters"]["id"] == "cfg-1"
        assert got[0]["readOnly"] == name.startswith("Get")
    denied = bob("s3")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        denied.delete_bucket_metrics_configuration(Bucket=BUCKET, Id="cfg-1")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert "s3:PutMetricsConfiguration" in e.value.response["Error"]["Message"]


def test_rest_xml_services_not_served_answer_in_xml(cairn):
    """sdk9: S3's ListDirectoryBuckets is signed as `s3express`, and Route 53 and CloudFront
    speak REST-XML too: they got a JSON error no SDK of theirs could parse (boto3 saw a bare
    400). They now get S3's XML `NotImplemented` (501), as S3 answers what it does not do."""
    assert code(lambda: cairn.client("s3").list_directory_buckets()) == ("NotImplemented", 501)
    assert code(lambda: cairn.client("route53").list_hosted_zones()) == ("NotImplemented", 501)
    assert code(lambda: cairn.client("cloudfront").list_distributions()) == ("NotImplemented", 501)
