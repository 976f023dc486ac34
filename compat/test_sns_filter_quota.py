"""Filter policies per topic (sns7). SNS holds at most 200 filter policies per topic and
10,000 per account ("Amazon SNS endpoints and quotas") and refuses more with
`FilterPolicyLimitExceeded` (403). Cairn took any number, and every Publish read them all:
300 subscriptions with 256 KB policies made one Publish take a second and held other calls."""

import json

import pytest
from botocore.exceptions import ClientError

POLICY = json.dumps({"env": ["prod"]})


def code(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_a_topic_holds_at_most_200_filter_policies(cairn):
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="quota")["TopicArn"]
    arns = [sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=f"u{i}@example.com",
                          Attributes={"FilterPolicy": POLICY},
                          ReturnSubscriptionArn=True)["SubscriptionArn"]
            for i in range(200)]
    over = lambda: sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="late@example.com",
                                 Attributes={"FilterPolicy": POLICY})
    assert code(over) == ("FilterPolicyLimitExceeded", 403)
    # Without a policy a subscription is taken; it cannot be given one while the topic is full.
    plain = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="plain@example.com",
                          ReturnSubscriptionArn=True)["SubscriptionArn"]
    give = lambda: sns.set_subscription_attributes(
        SubscriptionArn=plain, AttributeName="FilterPolicy", AttributeValue=POLICY)
    assert code(give) == ("FilterPolicyLimitExceeded", 403)
    # Changing a policy a subscription already holds is no new one.
    sns.set_subscription_attributes(SubscriptionArn=arns[0], AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps({"env": ["dev"]}))
    # Removing one makes room; another topic has its own 200.
    sns.set_subscription_attributes(SubscriptionArn=arns[1], AttributeName="FilterPolicy",
                                    AttributeValue="{}")
    give()
    other = sns.create_topic(Name="quota-other")["TopicArn"]
    sns.subscribe(TopicArn=other, Protocol="email", Endpoint="o@example.com",
                  Attributes={"FilterPolicy": POLICY})


def test_a_restored_subscription_counts_against_the_quota(cairn):
    """recheck35b: following an UnsubscribeConfirmation's link brought a filter policy back
    past the topic's 200."""
    import urllib3

    from conftest import http_subscriber
    sns = cairn.client("sns")
    http = urllib3.PoolManager()
    topic = sns.create_topic(Name="quota-restore")["TopicArn"]
    with http_subscriber() as (endpoint, received):
        sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint,
                            Attributes={"FilterPolicy": POLICY}, ReturnSubscriptionArn=True)["SubscriptionArn"]
        kind, confirmation = received.get(timeout=10)
        assert http.request("GET", confirmation["SubscribeURL"]).status == 200
        sns.unsubscribe(SubscriptionArn=sub)
        kind, gone = received.get(timeout=10)
        assert kind == "UnsubscribeConfirmation"
    for i in range(200):
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=f"r{i}@example.com",
                      Attributes={"FilterPolicy": POLICY})
    restored = http.request("GET", gone["SubscribeURL"])
    assert restored.status == 403 and b"FilterPolicyLimitExceeded" in restored.data, restored.data
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
    assert all(s["Protocol"] == "email" for p in pages for s in p["Subscriptions"])
