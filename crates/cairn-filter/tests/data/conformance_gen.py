#!/usr/bin/env python3
"""Writes conformance.json: the filter-pattern conformance table.

Rows come from three kinds of source, each named in the row's `source`:
- `cwl-ug`: the examples of the CloudWatch Logs user guide page "Filter and Pattern Syntax"
  (awsdocs/amazon-cloudwatch-logs-user-guide, doc_source/FilterAndPatternSyntax.md), with the
  outcome the page states; `cwl-ug-current` for the current page's regex and match-all rules.
- `spec`: the worked examples of spec/monitoring.md section 2.7 (events written for the spec).
- `cis-x.y`: the CIS AWS Foundations Benchmark section 4 patterns (as spec/monitoring.md section 6
  transcribes them) against realistic CloudTrail records. Their expected outcome is computed here
  by an oracle written from the benchmark's intent and AWS's documented JSON rules (an absent key
  makes every comparison false), independently of the Rust implementation.

Run from this directory: python3 conformance_gen.py > conformance.json
"""

import json

ACCOUNT = "123456789012"


def ct(name, source, identity, **extra):
    """A CloudTrail record in the shape CloudTrail delivers to CloudWatch Logs (compact JSON)."""
    rec = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": "2026-01-05T10:00:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
        "requestParameters": None,
        "responseElements": None,
        "requestID": "4d3c1b2a-0f9e-4d8c-b7a6-5e4d3c2b1a09",
        "eventID": "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    rec.update(extra)
    return json.dumps(rec, separators=(",", ":"))


ALICE = {"type": "IAMUser", "principalId": "AIDAEXAMPLEALICE0001", "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
         "accountId": ACCOUNT, "accessKeyId": "AKIAEXAMPLEALICE0001", "userName": "alice"}
ROLE = {"type": "AssumedRole", "principalId": "AROAEXAMPLEROLE00001:deployer",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/deployer", "accountId": ACCOUNT,
        "accessKeyId": "ASIAEXAMPLEROLE00001",
        "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEROLE00001",
                                             "arn": f"arn:aws:iam::{ACCOUNT}:role/Deployer", "accountId": ACCOUNT,
                                             "userName": "Deployer"},
                           "attributes": {"creationDate": "2026-01-05T09:00:00Z", "mfaAuthenticated": "false"}}}
ROOT = {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT,
        "accessKeyId": "ASIAEXAMPLEROOT00001"}
ROOT_VIA_CFN = dict(ROOT, invokedBy="cloudformation.amazonaws.com")

