#!/usr/bin/env python3
"""The multi-node campaign: N engined nodes on one throwaway PostgreSQL, faults injected under load.

    tools/multinode/campaign.py [--build-dir build] [--nodes 3] [--runs 5000] [--in-flight 32]
                                [--scenarios abc] [--seed S] [--keep] [--engined-arg ARG ...]

Starts its own PostgreSQL cluster (tools/pg-cluster.sh; stopped and removed on any exit, so
restarting it disturbs nothing else), N engined nodes on it (each its own data directory and free
port on 127.0.0.1), mints a key with `enginectl keys create --store URL` and registers a webhook
endpoint delivering to a receiver in this process that records every event id. Then, per
scenario, a burst of --runs submissions with at most --in-flight in flight, spread round-robin
over the nodes, each with its own Idempotency-Key (a submission whose answer was lost, or that was
refused with 503/429, is sent again with the same key to the next node), each polled on any node
until it ends; a quarter to half into the burst (the seed picks when, and which node):

  a  one node is killed with SIGKILL, then restarted;
  b  one node is stopped with SIGTERM (a drain) while the others keep serving; it is restarted
     once the burst is over;
  c  PostgreSQL is restarted (pg_ctl stop -m fast, then start);
  d  (only when asked) no fault: a key with its own rate limit is hit through every node for a
     while; the requests it got answered must come within 10 % of its rate.

Checks after each of a-c: every run answered 202 ends terminal and succeeded; the store holds one
run per submission; no run was executed to completion twice (one event per run, in the store and
at the receiver); attempts > 1 only for runs the node that was killed held (a: processing there,
or accepted there and not started yet), and attempts 2 for runs answered 202 only by a replay
(their submit's commit may have landed unseen, leaving the run leased to a node that never ran
it), for none otherwise; every event delivered at least once (duplicates are counted, not
faults); every answer was one a client expects; a drained node exits 0. Prints a table and exits
1 on any violation, 2 when the campaign could not run, 77 when no PostgreSQL server is installed.
"""

import argparse
import json
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import cluster

ORG = "campaign"
BODY_FILE = cluster.REPO_ROOT / "tests/golden/placement/pure_bundle_ca.input.json"
FAULTS = {"a": "kill -9 a node", "b": "SIGTERM drain", "c": "PostgreSQL restart",
          "d": "rate limit across nodes"}
OUTAGE_S = 2.0  # how long PostgreSQL stays down in scenario c
KILLED_DOWNTIME_S = 1.0  # how long the killed node stays down in scenario a


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=str(cluster.REPO_ROOT / "build"))
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5000, help="submissions per scenario")
    parser.add_argument("--in-flight", type=int, default=32, help="runs submitted and not ended")
    parser.add_argument("--scenarios", default="abc", help="letters of a, b, c, d")
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 32))
    parser.add_argument("--settle-timeout", type=float, default=300,
                        help="seconds a scenario's runs and events have to end, beyond 0.1 s "
                             "per submission")
    parser.add_argument("--rate", type=float, default=20, help="scenario d: the key's rate/s")
    parser.add_argument("--rate-seconds", type=float, default=15, help="scenario d: duration")
    parser.add_argument("--keep", action="store_true", help="keep the nodes' data and logs")
    parser.add_argument("--engined-arg", action="append", default=[],
                        help="one more argument for every node (repeat it)")
    args = parser.parse_args()
    if args.nodes < 2 or args.runs < 3 or args.in_flight < 1:
        parser.error("needs --nodes >= 2, --runs >= 3 and --in-flight >= 1")
    if not args.scenarios or set(args.scenarios) - set(FAULTS):
        parser.error("--scenarios takes letters of " + "".join(FAULTS))
    return args


