"""SNS API surface beyond publishing: signed ConfirmSubscription (with
AuthenticateOnUnsubscribe), AddPermission/RemovePermission, topic tags (TagResource,
UntagResource, ListTagsForResource, CreateTopic's Tags), CreateTopic's idempotency rules,
ListTopics paging, unknown actions, delivery- and filter-policy limits, and confirmation
retries that stop once a subscription is confirmed."""

import json
import queue
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from botocore.exceptions import ClientError


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    err = e.value.response["Error"]
    return err["Code"], err["Message"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture()
def endpoint():
    """An HTTP subscriber; `fail_confirmations` makes it answer 500 to confirmations."""
    received = queue.Queue()
    state = {"fail_confirmations": False}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            kind = self.headers["x-amz-sns-message-type"]
            received.put((kind, json.loads(body)))
            failing = state["fail_confirmations"] and kind == "SubscriptionConfirmation"
            self.send_response(500 if failing else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", received, state
    httpd.shutdown()


def next_of(received, kind):
    """The next message of this type (others before it are skipped), within 10 s."""
    while True:
        got, msg = received.get(timeout=10)
        if got == kind:
            return msg


def test_confirm_subscription_signed_and_authenticate_on_unsubscribe(cairn, endpoint):
    url, received, _ = endpoint
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="confirm-api")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
    token = next_of(received, "SubscriptionConfirmation")["Token"]

    code, message, status = error_of(sns.confirm_subscription, TopicArn=topic, Token="0" * 64)
    assert (code, message, status) == ("InvalidParameter", "Invalid parameter: Token", 400)

    arn = sns.confirm_subscription(TopicArn=topic, Token=token,
                                   AuthenticateOnUnsubscribe="true")["SubscriptionArn"]
    assert arn.startswith(topic + ":")
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"
    assert attrs["ConfirmationWasAuthenticated"] == "true"
    # Confirming again with the same token returns the same subscription.
    assert sns.confirm_subscription(TopicArn=topic, Token=token)["SubscriptionArn"] == arn

    # The unsigned UnsubscribeURL no longer removes it; a signed Unsubscribe does.
    sns.publish(TopicArn=topic, Message="hi")
    note = next_of(received, "Notification")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(note["UnsubscribeURL"])
    assert e.value.code == 403 and b"<Code>AuthorizationError</Code>" in e.value.read()
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]] == [arn]
    sns.unsubscribe(SubscriptionArn=arn)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []

    # The CLI too, and without AuthenticateOnUnsubscribe the link keeps working.
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
    token = next_of(received, "SubscriptionConfirmation")["Token"]
    out = cairn.cli("sns", "confirm-subscription", "--topic-arn", topic, "--token", token)
    arn = json.loads(out.stdout)["SubscriptionArn"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attrs["ConfirmationWasAuthenticated"] == "false"
    sns.publish(TopicArn=topic, Message="hi")
    urllib.request.urlopen(next_of(received, "Notification")["UnsubscribeURL"]).read()
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_add_and_remove_permission_edit_the_policy(cairn):
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="perms")["TopicArn"]
    sns.add_permission(TopicArn=topic, Label="share", AWSAccountId=["111122223333", "444455556666"],
                       ActionName=["Publish", "GetTopicAttributes"])
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    statement = [s for s in policy["Statement"] if s["Sid"] == "share"][0]
    assert statement == {
        "Sid": "share", "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]},
        "Action": ["SNS:Publish", "SNS:GetTopicAttributes"], "Resource": topic}
    assert [s["Sid"] for s in policy["Statement"]] == ["__default_statement_ID", "share"]

    code, message, _ = error_of(sns.add_permission, TopicArn=topic, Label="share",
                                AWSAccountId=["111122223333"], ActionName=["Publish"])
    assert code == "InvalidParameter" and "Statement already exists" in message
    code, _, _ = error_of(sns.add_permission, TopicArn=topic, Label="bad",
                          AWSAccountId=["111122223333"], ActionName=["NoSuchAction"])
    assert code == "InvalidParameter"
    code, _, status = error_of(sns.add_permission, TopicArn=topic + "-missing", Label="x",
                               AWSAccountId=["111122223333"], ActionName=["Publish"])
    assert (code, status) == ("NotFound", 404)

    sns.remove_permission(TopicArn=topic, Label="share")
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["__default_statement_ID"]
    out = cairn.cli("sns", "add-permission", "--topic-arn", topic, "--label", "cli",
                    "--aws-account-id", "111122223333", "--action-name", "Publish")
    assert out.returncode == 0


