"""KMS through boto3: keys and their state machine, deletion with a driven clock, aliases, key
policies, tags, rotation, pagination, and the events they leave."""

import json
import os
import tempfile
import time

import botocore.exceptions
import pytest

from conftest import Cairn, cairn_binary

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def server():
    keys = tempfile.TemporaryDirectory()
    master = os.path.join(keys.name, "master.key")
    with open(master, "w") as f:
        f.write(os.urandom(32).hex())
    os.chmod(master, 0o600)
    s = Cairn(cairn_binary(), ["--kms-master-key-file", master])
    s.master_key_file = master
    yield s
    s.stop()
    keys.cleanup()


@pytest.fixture(scope="module")
def kms(server):
    return server.client("kms")


def error(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e.get("Message", "")


def new_key(kms, **kw):
    return kms.create_key(**kw)["KeyMetadata"]


def test_create_key_defaults_and_unsupported_specs(kms):
    m = new_key(kms, Description="first")
    assert m["AWSAccountId"] == ACCOUNT
    assert m["Arn"] == f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{m['KeyId']}"
    assert (m["KeyState"], m["Enabled"], m["KeyUsage"]) == ("Enabled", True, "ENCRYPT_DECRYPT")
    assert (m["KeySpec"], m["CustomerMasterKeySpec"]) == ("SYMMETRIC_DEFAULT", "SYMMETRIC_DEFAULT")
    assert (m["Origin"], m["KeyManager"], m["MultiRegion"]) == ("AWS_KMS", "CUSTOMER", False)
    assert m["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert len(m["CurrentKeyMaterialId"]) == 64
    assert abs(m["CreationDate"].timestamp() - time.time()) < 60
    for kw in ({"KeySpec": "RSA_2048"}, {"KeyUsage": "SIGN_VERIFY"}, {"Origin": "EXTERNAL"}):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            kms.create_key(**kw)
        assert error(e)[0] == "UnsupportedOperationException"
    mrk = new_key(kms, MultiRegion=True)
    assert mrk["KeyId"].startswith("mrk-") and mrk["MultiRegion"] is True
    assert mrk["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"


def test_four_identifier_forms_and_not_found_messages(kms):
    m = new_key(kms)
    kms.create_alias(AliasName="alias/forms", TargetKeyId=m["KeyId"])
    alias_arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/forms"
    for ident in (m["KeyId"], m["Arn"], "alias/forms", alias_arn):
        assert kms.describe_key(KeyId=ident)["KeyMetadata"]["KeyId"] == m["KeyId"]
    missing = "1234abcd-12ab-34cd-56ef-1234567890ab"
    cases = [
        ("nope", "Invalid keyId nope"),
        (missing, f"Key 'arn:aws:kms:us-east-1:{ACCOUNT}:key/{missing}' does not exist"),
        ("alias/nope", f"Alias arn:aws:kms:us-east-1:{ACCOUNT}:alias/nope is not found."),
        (m["Arn"].replace("us-east-1", "eu-west-1"), f"Key '{m['Arn'].replace('us-east-1', 'eu-west-1')}' does not exist"),
    ]
    for ident, message in cases:
        with pytest.raises(kms.exceptions.NotFoundException) as e:
            kms.describe_key(KeyId=ident)
        assert error(e) == ("NotFoundException", message)
    # Administrative operations take only key ids and ARNs.
    with pytest.raises(kms.exceptions.NotFoundException) as e:
        kms.get_key_policy(KeyId="alias/forms", PolicyName="default")
    assert error(e)[1] == "Invalid keyId alias/forms"


def test_list_keys_pages_with_markers(kms):
    ids = {new_key(kms)["KeyId"] for _ in range(3)}
    first = kms.list_keys(Limit=2)
    assert first["Truncated"] is True and len(first["Keys"]) == 2
    second = kms.list_keys(Limit=2, Marker=first["NextMarker"])
    assert {k["KeyId"] for k in first["Keys"]}.isdisjoint(k["KeyId"] for k in second["Keys"])
    listed = [k["KeyId"] for p in kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2}) for k in p["Keys"]]
    assert ids <= set(listed) and len(listed) == len(set(listed))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.list_keys(Marker="garbage")
    assert error(e)[0] == "InvalidMarkerException"


def test_disable_enable_and_states(kms):
    m = new_key(kms)
    kms.disable_key(KeyId=m["KeyId"])
    assert kms.describe_key(KeyId=m["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    with pytest.raises(kms.exceptions.DisabledException) as e:
        kms.encrypt(KeyId=m["KeyId"], Plaintext=b"x")
    assert error(e)[1] == f"{m['Arn']} is disabled."
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(kms.exceptions.DisabledException):
        kms.generate_data_key(KeyId=m["KeyId"], KeySpec="AES_256")
    kms.enable_key(KeyId=m["KeyId"])
    assert kms.encrypt(KeyId=m["KeyId"], Plaintext=b"x")["KeyId"] == m["Arn"]


def test_schedule_and_cancel_deletion(kms):
    m = new_key(kms)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.schedule_key_deletion(KeyId=m["KeyId"], PendingWindowInDays=6)
    assert error(e) == ("ValidationException", "1 validation error detected: Value '6' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value greater than or equal to 7")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.schedule_key_deletion(KeyId=m["KeyId"], PendingWindowInDays=31)
    assert error(e)[0] == "ValidationException"
    r = kms.schedule_key_deletion(KeyId=m["KeyId"])
    assert (r["KeyId"], r["KeyState"], r["PendingWindowInDays"]) == (m["Arn"], "PendingDeletion", 30)
    assert abs(r["DeletionDate"].timestamp() - (time.time() + 30 * 86400)) < 120
    d = kms.describe_key(KeyId=m["KeyId"])["KeyMetadata"]
    assert (d["KeyState"], d["Enabled"]) == ("PendingDeletion", False)
    # The window is shown only in PendingReplicaDeletion (the KMS model); the date always.
    assert "PendingDeletionWindowInDays" not in d and d["DeletionDate"] == r["DeletionDate"]
    for call in (lambda: kms.encrypt(KeyId=m["KeyId"], Plaintext=b"x"),
                 lambda: kms.enable_key(KeyId=m["KeyId"]),
                 lambda: kms.schedule_key_deletion(KeyId=m["KeyId"], PendingWindowInDays=7)):
        with pytest.raises(kms.exceptions.KMSInvalidStateException) as e:
            call()
        assert error(e)[1] == f"{m['Arn']} is pending deletion."
    assert kms.cancel_key_deletion(KeyId=m["KeyId"])["KeyId"] == m["Arn"]
    assert kms.describe_key(KeyId=m["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    with pytest.raises(kms.exceptions.KMSInvalidStateException):
        kms.cancel_key_deletion(KeyId=m["KeyId"])


def test_deletion_happens_when_the_driven_clock_passes_the_window(server, kms):
    m = new_key(kms)
    kms.create_alias(AliasName="alias/doomed", TargetKeyId=m["KeyId"])
    r = kms.schedule_key_deletion(KeyId=m["KeyId"], PendingWindowInDays=7)
    due = r["DeletionDate"].timestamp()
    early = json.loads(server.admin("kms", "sweep", "--now", str(due - 60)))
    assert m["Arn"] not in early["Deleted"]
    assert kms.describe_key(KeyId=m["KeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    late = json.loads(server.admin("kms", "sweep", "--now", str(due + 1)))
    assert m["Arn"] in late["Deleted"]
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId=m["KeyId"])
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId="alias/doomed")
    ct = server.client("cloudtrail")
    # The deletion is recorded at the (driven) time it happened, a week ahead of the wall clock.
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DeleteKey"}],
                              StartTime=due - 3600, EndTime=due + 3600)["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    mine = [r for r in records if r["resources"][0]["ARN"] == m["Arn"]]
    assert len(mine) == 1
    rec = mine[0]
    assert (rec["eventSource"], rec["eventType"], rec["readOnly"]) == ("kms.amazonaws.com", "AwsServiceEvent", False)
    assert rec["userIdentity"] == {"accountId": ACCOUNT, "invokedBy": "AWS Internal"}
    assert rec["responseElements"] == {"keyId": m["Arn"]}


def test_aliases(kms):
    a, b = new_key(kms), new_key(kms)
    kms.create_alias(AliasName="alias/app", TargetKeyId=a["Arn"])
    with pytest.raises(kms.exceptions.AlreadyExistsException) as e:
        kms.create_alias(AliasName="alias/app", TargetKeyId=b["KeyId"])
    assert error(e)[1] == f"An alias with the name arn:aws:kms:us-east-1:{ACCOUNT}:alias/app already exists"
    # KMS's codes (as its emulators observed them): the reserved prefix is not authorized, a
    # name without `alias/` fails validation, and `alias/` alone is not a valid name.
    for bad, code in (("alias/aws/mine", "NotAuthorizedException"), ("app", "ValidationException"),
                      ("alias/", "InvalidAliasNameException")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            kms.create_alias(AliasName=bad, TargetKeyId=a["KeyId"])
        assert error(e)[0] == code, bad
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.create_alias(AliasName="alias/has space", TargetKeyId=a["KeyId"])
    assert error(e)[0] == "ValidationException"
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.create_alias(AliasName="alias/x", TargetKeyId="alias/app")
    kms.update_alias(AliasName="alias/app", TargetKeyId=b["KeyId"])
    assert kms.describe_key(KeyId="alias/app")["KeyMetadata"]["KeyId"] == b["KeyId"]
    of_b = kms.list_aliases(KeyId=b["KeyId"])["Aliases"]
    assert [x["AliasName"] for x in of_b] == ["alias/app"]
    assert of_b[0]["AliasArn"] == f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/app"
    assert of_b[0]["TargetKeyId"] == b["KeyId"]
    kms.create_alias(AliasName="alias/app2", TargetKeyId=b["KeyId"])
    page = kms.list_aliases(KeyId=b["KeyId"], Limit=1)
    assert page["Truncated"] and len(page["Aliases"]) == 1
    rest = kms.list_aliases(KeyId=b["KeyId"], Limit=1, Marker=page["NextMarker"])
    assert rest["Aliases"][0]["AliasName"] == "alias/app2" and not rest["Truncated"]
    kms.delete_alias(AliasName="alias/app")
    with pytest.raises(kms.exceptions.NotFoundException) as e:
        kms.delete_alias(AliasName="alias/app")
    assert error(e)[1] == f"Alias arn:aws:kms:us-east-1:{ACCOUNT}:alias/app is not found."


def test_key_policies(kms):
    m = new_key(kms)
    p = kms.get_key_policy(KeyId=m["KeyId"], PolicyName="default")
    doc = json.loads(p["Policy"])
    assert doc["Id"] == "key-default-1"
    assert doc["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert p["PolicyName"] == "default"
    assert kms.list_key_policies(KeyId=m["KeyId"])["PolicyNames"] == ["default"]
    text = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Allow account admins", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"}]}, indent=2)
    kms.put_key_policy(KeyId=m["KeyId"], PolicyName="default", Policy=text)
    assert kms.get_key_policy(KeyId=m["KeyId"], PolicyName="default")["Policy"] == text
    with pytest.raises(kms.exceptions.MalformedPolicyDocumentException):
        kms.put_key_policy(KeyId=m["KeyId"], PolicyName="default", Policy="{not json")
    with pytest.raises(kms.exceptions.MalformedPolicyDocumentException):
        kms.put_key_policy(KeyId=m["KeyId"], PolicyName="default", Policy=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}))
    big = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "x" * 33000, "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"}]})
    with pytest.raises(kms.exceptions.LimitExceededException):
        kms.put_key_policy(KeyId=m["KeyId"], PolicyName="default", Policy=big)
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.get_key_policy(KeyId=m["KeyId"], PolicyName="other")


