"""KMS through boto3: Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext) and
GenerateRandom, with exact encryption-context binding, rotation, and records that never carry
plaintext or ciphertext."""

import base64
import json
import os
import tempfile

import botocore.exceptions
import pytest

from conftest import Cairn, cairn_binary

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def server():
    keys = tempfile.TemporaryDirectory()
    master = os.path.join(keys.name, "master.key")
    with open(master, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(master, 0o600)
    s = Cairn(cairn_binary(), ["--kms-master-key-file", master])
    yield s
    s.stop()
    keys.cleanup()


@pytest.fixture(scope="module")
def kms(server):
    return server.client("kms")


@pytest.fixture
def key(kms):
    return kms.create_key()["KeyMetadata"]


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_round_trip_with_context(kms, key):
    ctx = {"Department": "IT", "purpose": "compat"}
    secret = os.urandom(100)
    enc = kms.encrypt(KeyId=key["KeyId"], Plaintext=secret, EncryptionContext=ctx)
    assert enc["KeyId"] == key["Arn"] and enc["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = enc["CiphertextBlob"]
    assert secret not in blob and len(blob) == len(secret) + 87
    dec = kms.decrypt(CiphertextBlob=blob, EncryptionContext=dict(reversed(list(ctx.items()))))
    assert dec["Plaintext"] == secret and dec["KeyId"] == key["Arn"]
    assert dec["KeyMaterialId"] == key["CurrentKeyMaterialId"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx, KeyId=key["Arn"])["Plaintext"] == secret


def test_context_mismatch_and_tampering_are_invalid_ciphertext(kms, key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"data", EncryptionContext={"a": "1"})["CiphertextBlob"]
    for ctx in ({}, {"a": "2"}, {"A": "1"}, {"a": "1", "b": "2"}):
        with pytest.raises(kms.exceptions.InvalidCiphertextException) as e:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)
        assert e.value.response["Error"].get("Message", "") == ""
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    for bad in (bytes(tampered), b"\x01\x02\x03" + os.urandom(150), blob[:40]):
        with pytest.raises(kms.exceptions.InvalidCiphertextException):
            kms.decrypt(CiphertextBlob=bad, EncryptionContext={"a": "1"})


def test_wrong_key_and_other_region(server, kms, key):
    other = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"data")["CiphertextBlob"]
    with pytest.raises(kms.exceptions.IncorrectKeyException) as e:
        kms.decrypt(CiphertextBlob=blob, KeyId=other["KeyId"])
    assert e.value.response["Error"]["Message"] == "The key ID in the request does not identify a CMK that can perform this operation."
    west = server.client("kms", region="us-west-2")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        west.decrypt(CiphertextBlob=blob)
    assert code(e) == "AccessDeniedException"
    assert e.value.response["Error"]["Message"].startswith("The ciphertext refers to a customer master key that does not exist")


def test_rotation_keeps_old_ciphertexts_decryptable(kms, key):
    old = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"before")["CiphertextBlob"]
    kms.rotate_key_on_demand(KeyId=key["KeyId"])
    new = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"after")["CiphertextBlob"]
    a, b = kms.decrypt(CiphertextBlob=old), kms.decrypt(CiphertextBlob=new)
    assert (a["Plaintext"], b["Plaintext"]) == (b"before", b"after")
    assert a["KeyMaterialId"] != b["KeyMaterialId"]
    assert a["KeyMaterialId"] == key["CurrentKeyMaterialId"]


def test_disabled_key_cannot_decrypt_until_enabled(kms, key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(kms.exceptions.DisabledException):
        kms.decrypt(CiphertextBlob=blob)
    kms.enable_key(KeyId=key["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_generate_data_keys(kms, key):
    kms.create_alias(AliasName="alias/data-keys", TargetKeyId=key["KeyId"])
    ctx = {"aws:s3:arn": "arn:aws:s3:::bucket/object"}
    for kw, size in (({"KeySpec": "AES_256"}, 32), ({"KeySpec": "AES_128"}, 16), ({"NumberOfBytes": 64}, 64)):
        dk = kms.generate_data_key(KeyId="alias/data-keys", EncryptionContext=ctx, **kw)
        assert len(dk["Plaintext"]) == size and dk["KeyId"] == key["Arn"]
        assert kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext=ctx)["Plaintext"] == dk["Plaintext"]
    wp = kms.generate_data_key_without_plaintext(KeyId=key["Arn"], KeySpec="AES_256", EncryptionContext=ctx)
    assert "Plaintext" not in wp
    assert len(kms.decrypt(CiphertextBlob=wp["CiphertextBlob"], EncryptionContext=ctx)["Plaintext"]) == 32
    for kw in ({}, {"KeySpec": "AES_256", "NumberOfBytes": 32}):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            kms.generate_data_key(KeyId=key["KeyId"], **kw)
        assert code(e) == "ValidationException"
        assert e.value.response["Error"]["Message"] == "Please specify either number of bytes or key spec."
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.generate_data_key(KeyId=key["KeyId"], NumberOfBytes=2000)
    assert code(e) == "ValidationException"


def test_re_encrypt(kms, key):
    dest = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"moving", EncryptionContext={"from": "a"})["CiphertextBlob"]
    r = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"from": "a"},
                       DestinationKeyId=dest["KeyId"], DestinationEncryptionContext={"to": "b"})
    assert (r["SourceKeyId"], r["KeyId"]) == (key["Arn"], dest["Arn"])
    assert kms.decrypt(CiphertextBlob=r["CiphertextBlob"], EncryptionContext={"to": "b"})["Plaintext"] == b"moving"
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=dest["KeyId"])
    with pytest.raises(kms.exceptions.IncorrectKeyException):
        kms.re_encrypt(CiphertextBlob=blob, SourceKeyId=dest["KeyId"], SourceEncryptionContext={"from": "a"},
                       DestinationKeyId=dest["KeyId"])