RECORDS = {
    "ct_unauthorized_ec2": ct("RunInstances", "ec2.amazonaws.com", ALICE, errorCode="Client.UnauthorizedOperation",
                              errorMessage="You are not authorized to perform this operation.",
                              requestParameters={"instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": 1, "maxCount": 1}]}}),
    "ct_access_denied_iam": ct("ListUsers", "iam.amazonaws.com", ALICE, errorCode="AccessDenied",
                               errorMessage="User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:ListUsers",
                               readOnly=True),
    "ct_console_login_no_mfa": ct("ConsoleLogin", "signin.amazonaws.com", ALICE, eventType="AwsConsoleSignIn",
                                  responseElements={"ConsoleLogin": "Success"},
                                  additionalEventData={"LoginTo": "https://console.aws.amazon.com/console/home",
                                                       "MobileVersion": "No", "MFAUsed": "No"}),
    "ct_console_login_mfa": ct("ConsoleLogin", "signin.amazonaws.com", ALICE, eventType="AwsConsoleSignIn",
                               responseElements={"ConsoleLogin": "Success"},
                               additionalEventData={"LoginTo": "https://console.aws.amazon.com/console/home",
                                                    "MobileVersion": "No", "MFAUsed": "Yes"}),
    "ct_console_login_failed": ct("ConsoleLogin", "signin.amazonaws.com", ALICE, eventType="AwsConsoleSignIn",
                                  errorMessage="Failed authentication", responseElements={"ConsoleLogin": "Failure"},
                                  additionalEventData={"LoginTo": "https://console.aws.amazon.com/console/home",
                                                       "MobileVersion": "No", "MFAUsed": "No"}),
    "ct_root_api_call": ct("GetAccountSummary", "iam.amazonaws.com", ROOT, readOnly=True),
    "ct_root_via_cloudformation": ct("CreateBucket", "s3.amazonaws.com", ROOT_VIA_CFN,
                                     sourceIPAddress="cloudformation.amazonaws.com",
                                     userAgent="cloudformation.amazonaws.com",
                                     requestParameters={"bucketName": "stack-bucket", "Host": "stack-bucket.s3.amazonaws.com"}),
    "ct_put_user_policy": ct("PutUserPolicy", "iam.amazonaws.com", ALICE,
                             requestParameters={"userName": "bob", "policyName": "inline", "policyDocument": "{}"}),
    "ct_attach_role_policy": ct("AttachRolePolicy", "iam.amazonaws.com", ROLE,
                                requestParameters={"roleName": "app", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
    "ct_stop_logging": ct("StopLogging", "cloudtrail.amazonaws.com", ALICE,
                          requestParameters={"name": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main"}),
    "ct_update_trail": ct("UpdateTrail", "cloudtrail.amazonaws.com", ROLE,
                          requestParameters={"name": "main", "isMultiRegionTrail": True}),
    "ct_kms_disable_key": ct("DisableKey", "kms.amazonaws.com", ALICE,
                             requestParameters={"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}),
    "ct_kms_schedule_deletion": ct("ScheduleKeyDeletion", "kms.amazonaws.com", ROOT,
                                   requestParameters={"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "pendingWindowInDays": 7}),
    "ct_kms_decrypt": ct("Decrypt", "kms.amazonaws.com", ROLE, readOnly=True,
                         requestParameters={"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
    "ct_s3_put_bucket_policy": ct("PutBucketPolicy", "s3.amazonaws.com", ALICE,
                                  requestParameters={"bucketName": "logs", "Host": "logs.s3.amazonaws.com", "policy": ""}),
    "ct_config_stop_recorder": ct("StopConfigurationRecorder", "config.amazonaws.com", ALICE,
                                  requestParameters={"configurationRecorderName": "default"}),
    "ct_sg_ingress": ct("AuthorizeSecurityGroupIngress", "ec2.amazonaws.com", ROLE,
                        requestParameters={"groupId": "sg-0123456789abcdef0"}),
    "ct_nacl_entry": ct("CreateNetworkAclEntry", "ec2.amazonaws.com", ALICE,
                        requestParameters={"networkAclId": "acl-0123456789abcdef0", "ruleNumber": 100}),
    "ct_igw_attach": ct("AttachInternetGateway", "ec2.amazonaws.com", ALICE,
                        requestParameters={"internetGatewayId": "igw-0123456789abcdef0", "vpcId": "vpc-0123456789abcdef0"}),
    "ct_route_create": ct("CreateRoute", "ec2.amazonaws.com", ROLE,
                          requestParameters={"routeTableId": "rtb-0123456789abcdef0", "destinationCidrBlock": "0.0.0.0/0"}),
    "ct_vpc_create": ct("CreateVpc", "ec2.amazonaws.com", ALICE, requestParameters={"cidrBlock": "10.0.0.0/16"}),
    "ct_org_create_account": ct("CreateAccount", "organizations.amazonaws.com", ROOT,
                                requestParameters={"email": "new@example.com", "accountName": "new"}),
    "ct_describe_instances": ct("DescribeInstances", "ec2.amazonaws.com", ROLE, readOnly=True),
    "ct_head_bucket_delivery": ct("HeadBucket", "s3.amazonaws.com",
                                  {"type": "AWSService", "invokedBy": "delivery.logs.amazonaws.com"},
                                  sourceIPAddress="delivery.logs.amazonaws.com", userAgent="delivery.logs.amazonaws.com",
                                  eventType="AwsApiCall", readOnly=True),
    "ct_service_event_root": ct("RotateKey", "kms.amazonaws.com", ROOT, eventType="AwsServiceEvent",
                                sourceIPAddress="kms.amazonaws.com", userAgent="kms.amazonaws.com"),
}


def get(rec, *path):
    node = rec
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return None, False
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return None, False
            node = node[step]
    return node, True


def s_eq(rec, path, value):
    v, present = get(rec, *path)
    return present and isinstance(v, str) and v == value


def s_ne(rec, path, value):
    v, present = get(rec, *path)
    return present and isinstance(v, str) and v != value


def name_in(rec, names):
    return any(s_eq(rec, ("eventName",), n) for n in names)


CIS = [
    ("cis-4.1", '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || ($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }',
     lambda r: (isinstance(get(r, "errorCode")[0], str) and (get(r, "errorCode")[0].endswith("UnauthorizedOperation") or get(r, "errorCode")[0].startswith("AccessDenied")))
     or s_ne(r, ("sourceIPAddress",), "delivery.logs.amazonaws.com") or s_ne(r, ("eventName",), "HeadBucket")),
    ("cis-4.1-intended", '{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }',
     lambda r: (isinstance(get(r, "errorCode")[0], str) and get(r, "errorCode")[0].endswith("UnauthorizedOperation"))
     or (isinstance(get(r, "errorCode")[0], str) and get(r, "errorCode")[0].startswith("AccessDenied")
         and s_ne(r, ("sourceIPAddress",), "delivery.logs.amazonaws.com") and s_ne(r, ("eventName",), "HeadBucket"))),
    ("cis-4.2", '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
     lambda r: s_eq(r, ("eventName",), "ConsoleLogin") and s_ne(r, ("additionalEventData", "MFAUsed"), "Yes")),
    ("cis-4.2-sso", '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
     lambda r: s_eq(r, ("eventName",), "ConsoleLogin") and s_ne(r, ("additionalEventData", "MFAUsed"), "Yes")
     and s_eq(r, ("userIdentity", "type"), "IAMUser") and s_eq(r, ("responseElements", "ConsoleLogin"), "Success")),
    ("cis-4.3", '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
     lambda r: s_eq(r, ("userIdentity", "type"), "Root") and not get(r, "userIdentity", "invokedBy")[1]
     and s_ne(r, ("eventType",), "AwsServiceEvent")),
    ("cis-4.4", '{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}',
     lambda r: name_in(r, ["DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy",
                           "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
                           "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy",
                           "AttachGroupPolicy", "DetachGroupPolicy"])),
    ("cis-4.5", '{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }',
     lambda r: name_in(r, ["CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"])),
    ("cis-4.6", '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
     lambda r: s_eq(r, ("eventName",), "ConsoleLogin") and s_eq(r, ("errorMessage",), "Failed authentication")),
    ("cis-4.7", '{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }',
     lambda r: s_eq(r, ("eventSource",), "kms.amazonaws.com") and name_in(r, ["DisableKey", "ScheduleKeyDeletion"])),
    ("cis-4.8", '{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }',
     lambda r: s_eq(r, ("eventSource",), "s3.amazonaws.com") and name_in(r, [
         "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication",
         "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication"])),
    ("cis-4.9", '{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }',
     lambda r: s_eq(r, ("eventSource",), "config.amazonaws.com") and name_in(r, [
         "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder"])),
    ("cis-4.10", '{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }',
     lambda r: name_in(r, ["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
                           "RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup"])),
    ("cis-4.11", '{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }',
     lambda r: name_in(r, ["CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
                           "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation"])),
    ("cis-4.12", '{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }',
     lambda r: name_in(r, ["CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
                           "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway"])),
    ("cis-4.13", '{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }',
     lambda r: name_in(r, ["CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation",
                           "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable"])),
    ("cis-4.14", '{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }',
     lambda r: name_in(r, ["CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
                           "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection",
                           "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink", "EnableVpcClassicLink"])),
    ("cis-4.15", '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }',
     lambda r: s_eq(r, ("eventSource",), "organizations.amazonaws.com") and name_in(r, [
         "AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit", "CreatePolicy",
         "DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit", "DeletePolicy", "DetachPolicy",
         "DisablePolicyType", "EnablePolicyType", "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount",
         "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit"])),
]

# Records each CIS pattern is checked against: every record for the two 4.1 forms and 4.3,
# and for the others their trigger, the near misses, and a benign call.
CIS_RECORDS = {
    "cis-4.1": list(RECORDS), "cis-4.1-intended": list(RECORDS), "cis-4.3": list(RECORDS),
    "cis-4.2": ["ct_console_login_no_mfa", "ct_console_login_mfa", "ct_console_login_failed", "ct_root_api_call", "ct_describe_instances"],
    "cis-4.2-sso": ["ct_console_login_no_mfa", "ct_console_login_mfa", "ct_console_login_failed", "ct_describe_instances"],
    "cis-4.4": ["ct_put_user_policy", "ct_attach_role_policy", "ct_access_denied_iam", "ct_root_api_call", "ct_describe_instances"],
    "cis-4.5": ["ct_stop_logging", "ct_update_trail", "ct_describe_instances", "ct_put_user_policy"],
    "cis-4.6": ["ct_console_login_failed", "ct_console_login_no_mfa", "ct_console_login_mfa", "ct_describe_instances"],
    "cis-4.7": ["ct_kms_disable_key", "ct_kms_schedule_deletion", "ct_kms_decrypt", "ct_service_event_root", "ct_describe_instances"],
    "cis-4.8": ["ct_s3_put_bucket_policy", "ct_root_via_cloudformation", "ct_head_bucket_delivery", "ct_describe_instances"],
    "cis-4.9": ["ct_config_stop_recorder", "ct_describe_instances", "ct_kms_decrypt"],
    "cis-4.10": ["ct_sg_ingress", "ct_nacl_entry", "ct_describe_instances"],
    "cis-4.11": ["ct_nacl_entry", "ct_sg_ingress", "ct_describe_instances"],
    "cis-4.12": ["ct_igw_attach", "ct_vpc_create", "ct_describe_instances"],
    "cis-4.13": ["ct_route_create", "ct_igw_attach", "ct_describe_instances"],
    "cis-4.14": ["ct_vpc_create", "ct_route_create", "ct_describe_instances"],
    "cis-4.15": ["ct_org_create_account", "ct_put_user_policy", "ct_describe_instances"],
}

APACHE = {
    "apache_200_a": '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
    "apache_500": '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
    "apache_200_b": '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355',
    "apache_404_html": '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
}

DOC_JSON = json.dumps({"eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111",
                       "arrayKey": ["value", "another value"],
                       "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
                       "SomeObject": None, "ThisFlag": True}, indent=2)
DOC_COMPOUND = json.dumps({"user": {"id": 1, "email": "John.Stiles@example.com"},
                           "users": [{"id": 2, "email": "John.Doe@example.com"},
                                     {"id": 3, "email": "Jane.Doe@example.com"}],
                           "actions": ["GET", "PUT", "DELETE"],
                           "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]}, indent=4)
NUMERIC = json.dumps({"latency": 812, "numbers": [5, 20000], "errorCode": 400,
                      "processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}]})

SPEC = {
    "E1": '{"eventSource":"iam.amazonaws.com","eventName":"PutUserPolicy","sourceIPAddress":"203.0.113.7","userIdentity":{"type":"IAMUser","invokedBy":null},"errorCode":"AccessDenied","readOnly":false,"latency":812,"resources":[{"type":"AWS::IAM::User"}],"tags":["prod","eu"]}',
    "E2": '{"eventSource":"kms.amazonaws.com","eventName":"ScheduleKeyDeletion","sourceIPAddress":"kms.amazonaws.com","userIdentity":{"type":"Root"},"eventType":"AwsApiCall","readOnly":false,"latency":"15"}',
    "E3": "2026-01-05T10:00:00Z ERROR [worker-3] Failed to process request id=42",
    "E4": '198.51.100.4 - alice [05/Jan/2026:10:00:01 +0000] "GET /admin/index.html HTTP/1.1" 403 1534',
}

MESSAGES = dict(RECORDS, **APACHE, **SPEC, doc_json=DOC_JSON, doc_compound=DOC_COMPOUND, numeric=NUMERIC)

rows = []


def row(source, pattern, message, match, extracted=None):
    r = {"source": source, "pattern": pattern, "message": message if message not in MESSAGES else "@" + message,
         "match": match}
    if match:
        r["extracted"] = extracted or {}
    rows.append(r)


def error(source, pattern, message):
    rows.append({"source": source, "pattern": pattern, "error": message})


def tokens(text):
    out, rest = [], text
    while True:
        rest = rest.lstrip(" ")
        if not rest:
            return out
        close = {'"': '"', "[": "]"}.get(rest[0])
        if close:
            end = rest.find(close, 1)
            end = len(rest) if end < 0 else end
            out.append(rest[1:end])
            rest = rest[end + 1:]
            sp = rest.find(" ")
            rest = "" if sp < 0 else rest[sp:]
        else:
            sp = rest.find(" ")
            sp = len(rest) if sp < 0 else sp
            out.append(rest[:sp])
            rest = rest[sp:]


def extract(names, text):
    """Extracted values of a delimited pattern: names is the slot list ('...' or a name or '')."""
    toks = tokens(text)
    e = names.index("...") if "..." in names else None
    if e is None:
        assigned = names
    else:
        after = len(names) - e - 1
        absorbed = len(toks) - e - after
        assigned = names[:e] + [""] * absorbed + names[e + 1:]
    return {(f"${n}" if n else f"${k + 1}"): t for k, (n, t) in enumerate(zip(assigned, toks))}


# --- cwl-ug: unstructured terms -------------------------------------------------------------
U = "cwl-ug (Matching Terms in Log Events)"
for m, ok in [("[ERROR] A fatal exception has occurred", True), ("Exiting with ERRORCODE: -1", True)]:
    row(U + " example 1", "ERROR", m, ok)
for m, ok in [("Exiting with ERRORCODE: -1", False), ("[ERROR] A fatal exception has occurred", True)]:
    row(U + " example 2", 'ERROR -Exiting', m, ok)
    row(U + " example 2 (as printed)", '"ERROR" - "Exiting"', m, ok)
for m, ok in [("[ERROR] Caught IllegalArgumentException", True), ("[ERROR] Unhandled Exception", True),
              ("Exiting with ERRORCODE: -1", False)]:
    row(U + " example 3", "ERROR Exception", m, ok)
for m in ["[WARN] Failed to process the request", "[ERROR] Unable to continue: Failed to process the request"]:
    row(U + " example 3", '"Failed to process the request"', m, True)
row(U + " (case sensitive)", "error", "[ERROR] A fatal exception has occurred", False)
OR = ["ERROR WARN message", "ERROR message", "WARN message"]
O = "cwl-ug (OR Pattern Matching)"
for pattern, hits in [("ERROR", [0, 1]), ("?ERROR ?WARN", [0, 1, 2]), ("ERROR WARN", [0]), ("ERROR -WARN", [1])]:
    for k, m in enumerate(OR):
        row(O, pattern, m, k in hits)
for pattern, names, hits in [("[w1=ERROR, w2]", ["w1", "w2"], [1]), ("[w1=ERROR || w1=WARN, w2]", ["w1", "w2"], [1, 2])]:
    for k, m in enumerate(OR):
        row(O + " space-delimited", pattern, m, k in hits, extract(names, m) if k in hits else None)
for pattern, hits in [("{$.foo = bar}", [0]), ("{$.foo = baz }", [1]), ("{$.foo = bar || $.foo = baz }", [0, 1])]:
    for k, m in enumerate(['{"foo": "bar"}', '{"foo": "baz"}']):
        row(O + " JSON", pattern, m, k in hits)

# --- cwl-ug: JSON --------------------------------------------------------------------------
J = "cwl-ug (JSON Metric Filter Examples)"
for p in ['{ $.eventType = "UpdateTrail" }', "{ $.sourceIPAddress != 123.123.* }", '{ $.arrayKey[0] = "value" }',
          "{ $.objectList[1].id = 2 }", "{ $.SomeObject IS NULL }", "{ $.SomeOtherObject NOT EXISTS }",
          "{ $.ThisFlag IS TRUE }"]:
    row(J, p, "doc_json", True)
for p in ['{ $.eventType = "CreateTrail" }', "{ $.sourceIPAddress != 111.111.* }", '{ $.arrayKey[1] = "value" }',
          "{ $.objectList[0].id = 2 }", "{ $.ThisFlag IS NULL }", "{ $.SomeObject NOT EXISTS }",
          "{ $.ThisFlag IS FALSE }", "{ $.objectList[5].id = 2 }", "{ $.eventType[0] = UpdateTrail }"]:
    row(J + " (negated by the stated rule)", p, "doc_json", False)
W = "cwl-ug (STRING wildcards: *Event, Event*, Ev*ent is literal)"
row(W, "{ $.eventType = *Trail }", "doc_json", True)
row(W, "{ $.eventType = Update* }", "doc_json", True)
row(W, "{ $.eventType = Up*Trail }", "doc_json", False)
row(W, '{ $.eventType = "Up*Trail" }', '{"eventType":"Up*Trail"}', True)
C = "cwl-ug (JSON Compound Conditions)"
row(C, '{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', "doc_compound", True)
row(C, '{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', "doc_compound", False)
row(C, '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }', "doc_compound", True)
row(C, '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }', "doc_compound", False)
row(C + " (nested arrays)", "{ $.coordinates[2][1] = 8 }", "doc_compound", True)
S = "cwl-ug (JSON Special Considerations)"
row(S, "{$.users = 1}", '{"users": [1, 2, 3]}', False)
row(S, "{$.users != 1}", '{"users": [1, 2, 3]}', False)
N = "cwl-ug (Numeric Comparisons; event written for this table)"
for p, ok in [("{ $.latency >= 500 }", True), ("{ $.numbers[0] < 10e3 }", True), ("{ $.numbers[0] < 10e-3 }", False),
              ("{ $.numbers[1] < 10e3 }", False), ("{ $.processes[4].averageRuntime <= 55.5 }", True),
              ("{ $.errorCode = 400 }", True), ("{ $.errorCode != 500 }", True), ("{ $.latency > +1000 }", False),
              ("{ $.latency = 812.0 }", True), ("{ $.errorCode != 400 }", False)]:
    row(N, p, "numeric", ok)

# --- cwl-ug: space-delimited -------------------------------------------------------------------
D = "cwl-ug (Using Metric Filters to Extract Values from Space-Delimited Log Events)"
full = ["ip", "user", "username", "timestamp", "request", "status_code", "bytes"]
cases = [
    ("[ip, user, username, timestamp, request, status_code, bytes]", full, list(APACHE)),
    ("[..., status_code, bytes]", ["...", "status_code", "bytes"], list(APACHE)),
    ("[ip, user, ..., status_code, bytes]", ["ip", "user", "...", "status_code", "bytes"], list(APACHE)),
    ("[ip, user, ...]", ["ip", "user", "..."], list(APACHE)),
    ("[ip, user, username, timestamp, request, status_code, bytes > 1000]", full, list(APACHE)),
    ("[ip, user, username, timestamp, request, status_code = 200, bytes]", full, ["apache_200_a", "apache_200_b"]),
    ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", full, ["apache_404_html"]),
    ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", full, ["apache_404_html"]),
    ("[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]", full, ["apache_404_html"]),
    ("[..., request=*.html*, status_code=4*,]", ["...", "request", "status_code", ""], ["apache_404_html"]),
    ("[ip, user, username]", ["ip", "user", "username"], []),
]
for pattern, names, hits in cases:
    for m in APACHE:
        row(D, pattern, m, m in hits, extract(names, APACHE[m]) if m in hits else None)

# --- cwl-ug-current: regex and match-all ---------------------------------------------------------
R = "cwl-ug-current (Supported regular expressions syntax)"
row(R, "%ERROR%", "[ERROR 400] BAD REQUEST", True)
row(R, "%4[0-9]{2}%", "[ERROR 419] MISSING ARGUMENTS", True)
row(R, "%4[0-9]{2}%", "[INFO 200] OK", False)
row(R, "%^INFO%", "INFO started", True)
row(R, "%^INFO%", "[INFO] started", False)
row(R, "{ $.eventType = %Update[A-Za-z]+% }", "doc_json", True)
row(R, "[..., status_code = %^4[0-9]{2}$%, bytes]", "apache_404_html", True,
    extract(["...", "status_code", "bytes"], APACHE["apache_404_html"]))
row(R, "[..., status_code = %^4[0-9]{2}$%, bytes]", "apache_500", False)
error(R, "%something!%", "Invalid metric filter pattern")
error(R, "%(a|b)%", "Invalid metric filter pattern")
error(R + " (at most 2 regex per pattern)", "{ $.a = %a% || $.b = %b% || $.c = %c% }",
      "Invalid metric filter pattern: at most 2 regular expressions are allowed in a filter pattern.")
row("cwl-ug-current (Match everything)", '" "', "WARN message", True)
row("cwl-ug-current (Match everything)", '" "', "nospaceshere", True)

# --- spec 2.7 worked examples ---------------------------------------------------------------
P = "spec monitoring.md 2.7"
T = [
    ("", ["E1", "E2", "E3", "E4"], []),
    ("ERROR", ["E3"], ["E4"]),
    ("error", [], ["E3"]),
    ("ERROR request", ["E3"], ["E4"]),
    ('"Failed to process"', ["E3"], ["E4"]),
    ('ERROR -"worker-3"', [], ["E3"]),
    ("?WARN ?Failed", ["E3"], ["E4"]),
    ("%ERROR|WARN%", ["E3"], ["E4"]),
    ("[ip, ident, user, ts, request, status=403, bytes]", ["E4"], ["E3"]),
    ("[..., status=4*, bytes>1000]", ["E4"], ["E3"]),
    ("[ip=198.51.*, ...]", ["E4"], ["E3"]),
    ("[..., status!=403, bytes]", [], ["E4"]),
    ("[ip, ident, user, ts, request=*admin*, status, bytes]", ["E4"], []),
    ("{ $.eventName = PutUserPolicy }", ["E1"], ["E2", "E3"]),
    ('{ $.eventName = "PutUser*" }', ["E1"], ["E2"]),
    ('{ $.eventName = "*Policy" }', ["E1"], ["E2"]),
    ('{ $.errorCode != "AccessDenied" }', [], ["E1", "E2"]),
    ("{ $.userIdentity.invokedBy IS NULL }", ["E1"], ["E2"]),
    ("{ $.userIdentity.invokedBy NOT EXISTS }", ["E2"], ["E1"]),
    ("{ $.readOnly IS FALSE }", ["E1", "E2"], []),
    ("{ $.latency >= 500 }", ["E1"], ["E2"]),
    ("{ $.latency = 8* }", ["E1"], ["E2"]),
    ('{ $.tags[1] = "eu" }', ["E1"], ["E2"]),
    ('{ $.tags = "prod" }', [], ["E1"]),
    ('{ $.userIdentity = "Root" }', [], ["E2"]),
    ('{ $.resources[0].type = "AWS::IAM::User" }', ["E1"], ["E2"]),
    ("{ $.sourceIPAddress != 203.0.113.* }", ["E2"], ["E1"]),
    ("{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }", ["E2"], ["E1"]),
    ('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }', ["E2"], ["E1"]),
    ('{ $.errorCode = "*UnauthorizedOperation" || $.errorCode = "AccessDenied*" }', ["E1"], ["E2"]),
    ("{ $.eventName = %Put[A-Za-z]+Policy% }", ["E1"], ["E2"]),
]
SLOTS = {
    "[ip, ident, user, ts, request, status=403, bytes]": ["ip", "ident", "user", "ts", "request", "status", "bytes"],
    "[..., status=4*, bytes>1000]": ["...", "status", "bytes"],
    "[ip=198.51.*, ...]": ["ip", "..."],
    "[ip, ident, user, ts, request=*admin*, status, bytes]": ["ip", "ident", "user", "ts", "request", "status", "bytes"],
}
for pattern, yes, no in T:
    for m in yes:
        row(P, pattern, m, True, extract(SLOTS[pattern], SPEC[m]) if pattern in SLOTS else None)
    for m in no:
        row(P, pattern, m, False)
row(P + " (&& binds tighter)", "{ $.a = 1 || $.b = 2 && $.c = 3 }", '{"a":1,"b":9}', True)
row(P + " (&& binds tighter)", "{ ($.a = 1 || $.b = 2) && $.c = 3 }", '{"a":1,"b":9}', False)
row(P + " (whitespace optional)", "{$.eventName=PutUserPolicy}", "E1", True)
row(P + " (quoted number is a string)", '{ $.latency = "15" }', "E2", True)
row(P + " (quoted number is a string)", '{ $.latency = "812" }', "E1", False)
error(P, "ERROR:", "Invalid character(s) in term ':'")
error(P, '{ $.eventType > "x" }', "Invalid metric filter pattern")
error(P + " 2.4", '{ $."detail-type" = x }', "Invalid metric filter pattern")
error(P + " 2.4 rule 12", "{ $.a[*] = 1 }", "Invalid metric filter pattern")
error(P + " 2.3", "[a, ..., b, ...]", "Invalid metric filter pattern")
error(P + " 2.4", "{ $.a = 1 ", "Invalid metric filter pattern")
error(P + " 2.4", "{ $.a IS MAYBE }", "Invalid metric filter pattern")
error(P + " 2.2", "ERROR,WARN", "Invalid character(s) in term ','")
error(P + " 2.2", "(ERROR)", "Invalid character(s) in term '('")

# --- CIS against realistic CloudTrail records -------------------------------------------------
for source, pattern, oracle in CIS:
    for rec in CIS_RECORDS[source]:
        row(source + " (spec monitoring.md 6) vs realistic CloudTrail record", pattern, rec,
            bool(oracle(json.loads(RECORDS[rec]))))

print(json.dumps({
    "about": "Filter-pattern conformance table; see conformance_gen.py for the sources. A message "
             "starting with @ names an entry of `messages`.",
    "messages": MESSAGES,
    "rows": [r for r in rows if r is not None],
}, indent=1))
