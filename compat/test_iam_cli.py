"""The AWS CLI driving IAM: users, tags, access keys (at most 2, Inactive refused at once),
groups and membership, CLI pagination (--max-items/--starting-token), AWS's errors, and the
`cairn iam` admin commands sharing the same state. Policies and roles: test_iam_boto3.py."""

import json
import os
import subprocess

from conftest import cairn_binary

ACCOUNT = "123456789012"


def cli_json(cairn, *args, region="us-east-1"):
    out = cairn.cli(*args, region=region)
    return json.loads(out.stdout) if out.stdout.strip() else None


def cli_error(cairn, *args, region="us-east-1"):
    out = cairn.cli(*args, region=region, check=False)
    assert out.returncode != 0, f"aws {' '.join(args)} unexpectedly succeeded"
    return out.stderr


def as_user(cairn, key, secret, *args, token=None):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
               AWS_DEFAULT_REGION="eu-west-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    if token:
        env["AWS_SESSION_TOKEN"] = token
    return subprocess.run(["aws", "--endpoint-url", cairn.endpoint, "--output", "json", *args],
                          env=env, capture_output=True, text=True)


def test_users_tags_and_errors(cairn):
    created = cli_json(cairn, "iam", "create-user", "--user-name", "cli-alice", "--path", "/div/",
                       "--tags", "Key=team,Value=audit")["User"]
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/div/cli-alice"
    assert created["UserId"].startswith("AIDA") and len(created["UserId"]) == 21
    assert "EntityAlreadyExists" in cli_error(cairn, "iam", "create-user", "--user-name", "CLI-ALICE")
    got = cli_json(cairn, "iam", "get-user", "--user-name", "cli-alice")["User"]
    assert got["Tags"] == [{"Key": "team", "Value": "audit"}]
    err = cli_error(cairn, "iam", "get-user", "--user-name", "nobody")
    assert "NoSuchEntity" in err and "The user with name nobody cannot be found." in err
    err = cli_error(cairn, "iam", "create-user", "--user-name", "bad name")
    assert "ValidationError" in err
    cairn.cli("iam", "tag-user", "--user-name", "cli-alice", "--tags", "Key=env,Value=prod")
    cairn.cli("iam", "untag-user", "--user-name", "cli-alice", "--tag-keys", "team")
    tags = cli_json(cairn, "iam", "list-user-tags", "--user-name", "cli-alice")["Tags"]
    assert tags == [{"Key": "env", "Value": "prod"}]
    users = cli_json(cairn, "iam", "list-users", "--path-prefix", "/div/")["Users"]
    assert [u["UserName"] for u in users] == ["cli-alice"]


def test_access_keys_quota_and_inactive_key_refused_at_once(cairn):
    cairn.cli("iam", "create-user", "--user-name", "cli-keys")
    k1 = cli_json(cairn, "iam", "create-access-key", "--user-name", "cli-keys")["AccessKey"]
    cli_json(cairn, "iam", "create-access-key", "--user-name", "cli-keys")
    err = cli_error(cairn, "iam", "create-access-key", "--user-name", "cli-keys")
    assert "LimitExceeded" in err and "Cannot exceed quota for AccessKeysPerUser: 2" in err
    keys = cli_json(cairn, "iam", "list-access-keys", "--user-name", "cli-keys")["AccessKeyMetadata"]
    assert len(keys) == 2 and all("SecretAccessKey" not in k for k in keys)

    ok = as_user(cairn, k1["AccessKeyId"], k1["SecretAccessKey"], "sts", "get-caller-identity")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/cli-keys"
    cairn.cli("iam", "update-access-key", "--user-name", "cli-keys", "--access-key-id",
              k1["AccessKeyId"], "--status", "Inactive")
    refused = as_user(cairn, k1["AccessKeyId"], k1["SecretAccessKey"], "sts", "get-caller-identity")
    assert refused.returncode != 0 and "InvalidClientTokenId" in refused.stderr
    err = cli_error(cairn, "iam", "delete-user", "--user-name", "cli-keys")
    assert "DeleteConflict" in err and "must delete access keys first" in err
    for k in keys:
        cairn.cli("iam", "delete-access-key", "--user-name", "cli-keys", "--access-key-id", k["AccessKeyId"])
    err = cli_error(cairn, "iam", "delete-access-key", "--user-name", "cli-keys", "--access-key-id",
                    k1["AccessKeyId"])
    assert f"The Access Key with id {k1['AccessKeyId']} cannot be found." in err
    cairn.cli("iam", "delete-user", "--user-name", "cli-keys")