def test_generate_random_and_limits(kms, key):
    r = kms.generate_random(NumberOfBytes=1024)["Plaintext"]
    assert len(r) == 1024 and r != kms.generate_random(NumberOfBytes=1024)["Plaintext"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.generate_random(NumberOfBytes=1025)
    assert code(e) == "ValidationException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x" * 4097)
    assert code(e) == "ValidationException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert code(e) == "InvalidKeyUsageException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", DryRun=True)
    assert code(e) == "DryRunOperationException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412


def test_records_never_carry_plaintext_or_ciphertext(server, kms, key):
    secret = os.urandom(48)
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=secret, EncryptionContext={"k": "v"})["CiphertextBlob"]
    kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "v"})
    dk = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256", EncryptionContext={"Case": "Kept"})
    ct = server.client("cloudtrail")
    records = [json.loads(e["CloudTrailEvent"]) for e in ct.lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": key["Arn"]}], MaxResults=50)["Events"]]
    text = json.dumps(records)
    for secretish in (secret, blob, dk["Plaintext"], dk["CiphertextBlob"]):
        assert base64.b64encode(secretish).decode() not in text
    by_name = {r["eventName"]: r for r in records}
    for name in ("Encrypt", "Decrypt", "GenerateDataKey"):
        r = by_name[name]
        assert r["readOnly"] is True and r["responseElements"] is None, name
        assert r["resources"][0]["type"] == "AWS::KMS::Key"
        assert len(r["additionalEventData"]["keyMaterialId"]) == 64
    assert by_name["GenerateDataKey"]["requestParameters"] == {
        "keyId": key["KeyId"], "keySpec": "AES_256", "encryptionContext": {"Case": "Kept"}}
    # KMS's Decrypt record always names the algorithm, even when the request did not.
    assert by_name["Decrypt"]["requestParameters"] == {
        "encryptionContext": {"k": "v"}, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}


def test_data_key_pairs_are_usable_and_their_private_key_decrypts(server, kms, key):
    """GenerateDataKeyPair(WithoutPlaintext): a real key pair (the public key as X.509 DER,
    the private key as PKCS#8 DER), the private key sealed under the symmetric key with the
    encryption context; neither key reaches the record."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding

    key = key["KeyId"]
    context = {"purpose": "pairs"}
    for spec in ("RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_SECG_P256K1",
                 "ECC_NIST_EDWARDS25519"):
        out = kms.generate_data_key_pair(KeyId=key, KeyPairSpec=spec, EncryptionContext=context)
        assert out["KeyPairSpec"] == spec and out["KeyId"].endswith(key)
        private = serialization.load_der_private_key(out["PrivateKeyPlaintext"], password=None)
        public = serialization.load_der_public_key(out["PublicKey"])
        message = b"signed by a data key pair"
        if spec.startswith("RSA"):
            sig = private.sign(message, padding.PKCS1v15(), hashes.SHA256())
            public.verify(sig, message, padding.PKCS1v15(), hashes.SHA256())
        elif spec == "ECC_NIST_EDWARDS25519":
            public.verify(private.sign(message), message)
        else:
            sig = private.sign(message, ec.ECDSA(hashes.SHA256()))
            public.verify(sig, message, ec.ECDSA(hashes.SHA256()))
        opened = kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"], EncryptionContext=context)
        assert opened["Plaintext"] == out["PrivateKeyPlaintext"], spec
    bare = kms.generate_data_key_pair_without_plaintext(KeyId=key, KeyPairSpec="ECC_NIST_P256")
    assert "PrivateKeyPlaintext" not in bare
    assert kms.decrypt(CiphertextBlob=bare["PrivateKeyCiphertextBlob"])["Plaintext"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.generate_data_key_pair(KeyId=key, KeyPairSpec="SM2")
    assert e.value.response["Error"]["Code"] == "UnsupportedOperationException"

    records = [json.loads(e["CloudTrailEvent"]) for e in server.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GenerateDataKeyPair"}])["Events"]]
    assert records and all(r["readOnly"] is True and r["responseElements"] is None for r in records)
    assert {r["requestParameters"]["keyPairSpec"] for r in records} >= {"RSA_2048", "ECC_NIST_P256"}
    assert all(r["requestParameters"]["encryptionContext"] == context
               for r in records if "errorCode" not in r)