def test_topic_tags(cairn):
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="tagged", Tags=[{"Key": "team", "Value": "ops"}])["TopicArn"]
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "team", "Value": "ops"}]
    sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "team", "Value": "sec"}, {"Key": "env", "Value": ""}])
    tags = sns.list_tags_for_resource(ResourceArn=topic)["Tags"]
    assert sorted(tags, key=lambda t: t["Key"]) == [{"Key": "env", "Value": ""}, {"Key": "team", "Value": "sec"}]
    sns.untag_resource(ResourceArn=topic, TagKeys=["env", "absent"])
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "team", "Value": "sec"}]

    code, _, status = error_of(sns.list_tags_for_resource, ResourceArn=topic + "-missing")
    assert (code, status) == ("ResourceNotFound", 404)
    code, _, _ = error_of(sns.tag_resource, ResourceArn=topic, Tags=[{"Key": "aws:x", "Value": "v"}])
    assert code == "InvalidParameter"
    code, _, _ = error_of(sns.tag_resource, ResourceArn=topic, Tags=[{"Key": "k" * 129, "Value": "v"}])
    assert code == "InvalidParameter"
    code, _, _ = error_of(sns.tag_resource, ResourceArn=topic, Tags=[{"Key": "k", "Value": "v" * 257}])
    assert code == "InvalidParameter"
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    code, _, status = error_of(sns.tag_resource, ResourceArn=topic, Tags=many)
    assert (code, status) == ("TagLimitExceeded", 400)
    sns.tag_resource(ResourceArn=topic, Tags=many[:49])
    assert len(sns.list_tags_for_resource(ResourceArn=topic)["Tags"]) == 50
    cli = cairn.cli("sns", "list-tags-for-resource", "--resource-arn", topic)
    assert len(json.loads(cli.stdout)["Tags"]) == 50


def test_create_topic_is_idempotent_only_with_the_same_attributes_and_tags(cairn):
    sns = cairn.client("sns")
    arn = sns.create_topic(Name="same", Attributes={"DisplayName": "d"},
                           Tags=[{"Key": "k", "Value": "v"}])["TopicArn"]
    assert sns.create_topic(Name="same", Attributes={"DisplayName": "d"})["TopicArn"] == arn
    assert sns.create_topic(Name="same")["TopicArn"] == arn
    assert sns.create_topic(Name="same", Tags=[{"Key": "k", "Value": "v"}])["TopicArn"] == arn
    code, message, status = error_of(sns.create_topic, Name="same", Attributes={"DisplayName": "other"})
    assert (code, status) == ("InvalidParameter", 400)
    assert message == "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
    code, message, _ = error_of(sns.create_topic, Name="same", Tags=[{"Key": "k", "Value": "w"}])
    assert code == "InvalidParameter"
    assert message == "Invalid parameter: Tags Reason: Topic already exists with different tags"
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "d"
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]


def test_list_topics_pages_and_refuses_a_bogus_token(cairn):
    sns = cairn.client("sns")
    made = {sns.create_topic(Name=f"page-{i:03}")["TopicArn"] for i in range(105)}
    first = sns.list_topics()
    assert len(first["Topics"]) == 100 and first["NextToken"]
    second = sns.list_topics(NextToken=first["NextToken"])
    assert "NextToken" not in second
    listed = {t["TopicArn"] for t in first["Topics"] + second["Topics"]}
    assert made <= listed
    code, message, status = error_of(sns.list_topics, NextToken="bogus")
    assert (code, message, status) == ("InvalidParameter", "Invalid parameter: NextToken", 400)


def test_unknown_action_is_invalid_action(cairn):
    sns = cairn.client("sns")
    sns.meta.events.register("before-call.sns.ListTopics", lambda params, **_: params["body"].update(Action="NoSuchThing"))
    code, message, status = error_of(sns.list_topics)
    assert (code, status) == ("InvalidAction", 400)
    assert message == "The action NoSuchThing is not valid for this web service."


