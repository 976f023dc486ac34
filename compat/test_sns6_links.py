"""Unsigned SNS links naming nothing (outside tester sns6, failed before the fix): anyone
could send `?Action=Unsubscribe&SubscriptionArn=<30 KB>` or a ConfirmSubscription link for a
made-up topic without credentials, and each was recorded with the ARN as sent, filling the
event store (608 requests filled a 20 MiB store). Such a link is answered unrecorded, as is
one with a made-up token for a topic that exists (hostile14: 4,000 in 6.5 s were recorded)."""

import json
import urllib.parse

import urllib3


def events(cairn, name):
    pages = cairn.client("cloudtrail").get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])
    return [json.loads(e["CloudTrailEvent"]) for p in pages for e in p["Events"]]


def test_links_naming_nothing_are_not_recorded(cairn):
    http = urllib3.PoolManager()
    long_arn = "arn:aws:sns:us-east-1:123456789012:t:" + "x" * 30_000
    for query in ({"Action": "Unsubscribe", "SubscriptionArn": long_arn},
                  {"Action": "ConfirmSubscription", "TopicArn": long_arn, "Token": "ab" * 64}):
        got = http.request("GET", cairn.endpoint + "/?" + urllib.parse.urlencode(query))
        assert got.status == 404 and b"<Code>NotFound</Code>" in got.data, got.data
    assert events(cairn, "Unsubscribe") == []
    assert events(cairn, "ConfirmSubscription") == []
    # A made-up token for a topic that exists is refused as the signed call refuses it, and
    # not recorded either.
    topic = cairn.client("sns").create_topic(Name="links6")["TopicArn"]
    for _ in range(30):
        got = http.request("GET", cairn.endpoint + "/?" + urllib.parse.urlencode(
            {"Action": "ConfirmSubscription", "TopicArn": topic, "Token": "ab" * 64}))
        assert got.status == 400 and b"<Code>InvalidParameter</Code>" in got.data, got.data
    assert events(cairn, "ConfirmSubscription") == []


def test_a_followed_confirmation_link_replayed_is_bounded(cairn):
    """recheck35: a confirmation link stays valid once followed (SNS answers it again), and
    each replay was recorded, without the bound of other unsigned calls: 6,000 records in 7 s.
    Replays now share that bound (2 a second per source); past it they are answered
    `Throttled` (429) and not recorded. The first confirmation is never throttled."""
    from conftest import http_subscriber
    sns = cairn.client("sns")
    http = urllib3.PoolManager()
    topic = sns.create_topic(Name="links-replay")["TopicArn"]
    with http_subscriber() as (endpoint, received):
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint)
        kind, confirmation = received.get(timeout=10)
    url = confirmation["SubscribeURL"]
    replies = [http.request("GET", url) for _ in range(60)]
    statuses = [r.status for r in replies]
    assert statuses[0] == 200
    assert statuses.count(429) >= 20, statuses
    assert set(statuses) <= {200, 429}, statuses
    assert all(b"<Code>Throttled</Code>" in r.data for r in replies if r.status == 429)
    recorded = events(cairn, "ConfirmSubscription")
    assert len(recorded) == statuses.count(200), (len(recorded), statuses.count(200))
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert subs[0]["SubscriptionArn"].startswith(topic + ":")


def test_a_restore_link_replayed_is_bounded(cairn):
    """recheck35b: the link of an UnsubscribeConfirmation, which restores the subscription,
    was not bounded like a repeated confirmation: 2,000 replays were recorded in 11 s. Its
    first use is never throttled, even from a source that has spent its budget (CI: the test
    before this one spent it, and the restore was refused)."""
    from conftest import http_subscriber
    sns = cairn.client("sns")
    http = urllib3.PoolManager()
    topic = sns.create_topic(Name="links-restore")["TopicArn"]
    with http_subscriber() as (endpoint, received):
        sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint,
                            ReturnSubscriptionArn=True)["SubscriptionArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint + "other")
        links = {}
        for _ in range(2):
            kind, confirmation = received.get(timeout=10)
            links[confirmation["SubscribeURL"]] = True
            assert http.request("GET", confirmation["SubscribeURL"]).status == 200
        sns.unsubscribe(SubscriptionArn=sub)
        kind, gone = received.get(timeout=10)
        assert kind == "UnsubscribeConfirmation"
    # Spend this source's budget of unsigned calls with replays of the other link.
    spent = [u for u in links if http.request("GET", u).status != 400]
    assert len(spent) == 1
    for _ in range(1000):
        if http.request("GET", spent[0]).status == 429:
            break
    else:
        raise AssertionError("1,000 replays were never throttled")
    before = len(events(cairn, "ConfirmSubscription"))
    assert http.request("GET", gone["SubscribeURL"]).status == 200
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 2
    # Sent 20 at a time: the bound is a rate, so a slow machine must not keep under it.
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(lambda _: http.request("GET", gone["SubscribeURL"]).status, range(60)))
    assert set(statuses) <= {200, 429} and statuses.count(429) >= 20, statuses
    assert len(events(cairn, "ConfirmSubscription")) - before == 1 + statuses.count(200)
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 2
