"""StopLogging and DeleteTrail end a digest chain with a final digest, whose period holds
the stop (spec 5.6), files or not.

Deleting that final digest and altering a log file it listed leaves a bucket the stock
`aws cloudtrail validate-logs` passes: the chain before the stop now ends one digest earlier
and the deleted digest's files fall into the gap between chains. `cairn validate-logs` reads
StopLogging from event history (LookupEvents), which someone with only bucket access cannot
change, reports the missing final digest, and the files in that gap as unlisted. A stop while
validation was off owes no final digest. Time: `--clock-file` and `cairn flush --now`, as in
test_validate_history.py."""

import gzip
import json
import os
import time

from conftest import Cairn, cairn_binary, cloudtrail_policy
from test_validate_history import clocked, digests  # noqa: F401 (a fixture)
from test_validate_logs import cairn_validate, flush, make_trail, validate


def stopped_and_restarted(server, clock):
    c0 = clock.now
    ct, s3, bucket, arn = make_trail(server, "stopped")
    ct.describe_trails()
    flush(server, c0 + 30)
    ct.describe_trails()
    flush(server, c0 + 60)
    clock.set(c0 + 70)
    ct.stop_logging(Name="stopped")
    flush(server, c0 + 90)
    clock.set(c0 + 200)
    ct.start_logging(Name="stopped")
    ct.describe_trails()
    flush(server, c0 + 230)
    return c0, s3, bucket, arn


def test_a_deleted_final_digest_is_reported_from_event_history(clocked):
    server, clock = clocked
    c0, s3, bucket, arn = stopped_and_restarted(server, clock)
    chain = digests(s3, bucket)
    assert len(chain) == 4, [k for k, _ in chain]
    final_key, final = chain[2]
    assert final["digestEndTime"] >= time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(c0 + 70))
    assert chain[3][1]["previousDigestS3Object"] is None
    for args in [(c0 - 60, c0 + 240)]:
        assert validate(server, arn, *args).returncode == 0
        untouched = cairn_validate(server, arn, *args)
        assert untouched.returncode == 0, untouched.stdout + untouched.stderr
    # Delete the final digest, and change a log file only it listed.
    altered = final["logFiles"][0]["s3Object"]
    body = gzip.decompress(s3.get_object(Bucket=bucket, Key=altered)["Body"].read())
    s3.delete_object(Bucket=bucket, Key=final_key)
    s3.put_object(Bucket=bucket, Key=altered, Body=gzip.compress(body.replace(b"StopLogging", b"StopLoggin_", 1)))
    stock = validate(server, arn, c0 - 60, c0 + 240)
    assert stock.returncode == 0, "the hole this closes: " + stock.stdout + stock.stderr
    ours = cairn_validate(server, arn, c0 - 60, c0 + 240)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert "INVALID: no final digest for trail " + arn in ours.stderr, ours.stderr
    assert f"Log file\ts3://{bucket}/{altered}\tINVALID: not listed in any digest" in ours.stderr, ours.stderr
    # Someone who may not read event history cannot tell the gap from a legitimate stop (the
    # stock tool's verdict, exit 0), and is told which checks needed LookupEvents.
    iam = server.client("iam")
    iam.create_user(UserName="no-history")
    iam.put_user_policy(UserName="no-history", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket", "cloudtrail:DescribeTrails",
                                           "cloudtrail:GetTrailStatus", "cloudtrail:ListPublicKeys"],
             "Resource": "*"}]}))
    key = iam.create_access_key(UserName="no-history")["AccessKey"]
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"],
               AWS_DEFAULT_REGION="us-east-1")
    blind = cairn_validate(server, arn, c0 - 60, c0 + 240, env=env)
    assert blind.returncode == 0, blind.stdout + blind.stderr
    assert "Event history could not be read" in blind.stderr and "AccessDenied" in blind.stderr, blind.stderr
    assert "Allow cloudtrail:LookupEvents to check them." in blind.stderr
    assert "no final digest" not in blind.stderr


