"""SpiffWorkflow side of bench/workflow.sh: the 3-step approval process (approval.bpmn),
durable like onetrip's case store.

Every workflow instance is stored as the JSON of SpiffWorkflow's own BpmnWorkflowSerializer, in
a SQLite table (WAL, synchronous=FULL, as onetrip's SQLite store; --sqlite-sync changes it) or,
with --pg, in a PostgreSQL table (synchronous_commit on, the server's default).

Untimed: the BPMN file is parsed once per process and each process creates its instances, each
run to its first user task and committed. Then all processes start together (a barrier). Timed:
each instance is taken through its three user tasks one after the other; every task is one
durable step:

    load    SELECT the JSON and deserialize it       (--mode reload, the default: a request
                                                      handler has nothing else to start from)
    run     the READY user task, then do_engine_steps
    save    serialize, UPDATE, COMMIT (fsync)

--mode memory keeps each instance's BpmnWorkflow object in memory between its steps and only
writes (serialize, UPDATE, COMMIT): the kindest variant for SpiffWorkflow.

--processes N runs N worker processes, each with its own instances and connection (SpiffWorkflow
is single-threaded Python; processes are how it scales).

Prints one line of JSON: instances, seconds (first start to last finish), instances and
transitions per second, per-instance latency percentiles and the size of one stored state.
"""

import argparse
import json
import multiprocessing
import os
import sqlite3
import sys
import time

from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

STEPS = ("accept", "review", "decide")
TABLE = (
    "CREATE TABLE IF NOT EXISTS workflow ("
    " id INTEGER PRIMARY KEY, state TEXT NOT NULL, completed INTEGER NOT NULL)"
)


class Store:
    """One connection; every write is its own committed transaction."""

    def __init__(self, opts):
        if opts.pg:
            import psycopg

            self.db = psycopg.connect(opts.pg, autocommit=True)
            self.mark = "%s"
            self.begin = "BEGIN"
        else:
            self.db = sqlite3.connect(opts.db, isolation_level=None, timeout=60)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"PRAGMA synchronous={opts.sqlite_sync}")
            self.mark = "?"
            self.begin = "BEGIN IMMEDIATE"

    def sql(self, text):
        return text.replace("?", self.mark)

    def create_table(self):
        self.db.execute(TABLE)

    def write(self, statement, params):
        self.db.execute(self.begin)
        self.db.execute(self.sql(statement), params)
        self.db.execute("COMMIT")

    def read_state(self, wf_id):
        row = self.db.execute(self.sql("SELECT state FROM workflow WHERE id = ?"), (wf_id,))
        return row.fetchone()[0]

    def completed(self, first, stop):
        row = self.db.execute(
            self.sql("SELECT count(*) FROM workflow WHERE completed = 1 AND id >= ? AND id < ?"),
            (first, stop),
        )
        return row.fetchone()[0]


def save(store, serializer, wf_id, wf, insert=False):
    state = serializer.serialize_json(wf)
    if insert:
        store.write(
            "INSERT INTO workflow (id, state, completed) VALUES (?, ?, ?)",
            (wf_id, state, int(wf.is_completed())),
        )
    else:
        store.write(
            "UPDATE workflow SET state = ?, completed = ? WHERE id = ?",
            (state, int(wf.is_completed()), wf_id),
        )
    return len(state)


def step(wf, expected):
    task = wf.get_next_task(state=TaskState.READY, manual=True)
    if task is None or task.task_spec.bpmn_id != expected:
        sys.exit(f"expected the ready task {expected}, found {task and task.task_spec.bpmn_id}")
    task.data["opinion"] = "材料齐全，符合条件"
    task.run()
    wf.do_engine_steps()


def worker(opts, first, count, barrier, results):
    parser = BpmnParser()
    parser.add_bpmn_file(opts.bpmn)
    spec = parser.get_spec("approval")
    serializer = BpmnWorkflowSerializer()
    store = Store(opts)
    ids = range(first, first + count)
    kept = {}
    size = 0
    for wf_id in ids:
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        size = save(store, serializer, wf_id, wf, insert=True)
        if opts.mode == "memory":
            kept[wf_id] = wf
    barrier.wait()

    latencies = []
    start = time.perf_counter()
    for wf_id in ids:
        t = time.perf_counter()
        wf = kept.get(wf_id)
        for expected in STEPS:
            if opts.mode == "reload":
                wf = serializer.deserialize_json(store.read_state(wf_id))
            step(wf, expected)
            size = save(store, serializer, wf_id, wf)
        if not wf.is_completed():
            sys.exit(f"workflow {wf_id} not completed after {len(STEPS)} tasks")
        latencies.append(time.perf_counter() - t)
    end = time.perf_counter()
    done = store.completed(ids.start, ids.stop)
    if done != count:
        sys.exit(f"{done} of {count} workflows completed in the database")
    results.put((start, end, latencies, size))


def percentile(sorted_values, p):
    i = round((len(sorted_values) - 1) * p)
    return sorted_values[min(i, len(sorted_values) - 1)]


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--db", help="SQLite file (created)")
    args.add_argument("--pg", help="PostgreSQL connection string instead of SQLite")
    args.add_argument("--sqlite-sync", default="FULL", choices=("FULL", "NORMAL", "OFF"))
    args.add_argument("--bpmn", default=os.path.join(os.path.dirname(__file__), "approval.bpmn"))
    args.add_argument("--instances", type=int, default=500, help="in all, over the processes")
    args.add_argument("--processes", type=int, default=1)
    args.add_argument("--mode", choices=("reload", "memory"), default="reload")
    opts = args.parse_args()
    if not opts.db and not opts.pg:
        args.error("--db or --pg")

    store = Store(opts)
    store.create_table()
    (first,) = store.db.execute("SELECT coalesce(max(id), -1) + 1 FROM workflow").fetchone()
    del store

    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(opts.processes)
    results = ctx.Queue()
    share = -(-opts.instances // opts.processes)
    workers = []
    for p in range(opts.processes):
        count = min(share, opts.instances - p * share)
        w = ctx.Process(target=worker, args=(opts, first + p * share, count, barrier, results))
        w.start()
        workers.append(w)
    outcomes = [results.get() for _ in workers]
    for w in workers:
        w.join()
        if w.exitcode != 0:
            sys.exit(f"a worker failed ({w.exitcode})")

    elapsed = max(o[1] for o in outcomes) - min(o[0] for o in outcomes)
    latencies = sorted(lat for o in outcomes for lat in o[2])
    print(
        json.dumps(
            {
                "engine": "SpiffWorkflow",
                "store": "postgres" if opts.pg else f"sqlite synchronous={opts.sqlite_sync}",
                "mode": opts.mode,
                "processes": opts.processes,
                "instances": opts.instances,
                "seconds": round(elapsed, 3),
                "instances_per_second": round(opts.instances / elapsed, 1),
                "transitions_per_second": round(len(STEPS) * opts.instances / elapsed, 1),
                "p50_ms": round(percentile(latencies, 0.5) * 1000, 3),
                "p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
                "state_bytes": outcomes[0][3],
            }
        )
    )


if __name__ == "__main__":
    main()
