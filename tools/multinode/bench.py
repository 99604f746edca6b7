#!/usr/bin/env python3
"""Run latency and sustained throughput of 1, 2 and 3 engined nodes on one PostgreSQL database,
beside a single SQLite node, in one run on this machine (docs/performance.md).

    tools/multinode/bench.py [--build-dir build] [--nodes 1,2,3] [--runs 200]
                             [--concurrency 16] [--seconds 10]

Each configuration gets fresh nodes (free ports on 127.0.0.1, 2 HTTP threads and 2 workers each)
and, on PostgreSQL, a fresh database in one throwaway cluster (tools/pg-cluster.sh, removed at
the end); the key is minted with enginectl before the nodes start. Per configuration:

  light load  --runs runs one after another, submitted round-robin over the nodes and polled
              every millisecond on the node that accepted it: submit->202 and submit->completed
              p50 / p99;
  sustained   --concurrency client threads, each submitting a run (round-robin) and polling it
              every 5 ms until it ends, for --seconds after a 2 s warm-up: completed runs/s and
              submit->completed p50 / p99 under that load; the CPU the nodes, the database
              server and this client spent per completed run; on PostgreSQL also the transactions
              the database committed per completed run (the client's polling reads included),
              its WAL flushes to disk per run (what a commit waits for) and its client
              connections while loaded.

The client is this Python process on the same cores as the servers and the database: compare
figures within one run. Nothing listens beyond 127.0.0.1.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import cluster

BODY_FILE = cluster.REPO_ROOT / "tests/golden/placement/pure_bundle_ca.input.json"
WARMUP_RUNS = 10
WARMUP_S = 2.0
RUN_TIMEOUT_S = 30


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=str(cluster.REPO_ROOT / "build"))
    parser.add_argument("--nodes", default="1,2,3", help="node counts on PostgreSQL")
    parser.add_argument("--runs", type=int, default=200, help="light-load runs")
    parser.add_argument("--concurrency", type=int, default=16, help="sustained client threads")
    parser.add_argument("--seconds", type=float, default=10, help="sustained, measured window")
    return parser.parse_args()


class Driver:
    """Submits runs to a set of nodes and times them until they end."""

    def __init__(self, nodes, key, body):
        self.nodes = nodes
        self.key = key
        self.body = body

    def one_run(self, client, index, poll_s):
        """(submit->202 ms, submit->ended ms) of one run submitted to node index % n."""
        port = self.nodes[index % len(self.nodes)].port
        started = time.perf_counter()
        status, _, data = client.request(port, "POST", cluster.SUBMIT_PATH, self.body)
        accepted = time.perf_counter()
        if status != 202:
            raise cluster.HarnessError(f"submit answered {status}: {data[:200]!r}")
        run_id = json.loads(data)["run_id"]
        while accepted - started < RUN_TIMEOUT_S:
            status, _, data = client.request(port, "GET", f"/api/v1/runs/{run_id}")
            if status == 200 and json.loads(data)["status"] in cluster.TERMINAL:
                ended = time.perf_counter()
                return (accepted - started) * 1000, (ended - started) * 1000
            time.sleep(poll_s)
        raise cluster.HarnessError(f"run {run_id} did not end in {RUN_TIMEOUT_S} s")

    def light_load(self, runs):
        client = cluster.Client(self.key)
        for index in range(WARMUP_RUNS):
            self.one_run(client, index, 0.001)
        timings = [self.one_run(client, index, 0.001) for index in range(runs)]
        client.close()
        return [t[0] for t in timings], [t[1] for t in timings]

    def sustained(self, concurrency, seconds):
        """(completed runs/s in the window, their submit->ended ms, runs ended in the phase)."""
        begin = time.perf_counter()
        window = (begin + WARMUP_S, begin + WARMUP_S + seconds)
        lock = threading.Lock()
        in_window, ended_total = [], [0]

        def loop(offset):
            client = cluster.Client(self.key)
            index = offset
            while time.perf_counter() < window[1]:
                started = time.perf_counter()
                _, total_ms = self.one_run(client, index, 0.005)
                index += concurrency
                with lock:
                    ended_total[0] += 1
                    if started >= window[0] and time.perf_counter() <= window[1]:
                        in_window.append(total_ms)
            client.close()

        threads = [threading.Thread(target=loop, args=(n,)) for n in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return len(in_window) / seconds, in_window, ended_total[0]


def measure(label, nodes, key, args, postgres=None, database=None):
    driver = Driver(nodes, key, BODY_FILE.read_text())
    accepted_ms, light_ms = driver.light_load(args.runs)
    counters_before = postgres and _counters(postgres, database)
    connections = []
    sampler = None
    if postgres:
        sampler = threading.Thread(target=lambda: (time.sleep(WARMUP_S + args.seconds / 2),
                                                   connections.append(_connections(postgres,
                                                                                   database))))
        sampler.start()
    cpu_before = _cpu(nodes, postgres)
    rate, loaded_ms, ended = driver.sustained(args.concurrency, args.seconds)
    cpu_used = [after - before for after, before in zip(_cpu(nodes, postgres), cpu_before)]
    row = {"store": label, "nodes": len(nodes),
           "202 p50": _ms(cluster.percentile(accepted_ms, 0.5)),
           "light p50": _ms(cluster.percentile(light_ms, 0.5)),
           "light p99": _ms(cluster.percentile(light_ms, 0.99)),
           "runs/s": f"{rate:.0f}",
           "loaded p50": _ms(cluster.percentile(loaded_ms, 0.5)),
           "loaded p99": _ms(cluster.percentile(loaded_ms, 0.99)),
           "CPU ms/run engined, db, client": "/".join(f"{1000 * c / ended:.1f}"
                                                        for c in cpu_used),
           "xacts/run": "", "WAL syncs/run": "", "db conns": ""}
    if postgres:
        sampler.join()
        time.sleep(2)  # the database publishes its counters at most once a second per session
        counters = _counters(postgres, database)
        row["xacts/run"] = f"{(counters[0] - counters_before[0]) / ended:.1f}"
        row["WAL syncs/run"] = f"{(counters[1] - counters_before[1]) / ended:.2f}"
        row["db conns"] = str(connections[0])
    print("  " + ", ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    return row, rate


def _cpu(nodes, postgres):
    """CPU seconds used so far by the engined nodes, the database server and this client."""
    times = os.times()
    return (cluster.cpu_seconds(node.process.pid for node in nodes),
            cluster.cpu_seconds(postgres.server_pids()) if postgres else 0.0,
            times.user + times.system)


def _counters(postgres, database):
    """(transactions committed in the database, reads included; WAL flushes to disk, cluster-wide:
    what bounds the commit rate)."""
    row = postgres.query(
        f"SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = '{database}'), "
        "(SELECT wal_sync FROM pg_stat_wal)")[0]
    return int(row[0]), int(row[1])


def _connections(postgres, database):
    return int(postgres.query(
        f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}'")[0][0])


def _ms(value):
    return f"{value:.1f}"


def start_nodes(count, build_dir, work_dir, store_url, audit_key_file=None):
    nodes = []
    for number in range(1, count + 1):
        node = cluster.Node(f"node{number}", build_dir, work_dir / f"node{number}", store_url,
                            ["--workers", "2", "--http-threads", "2", "--access-log", "off",
                             "--max-connections-per-address", "0"],
                            audit_key_file=audit_key_file)
        nodes.append(node)
        node.start()
    return nodes


def main():
    args = parse_args()
    node_counts = [int(n) for n in args.nodes.split(",")]
    if not cluster.postgres_installed():
        print("bench: no PostgreSQL server installed (tools/install-deps.sh)", file=sys.stderr)
        return 2
    work_dir = Path(tempfile.mkdtemp(prefix="engined-multinode-bench-"))
    postgres = None
    nodes = []
    rows = []
    try:
        print("SQLite, one node ...", flush=True)
        data_dir = work_dir / "sqlite"
        key = cluster.mint_key(args.build_dir, "bench", data_dir=data_dir / "node1")
        nodes = start_nodes(1, args.build_dir, data_dir, None)
        row, sqlite_rate = measure("SQLite", nodes, key, args)
        rows.append(row)
        for node in nodes:
            node.terminate()
        postgres = cluster.Postgres()
        for count in node_counts:
            print(f"PostgreSQL, {count} node(s) ...", flush=True)
            database = f"bench{count}"
            url = postgres.create_database(database)
            cluster.migrate(args.build_dir, url)
            audit_key = cluster.write_audit_key(work_dir / f"{database}.audit.key")
            key = cluster.mint_key(args.build_dir, "bench", store_url=url, audit_key_file=audit_key)
            nodes = start_nodes(count, args.build_dir, work_dir / database, url, audit_key)
            row, rate = measure("PostgreSQL", nodes, key, args, postgres, database)
            row["runs/s"] += f" ({rate / sqlite_rate:.2f}x)"
            rows.append(row)
            for node in nodes:
                node.terminate()
    except cluster.HarnessError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    finally:
        for node in nodes:
            node.kill_hard()
        if postgres:
            postgres.destroy()
        shutil.rmtree(work_dir, ignore_errors=True)
    columns = list(rows[0])
    print(f"\n----- multi-node summary ({time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}, "
          f"light load {args.runs} runs, sustained {args.concurrency} clients for "
          f"{args.seconds:g} s; times in ms) -----")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
