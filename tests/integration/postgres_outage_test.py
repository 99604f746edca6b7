"""PostgreSQL down under a serving engined, on a cluster of the test's own: while the database is
stopped a submit answers 503 `unavailable` with Retry-After in the error envelope; once it is
started again the same engined (no restart) accepts submits and finishes them. Exit 77 (skipped)
when no PostgreSQL server is installed; loopback only."""

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "multinode"))
import cluster  # noqa: E402

BODY = (cluster.REPO_ROOT / "tests/golden/placement/pure_bundle_ca.input.json").read_text()
# How long the node may take to notice the database is back (its pooled connections reconnect
# on their next use): generous for a loaded machine, never slept through when it is quicker.
RECOVERY_TIMEOUT_S = 60


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def submit(client, port, idempotency_key):
    status, response, data = client.request(port, "POST", cluster.SUBMIT_PATH, body=BODY,
                                            headers={"Idempotency-Key": idempotency_key})
    return status, response, json.loads(data or b"null")


def wait_terminal(client, port, run_id):
    deadline = time.monotonic() + RECOVERY_TIMEOUT_S
    while time.monotonic() < deadline:
        status, _, data = client.request(port, "GET", f"/api/v1/runs/{run_id}")
        if status == 200 and json.loads(data)["status"] in cluster.TERMINAL:
            return
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not end within {RECOVERY_TIMEOUT_S} s")


def main():
    build_dir = Path(sys.argv[1])
    if not cluster.postgres_installed():
        print("no PostgreSQL server installed: skipped")
        return 77
    work_dir = Path(tempfile.mkdtemp(prefix="engined-pg-outage-"))
    postgres = cluster.Postgres()
    node = None
    try:
        cluster.migrate(build_dir, postgres.url)
        audit_key = cluster.write_audit_key(work_dir / "audit.key")
        key = cluster.mint_key(build_dir, "outage", store_url=postgres.url,
                               audit_key_file=audit_key)
        node = cluster.Node("node", build_dir, work_dir / "node", postgres.url,
                            ["--workers", "1", "--access-log", "off"], audit_key_file=audit_key)
        node.start()
        client = cluster.Client(key)

        status, _, before = submit(client, node.port, "before-outage")
        check(status == 202, f"submit with the database up answered {status}")
        wait_terminal(client, node.port, before["run_id"])

        postgres.stop()
        status, response, body = submit(client, node.port, "during-outage")
        check(status == 503, f"submit with the database down answered {status}, not 503")
        check(body["error"]["code"] == "unavailable", f"503 envelope: {body}")
        check(int(response.getheader("Retry-After", "0")) >= 1, "503 without Retry-After")
        check(node.running, "engined exited while the database was down")

        postgres.start()
        deadline = time.monotonic() + RECOVERY_TIMEOUT_S
        while True:
            status, response, after = submit(client, node.port, "after-outage")
            if status == 202:
                break
            check(status == 503, f"submit after the database came back answered {status}")
            check(time.monotonic() < deadline,
                  f"still 503 {RECOVERY_TIMEOUT_S} s after the database came back")
            time.sleep(cluster.retry_after_s(response, 0.5) / 10)
        wait_terminal(client, node.port, after["run_id"])
        print("postgres outage: 503 with Retry-After while down; served again without a restart")
        return 0
    finally:
        if node is not None:
            node.kill_hard()
        postgres.destroy()
        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