def test_a_stop_while_validation_was_off_owes_no_final_digest(clocked):
    server, clock = clocked
    c0 = clock.now
    ct, s3, bucket, arn = make_trail(server, "quiet")
    ct.describe_trails()
    flush(server, c0 + 30)
    clock.set(c0 + 40)
    ct.update_trail(Name="quiet", EnableLogFileValidation=False)
    ct.stop_logging(Name="quiet")
    flush(server, c0 + 60)
    clock.set(c0 + 70)
    ct.update_trail(Name="quiet", EnableLogFileValidation=True)
    ct.start_logging(Name="quiet")
    ct.describe_trails()
    flush(server, c0 + 100)
    assert validate(server, arn, c0 - 60, c0 + 110).returncode == 0
    ours = cairn_validate(server, arn, c0 - 60, c0 + 110)
    assert ours.returncode == 0, ours.stdout + ours.stderr


def test_a_trail_stopped_for_good_keeps_its_final_digest_and_nothing_after_it(clocked):
    """No later chain explains anything here: the trail stays stopped. A file added after
    its final digest is listed by no digest, ever; a deleted final digest (and the log file
    only it listed) leaves a chain that simply ends, which only event history exposes."""
    server, clock = clocked
    c0 = clock.now
    ct, s3, bucket, arn = make_trail(server, "for-good")
    ct.describe_trails()
    flush(server, c0 + 30)
    clock.set(c0 + 40)
    ct.stop_logging(Name="for-good")
    flush(server, c0 + 60)
    chain = digests(s3, bucket)
    final_key, final = chain[-1]
    assert final["digestEndTime"] >= time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(c0 + 40))
    window = (c0 - 60, c0 + 120)
    assert cairn_validate(server, arn, *window).returncode == 0

    # A forged file beside the real ones, after the final digest.
    real = final["logFiles"][0]["s3Object"]
    forged = real[:-len("XXXXXXXXXXXXXXXX.json.gz")] + "Zz9Yy8Xx7Ww6Vv5U.json.gz"
    s3.put_object(Bucket=bucket, Key=forged,
                  Body=gzip.compress(b'{"Records":[{"eventName":"ForgedCall"}]}'))
    stock = validate(server, arn, *window)
    assert stock.returncode == 0, "the stock tool checks only what digests list: " + stock.stdout
    ours = cairn_validate(server, arn, *window)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert f"Log file\ts3://{bucket}/{forged}\tINVALID: not listed in any digest" in ours.stderr
    s3.delete_object(Bucket=bucket, Key=forged)

    # The final digest and the log file holding the StopLogging record, both deleted.
    s3.delete_object(Bucket=bucket, Key=final_key)
    for f in final["logFiles"]:
        s3.delete_object(Bucket=f["s3Bucket"], Key=f["s3Object"])
    stock = validate(server, arn, *window)
    assert stock.returncode == 0, stock.stdout + stock.stderr
    ours = cairn_validate(server, arn, *window)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert "INVALID: no final digest for trail " + arn in ours.stderr, ours.stderr


def test_validation_turned_off_right_after_a_stop_keeps_the_stops_file_in_its_final_digest(clocked):
    """digest5: StopLogging, then validation turned off before the stop's events were
    delivered: their file was delivered while validation was off, so it was left out of the
    final digest (written empty) and out of every digest, and no validator checked it."""
    server, clock = clocked
    c0 = clock.now
    ct, s3, bucket, arn = make_trail(server, "offafterstop")
    ct.describe_trails()
    flush(server, c0 + 30)
    clock.set(c0 + 40)
    ct.describe_trails(trailNameList=["marker-before-stop"])
    ct.stop_logging(Name="offafterstop")
    ct.update_trail(Name="offafterstop", EnableLogFileValidation=False)
    flush(server, c0 + 90)
    listed = {f["s3Object"] for _, d in digests(s3, bucket) for f in d["logFiles"]}
    stop_files = []
    for key in listed_or_not(s3, bucket):
        records = json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))["Records"]
        if any(r["eventName"] == "StopLogging" for r in records):
            stop_files.append(key)
    assert stop_files, "the stop's file was delivered"
    assert all(k in listed for k in stop_files), (stop_files, listed)
    ours = cairn_validate(server, arn, c0 - 60, c0 + 100)
    assert ours.returncode == 0, ours.stdout + ours.stderr


