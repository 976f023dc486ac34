"""`cairn validate-logs` takes credentials the way the AWS CLI does (environment, then the
profiles of ~/.aws/credentials and ~/.aws/config, with AWS_PROFILE, --profile,
AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE), and times as ISO 8601 or epoch seconds
(issue 7, section 5)."""

import os
import subprocess
import time

import pytest

from conftest import ACCESS_KEY, SECRET, Cairn, cairn_binary
from test_validate_logs import HOUR, cairn_validate, flush, make_trail


@pytest.fixture(scope="module")
def server():
    s = Cairn(cairn_binary(), ["--delivery-interval", "86400", "--digest-interval", str(HOUR)])
    yield s
    s.stop()


@pytest.fixture(scope="module")
def trail(server):
    t0 = time.time()
    ct, s3, bucket, arn = make_trail(server, "cli-trail")
    ct.describe_trails()
    # Stopped before the flush "an hour later": the restarted server's first delivery step
    # runs in real time, and if it came late (a loaded machine) it would deliver the
    # validations' own calls before the digest's future timestamp, inside its span.
    ct.stop_logging(Name="cli-trail")
    flush(server, t0 + HOUR)
    return t0, arn


def bare_env(home, **extra):
    """The process environment without any AWS_ variable, HOME pointing at `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(home), **extra)
    return env


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def keys(id_, secret):
    return f"aws_access_key_id = {id_}\naws_secret_access_key = {secret}\n"


def test_credentials_come_from_the_default_profile(server, trail, tmp_path):
    t0, arn = trail
    write(tmp_path / ".aws" / "credentials", "[default]\n" + keys(ACCESS_KEY, SECRET))
    r = cairn_validate(server, arn, t0 - 60, t0 + 2 * HOUR, env=bare_env(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1/1 digest files valid" in r.stdout


def test_aws_profile_and_the_profile_flag_pick_the_section(server, trail, tmp_path):
    t0, arn = trail
    write(tmp_path / ".aws" / "credentials",
          "[default]\n" + keys("AKIDWRONG", "wrong") + "\n[audit]\n" + keys(ACCESS_KEY, SECRET))
    wrong = cairn_validate(server, arn, t0 - 60, t0 + 2 * HOUR, env=bare_env(tmp_path))
    assert wrong.returncode == 255 and "UnrecognizedClient" in wrong.stderr, wrong.stderr
    r = cairn_validate(server, arn, t0 - 60, t0 + 2 * HOUR, env=bare_env(tmp_path, AWS_PROFILE="audit"))
    assert r.returncode == 0, r.stdout + r.stderr
    # Environment keys win over AWS_PROFILE, but not over --profile (as botocore does).
    env = bare_env(tmp_path, AWS_PROFILE="audit", AWS_ACCESS_KEY_ID="AKIDWRONG", AWS_SECRET_ACCESS_KEY="wrong")
    assert cairn_validate(server, arn, t0 - 60, t0 + 2 * HOUR, env=env).returncode == 255
    r = cairn_validate(server, arn, t0 - 60, t0 + 2 * HOUR, "--profile", "audit", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    missing = cairn_validate(server, arn, t0 - 60, t0 + 2 * HOUR, "--profile", "nope", env=bare_env(tmp_path))
    assert missing.returncode == 255 and "The config profile (nope) could not be found" in missing.stderr


def test_file_locations_and_the_config_file_profile(server, trail, tmp_path):
    t0, arn = trail
    write(tmp_path / "elsewhere" / "creds", "[default]\n" + keys(ACCESS_KEY, SECRET))
    env = bare_env(tmp_path, AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "elsewhere" / "creds"))
    r = cairn_validate(server, arn, t0 - 60, t0 + 2 * HOUR, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    write(tmp_path / "elsewhere" / "config",
          "[profile cfg]\nregion = us-east-1\n" + keys(ACCESS_KEY, SECRET) + "s3 =\n    addressing_style = path\n")
    env = bare_env(tmp_path, AWS_CONFIG_FILE=str(tmp_path / "elsewhere" / "config"), AWS_PROFILE="cfg")
    r = cairn_validate(server, arn, t0 - 60, t0 + 2 * HOUR, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    none = cairn_validate(server, arn, t0 - 60, t0 + 2 * HOUR, env=bare_env(tmp_path))
    assert none.returncode == 255 and "Unable to locate credentials" in none.stderr, none.stderr


def run_with_times(server, arn, start, end, stock=False):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_ENDPOINT_URL_S3=server.endpoint)
    tool = ["aws", "--endpoint-url", server.endpoint, "cloudtrail", "validate-logs"] if stock else [
        cairn_binary(), "validate-logs", "--endpoint-url", server.endpoint]
    return subprocess.run([*tool, "--trail-arn", arn, "--start-time", start, "--end-time", end],
                          env=env, capture_output=True, text=True)


def header(start, end):
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return f"between {time.strftime(fmt, time.gmtime(start))} and {time.strftime(fmt, time.gmtime(end))}\n"


def test_times_take_iso_8601_forms_and_epoch_seconds(server, trail):
    t0, arn = trail
    start, end = int(t0) - 60, int(t0) + 2 * HOUR
    minute = start - start % 60
    offset = time.strftime("%Y-%m-%dT%H:%M:%S+02:00", time.gmtime(start + 2 * HOUR))
    forms = [
        (str(start), str(end), start, end),
        (str(start) + ".5", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end)), start, end),
        (offset, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(end)), start, end),
        (time.strftime("%Y-%m-%dT%H:%M", time.gmtime(start)), str(end), minute, end),
        (time.strftime("%Y-%m-%dT%H:%M:%S.250Z", time.gmtime(start)), str(end), start, end),
    ]
    for s, e, want_start, want_end in forms:
        r = run_with_times(server, arn, s, e)
        assert r.returncode == 0, (s, e, r.stdout + r.stderr)
        assert header(want_start, want_end) in r.stdout, (s, e, r.stdout)
    # A date alone is midnight UTC, as the stock tool reads it.
    day = time.strftime("%Y-%m-%d", time.gmtime(start))
    end_iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end))
    ours = run_with_times(server, arn, day, end_iso)
    stock = run_with_times(server, arn, day, end_iso, stock=True)
    assert ours.stdout.splitlines()[0] == stock.stdout.splitlines()[0], (ours.stdout, stock.stdout)
    bad = run_with_times(server, arn, "yesterday", str(end))
    assert bad.returncode == 255 and "Unable to parse date value: yesterday" in bad.stderr, bad.stderr
    backwards = run_with_times(server, arn, str(end), str(start))
    assert backwards.returncode == 255
    assert "Invalid time range specified: start-time must occur before end-time" in backwards.stderr