class Burst:
    """One scenario's submissions: what each logical submission got, and the answers seen."""

    def __init__(self, runs):
        self.lock = threading.Lock()
        self.next_index = 0
        self.run_ids = [None] * runs
        self.final_status = {}
        self.posts = 0
        self.lost_answers = 0  # connection failed under a POST: sent again with the same key
        self.unavailable = 0  # 503 / 429: sent again after a pause
        self.replayed = 0  # 202 answered from the idempotency record
        # Runs answered 202 only by a replay: the first answer was lost or a 503, so the run may
        # have been stored leased to a node that never learnt its commit landed; such a run
        # waits for that lease to run out and is claimed as attempt 2, executed once all the same.
        self.replayed_runs = set()
        self.conflicts = 0  # 409: the same key still being processed elsewhere
        self.unexpected = []

    @property
    def accepted(self):
        with self.lock:
            return sum(1 for run_id in self.run_ids if run_id)

    def take_index(self):
        with self.lock:
            index = self.next_index
            self.next_index += 1
            return index if index < len(self.run_ids) else None

    def count(self, field):
        with self.lock:
            setattr(self, field, getattr(self, field) + 1)

    def note_unexpected(self, text):
        with self.lock:
            self.unexpected.append(text)


class Campaign:
    def __init__(self, args, work_dir):
        self.args = args
        self.work_dir = work_dir
        self.body = BODY_FILE.read_text()
        self.rng = random.Random(args.seed)
        self.postgres = None
        self.nodes = []
        self.receiver = None
        self.key = None
        self.rows = []
        self.violations = []

    # --- setup -------------------------------------------------------------------------------

    def start(self):
        self.postgres = cluster.Postgres()
        cluster.migrate(self.args.build_dir, self.postgres.url)
        self.audit_key = cluster.write_audit_key(self.work_dir / "audit.key")
        self.key = cluster.mint_key(self.args.build_dir, ORG, store_url=self.postgres.url,
                                    audit_key_file=self.audit_key)
        node_args = ["--workers", "2", "--http-threads", "2", "--access-log", "off",
                     "--webhook-allowed-hosts", "127.0.0.1",
                     "--webhook-retry-schedule", "1,1,2,2,5,5,10,10",
                     "--max-connections-per-address", "0"] + self.args.engined_arg
        for number in range(1, self.args.nodes + 1):
            node = cluster.Node(f"node{number}", self.args.build_dir,
                                self.work_dir / f"node{number}", self.postgres.url, node_args,
                                audit_key_file=self.audit_key)
            node.start()  # one after another: the first seeds the built-in engines
            self.nodes.append(node)
        self.receiver = cluster.WebhookReceiver()
        cluster.register_webhook(cluster.Client(self.key), self.nodes[0].port, self.receiver.url)

    def stop(self):
        for node in self.nodes:
            node.kill_hard()
        if self.receiver:
            self.receiver.close()
        if self.postgres:
            self.postgres.destroy()

    # --- the client --------------------------------------------------------------------------

    def submit(self, client, burst, index, label, deadline):
        """Sends submission `index` until it is answered 202 (its run id) or cannot be."""
        headers = {"Idempotency-Key": f"campaign-{self.args.seed}-{label}-{index}"}
        shift = 0
        while time.monotonic() < deadline:
            port = self.nodes[(index + shift) % len(self.nodes)].port
            burst.count("posts")
            try:
                status, response, data = client.request(port, "POST", cluster.SUBMIT_PATH,
                                                        self.body, headers)
            except OSError:
                burst.count("lost_answers")
                shift += 1
                time.sleep(0.02)
                continue
            if status == 202:
                run_id = json.loads(data)["run_id"]
                if response.getheader("Idempotent-Replayed") == "true":
                    burst.count("replayed")
                    with burst.lock:
                        burst.replayed_runs.add(run_id)
                return run_id
            if status in (429, 503):
                burst.count("unavailable")
                shift += 1
                time.sleep(min(cluster.retry_after_s(response), 1.0))
                continue
            if status == 409 and b"being processed" in data:  # the first try is still under way
                burst.count("conflicts")
                time.sleep(0.1)
                continue
            burst.note_unexpected(f"POST answered {status}: {data[:200]!r}")
            return None
        burst.note_unexpected(f"submission {index} not accepted before the deadline")
        return None

    def fetch_status(self, client, run_id, attempt):
        """The run's status from a node picked by `attempt`; None when no node answered."""
        port = self.nodes[attempt % len(self.nodes)].port
        try:
            status, _, data = client.request(port, "GET", f"/api/v1/runs/{run_id}")
        except OSError:
            return None
        if status == 200:
            return json.loads(data)["status"]
        if status == 503:
            return None
        return f"HTTP {status}"

    def wait_ended(self, client, burst, run_id, deadline):
        delay = 0.01
        attempt = random.randrange(len(self.nodes))
        while time.monotonic() < deadline:
            status = self.fetch_status(client, run_id, attempt)
            attempt += 1
            if status in cluster.TERMINAL or (status or "").startswith("HTTP"):
                with burst.lock:
                    burst.final_status[run_id] = status
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2)

    def client_loop(self, burst, label, deadline):
        client = cluster.Client(self.key)
        while (index := burst.take_index()) is not None:
            run_id = self.submit(client, burst, index, label, deadline)
            if run_id:
                with burst.lock:
                    burst.run_ids[index] = run_id
                self.wait_ended(client, burst, run_id, deadline)
        client.close()

    # --- scenarios ---------------------------------------------------------------------------

    def run_scenario(self, letter):
        if letter == "d":
            return self.rate_limit_scenario()
        started = time.monotonic()
        deadline = started + self.args.settle_timeout + self.args.runs / 10
        runs_before = self.count_runs()
        burst = Burst(self.args.runs)
        clients = [threading.Thread(target=self.client_loop, args=(burst, letter, deadline),
                                    daemon=True) for _ in range(self.args.in_flight)]
        for thread in clients:
            thread.start()
        # Where the fault lands and which node it hits follow from the seed.
        fault_at = round(self.args.runs * self.rng.uniform(0.25, 0.5))
        victim = self.rng.choice(self.nodes)
        while burst.accepted < fault_at and time.monotonic() < deadline:
            time.sleep(0.01)
        print(f"  {letter}: the fault lands after {burst.accepted} accepted submissions"
              + ("" if letter == "c" else f", on {victim.name}"), flush=True)
        notes = {}
        if letter == "a":
            victim_owner = victim.lease_owner()
            victim.kill_hard()
            time.sleep(0.2)  # a commit the killed node had already sent still lands
            notes["held_at_kill"] = {row[0] for row in self.postgres.query(
                "SELECT id FROM runs WHERE status IN ('queued', 'processing') "
                f"AND lease_owner = '{victim_owner}'")}
            time.sleep(KILLED_DOWNTIME_S)
            victim.start()
        elif letter == "b":
            drain_started = time.monotonic()
            exit_status = victim.terminate()
            notes["drain_s"] = time.monotonic() - drain_started
            if exit_status != 0:
                self.violate(letter, f"the drained node exited with {exit_status}, not 0")
        elif letter == "c":
            self.postgres.stop("fast")
            time.sleep(OUTAGE_S)
            self.postgres.start()
        for thread in clients:
            thread.join()
        if letter == "b":
            unfinished = [run for run in burst.run_ids if run and run not in burst.final_status]
            if unfinished:
                self.violate(letter, f"{len(unfinished)} runs did not end while a node was "
                                     f"drained and the others served, e.g. {unfinished[0]}")
            victim.start()
        # The checks share the scenario's deadline; a node restarted at its end gets a little more.
        self.check(letter, burst, runs_before, notes, started, max(deadline, time.monotonic() + 30))

    def check(self, letter, burst, runs_before, notes, started, deadline):
        accepted = [run for run in burst.run_ids if run]
        statuses = self.final_statuses(accepted, deadline)
        not_terminal = [run for run in accepted if statuses.get(run) not in cluster.TERMINAL]
        not_succeeded = [run for run in accepted
                         if statuses.get(run) in cluster.TERMINAL
                         and statuses[run] not in ("completed", "degraded")]
        if len(accepted) < self.args.runs:
            self.violate(letter, f"{self.args.runs - len(accepted)} submissions never got a 202")
        if len(set(accepted)) != len(accepted):
            self.violate(letter, "two submissions were answered with the same run id")
        if not_terminal:
            self.violate(letter, f"{len(not_terminal)} runs answered 202 did not end, e.g. "
                                 f"{not_terminal[0]} ({statuses.get(not_terminal[0])})")
        if not_succeeded:
            self.violate(letter, f"{len(not_succeeded)} runs did not succeed, e.g. "
                                 f"{not_succeeded[0]} ({statuses[not_succeeded[0]]})")
        for text in burst.unexpected[:5]:
            self.violate(letter, "unexpected: " + text)
        if len(burst.unexpected) > 5:
            self.violate(letter, f"... and {len(burst.unexpected) - 5} more unexpected answers")

        stored = self.count_runs() - runs_before
        if stored != len(set(accepted)):
            self.violate(letter, f"the store holds {stored} new runs for "
                                 f"{len(set(accepted))} accepted submissions")
        accepted_set = set(accepted)
        attempts = {row[0]: int(row[1]) for row in self.postgres.query(
            f"SELECT id, attempts FROM runs WHERE organization = '{ORG}' AND attempts > 1")
            if row[0] in accepted_set}
        allowed = notes.get("held_at_kill", set()) | {
            run for run in burst.replayed_runs if attempts.get(run) == 2}
        wrongly_repeated = sorted(run for run in attempts if run not in allowed)
        if wrongly_repeated:
            self.violate(letter, f"{len(wrongly_repeated)} runs executed again although their "
                                 f"node did not die, e.g. {wrongly_repeated[0]} "
                                 f"(attempts {attempts[wrongly_repeated[0]]})")
        finished_twice = [row for row in self.postgres.query(
            "SELECT run_id, count(DISTINCT event_id) FROM webhook_deliveries "
            "GROUP BY run_id HAVING count(DISTINCT event_id) > 1") if row[0] in accepted_set]
        if finished_twice:
            self.violate(letter, f"{len(finished_twice)} runs have more than one outcome event "
                                 f"in the store, e.g. {finished_twice[0][0]}")

        events, deliveries = self.wait_for_events(accepted_set, deadline)
        without_event = [run for run in accepted if not events.get(run)]
        twice_at_receiver = [run for run in accepted if len(events.get(run, ())) > 1]
        if without_event:
            outbox = self.postgres.query(
                "SELECT status, attempts, leased_until_ms IS NOT NULL, coalesce(last_error, '') "
                f"FROM webhook_deliveries WHERE run_id = '{without_event[0]}'")
            self.violate(letter, f"{len(without_event)} runs' events never reached the "
                                 f"receiver, e.g. {without_event[0]} (its deliveries in the "
                                 f"store: status, attempts, leased, last error: {outbox})")
        if twice_at_receiver:
            self.violate(letter, f"{len(twice_at_receiver)} runs were announced by two different "
                                 f"events, e.g. {twice_at_receiver[0]}")
        event_ids = {event for run in accepted for event in events.get(run, ())}
        received = sum(deliveries[event] for event in event_ids)
        self.rows.append({
            "scenario": f"{letter}: {FAULTS[letter]}",
            "202": len(accepted),
            "POSTs": burst.posts,
            "retried": burst.lost_answers + burst.unavailable + burst.conflicts,
            "replayed": burst.replayed,
            "terminal": len(accepted) - len(not_terminal),
            "attempts>1": len(attempts),
            "events": len(event_ids),
            "dup. deliveries": received - len(event_ids),
            "wall s": f"{time.monotonic() - started:.1f}",
        })
        if "drain_s" in notes:
            print(f"  b: the drained node stopped {notes['drain_s']:.1f} s after SIGTERM")
        if "held_at_kill" in notes:
            print(f"  a: {len(notes['held_at_kill'])} runs were held by the node when it was "
                  f"killed; {len(attempts)} ran again")

    def final_statuses(self, run_ids, deadline):
        """Every run's status through the API, asked again until all ended or the deadline."""
        statuses = {}
        pending = list(run_ids)
        client = cluster.Client(self.key)
        while pending:
            for attempt, run_id in enumerate(pending):
                statuses[run_id] = self.fetch_status(client, run_id, attempt)
            pending = [run for run in pending if statuses[run] not in cluster.TERMINAL]
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        client.close()
        return statuses

    def wait_for_events(self, run_ids, deadline):
        while True:
            events, deliveries = self.receiver.snapshot()
            if all(events.get(run) for run in run_ids) or time.monotonic() > deadline:
                return events, deliveries
            time.sleep(0.2)

    def rate_limit_scenario(self):
        """A key limited to --rate requests/s (burst 1x its rate) hit through every node: the
        requests answered 200 over the window, less the burst, must be within 10 % of the rate."""
        started = time.monotonic()
        rate, seconds = self.args.rate, self.args.rate_seconds
        burst = max(1, round(rate))
        key = cluster.mint_key(self.args.build_dir, ORG + "-rate", store_url=self.postgres.url,
                               rate=rate, burst=burst, audit_key_file=self.audit_key)
        counts = {"ok": 0, "limited": 0, "other": 0}
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds

        def hammer(node):
            client = cluster.Client(key)
            while time.monotonic() < stop_at:
                try:
                    status, _, _ = client.request(node.port, "GET", "/api/v1/me")
                except OSError:
                    status = None
                outcome = {200: "ok", 429: "limited"}.get(status, "other")
                with lock:
                    counts[outcome] += 1
                time.sleep(0.01)
            client.close()

        threads = [threading.Thread(target=hammer, args=(node,), daemon=True)
                   for node in self.nodes for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        measured = (counts["ok"] - burst) / seconds
        if abs(measured - rate) > 0.1 * rate:
            self.violate("d", f"the key got {measured:.1f} requests/s through {len(self.nodes)} "
                              f"nodes; its rate is {rate:g}/s (±10 % allowed)")
        if counts["other"]:
            self.violate("d", f"{counts['other']} answers were neither 200 nor 429")
        self.rows.append({"scenario": f"d: {FAULTS['d']}", "rate/s": f"{rate:g}",
                          "measured/s": f"{measured:.1f}", "200": counts["ok"],
                          "429": counts["limited"], "wall s": f"{time.monotonic() - started:.1f}"})

    # --- reporting ---------------------------------------------------------------------------

    def count_runs(self):
        return int(self.postgres.query(
            f"SELECT count(*) FROM runs WHERE organization = '{ORG}'")[0][0])

    def violate(self, letter, text):
        self.violations.append(f"{letter}: {text}")
        print(f"  VIOLATION {letter}: {text}", flush=True)

    def print_summary(self):
        print()
        for columns in _column_groups(self.rows):
            widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in columns[1])) for c in columns[0]}
            print("  ".join(c.ljust(widths[c]) for c in columns[0]))
            for row in columns[1]:
                print("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns[0]))
            print()
        for violation in self.violations:
            print("VIOLATION", violation)
        print("PASS" if not self.violations else f"FAIL ({len(self.violations)} violations)")


def _column_groups(rows):
    """Rows with the same columns printed as one table (the rate-limit row has its own)."""
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.items())


