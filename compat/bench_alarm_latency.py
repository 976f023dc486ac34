"""Measures the latency from PutMetricData to the SNS POST of the alarm it trips, on the real
clock (BENCHMARKS.md). Usage: CAIRN_BIN=... python compat/bench_alarm_latency.py [period] [runs]"""

import json
import queue
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

from conftest import Cairn, cairn_binary

period = int(sys.argv[1]) if len(sys.argv) > 1 else 60
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
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
server = Cairn(cairn_binary())
try:
    sns, cw = server.client("sns"), server.client("cloudwatch")
    topic = sns.create_topic(Name="bench")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"http://127.0.0.1:{httpd.server_address[1]}/")
    urllib.request.urlopen(received.get(timeout=10)[1]["SubscribeURL"]).read()
    latencies = []
    for i in range(runs):
        name = f"bench-{i}"
        cw.put_metric_alarm(AlarmName=name, MetricName=name, Namespace="Bench", Statistic="Maximum",
                            Period=period, EvaluationPeriods=1, Threshold=1,
                            ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[topic])
        # Spread the datapoints over the period so the figure covers its whole range.
        time.sleep((i * period / max(runs, 1)) % period)
        sent = time.time()
        cw.put_metric_data(Namespace="Bench", MetricData=[
            {"MetricName": name, "Value": 5, "StorageResolution": 1 if period < 60 else 60}])
        at, note = received.get(timeout=period * 3)
        assert json.loads(note["Message"])["AlarmName"] == name
        latencies.append(at - sent)
        print(f"run {i}: {at - sent:.2f} s")
    print(json.dumps({"period": period, "runs": runs, "min": round(min(latencies), 2),
                      "mean": round(sum(latencies) / len(latencies), 2), "max": round(max(latencies), 2)}))
finally:
    server.stop()
    httpd.shutdown()