def listed_or_not(s3, bucket):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="AWSLogs/")
    return [o["Key"] for p in pages for o in p.get("Contents", [])
            if "/CloudTrail/" in o["Key"] and o["Key"].endswith(".json.gz")]


def hide_then_turn_validation_off(server, clock, name, user):
    """A trail whose second digest lists a CreateUser (the file a bucket writer wants gone),
    then validation turned off while it logs, and flushed: (ct, s3, bucket, arn, c0)."""
    c0 = clock.now
    ct, s3, bucket, arn = make_trail(server, name)
    ct.describe_trails()
    flush(server, c0 + 30)
    clock.set(c0 + 40)
    server.client("iam").create_user(UserName=user)
    flush(server, c0 + 50)
    clock.set(c0 + 60)
    ct.update_trail(Name=name, EnableLogFileValidation=False)
    flush(server, c0 + 70)
    return ct, s3, bucket, arn, c0


def test_a_deleted_closing_digest_of_validation_turned_off_is_reported(clocked):
    """Turning validation off while logging ends the chain with a closing digest, written
    even when it lists no file. Deleting it with the digest before it and the log file that
    one listed (a CreateUser to hide) leaves a chain that ends early and a gap the stock tool
    passes; `cairn validate-logs` reads the UpdateTrail from event history and reports the
    missing closing digest (digest5 F1)."""
    server, clock = clocked
    ct, s3, bucket, arn, c0 = hide_then_turn_validation_off(server, clock, "closing", "to-hide")
    clock.set(c0 + 80)
    ct.update_trail(Name="closing", EnableLogFileValidation=True)
    ct.describe_trails()
    flush(server, c0 + 100)
    chain = digests(s3, bucket)
    assert len(chain) == 4, [(d["digestStartTime"], d["digestEndTime"], len(d["logFiles"])) for k, d in chain]
    closing_key, closing = chain[2]
    assert closing["logFiles"] == [] and closing["previousDigestS3Object"] == chain[1][0]
    assert closing["digestEndTime"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(c0 + 60))
    assert chain[3][1]["previousDigestS3Object"] is None, "validation on again: a new chain"
    window = (c0 - 60, c0 + 110)
    assert validate(server, arn, *window).returncode == 0
    untouched = cairn_validate(server, arn, *window)
    assert untouched.returncode == 0, untouched.stdout + untouched.stderr

    hidden = [f["s3Object"] for f in chain[1][1]["logFiles"]]
    for key in [chain[1][0], closing_key, *hidden]:
        s3.delete_object(Bucket=bucket, Key=key)
    stock = validate(server, arn, *window)
    assert stock.returncode == 0, "the hole this closes: " + stock.stdout + stock.stderr
    ours = cairn_validate(server, arn, *window)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert ("INVALID: no final digest for trail " + arn + ", whose log file validation was turned off at"
            in ours.stderr), ours.stderr


def test_a_deleted_closing_digest_is_reported_while_validation_stays_off(clocked):
    """recheck32b: with validation left off there is no later chain, so no gap, and the
    closing digest's absence went unseen (the history check ran only to explain a gap or an
    unlisted file). Validation off now sends the validator to event history too."""
    server, clock = clocked
    ct, s3, bucket, arn, c0 = hide_then_turn_validation_off(server, clock, "stays-off", "hidden-too")
    chain = digests(s3, bucket)
    assert len(chain) == 3 and chain[2][1]["logFiles"] == [], [k for k, _ in chain]
    window = (c0 - 60, c0 + 80)
    untouched = cairn_validate(server, arn, *window)
    assert untouched.returncode == 0, untouched.stdout + untouched.stderr
    hidden = [f["s3Object"] for f in chain[1][1]["logFiles"]]
    for key in [chain[1][0], chain[2][0], *hidden]:
        s3.delete_object(Bucket=bucket, Key=key)
    ours = cairn_validate(server, arn, *window)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert "whose log file validation was turned off at" in ours.stderr, ours.stderr