def test_tags(kms):
    m = new_key(kms, Tags=[{"TagKey": "team", "TagValue": "audit"}])
    kms.tag_resource(KeyId=m["KeyId"], Tags=[{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team", "TagValue": "sec"}])
    tags = kms.list_resource_tags(KeyId=m["Arn"])
    assert tags["Tags"] == [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team", "TagValue": "sec"}]
    assert tags["Truncated"] is False
    page = kms.list_resource_tags(KeyId=m["KeyId"], Limit=1)
    assert page["Truncated"] and page["Tags"] == [{"TagKey": "env", "TagValue": "prod"}]
    kms.untag_resource(KeyId=m["KeyId"], TagKeys=["env", "absent"])
    assert kms.list_resource_tags(KeyId=m["KeyId"])["Tags"] == [{"TagKey": "team", "TagValue": "sec"}]
    with pytest.raises(kms.exceptions.TagException):
        kms.tag_resource(KeyId=m["KeyId"], Tags=[{"TagKey": "aws:reserved", "TagValue": "x"}])
    with pytest.raises(kms.exceptions.LimitExceededException):
        kms.tag_resource(KeyId=m["KeyId"], Tags=[{"TagKey": f"k{i}", "TagValue": "v"} for i in range(50)])


def test_rotation_settings(kms):
    m = new_key(kms)
    s = kms.get_key_rotation_status(KeyId=m["KeyId"])
    assert s["KeyRotationEnabled"] is False and s["KeyId"] == m["Arn"]
    kms.enable_key_rotation(KeyId=m["KeyId"], RotationPeriodInDays=90)
    s = kms.get_key_rotation_status(KeyId=m["KeyId"])
    assert (s["KeyRotationEnabled"], s["RotationPeriodInDays"]) == (True, 90)
    assert abs(s["NextRotationDate"].timestamp() - (time.time() + 90 * 86400)) < 120
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.enable_key_rotation(KeyId=m["KeyId"], RotationPeriodInDays=3000)
    assert error(e)[0] == "ValidationException"
    kms.disable_key_rotation(KeyId=m["KeyId"])
    assert kms.get_key_rotation_status(KeyId=m["KeyId"])["KeyRotationEnabled"] is False
    assert kms.rotate_key_on_demand(KeyId=m["KeyId"])["KeyId"] == m["Arn"]
    rotations = kms.list_key_rotations(KeyId=m["KeyId"])["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["ON_DEMAND"]
    after = kms.describe_key(KeyId=m["KeyId"])["KeyMetadata"]["CurrentKeyMaterialId"]
    assert after != m["CurrentKeyMaterialId"] and rotations[0]["KeyMaterialId"] == after
    kms.disable_key(KeyId=m["KeyId"])
    with pytest.raises(kms.exceptions.DisabledException):
        kms.rotate_key_on_demand(KeyId=m["KeyId"])
    with pytest.raises(kms.exceptions.DisabledException):
        kms.enable_key_rotation(KeyId=m["KeyId"])


def test_automatic_rotation_happens_when_the_driven_clock_reaches_it(server, kms):
    m = new_key(kms)
    old = kms.encrypt(KeyId=m["KeyId"], Plaintext=b"before rotation")["CiphertextBlob"]
    kms.enable_key_rotation(KeyId=m["KeyId"], RotationPeriodInDays=90)
    due = kms.get_key_rotation_status(KeyId=m["KeyId"])["NextRotationDate"].timestamp()
    sweep = ["kms", "sweep", "--kms-master-key-file", server.master_key_file, "--now"]
    assert m["Arn"] not in json.loads(server.admin(*sweep, str(due - 60)))["Rotated"]
    assert m["Arn"] in json.loads(server.admin(*sweep, str(due + 1)))["Rotated"]
    rotations = kms.list_key_rotations(KeyId=m["KeyId"])["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["AUTOMATIC"]
    status = kms.get_key_rotation_status(KeyId=m["KeyId"])
    assert abs(status["NextRotationDate"].timestamp() - (due + 90 * 86400)) < 5
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"before rotation"
    new = kms.encrypt(KeyId=m["KeyId"], Plaintext=b"after")
    assert kms.decrypt(CiphertextBlob=new["CiphertextBlob"])["KeyMaterialId"] == rotations[0]["KeyMaterialId"]


def test_update_description_and_unsupported_operations(kms):
    m = new_key(kms)
    kms.update_key_description(KeyId=m["KeyId"], Description="changed")
    assert kms.describe_key(KeyId=m["KeyId"])["KeyMetadata"]["Description"] == "changed"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.get_public_key(KeyId=m["KeyId"])
    assert error(e)[0] == "UnsupportedOperationException"


def test_events_of_key_management(server, kms):
    m = new_key(kms, Description="evented")
    kms.describe_key(KeyId=m["KeyId"])
    ct = server.client("cloudtrail")
    records = [json.loads(e["CloudTrailEvent"]) for e in ct.lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": m["Arn"]}])["Events"]]
    by_name = {r["eventName"]: r for r in records}
    create, describe = by_name["CreateKey"], by_name["DescribeKey"]
    assert create["eventSource"] == "kms.amazonaws.com" and create["readOnly"] is False
    meta = create["responseElements"]["keyMetadata"]
    assert meta["keyId"] == m["KeyId"] and meta["aWSAccountId"] == ACCOUNT
    assert time.strptime(meta["creationDate"], "%b %d, %Y, %I:%M:%S %p")
    assert create["requestParameters"]["description"] == "evented"
    assert describe["readOnly"] is True and describe["responseElements"] is None
    assert describe["requestParameters"] == {"keyId": m["KeyId"]}
    assert describe["resources"] == [{"ARN": m["Arn"], "accountId": ACCOUNT, "type": "AWS::KMS::Key"}]


def test_records_of_key_changes_name_the_key_and_the_retired_grant(server, kms):
    """The KMS developer guide's record examples: DisableKey, EnableKey, Enable/
    DisableKeyRotation and CreateGrant carry `responseElements.keyId` (the key ARN);
    RetireGrant names the grant in `additionalEventData.grantId`."""
    m = new_key(kms, Description="keyed records")
    kms.disable_key(KeyId=m["KeyId"])
    kms.enable_key(KeyId=m["KeyId"])
    kms.enable_key_rotation(KeyId=m["KeyId"])
    kms.disable_key_rotation(KeyId=m["KeyId"])
    grant = kms.create_grant(KeyId=m["KeyId"], Operations=["Decrypt"],
                             GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:root",
                             RetiringPrincipal=f"arn:aws:iam::{ACCOUNT}:root")
    kms.retire_grant(GrantToken=grant["GrantToken"])
    ct = server.client("cloudtrail")
    records = [json.loads(e["CloudTrailEvent"]) for e in ct.lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": m["Arn"]}],
        MaxResults=50)["Events"]]
    by_name = {r["eventName"]: r for r in records}
    for name in ("DisableKey", "EnableKey", "EnableKeyRotation", "DisableKeyRotation"):
        assert by_name[name]["responseElements"] == {"keyId": m["Arn"]}, name
    assert by_name["CreateGrant"]["responseElements"] == {
        "grantId": grant["GrantId"], "keyId": m["Arn"]}
    retired = by_name["RetireGrant"]
    assert retired["additionalEventData"] == {"grantId": grant["GrantId"]}
    assert grant["GrantToken"] not in json.dumps(retired)
