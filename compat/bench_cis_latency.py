"""Measures the latency from a watched API call (UpdateTrail, CIS 4.5) to the SNS POST of
its CIS alarm, on the real clock, through the whole chain: the call's event, the trail's
CloudWatch Logs delivery, the metric filter, the 300-second CIS alarm, SNS (BENCHMARKS.md).
Usage: CAIRN_BIN=... python compat/bench_cis_latency.py [delivery-interval-secs|default]"""

import json
import queue
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

from conftest import Cairn, cairn_binary
from test_trail_cloudwatch_logs import group_arn, install_cis, prepare, role_arn

interval = sys.argv[1] if len(sys.argv) > 1 else "default"
received = queue.Queue()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        received.put((time.time(), json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


httpd = HTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=httpd.serve_forever, daemon=True).start()
extra = [] if interval == "default" else ["--delivery-interval", interval]
server = Cairn(cairn_binary(), extra)
try:
    prepare(server, "bench-cis", "CloudTrail/bench", role="bench-role")
    server.cli("cloudtrail", "create-trail", "--name", "bench", "--s3-bucket-name", "bench-cis",
               "--cloud-watch-logs-log-group-arn", group_arn("CloudTrail/bench"),
               "--cloud-watch-logs-role-arn", role_arn("bench-role"))
    topic = json.loads(server.cli("sns", "create-topic", "--name", "bench").stdout)["TopicArn"]
    server.cli("sns", "subscribe", "--topic-arn", topic, "--protocol", "http", "--notification-endpoint",
               f"http://127.0.0.1:{httpd.server_address[1]}/")
    urllib.request.urlopen(received.get(timeout=10)[1]["SubscribeURL"]).read()
    install_cis(server, "CloudTrail/bench", topic)
    sent = time.time()
    server.client("cloudtrail").start_logging(Name="bench")  # CIS 4.5 watches StartLogging
    while True:
        at, note = received.get(timeout=1200)
        message = json.loads(note["Message"])
        if message["AlarmName"] == "cloudtrail_cfg_changes_alarm":
            break
    print(json.dumps({"delivery_interval": interval, "call_epoch": round(sent, 1),
                      "latency_s": round(at - sent, 1), "state": message["NewStateValue"]}))
finally:
    server.stop()
    httpd.shutdown()
