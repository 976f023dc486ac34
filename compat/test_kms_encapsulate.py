"""KMS's ML-KEM operations (kms8). `Encapsulate` and `Decapsulate` are KMS operations (API
reference; the model Cairn checks requests against has them), with the key spec
`ML_KEM_512/768/1024` and the usage `ENCAPSULATE_DECAPSULATE`. Cairn answered them
`UnknownOperationException`, unrecorded. As for the other operations of key usages Cairn
does not make, the call is now authorized and recorded, and a symmetric key gives
`InvalidKeyUsageException`; an ML-KEM key is refused as the other unsupported key specs are."""

import json

import botocore.exceptions
import pytest
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, SECRET


def kms_call(cairn, op, body):
    data = json.dumps(body).encode()
    req = AWSRequest("POST", cairn.endpoint + "/", data=data, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"TrentService.{op}"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), "kms", "us-east-1").add_auth(req)
    resp = urllib3.PoolManager().request("POST", req.url, body=data, headers=dict(req.headers.items()))
    return resp.status, json.loads(resp.data or b"{}")


def test_encapsulate_and_decapsulate_are_recorded_and_refused_as_aws_does(cairn):
    kms = cairn.client("kms")
    key = kms.create_key()["KeyMetadata"]
    status, got = kms_call(cairn, "Encapsulate", {"KeyId": key["KeyId"], "EncapsulationAlgorithm": "ML_KEM"})
    assert (status, got["__type"]) == (400, "InvalidKeyUsageException"), got
    assert got["message"] == f"{key['Arn']} key usage is ENCRYPT_DECRYPT which is not valid for Encapsulate."
    status, got = kms_call(cairn, "Decapsulate", {
        "KeyId": key["KeyId"], "EncapsulationAlgorithm": "ML_KEM", "SharedSecretCiphertextBlob": "AAAA"})
    assert got["__type"] == "InvalidKeyUsageException", got
    names = {e["EventName"] for e in cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventSource", "AttributeValue": "kms.amazonaws.com"}])["Events"]}
    assert {"Encapsulate", "Decapsulate"} <= names, names
    # The ML-KEM specs and usage are the model's: refused as unsupported, not as unknown values.
    for spec, usage in (("ML_KEM_768", "KEY_AGREEMENT"), ("SYMMETRIC_DEFAULT", "ENCAPSULATE_DECAPSULATE"),
                        ("ML_KEM_512", "ENCAPSULATE_DECAPSULATE")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            kms.create_key(KeySpec=spec, KeyUsage=usage)
        assert e.value.response["Error"]["Code"] == "UnsupportedOperationException", (spec, usage, e.value)
