"""The IAM credential report (GenerateCredentialReport, GetCredentialReport), which Prowler and
ScoutSuite read for the CIS root and access-key checks: before it existed they silently
produced no finding, and one check gave a false PASS. The report has the user guide's columns;
root has the active access key the server runs with; a user's keys show their status, rotation
and last use from the event log."""

import csv
import json
import io

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, SECRET


def report(iam):
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    got = iam.get_credential_report()
    assert got["ReportFormat"] == "text/csv"
    return got, list(csv.DictReader(io.StringIO(got["Content"].decode())))


def test_the_report_lists_root_and_users_with_their_keys(cairn):
    iam = cairn.client("iam")
    with pytest.raises(ClientError) as e:
        iam.get_credential_report()
    assert e.value.response["Error"]["Code"] == "ReportNotPresent"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410
    iam.create_user(UserName="report-two-keys")
    first = iam.create_access_key(UserName="report-two-keys")["AccessKey"]
    second = iam.create_access_key(UserName="report-two-keys")["AccessKey"]
    iam.update_access_key(UserName="report-two-keys", AccessKeyId=second["AccessKeyId"], Status="Inactive")
    # A denied call is recorded with its key too, and counts as the key's use.
    with pytest.raises(ClientError):
        cairn.client_with(first["AccessKeyId"], first["SecretAccessKey"], "s3").list_buckets()
    iam.create_user(UserName="report,comma")
    got, rows = report(iam)
    assert list(rows[0]) == [
        "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
        "password_last_changed", "password_next_rotation", "mfa_active", "access_key_1_active",
        "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region",
        "access_key_1_last_used_service", "access_key_2_active", "access_key_2_last_rotated",
        "access_key_2_last_used_date", "access_key_2_last_used_region",
        "access_key_2_last_used_service", "cert_1_active", "cert_1_last_rotated", "cert_2_active",
        "cert_2_last_rotated"]
    by_user = {r["user"]: r for r in rows}
    root = by_user["<root_account>"]
    assert rows[0] is root or rows[0]["user"] == "<root_account>"
    assert root["arn"] == "arn:aws:iam::123456789012:root"
    assert (root["password_enabled"], root["mfa_active"], root["access_key_1_active"]) == \
        ("not_supported", "false", "true")
    # This test's own calls are signed with root's key.
    assert root["access_key_1_last_used_date"] != "N/A"
    two = by_user["report-two-keys"]
    # Keys made in the same second come in key-id order: find the slot of the used one.
    used, other = ("1", "2") if two["access_key_1_active"] == "true" else ("2", "1")
    assert (two[f"access_key_{used}_active"], two[f"access_key_{other}_active"]) == ("true", "false")
    assert two[f"access_key_{used}_last_used_service"] == "s3"
    assert two[f"access_key_{used}_last_used_region"] == "us-east-1"
    assert two[f"access_key_{other}_last_used_date"] == "N/A"
    assert two["password_enabled"] == "false" and two["mfa_active"] == "false"
    assert two["arn"] == "arn:aws:iam::123456789012:user/report-two-keys"
    assert by_user["report,comma"]["access_key_1_active"] == "false"
    # The report is a snapshot, kept for four hours: a user made after it is not in it, and
    # generating again within those hours keeps it, as IAM does.
    iam.create_user(UserName="report-later")
    again = iam.get_credential_report()
    assert again["Content"] == got["Content"]
    assert "report-later" not in {r["user"] for r in report(iam)[1]}


def test_each_call_is_authorized_and_recorded(cairn):
    iam = cairn.client("iam")
    iam.create_user(UserName="report-nobody")
    key = iam.create_access_key(UserName="report-nobody")["AccessKey"]
    nobody = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "iam")
    for call in (nobody.generate_credential_report, nobody.get_credential_report):
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "AccessDenied"
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "GetCredentialReport"}])["Events"]
    assert any(e.get("Username") == "report-nobody" for e in events)


def test_the_account_password_policy_is_kept(cairn):
    """CIS 1.8/1.9 (length, reuse) and Prowler's password checks read the account password
    policy: it is set, read back with IAM's defaults for what was left out, replaced whole by
    the next update, and deleted."""
    iam = cairn.client("iam")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_account_password_policy()
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_account_password_policy()
    iam.update_account_password_policy(MinimumPasswordLength=14, PasswordReusePrevention=24,
                                       RequireSymbols=True, MaxPasswordAge=90)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy == {"MinimumPasswordLength": 14, "RequireSymbols": True, "RequireNumbers": False,
                      "RequireUppercaseCharacters": False, "RequireLowercaseCharacters": False,
                      "AllowUsersToChangePassword": False, "ExpirePasswords": True,
                      "MaxPasswordAge": 90, "PasswordReusePrevention": 24}
    cairn.cli("iam", "update-account-password-policy", "--require-numbers")
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 6 and policy["RequireNumbers"] is True
    assert policy["ExpirePasswords"] is False and "PasswordReusePrevention" not in policy
    unchecked = boto3.client("iam", endpoint_url=cairn.endpoint, region_name="us-east-1",
                             aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                             config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as e:
        unchecked.update_account_password_policy(MinimumPasswordLength=5)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert "greater than or equal to 6" in e.value.response["Error"]["Message"]
    iam.delete_account_password_policy()
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_account_password_policy()
    # Recorded as the model types the members, so a metric filter can compare them
    # (`{ $.requestParameters.minimumPasswordLength < 14 }`).
    updates = [json.loads(e["CloudTrailEvent"]) for e in cairn.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName",
                           "AttributeValue": "UpdateAccountPasswordPolicy"}])["Events"]]
    first = [r for r in updates if (r["requestParameters"] or {}).get("minimumPasswordLength") == 14]
    assert first and first[0]["requestParameters"]["requireSymbols"] is True
    names = [e["EventName"] for e in cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventSource", "AttributeValue": "iam.amazonaws.com"}], MaxResults=50)["Events"]]
    assert "UpdateAccountPasswordPolicy" in names and "DeleteAccountPasswordPolicy" in names