def test_delivery_and_filter_policy_limits(cairn, endpoint):
    url, received, _ = endpoint
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="limits")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url,
                        ReturnSubscriptionArn=True)["SubscriptionArn"]

    def refused(name, value):
        code, message, status = error_of(sns.set_subscription_attributes, SubscriptionArn=sub,
                                         AttributeName=name, AttributeValue=value)
        assert (code, status) == ("InvalidParameter", 400), value
        return message

    retry = lambda **p: json.dumps({"healthyRetryPolicy": p})
    assert "numRetries" in refused("DeliveryPolicy", retry(numRetries=200))
    refused("DeliveryPolicy", retry(numRetries=-1))
    refused("DeliveryPolicy", retry(minDelayTarget=0, maxDelayTarget=20, numRetries=3))
    refused("DeliveryPolicy", retry(minDelayTarget=30, maxDelayTarget=20, numRetries=3))
    refused("DeliveryPolicy", retry(minDelayTarget=1, maxDelayTarget=3601, numRetries=3))
    refused("DeliveryPolicy", retry(numRetries=3, numNoDelayRetries=2, numMinDelayRetries=2))
    refused("DeliveryPolicy", retry(numRetries=3, backoffFunction="cubic"))
    refused("DeliveryPolicy", retry(minDelayTarget=100, maxDelayTarget=100, numRetries=100))
    refused("DeliveryPolicy", json.dumps({"throttlePolicy": {"maxReceivesPerSecond": 0}}))
    refused("DeliveryPolicy", json.dumps({"requestPolicy": {"headerContentType": "text/html"}}))
    ok = retry(minDelayTarget=1, maxDelayTarget=30, numRetries=100, numNoDelayRetries=10,
               backoffFunction="exponential")
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="DeliveryPolicy", AttributeValue=ok)
    code, _, _ = error_of(sns.set_topic_attributes, TopicArn=topic, AttributeName="DeliveryPolicy",
                          AttributeValue=json.dumps({"http": {"defaultHealthyRetryPolicy": {"numRetries": 101}}}))
    assert code == "InvalidParameter"
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy",
                             AttributeValue=json.dumps({"http": {"defaultHealthyRetryPolicy": {"numRetries": 5}}}))

    big = json.dumps({"k": [str(i) for i in range(200)]})
    assert refused("FilterPolicy", big) == "Invalid parameter: FilterPolicy: Filter policy is too complex"
    product = json.dumps({"a": [str(i) for i in range(10)], "b": [str(i) for i in range(16)]})
    refused("FilterPolicy", product)
    fits = json.dumps({"a": [str(i) for i in range(10)], "b": [str(i) for i in range(15)]})
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=fits)


def test_confirmation_retries_stop_once_confirmed(cairn, endpoint):
    url, received, state = endpoint
    state["fail_confirmations"] = True
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="retries")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
    confirmation = next_of(received, "SubscriptionConfirmation")
    urllib.request.urlopen(confirmation["SubscribeURL"]).read()
    sent = sns.publish(TopicArn=topic, Message="right away")["MessageId"]
    # The endpoint answered 500 to the confirmation, whose retries wait 20 s each; the
    # notification must not wait behind them, nor must the confirmation come again.
    kind, msg = received.get(timeout=10)
    assert kind == "Notification" and msg["MessageId"] == sent


def test_an_sns_data_selector_records_publish_with_its_topic(cairn):
    """An advanced selector on `resources.type` `AWS::SNS::Topic` selects Publish, whose
    record names the topic among its resources (found by an outside tester: accepted, never
    recorded)."""
    from conftest import cloudtrail_policy
    s3, ct, sns = cairn.client("s3"), cairn.client("cloudtrail"), cairn.client("sns")
    s3.create_bucket(Bucket="sns-data-trail")
    s3.put_bucket_policy(Bucket="sns-data-trail", Policy=cloudtrail_policy("sns-data-trail"))
    picked = sns.create_topic(Name="picked")["TopicArn"]
    other = sns.create_topic(Name="other")["TopicArn"]
    ct.create_trail(Name="sns-data", S3BucketName="sns-data-trail")
    ct.put_event_selectors(TrailName="sns-data", AdvancedEventSelectors=[{"Name": "sns", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::SNS::Topic"]},
        {"Field": "resources.ARN", "Equals": [picked]}]}])
    ct.start_logging(Name="sns-data")
    sns.publish(TopicArn=picked, Message="selected", Subject="s",
                MessageAttributes={"a": {"DataType": "String", "StringValue": "v"}})
    sns.publish(TopicArn=other, Message="not selected")
    published = [r for r in cairn.records("Data") if r["eventName"] == "Publish"]
    assert len(published) == 1, published
    assert published[0]["resources"] == [{"accountId": "123456789012", "type": "AWS::SNS::Topic", "ARN": picked}]
    assert published[0]["managementEvent"] is False and published[0]["eventCategory"] == "Data"
    # AWS's example Publish record names the members it hides (the secrets tester found them
    # missing); the text itself is never recorded.
    hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"
    assert published[0]["requestParameters"] == {
        "topicArn": picked, "message": hidden, "subject": hidden, "messageAttributes": hidden}
    ct.delete_trail(Name="sns-data")


def test_or_and_cidr_filters_resubscribe_and_bad_topic_arns(cairn, endpoint):
    url, received, _ = endpoint
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="or-cidr")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url,
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    urllib.request.urlopen(next_of(received, "SubscriptionConfirmation")["SubscribeURL"]).read()
    # The SNS developer guide's operators: `$or` of two policies, and `cidr` blocks.
    policy = {"$or": [{"kind": ["alarm"]}, {"source_ip": [{"cidr": "10.0.0.0/24"}]}]}
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps(policy))
    attr = lambda k, v: {k: {"DataType": "String", "StringValue": v}}  # noqa: E731
    for body, attrs in [("by-kind", attr("kind", "alarm")), ("other-kind", attr("kind", "info")),
                        ("in-block", attr("source_ip", "10.0.0.7")),
                        ("out-of-block", attr("source_ip", "10.0.1.7")), ("last", attr("kind", "alarm"))]:
        sns.publish(TopicArn=topic, Message=body, MessageAttributes=attrs)
    got = [next_of(received, "Notification")["Message"] for _ in range(3)]
    assert got == ["by-kind", "in-block", "last"]

    # Subscribing again is idempotent only with the same attributes.
    assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url,
                         ReturnSubscriptionArn=True)["SubscriptionArn"] == sub
    code, message, status = error_of(sns.subscribe, TopicArn=topic, Protocol="http", Endpoint=url,
                                     Attributes={"RawMessageDelivery": "true"})
    assert (code, status) == ("InvalidParameter", 400)
    assert message == ("Invalid parameter: Attributes Reason: Subscription already exists "
                       "with different attributes")
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs.get("RawMessageDelivery", "false") == "false"

    # A TopicArn that is no SNS ARN of this region is a parameter mistake, not a missing topic.
    code, message, status = error_of(sns.publish, TopicArn="garbage", Message="x")
    assert (code, status) == ("InvalidParameter", 400)
    assert message == "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"
    west = topic.replace("us-east-1", "us-west-2")
    assert error_of(sns.get_topic_attributes, TopicArn=west)[:2] == (
        "InvalidParameter", "Invalid parameter: TopicArn")
    assert error_of(sns.delete_topic, TopicArn="garbage")[0] == "InvalidParameter"
    assert error_of(sns.publish, TopicArn=topic + "-missing", Message="x")[0] == "NotFound"


def test_an_unsubscribe_confirmation_link_restores_the_subscription(cairn, endpoint):
    """SNS's UnsubscribeConfirmation: "To cancel this operation and restore the subscription,
    visit the SubscribeURL included in this message" (its Token works with
    ConfirmSubscription too)."""
    url, received, _ = endpoint
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="restorable")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url,
                        Attributes={"RawMessageDelivery": "true"},
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    urllib.request.urlopen(next_of(received, "SubscriptionConfirmation")["SubscribeURL"]).read()
    sns.unsubscribe(SubscriptionArn=sub)
    gone = next_of(received, "UnsubscribeConfirmation")
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    body = urllib.request.urlopen(gone["SubscribeURL"]).read().decode()
    assert "<SubscriptionArn>" in body
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Endpoint"], s["SubscriptionArn"] != "PendingConfirmation") for s in subs] == [(url, True)]
    restored = subs[0]["SubscriptionArn"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=restored)["Attributes"]
    assert attrs["RawMessageDelivery"] == "true"
    # The token again names the same subscription; a token of another topic does not.
    assert sns.confirm_subscription(TopicArn=topic, Token=gone["Token"])["SubscriptionArn"] == restored
    other = sns.create_topic(Name="restorable-other")["TopicArn"]
    assert error_of(sns.confirm_subscription, TopicArn=other, Token=gone["Token"])[0] == "InvalidParameter"


