"""Sign, Verify, GenerateMac, VerifyMac and DeriveSharedSecret on a symmetric encryption key,
the only kind Cairn makes, answer as AWS does (outside tester kms4): a disabled key is
`DisabledException`, a key pending deletion `KMSInvalidStateException`, and an enabled one
`InvalidKeyUsageException` ("… key usage is ENCRYPT_DECRYPT which is not valid for Sign.").
They used to answer `UnsupportedOperationException`, which these operations do not have, so
code catching the typed error AWS gives never saw it. Each call is still recorded."""

import json

import botocore.exceptions
import pytest

CALLS = {
    "Sign": lambda kms, key: kms.sign(KeyId=key, Message=b"m", MessageType="RAW",
                                      SigningAlgorithm="ECDSA_SHA_256"),
    "Verify": lambda kms, key: kms.verify(KeyId=key, Message=b"m", MessageType="RAW",
                                          SigningAlgorithm="RSASSA_PSS_SHA_256", Signature=b"s"),
    "GenerateMac": lambda kms, key: kms.generate_mac(KeyId=key, Message=b"m", MacAlgorithm="HMAC_SHA_256"),
    "VerifyMac": lambda kms, key: kms.verify_mac(KeyId=key, Message=b"m", MacAlgorithm="HMAC_SHA_256",
                                                 Mac=b"x"),
    "DeriveSharedSecret": lambda kms, key: kms.derive_shared_secret(
        KeyId=key, KeyAgreementAlgorithm="ECDH", PublicKey=b"p"),
}


def refusal(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_other_key_usages_answer_as_aws_does(cairn):
    kms = cairn.client("kms")
    enabled = kms.create_key()["KeyMetadata"]
    disabled = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=disabled)
    pending = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=pending, PendingWindowInDays=7)
    kms.create_alias(AliasName="alias/other-usages", TargetKeyId=enabled["KeyId"])
    for op, call in CALLS.items():
        code, message = refusal(lambda: call(kms, enabled["KeyId"]))
        assert code == "InvalidKeyUsageException", (op, code, message)
        assert message == f"{enabled['Arn']} key usage is ENCRYPT_DECRYPT which is not valid for {op}.", message
        assert refusal(lambda: call(kms, "alias/other-usages"))[0] == "InvalidKeyUsageException", op
        assert refusal(lambda: call(kms, disabled))[0] == "DisabledException", op
        assert refusal(lambda: call(kms, pending))[0] == "KMSInvalidStateException", op
        assert refusal(lambda: call(kms, "alias/none"))[0] == "NotFoundException", op
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "GenerateMac"}])["Events"]
    codes = sorted(json.loads(e["CloudTrailEvent"]).get("errorCode") for e in events)
    assert codes == ["DisabledException", "InvalidKeyUsageException", "InvalidKeyUsageException",
                     "KMSInvalidStateException", "NotFoundException"], codes


def test_their_input_is_checked_before_the_key(cairn):
    """recheck28: an oversized message is a ValidationException, as AWS checks input first;
    it used to be answered InvalidKeyUsageException."""
    kms = cairn.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    big = b"m" * 4097
    for call in (lambda: kms.sign(KeyId=key, Message=big, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"),
                 lambda: kms.generate_mac(KeyId=key, Message=big, MacAlgorithm="HMAC_SHA_256"),
                 lambda: kms.verify_mac(KeyId=key, Message=b"m", MacAlgorithm="HMAC_SHA_256", Mac=b"x" * 6145)):
        code, message = refusal(call)
        assert code == "ValidationException", (code, message)
        assert "failed to satisfy constraint: Member must have length less than or equal to" in message
