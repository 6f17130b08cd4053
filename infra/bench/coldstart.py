#!/usr/bin/env python3
"""Cold starts of the five functions against a hello-world floor (`make bench`, issue 16).

    infra/bench/coldstart.py <release dir> [--runs N]

Each binary in <release dir> (the five functions and `coldstart-floor`, lambda_runtime's hello
world with the same release profile) is started N times as a fresh process under a stand-in
Lambda Runtime API on 127.0.0.1, with the environment the template gives it and every AWS
endpoint (DynamoDB, Cognito, the JWKS URL) pointed at a closed local port, so that no init work
can hide behind the network: a fetch at init fails at once instead of waiting. HOME is an empty
directory, as in Lambda. Per run it measures:

- init: from just before the process is spawned (Popen: posix_spawn/fork+exec, the same for
  every binary) to its first `GET /runtime/invocation/next`;
- first invocation: from handing out the first event to its `/response` or `/error`;
- peak RSS: the process's VmHWM right after the first invocation.

Each function's event needs no AWS call (the metadata document, the code-entry page, a token
request without parameters, a callback without a query, a TOKEN event with a malformed token):
the first-invocation figure is the function's own lazy work, not a network timeout.

Prints, per binary, the init median and max, the ratio of the median to the floor's, the
first-invocation median and the peak RSS median; the goal line is issue 16's "within 2× the
floor". With `strace` installed, one more run per binary (not timed) counts the files it opens
from the host's certificate stores or AWS profiles (`/etc/ssl`, `/usr/lib/ssl`, `/etc/pki`,
`~/.aws`) up to its first answer: the work issue 16 took out of the cold start, which must stay
out. Stops every process it starts.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens, a connect fails at once
POOL = "eu-west-1_BenchPool1"
CLIENT = "4vjq0m7pl2rk3ufc2pb5d1ldh8"


def rest_event(method, path, body=None, query=None):
    """An API Gateway REST (payload 1.0) event, from the shipped fixture."""
    event = json.loads((ROOT / "tests/fixtures/device/rest-get-device.json").read_text())
    event.update(httpMethod=method, path=path, resource=path, body=body)
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = (
        {k: [v] for k, v in query.items()} if query else None
    )
    event["requestContext"].update(httpMethod=method, resourcePath=path, path="/v1" + path)
    if body is not None:
        event["headers"]["Content-Type"] = "application/x-www-form-urlencoded"
        event["multiValueHeaders"]["Content-Type"] = ["application/x-www-form-urlencoded"]
    return event


DEVICE_ENV = {
    "TABLE_NAME": "portal-auth-grants",
    "PUBLIC_BASE_URL": "https://auth.example.com/v1",
    "COGNITO_DOMAIN": "https://portal.auth.eu-west-1.amazoncognito.com",
    "DEVICE_CLIENT_IDS": CLIENT,
}

FUNCTIONS = {
    "coldstart-floor": ({}, {"hello": "world"}),
    "authorizer": (
        {
            "AUTHORIZER_CLIENT_IDS": CLIENT,
            "COGNITO_JWKS_URL": f"{CLOSED}/.well-known/jwks.json",
            "AUTHORIZER_REVOCATION_TABLE": "portal-auth-grants",
            "AUTHORIZER_REQUIRED_SCOPES": "portal/access",
        },
        {
            "type": "TOKEN",
            "authorizationToken": "Bearer not.a.token",
            "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/me",
        },
    ),
    "device-code": (DEVICE_ENV, rest_event("GET", "/.well-known/oauth-authorization-server")),
    "device-token": (DEVICE_ENV, rest_event("POST", "/device/token", body="")),
    "device-verify": (DEVICE_ENV, rest_event("GET", "/device")),
    "device-callback": (DEVICE_ENV, rest_event("GET", "/device/callback")),
}


class Run:
    """One process's timeline, filled in by the Runtime API's handler threads."""

    def __init__(self, event):
        self.event = json.dumps(event).encode()
        self.first_next = None
        self.answered = None
        self.served = None
        self.handed_out = False
        self.done = threading.Event()


class RuntimeApi(BaseHTTPRequestHandler):
    """The Runtime API of one process: each run gets its own server on a fresh port, so a
    request that a stopped process sent late can never be taken for the next one's."""

    protocol_version = "HTTP/1.1"
    run = None  # set on the per-run subclass

    def log_message(self, *args):
        pass

    def do_GET(self):
        now = time.perf_counter_ns()
        run = self.run
        if not self.path.endswith("/runtime/invocation/next"):
            return self.reply(404, b"{}")
        if run.handed_out:
            # The second /next: the measurement is over; hold it until the process is stopped.
            run.done.wait(30)
            return
        run.first_next = now
        run.handed_out = True
        deadline = str(int(time.time() * 1000) + 30_000)
        run.served = time.perf_counter_ns()
        self.reply(
            200,
            run.event,
            {
                "Lambda-Runtime-Aws-Request-Id": "00000000-0000-4000-8000-000000000001",
                "Lambda-Runtime-Deadline-Ms": deadline,
                "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:eu-west-1:123456789012:function:bench",
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
            },
        )

    def do_POST(self):
        now = time.perf_counter_ns()
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        run = self.run
        if "/response" in self.path or "/error" in self.path:
            run.answered = now
        self.reply(202, b"{}")

    def reply(self, status, body, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def peak_rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A stopped process's connection breaks mid-request: expected, not worth a traceback.
        pass


# Files a Lambda never needs at init: the host's certificate stores and AWS profile files.
HOST_FILES = re.compile(r'open(?:at)?\([^"]*"(/etc/ssl/|/usr/lib/ssl/|/etc/pki/|[^"]*/\.aws/)[^"]*"')


def host_files_opened(binary, env, event):
    """How many host certificate or AWS profile files `binary` opens up to its first answer,
    under strace (None without strace)."""
    strace = shutil.which("strace")
    if strace is None:
        return None
    with tempfile.NamedTemporaryFile(prefix="coldstart-trace-") as trace:
        one_run(binary, env, event, [strace, "-f", "-qq", "-e", "trace=open,openat", "-o", trace.name])
        return sum(1 for line in open(trace.name, errors="replace") if HOST_FILES.search(line))


def one_run(binary, env, event, prefix=()):
    run = Run(event)
    server = Server(("127.0.0.1", 0), type("Api", (RuntimeApi,), {"run": run}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {**env, "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}"}
    start = time.perf_counter_ns()
    proc = subprocess.Popen(
        [*prefix, str(binary)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while run.answered is None and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.0005)
        rss = peak_rss_kib(proc.pid)
        if run.first_next is None or run.answered is None:
            raise RuntimeError(f"{binary.name}: no first invocation (exit {proc.poll()})")
        return (
            (run.first_next - start) / 1e6,
            (run.answered - run.served) / 1e6,
            rss,
        )
    finally:
        run.done.set()
        proc.kill()
        proc.wait()
        server.shutdown()
        server.server_close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release_dir", type=Path)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="coldstart-home-")
    results = {}
    opened = {}
    for name, (extra, event) in FUNCTIONS.items():
        binary = args.release_dir / name
        if not binary.is_file():
            sys.exit(f"coldstart.py: {binary} missing (cargo build --release)")
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": home,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
            "AWS_REGION": "eu-west-1",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "AKIDBENCH",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_SESSION_TOKEN": "bench",
            "AWS_ENDPOINT_URL": CLOSED,
            "AWS_ENDPOINT_URL_DYNAMODB": CLOSED,
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": CLOSED,
            "COGNITO_USER_POOL_ID": POOL,
            "RUST_LOG": "info",
            **extra,
        }
        one_run(binary, env, event)  # page cache warm-up, not counted
        results[name] = [one_run(binary, env, event) for _ in range(args.runs)]
        opened[name] = host_files_opened(binary, env, event)

    floor = statistics.median(r[0] for r in results["coldstart-floor"])
    print(f"\ncold start, {args.runs} fresh processes each (median)")
    print(
        f"{'binary':<16} {'init':>9} {'max':>9} {'vs floor':>9} {'1st invocation':>15} "
        f"{'peak RSS':>10} {'host files':>11}"
    )
    worst = 0.0
    for name, runs in results.items():
        init = [r[0] for r in runs]
        first = statistics.median(r[1] for r in runs)
        rss = statistics.median(r[2] for r in runs if r[2] is not None) / 1024
        ratio = statistics.median(init) / floor
        if name != "coldstart-floor":
            worst = max(worst, ratio)
        files = "-" if opened[name] is None else str(opened[name])
        print(
            f"{name:<16} {statistics.median(init):>6.1f} ms {max(init):>6.1f} ms {ratio:>8.2f}× "
            f"{first:>12.2f} ms {rss:>6.1f} MiB {files:>11}"
        )
    met = "met   " if worst <= 2 else "MISSED"
    print(f"\n{met}  every function's init median within 2× the floor's (worst {worst:.2f}×)")
    if None in opened.values():
        print("not measured: host files (strace is not installed)")
    else:
        met = "met   " if not any(opened.values()) else "MISSED"
        print(f"{met}  no function opens the host's certificates or AWS profiles up to its first answer")


if __name__ == "__main__":
    main()