def digest_keys(s3, bucket):
    """Every digest key in the bucket, under any key prefix."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", [])
                  if "/CloudTrail-Digest/" in o["Key"])


def new_digest(s3, bucket, seen, what):
    """Waits (on the bucket, up to a minute) for a digest key not in `seen`; all keys then."""
    deadline = time.time() + 60
    while not set(digest_keys(s3, bucket)) - set(seen):
        assert time.time() < deadline, f"no {what} came"
        time.sleep(0.2)
    return digest_keys(s3, bucket)


def test_a_made_up_digest_key_excuses_no_forged_file():
    """digest6 D2: an empty object at the digest key of a trail that does not exist made the
    validator take a forged log file for that trail's, "not listed in a digest yet", for the
    70 minutes after the time the key's name gave. Only a valid digest, signed as written at
    its key in this bucket, says another trail delivers here. (Object times are the system
    clock's, so this server runs on it, with short intervals.)"""
    server = Cairn(cairn_binary(), ["--delivery-interval", "1", "--digest-interval", "2"])
    try:
        t0 = time.time()
        ct, s3, bucket, arn = make_trail(server, "ghosted")
        ct.describe_trails()
        new_digest(s3, bucket, [], "first digest")
        now = time.gmtime()
        day, minute = time.strftime("%Y/%m/%d", now), time.strftime("%Y%m%dT%H%MZ", now)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 5))
        base = "AWSLogs/123456789012"
        ghost = f"{base}/CloudTrail-Digest/us-east-1/{day}/123456789012_CloudTrail-Digest_us-east-1_ghost_us-east-1_{stamp}.json.gz"
        s3.put_object(Bucket=bucket, Key=ghost, Body=b"")
        forged = f"{base}/CloudTrail/us-east-1/{day}/123456789012_CloudTrail_us-east-1_{minute}_FORGEDforgedABCD.json.gz"
        s3.put_object(Bucket=bucket, Key=forged,
                      Body=gzip.compress(b'{"Records":[{"eventName":"DeleteBucket"}]}'))
        seen = digest_keys(s3, bucket)
        ct.describe_trails()
        seen = new_digest(s3, bucket, seen, "digest after the planting")
        new_digest(s3, bucket, seen, "second digest after the planting")
        ours = cairn_validate(server, arn, t0 - 60, time.time() + 10)
        assert ours.returncode == 1, ours.stdout + ours.stderr
        assert f"Log file\ts3://{bucket}/{forged}\tINVALID: not listed in any digest" in ours.stderr, \
            ours.stderr
    finally:
        server.stop()


def test_a_file_planted_while_the_trail_was_stopped_stays_unlisted_after_a_restart():
    """digest6 D3: a forged log file planted while the trail was stopped was reported while
    it stayed stopped, and passed for good once logging restarted (the gap between chains
    counted as a hole). Event history says the trail was stopped then: nothing of its can
    have been delivered in that gap."""
    server = Cairn(cairn_binary(), ["--delivery-interval", "1", "--digest-interval", "2"])
    try:
        t0 = time.time()
        ct, s3, bucket, arn = make_trail(server, "restarted")
        ct.describe_trails()
        seen = new_digest(s3, bucket, [], "first digest")
        ct.stop_logging(Name="restarted")
        deadline = time.time() + 60
        while ct.get_trail_status(Name="restarted").get("LatestDigestDeliveryTime") is None or \
                ct.get_trail_status(Name="restarted")["LatestDigestDeliveryTime"].timestamp() < \
                ct.get_trail_status(Name="restarted")["StopLoggingTime"].timestamp():
            assert time.time() < deadline, "no final digest came"
            time.sleep(0.2)
        seen = digest_keys(s3, bucket)
        forged = plant_now(s3, bucket, "FORGEDforgedABCD", b'{"Records":[{"eventName":"DeleteBucket"}]}')
        ct.start_logging(Name="restarted")
        ct.describe_trails()
        new_digest(s3, bucket, seen, "digest of the new chain")
        assert_forged_reported(server, arn, t0, bucket, forged)
    finally:
        server.stop()


