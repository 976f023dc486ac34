"""The README's quick start, run as written (only the port and the digest interval are changed,
its first `sleep` becomes a wait for the first log file, and its wait for the first digest
polls more often), with the binary
under test first on PATH."""

import os
import re
import socket
import subprocess
import tempfile

from conftest import cairn_binary

README = os.path.join(os.path.dirname(__file__), "..", "README.md")


def quick_start_script():
    text = open(README).read()
    section = text[text.index("## Quick start"):]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_readme_quick_start_runs_as_written():
    port = free_port()
    script = quick_start_script()
    assert "cargo install --path crates/cairn" in script
    script = script.replace("cargo install --path crates/cairn", "true")
    script = script.replace("cairn serve --data-dir ./cairn-data",
                            f"cairn serve --listen 127.0.0.1:{port} --data-dir ./cairn-data", 1)
    script = re.sub(r"(cairn serve [^\n]*?) &", r"\1 > serve.log 2>&1 &", script, count=1)
    # `cairn env` finds the port itself (the server names it in the data dir).
    assert "--digest-interval 60" in script
    script = script.replace("--digest-interval 60", "--digest-interval 5", 1)
    script = script.replace(
        "sleep 10; aws s3 ls --recursive s3://bucket-for-cloudtrail/",
        "for i in $(seq 120); do aws s3 ls --recursive s3://bucket-for-cloudtrail/ | grep -q json.gz && break;"
        " sleep 0.5; done; aws s3 ls --recursive s3://bucket-for-cloudtrail/")
    # The digest wait polls GetTrailStatus as written, more often.
    wait = "--output text | grep -qv None; do sleep 5; done"
    assert wait in script
    script = script.replace(wait, wait.replace("sleep 5", "sleep 0.5"))
    binary_dir = os.path.dirname(os.path.realpath(cairn_binary()))
    with tempfile.TemporaryDirectory() as work:
        env = dict(os.environ, PATH=f"{binary_dir}:{os.environ['PATH']}",
                   AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"):
            env.pop(k, None)
        try:
            out = subprocess.run(["bash", "-e", "-c", script], cwd=work, env=env,
                                 capture_output=True, text=True, timeout=300)
        finally:
            # The pattern must not start with "-", or pkill reads it as an option.
            subprocess.run(["pkill", "-f", f"cairn serve --listen 127.0.0.1:{port}"])
        assert out.returncode == 0, out.stderr + open(os.path.join(work, "serve.log")).read()
        assert "CreateTrail" in out.stdout
        assert re.search(r"AWSLogs/123456789012/CloudTrail/us-east-1/.*\.json\.gz", out.stdout), out.stdout
        # Both validators, the stock one and ours, find the digest and the log files valid.
        for kind in ("digest", "log"):
            counts = re.findall(rf"(\d+)/(\d+) {kind} files valid", out.stdout)
            assert len(counts) == 2 and all(a == b != "0" for a, b in counts), out.stdout
        assert "INVALID" not in out.stdout, out.stdout