def test_groups_membership_and_delete_conflicts(cairn):
    cairn.cli("iam", "create-group", "--group-name", "Auditors")
    cairn.cli("iam", "create-user", "--user-name", "cli-dave")
    cairn.cli("iam", "add-user-to-group", "--group-name", "auditors", "--user-name", "cli-dave")
    cairn.cli("iam", "attach-group-policy", "--group-name", "Auditors", "--policy-arn",
              "arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess")
    group = cli_json(cairn, "iam", "get-group", "--group-name", "Auditors")
    assert [u["UserName"] for u in group["Users"]] == ["cli-dave"]
    groups = cli_json(cairn, "iam", "list-groups-for-user", "--user-name", "cli-dave")["Groups"]
    assert [g["GroupName"] for g in groups] == ["Auditors"]
    assert "must remove users from group first" in cli_error(
        cairn, "iam", "delete-group", "--group-name", "Auditors")
    assert "DeleteConflict" in cli_error(cairn, "iam", "delete-user", "--user-name", "cli-dave")
    cairn.cli("iam", "remove-user-from-group", "--group-name", "Auditors", "--user-name", "cli-dave")
    assert "must detach all policies first" in cli_error(
        cairn, "iam", "delete-group", "--group-name", "Auditors")
    cairn.cli("iam", "detach-group-policy", "--group-name", "Auditors", "--policy-arn",
              "arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess")
    cairn.cli("iam", "delete-group", "--group-name", "Auditors")
    cairn.cli("iam", "delete-user", "--user-name", "cli-dave")


def test_pagination_with_max_items(cairn):
    for i in range(7):
        cairn.cli("iam", "create-user", "--user-name", f"page-{i}", "--path", "/paging/")
    first = cli_json(cairn, "iam", "list-users", "--path-prefix", "/paging/", "--max-items", "3")
    assert [u["UserName"] for u in first["Users"]] == ["page-0", "page-1", "page-2"]
    assert first["NextToken"]
    rest = cli_json(cairn, "iam", "list-users", "--path-prefix", "/paging/", "--starting-token",
                    first["NextToken"])
    assert [u["UserName"] for u in rest["Users"]] == [f"page-{i}" for i in range(3, 7)]
    everything = cli_json(cairn, "iam", "list-users", "--path-prefix", "/paging/", "--page-size", "2")
    assert len(everything["Users"]) == 7


def test_admin_commands_share_the_core(cairn):
    out = json.loads(cairn.admin("iam", "create-user", "admin-made"))
    assert out["User"]["UserId"].startswith("AIDA")
    key = json.loads(cairn.admin("iam", "create-access-key", "admin-made"))["AccessKey"]
    cairn.admin("iam", "attach-user-policy", "admin-made", "--policy-arn",
                "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    got = cli_json(cairn, "iam", "list-attached-user-policies", "--user-name", "admin-made")
    assert got["AttachedPolicies"][0]["PolicyName"] == "IAMReadOnlyAccess"
    ok = as_user(cairn, key["AccessKeyId"], key["SecretAccessKey"], "sts", "get-caller-identity")
    assert ok.returncode == 0, ok.stderr
    cairn.admin("iam", "update-access-key", "admin-made", key["AccessKeyId"], "--status", "Inactive")
    # The running server drops its cached key within one poll of the IAM generation.
    for _ in range(100):
        refused = as_user(cairn, key["AccessKeyId"], key["SecretAccessKey"], "sts", "get-caller-identity")
        if refused.returncode != 0:
            break
    assert "InvalidClientTokenId" in refused.stderr
    failed = subprocess.run([cairn.binary, "iam", "create-user", "admin-made", "--data-dir", cairn.dir.name],
                            capture_output=True, text=True)
    assert failed.returncode != 0 and "EntityAlreadyExists" in failed.stderr
    missing = subprocess.run([cairn.binary, "iam", "list-users", "--data-dir", "/nonexistent/cairn"],
                             capture_output=True, text=True)
    assert missing.returncode != 0 and "does not exist" in missing.stderr
    assert not os.path.exists("/nonexistent/cairn")


def test_admin_list_users_pages_past_a_thousand(cairn):
    """ops6 O4: `cairn iam list-users` printed the first 1,000 users and a Marker it has no
    option to take; it reads every page into one list."""
    from concurrent.futures import ThreadPoolExecutor
    iam = cairn.client("iam")
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: iam.create_user(UserName=f"many-{i:04d}", Path="/many/"), range(1001)))
    out = json.loads(cairn.admin("iam", "list-users"))
    names = [u["UserName"] for u in out["Users"]]
    assert sum(n.startswith("many-") for n in names) == 1001, len(names)
    assert len(names) == len(set(names))
    assert out["IsTruncated"] is False and "Marker" not in out, {k: v for k, v in out.items() if k != "Users"}


def test_install_cis_writes_no_credentials_into_a_dir_that_is_not_cairns(tmp_path):
    """ops7 P3: `install-cis --data-dir <typo>` made a fresh root key in any directory and
    signed with it; like `cairn env`, it now refuses a dir no server has started on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CAIRN_ROOT"))}
    out = subprocess.run([cairn_binary(), "monitoring", "install-cis", "--data-dir", str(tmp_path),
                          "--log-group", "g", "--topic", "arn:aws:sns:us-east-1:123456789012:t",
                          "--endpoint-url", "http://127.0.0.1:9"],
                         env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "not a Cairn data dir" in out.stderr, out.stderr
    assert list(tmp_path.iterdir()) == []