def test_subscribing_again_with_the_same_policy_in_other_words_is_idempotent(cairn, endpoint):
    url, received, _ = endpoint
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="same-words")["TopicArn"]
    first = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url,
                          Attributes={"FilterPolicy": '{"a": ["x"], "b": ["y"]}'},
                          ReturnSubscriptionArn=True)["SubscriptionArn"]
    again = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url,
                          Attributes={"FilterPolicy": '{"b":["y"],"a":["x"]}',
                                      "FilterPolicyScope": "MessageAttributes"},
                          ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert again == first
    assert error_of(sns.subscribe, TopicArn=topic, Protocol="http", Endpoint=url,
                    Attributes={"FilterPolicy": '{"a": ["z"]}'})[0] == "InvalidParameter"


def test_an_unknown_subscription_attribute_is_refused_with_an_empty_value_too(cairn):
    """sns7: SetSubscriptionAttributes with a name SNS does not have and an empty value was
    answered 200 (and recorded as a success) though nothing changed."""
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="unknown-attr")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="a@example.com",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    for name in ("Foo", "Endpoint", "Filterpolicy"):
        code = error_of(sns.set_subscription_attributes, SubscriptionArn=sub,
                        AttributeName=name, AttributeValue="")[0]
        assert code == "InvalidParameter", name
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue="")


def test_a_malformed_anything_but_list_is_refused(cairn):
    """sns7: anything-but lists holding an object, null, nothing, or strings and numbers
    together were taken and then excluded nothing, so every message was delivered."""
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="anything-but")["TopicArn"]
    for values in ([{"prefix": "prod"}], [None], [], ["a", 1]):
        policy = json.dumps({"env": [{"anything-but": values}]})
        code = error_of(sns.subscribe, TopicArn=topic, Protocol="email", Endpoint="a@example.com",
                        Attributes={"FilterPolicy": policy})[0]
        assert code == "InvalidParameter", values
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="a@example.com",
                  Attributes={"FilterPolicy": json.dumps({"env": [{"anything-but": ["prod", "dev"]}]})})


def test_a_message_attribute_named_twice_is_refused(cairn):
    """sns7: a hand-built Publish naming `env` twice (dev, then prod) was filtered on the
    first value and delivered with the last; MessageAttributes is a map."""
    from botocore.credentials import Credentials
    from conftest import ACCESS_KEY, SECRET
    from test_hostile_fifth_pass import sns as send_sns
    topic = cairn.client("sns").create_topic(Name="dup-attrs")["TopicArn"]
    entry = lambda n, v: {f"MessageAttributes.entry.{n}.Name": "env",  # noqa: E731
                          f"MessageAttributes.entry.{n}.Value.DataType": "String",
                          f"MessageAttributes.entry.{n}.Value.StringValue": v}
    status, body = send_sns(cairn, Credentials(ACCESS_KEY, SECRET), {
        "Action": "Publish", "TopicArn": topic, "Message": "m", **entry(1, "dev"), **entry(2, "prod")})
    assert status == 400 and "<Code>InvalidParameter</Code>" in body, body
    assert "given more than once" in body, body


def test_a_signed_confirmation_is_the_callers_call(cairn, endpoint):
    """sns8: a signed ConfirmSubscription was never authorized, so a caller denied sns:*
    confirmed with AuthenticateOnUnsubscribe (locking the unsubscribe link). It needs
    sns:ConfirmSubscription on the topic, as on AWS; the unsigned link needs only the token."""
    from conftest import user_with
    url, received, _ = endpoint
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="confirm-denied")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
    token = next_of(received, "SubscriptionConfirmation")["Token"]
    denied = user_with(cairn, "sns-denied", [{"Effect": "Deny", "Action": "sns:*", "Resource": "*"}])("sns")
    code, _, status = error_of(denied.confirm_subscription, TopicArn=topic, Token=token,
                               AuthenticateOnUnsubscribe="true")
    assert (code, status) == ("AuthorizationError", 403)
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in subs] == ["PendingConfirmation"]
    allowed = user_with(cairn, "sns-confirmer", [
        {"Effect": "Allow", "Action": "sns:ConfirmSubscription", "Resource": topic}])("sns")
    assert allowed.confirm_subscription(TopicArn=topic, Token=token)["SubscriptionArn"].startswith(topic)
