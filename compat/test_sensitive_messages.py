"""A value the model marks sensitive is never quoted in a validation message (outside tester
iamapi5): a custom key store password of the wrong length was refused with "Value
'<password>' at 'keyStorePassword' …", and the record kept that message as its
errorMessage, so the password reached event history and the store."""

import json

import botocore.exceptions
import pytest

SECRET = "never-in-a-record-" + "x" * 30


def test_a_refused_password_is_not_quoted_in_the_error_or_the_record(cairn):
    kms = cairn.client("kms")
    for call in (lambda: kms.create_custom_key_store(CustomKeyStoreName="store", KeyStorePassword=SECRET),
                 lambda: kms.update_custom_key_store(CustomKeyStoreId="cks-1234567890abcdef0",
                                                     KeyStorePassword=SECRET)):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        message = e.value.response["Error"]["Message"]
        assert e.value.response["Error"]["Code"] == "ValidationException", message
        assert SECRET not in message and "Value at 'keyStorePassword'" in message, message
    ct = cairn.client("cloudtrail")
    for name in ("CreateCustomKeyStore", "UpdateCustomKeyStore"):
        events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])
        [event] = events["Events"]
        assert SECRET not in event["CloudTrailEvent"], event
        assert json.loads(event["CloudTrailEvent"])["errorCode"] == "ValidationException"
    assert SECRET not in cairn.admin("events")