def main():
    args = parse_args()
    for binary in ("engined", "enginectl"):
        if not (Path(args.build_dir) / binary).exists():
            print(f"campaign: missing {args.build_dir}/{binary}: build first", file=sys.stderr)
            return 2
    if not cluster.postgres_installed():
        print("campaign: skipped: no PostgreSQL server installed (tools/install-deps.sh)")
        return 77
    # SIGTERM (a test runner's timeout) ends the campaign through the same clean-up as a failure.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))
    work_dir = Path(tempfile.mkdtemp(prefix="engined-multinode-"))
    campaign = Campaign(args, work_dir)
    print(f"campaign: seed {args.seed}, {args.nodes} nodes, {args.runs} runs per scenario, "
          f"{args.in_flight} in flight, scenarios {args.scenarios}", flush=True)
    status = 2
    try:
        campaign.start()
        for letter in args.scenarios:
            print(f"scenario {letter}: {FAULTS[letter]} ...", flush=True)
            campaign.run_scenario(letter)
        campaign.print_summary()
        status = 1 if campaign.violations else 0
    except cluster.HarnessError as error:
        print(f"campaign: could not run: {error}", file=sys.stderr)
    finally:
        campaign.stop()
        if args.keep or status != 0:
            print(f"nodes' data and logs kept in {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