def test_a_file_planted_between_a_deletion_and_the_re_creation_is_reported():
    """digest9 E2: the same between a DeleteTrail (its final digest present) and the
    StartLogging of a trail of the same name created again: a DeleteTrail ended the stopped
    span instead of opening one, so the planted file passed."""
    server = Cairn(cairn_binary(), ["--delivery-interval", "1", "--digest-interval", "2"])
    try:
        t0 = time.time()
        ct, s3, bucket, arn = make_trail(server, "recreated")
        ct.describe_trails()
        seen = new_digest(s3, bucket, [], "first digest")
        ct.delete_trail(Name="recreated")
        # The deletion's final digest.
        seen = new_digest(s3, bucket, seen, "final digest")
        forged = plant_now(s3, bucket, "FORGEDrecreate1", b'{"Records":[{"eventName":"DeleteUser"}]}')
        ct.create_trail(Name="recreated", S3BucketName=bucket, EnableLogFileValidation=True)
        ct.start_logging(Name="recreated")
        ct.describe_trails()
        new_digest(s3, bucket, seen, "digest of the new trail")
        assert_forged_reported(server, arn, t0, bucket, forged)
    finally:
        server.stop()


def plant_now(s3, bucket, tag, body):
    """A forged log file named as CloudTrail names one now; its key, once a second has
    passed since it was written (a later call falls in a later second)."""
    now = time.gmtime()
    day, minute = time.strftime("%Y/%m/%d", now), time.strftime("%Y%m%dT%H%MZ", now)
    forged = (f"AWSLogs/123456789012/CloudTrail/us-east-1/{day}/"
              f"123456789012_CloudTrail_us-east-1_{minute}_{tag}.json.gz")
    s3.put_object(Bucket=bucket, Key=forged, Body=gzip.compress(body))
    planted = time.time()
    while time.time() < planted + 1.1:
        time.sleep(0.1)
    return forged


def assert_forged_reported(server, arn, t0, bucket, forged):
    ours = cairn_validate(server, arn, t0 - 60, time.time() + 10)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert f"Log file\ts3://{bucket}/{forged}\tINVALID: not listed in any digest" in ours.stderr, \
        ours.stderr


def test_a_deleted_multi_region_trail_ends_every_regions_chain():
    """digest9 E4: a multi-Region trail deleted (and made again) wrote its final digest in its
    home Region only, when its other Region's files were all digested already; validating
    that Region then reported "no final digest" on an untouched bucket."""
    server = Cairn(cairn_binary(), ["--delivery-interval", "1", "--digest-interval", "2"])
    try:
        t0 = time.time()
        s3 = server.client("s3")
        bucket = "mr-final-bucket"
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=cloudtrail_policy(bucket))
        home, eu = server.client("cloudtrail"), server.client("cloudtrail", region="eu-west-1")
        make = lambda: home.create_trail(  # noqa: E731
            Name="mr-final", S3BucketName=bucket, IsMultiRegionTrail=True,
            EnableLogFileValidation=True)["TrailARN"]
        arn = make()
        home.start_logging(Name="mr-final")
        eu.describe_trails()
        in_eu = lambda: [k for k in digest_keys(s3, bucket) if "/eu-west-1/" in k]  # noqa: E731
        seen_eu = new_digest_in(in_eu, [], "eu-west-1 digest")
        home.delete_trail(Name="mr-final")
        # The deletion ends the chain in eu-west-1 too, with an empty final digest.
        seen_eu = new_digest_in(in_eu, seen_eu, "eu-west-1 final digest")
        final = json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=seen_eu[-1])["Body"].read()))
        assert final["logFiles"] == [] and final["previousDigestSignature"], final
        assert make() == arn
        home.start_logging(Name="mr-final")
        eu.describe_trails()
        seen_eu = new_digest_in(in_eu, seen_eu, "eu-west-1 digest of the new trail")
        for region in ("us-east-1", "eu-west-1"):
            ours = cairn_validate(server, arn, t0 - 60, time.time() - 3, "--region", region)
            assert ours.returncode == 0, region + ours.stdout + ours.stderr
    finally:
        server.stop()


def new_digest_in(keys, seen, what):
    """Waits (up to a minute) until `keys()` holds a key not in `seen`; returns them all."""
    deadline = time.time() + 60
    while not set(keys()) - set(seen):
        assert time.time() < deadline, f"no {what} came"
        time.sleep(0.2)
    return keys()
