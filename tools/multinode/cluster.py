"""Several engined nodes on one throwaway PostgreSQL database, on loopback only.

What the multi-node campaign (campaign.py) and the multi-node benchmark (bench.py) share: the
database cluster (tools/pg-cluster.sh, in a temporary directory of the caller's), engined
processes with their own data directories and free ports, keys minted with enginectl, a
keep-alive HTTP client and a webhook receiver recording the events it is sent. Standard library
only; nothing listens beyond 127.0.0.1.
"""

import http.client
import http.server
import json
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PG_CLUSTER = REPO_ROOT / "tools" / "pg-cluster.sh"
SUBMIT_PATH = "/api/v1/engines/default/runs"
TERMINAL = frozenset({"completed", "degraded", "failed"})
# engined answers /health within this long of starting (plugins loaded, presets checked).
START_TIMEOUT_S = 60


class HarnessError(Exception):
    """Something the harness itself could not do (start a server, mint a key): not a finding."""


def free_port():
    """A port the kernel just handed out on 127.0.0.1 (racy in theory; engined fails loudly)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Postgres:
    """A PostgreSQL cluster of its own in a fresh temporary directory, reached by its URL. The
    directory is not under the caller's work folder: the server's user must be able to reach it."""

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="engined-pg."))
        self.url = _run([str(PG_CLUSTER), "create", str(self.directory)]).strip()
        self.psql = Path(_run([str(PG_CLUSTER), "bindir"]).strip()) / "psql"

    def stop(self, mode="fast"):
        _run([str(PG_CLUSTER), "stop", str(self.directory), mode])

    def start(self):
        _run([str(PG_CLUSTER), "start", str(self.directory)])

    def destroy(self):
        subprocess.run([str(PG_CLUSTER), "destroy", str(self.directory)], check=False)

    def create_database(self, name):
        """A new, empty database in the cluster; its URL."""
        self.query(f"CREATE DATABASE {name}")
        return self.url.replace("/engined?", f"/{name}?")

    def server_pids(self):
        """The postmaster and every process it started (backends, WAL writer, checkpointer)."""
        postmaster = int((self.directory / "data" / "postmaster.pid").read_text().split()[0])
        return [postmaster] + [pid for pid, parent in _processes() if parent == postmaster]

    def query(self, sql):
        """The rows of one statement, each a list of its columns as text."""
        out = _run([str(self.psql), "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                    "-d", self.url, "-c", sql])
        return [line.split("\t") for line in out.splitlines() if line]


def postgres_installed():
    return subprocess.run([str(PG_CLUSTER), "bindir"], capture_output=True,
                          check=False).returncode == 0


class Node:
    """One engined process: its own data directory, a fresh free port at every start."""

    def __init__(self, name, build_dir, data_dir, store_url=None, extra_args=(),
                 audit_key_file=None):
        self.name = name
        self.audit_key_file = audit_key_file
        self.build_dir = Path(build_dir)
        self.data_dir = Path(data_dir)
        self.store_url = store_url
        self.extra_args = list(extra_args)
        self.port = None
        self.process = None
        self.data_dir.mkdir(parents=True, exist_ok=True)

    @property
    def log_path(self):
        return self.data_dir / "engined.log"

    def start(self):
        self.port = free_port()
        args = [str(self.build_dir / "engined"), "--listen", f"127.0.0.1:{self.port}",
                "--data-dir", str(self.data_dir), "--resources-dir", str(REPO_ROOT)]
        if self.store_url:
            args += ["--store", self.store_url]
        if self.audit_key_file:
            args += ["--audit-key-file", str(self.audit_key_file)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(args + self.extra_args, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"{self.name} exited at start; see {self.log_path}")
            try:
                status, _, _ = Client().request(self.port, "GET", "/health")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.kill_hard()
        raise HarnessError(f"{self.name} did not answer /health in {START_TIMEOUT_S} s")

    def lease_owner(self):
        """The owner id this node's runs are leased to since its last start (from its log)."""
        owner = None
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            for line in log:
                if '"run queue started"' not in line:
                    continue
                try:
                    owner = json.loads(line).get("lease_owner", owner)
                except ValueError:
                    continue
        if owner is None:
            raise HarnessError(f"{self.name} logged no lease owner; see {self.log_path}")
        return owner

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def kill_hard(self):
        if self.running:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def terminate(self, timeout_s=60):
        """SIGTERM, then wait for the drain to end; its exit status (None: it did not stop)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill_hard()
            return None


def cpu_seconds(pids):
    """User plus system CPU the processes have used so far (those gone since count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat
    return total / os.sysconf("SC_CLK_TCK")


def _processes():
    """(pid, parent pid) of every process on the machine."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            yield int(entry.name), int(fields[1])


def write_audit_key(path):
    """A fresh audit key file (64 hex characters, mode 0600): every node of one store and
    enginectl writing to it must seal the audit chain with the same key."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32) + "\n")
    return path


def mint_key(build_dir, org, store_url=None, data_dir=None, rate=1_000_000, burst=1_000_000,
             audit_key_file=None):
    """A runs:read/runs:write key of `org` (environment test), issued straight into the store."""
    store = ["--store", store_url] if store_url else ["--data-dir", str(data_dir), "--create-store"]
    if audit_key_file:
        store += ["--audit-key-file", str(audit_key_file)]
    out = _run([str(Path(build_dir) / "enginectl"), "keys", "create", *store, "--org", org,
                "--env", "test", "--rate", str(rate), "--burst", str(burst)])
    return out.strip().splitlines()[-1]


def migrate(build_dir, store_url):
    _run([str(Path(build_dir) / "engined"), "migrate", "--store", store_url])


class Client:
    """HTTP/1.1 on kept-alive loopback connections, one per port; one Client per thread.
    A request whose connection fails raises OSError (http.client's errors included) and the
    connection is dropped, so the next request opens a fresh one."""

    def __init__(self, key=None, timeout_s=30):
        self.key = key
        self.timeout_s = timeout_s
        self.connections = {}

    def request(self, port, method, path, body=None, headers=None):
        all_headers = dict(headers or {})
        if self.key:
            all_headers["Authorization"] = f"Bearer {self.key}"
        if body is not None:
            all_headers.setdefault("Content-Type", "application/json")
        connection = self.connections.get(port)
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=self.timeout_s)
            self.connections[port] = connection
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            del self.connections[port]
            raise OSError(f"{method} {path} on port {port}: {error!r}") from error
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            del self.connections[port]
        return response.status, response, data

    def close(self):
        for connection in self.connections.values():
            connection.close()
        self.connections.clear()


def retry_after_s(response, default_s=1.0):
    try:
        return float(response.getheader("Retry-After", default_s))
    except ValueError:
        return default_s


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 answering 200 to every POST and recording, per run, the event
    ids delivered for it and how many deliveries each event took."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events_by_run = {}  # run id -> set of event ids
        self.deliveries = {}  # event id -> deliveries received
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                event = json.loads(body)
                receiver.record(event["id"], event["data"]["run"]["run_id"])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/campaign"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def record(self, event_id, run_id):
        with self.lock:
            self.events_by_run.setdefault(run_id, set()).add(event_id)
            self.deliveries[event_id] = self.deliveries.get(event_id, 0) + 1

    def snapshot(self):
        with self.lock:
            return ({run: set(events) for run, events in self.events_by_run.items()},
                    dict(self.deliveries))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def register_webhook(client, port, url):
    status, _, data = client.request(port, "POST", "/api/v1/webhooks",
                                     json.dumps({"url": url, "description": "campaign receiver"}))
    if status != 201:
        raise HarnessError(f"creating the webhook endpoint answered {status}: {data[:300]!r}")


def percentile(values, fraction):
    """The value at `fraction` (0..1) of the sorted values, nearest rank; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def _run(args):
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise HarnessError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout

