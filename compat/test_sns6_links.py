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


def test_restore_and_unsubscribe_links_are_bounded():
    """recheck35b: the link of an UnsubscribeConfirmation, which restores the subscription,
    was not bounded like a repeated confirmation (2,000 replays recorded in 11 s); recheck36:
    a restore link and an UnsubscribeURL replayed in turn were each recorded (200 in 12 s).
    Both are within the bound of unsigned calls; only a pending subscription's first
    confirmation never is. The server's clock stands still (a clock file), so the bound
    refills only when the test moves it."""
    from concurrent.futures import ThreadPoolExecutor

    from conftest import Cairn, cairn_binary, http_subscriber
    from test_page_tokens import Clock
    clock = Clock()
    server = Cairn(cairn_binary(), ["--clock-file", clock.path])
    try:
        sns = server.client("sns")
        http = urllib3.PoolManager()
        topic = sns.create_topic(Name="links-restore")["TopicArn"]
        with http_subscriber() as (endpoint, received):
            sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint,
                                ReturnSubscriptionArn=True)["SubscriptionArn"]
            sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint + "other")
            for _ in range(2):
                kind, confirmation = received.get(timeout=10)
                assert http.request("GET", confirmation["SubscribeURL"]).status == 200
            sns.publish(TopicArn=topic, Message="m")
            notes = [received.get(timeout=10)[1] for _ in range(2)]
            arn_of = lambda url: urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["SubscriptionArn"][0]  # noqa: E731
            unsubscribe_other = next(n["UnsubscribeURL"] for n in notes if arn_of(n["UnsubscribeURL"]) != sub)
            sns.unsubscribe(SubscriptionArn=sub)
            while True:
                kind, gone = received.get(timeout=10)
                if kind == "UnsubscribeConfirmation":
                    break
        subscriptions = lambda: sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]  # noqa: E731
        # Spend this source's budget with replays of the restore link: the first restores.
        statuses = [http.request("GET", gone["SubscribeURL"]).status for _ in range(30)]
        assert statuses[0] == 200 and statuses.count(200) == 20 and statuses.count(429) == 10, statuses
        assert len(subscriptions()) == 2
        # Past the bound the unsubscribe link is throttled too, and changes nothing.
        got = http.request("GET", unsubscribe_other)
        assert got.status == 429 and b"<Code>Throttled</Code>" in got.data, got.data
        assert len(subscriptions()) == 2
        recorded = lambda name: len(events(server, name))  # noqa: E731
        assert (recorded("ConfirmSubscription"), recorded("Unsubscribe")) == (2 + 20, 1)
        # Two seconds on, the source may make four more.
        clock.set(clock.now + 2)
        with ThreadPoolExecutor(10) as pool:
            later = list(pool.map(lambda _: http.request("GET", gone["SubscribeURL"]).status, range(10)))
        assert later.count(200) == 4 and later.count(429) == 6, later
        assert recorded("ConfirmSubscription") == 2 + 20 + 4
    finally:
        server.stop()
