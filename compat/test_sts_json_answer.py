"""GetCallerIdentity answers in JSON when asked (outside tester sdk6; XML before): token
verifiers (aws-iam-authenticator for EKS, Vault's AWS auth) send a presigned
GetCallerIdentity with `Accept: application/json` and parse STS's JSON form."""

import json

import urllib3


def test_a_presigned_get_caller_identity_answers_json_when_asked(cairn):
    sts = cairn.client("sts")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    http = urllib3.PoolManager()
    got = http.request("GET", url, headers={"Accept": "application/json"})
    assert got.status == 200, got.data
    assert got.headers["Content-Type"] == "application/json"
    body = json.loads(got.data)
    result = body["GetCallerIdentityResponse"]["GetCallerIdentityResult"]
    assert result == {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root",
                      "UserId": "123456789012"}
    assert body["GetCallerIdentityResponse"]["ResponseMetadata"]["RequestId"] == \
        got.headers["x-amzn-RequestId"]
    # Without the header, XML as before.
    xml = http.request("GET", url)
    assert xml.status == 200 and xml.data.startswith(b"<GetCallerIdentityResponse"), xml.data
