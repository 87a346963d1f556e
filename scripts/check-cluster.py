"""Three `glimpse serve` replicas on one PostgreSQL catalog behind nginx, under load.

Run by scripts/check-cluster, which starts PostgreSQL (scripts/pgserver) and passes its URL.
Everything listens on 127.0.0.1; nginx runs as a child process with its configuration, pid
file, logs and temporary files in a temporary folder (never the system's nginx service).

Checks, with the figures printed:
  (a) 4 clients (searches and adds through nginx); one replica is killed with SIGKILL and
      restarted: 0 client errors.
  (b) PostgreSQL stopped for 20 s: /readyz 503 within 2 s on every replica, catalog requests
      answered 503 within 1 s, every replica serving again within 2 s of the database's
      return, without a restart.
  (c) 30 rounds of concurrent creates of one id on two replicas: exactly one 201 a round.
  (d) every add acknowledged to a client is present at the end; read-your-writes across
      replicas on 200 items (written on one replica, read at once on another).
Exits 1 when a check fails.
"""

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

DIMENSION = 16  # models/test/clip-tiny


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, headers=None, timeout=10.0):
    """(status, parsed JSON or None, seconds); status 0 on a connection error."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json"} if data else {}
        all_headers.update(headers or {})
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return response.status, parsed, time.monotonic() - started
    except (OSError, http.client.HTTPException):
        return 0, None, time.monotonic() - started
    finally:
        connection.close()


def vector(seed):
    rng = random.Random(seed)
    return [rng.uniform(-1, 1) for _ in range(DIMENSION)]


class Replica:
    def __init__(self, binary, store, folder, index):
        self.binary, self.store, self.folder, self.index = binary, store, folder, index
        self.port = free_port()
        self.process = None

    def start(self):
        log = open(os.path.join(self.folder, f"replica-{self.index}.log"), "ab")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--port", str(self.port), "--store", self.store, "--store-wait", "30"],
            stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if request(self.port, "GET", "/readyz", timeout=1)[0] == 200:
                return
            if self.process.poll() is not None:
                raise SystemExit(f"replica {self.index} exited; see {self.folder}/replica-{self.index}.log")
            time.sleep(0.05)
        raise SystemExit(f"replica {self.index} not ready after {timeout} s")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


NGINX_CONFIG = """
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
daemon off;
events {{ worker_connections 256; }}
http {{
  access_log {folder}/nginx-access.log;
  client_body_temp_path {folder}/client-body;
  proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi;
  uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
{upstream}
}}
"""


def nginx_site(ports, listen):
    """The configuration documented in docs/deploy.md, with these ports."""
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in ports)
    return f"""
  upstream glimpse {{
{servers}
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{listen};
    client_max_body_size 20m;
    location / {{
      proxy_pass http://glimpse;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_connect_timeout 1s;
      proxy_read_timeout 35s;
      # A replica that dies or is loading: try the next one, POST included (creates carry an
      # Idempotency-Key, so a retried create returns the first answer).
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 3;
    }}
  }}"""


class Nginx:
    def __init__(self, folder, ports):
        self.folder = os.path.join(folder, "nginx")
        os.makedirs(self.folder, exist_ok=True)
        self.port = free_port()
        config = os.path.join(self.folder, "nginx.conf")
        with open(config, "w") as f:
            f.write(NGINX_CONFIG.format(folder=self.folder, upstream=nginx_site(ports, self.port)))
        self.process = subprocess.Popen(
            ["nginx", "-p", self.folder, "-c", config], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while request(self.port, "GET", "/healthz", timeout=1)[0] != 200:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f"nginx did not start; see {self.folder}/nginx-error.log")
            time.sleep(0.05)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class Clients:
    """Threads sending searches and adds (each add with its id as Idempotency-Key)."""

    def __init__(self, port, count=4):
        self.port, self.count = port, count
        self.acknowledged, self.errors, self.requests = [], [], 0
        self.lock = threading.Lock()
        self.running = False

    def start(self):
        self.running = True
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(self.count)]
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.running = False
        for thread in self.threads:
            thread.join()

    def run(self, client):
        seed = client * 1_000_000
        while self.running:
            seed += 1
            if seed % 2:
                item_id = f"c{client}-{seed}-{uuid.uuid4().hex[:6]}"
                status, body, _ = request(
                    self.port, "POST", "/v1/items", {"id": item_id, "embedding": vector(seed), "tags": ["load"]},
                    headers={"Idempotency-Key": item_id})
                ok = status == 201
            else:
                status, body, _ = request(self.port, "POST", "/v1/search", {"embedding": vector(seed), "k": 5})
                ok = status == 200
            with self.lock:
                self.requests += 1
                if not ok:
                    self.errors.append((status, body))
                elif seed % 2:
                    self.acknowledged.append(item_id)


def check(name, passed, figures, failures):
    print(f"[check-cluster] {'PASS' if passed else 'FAIL'} {name}: {figures}", flush=True)
    if not passed:
        failures.append(name)


def replica_failover(replicas, nginx, failures):
    """(a): kill -9 one replica under load, restart it."""
    clients = Clients(nginx.port)
    clients.start()
    time.sleep(3)
    replicas[1].kill()
    killed_at = time.monotonic()
    time.sleep(2)
    replicas[1].start()
    replicas[1].wait_ready()
    back = time.monotonic() - killed_at
    time.sleep(3)
    clients.stop()
    check("(a) kill -9 and restart of a replica under 4 clients",
          not clients.errors,
          f"{clients.requests} requests, {len(clients.acknowledged)} adds acknowledged, "
          f"{len(clients.errors)} errors {clients.errors[:3]}, replica back in {back:.1f} s", failures)
    return clients.acknowledged


def first_time(predicate, timeout, started, interval=0.05):
    """Seconds from `started` until predicate() holds (None after timeout)."""
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(interval)
    return None


def parallel(calls):
    """The results of calls run side by side."""
    results = [None] * len(calls)

    def run(i):
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def each_replica(replicas, predicate, timeout, started):
    """first_time for every replica, polled side by side."""
    return parallel([lambda r=r: first_time(lambda: predicate(r), timeout, started) for r in replicas])


def database_outage(replicas, pgserver, failures, outage=20):
    """(b): PostgreSQL stopped for `outage` seconds."""
    stopped = time.monotonic()  # counted from before the stop: pg_ctl takes a moment
    subprocess.run([pgserver, "halt"], check=True)
    # Requests sent at once, before the replicas may have noticed, then after /readyz said so.
    answers = parallel([lambda r=r: request(r.port, "GET", "/v1/items?limit=1", timeout=5) for r in replicas])
    to_503 = each_replica(replicas, lambda r: request(r.port, "GET", "/readyz", timeout=2)[0] == 503, 10, stopped)
    answers += parallel([lambda r=r: request(r.port, "POST", "/v1/search", {"embedding": vector(1), "k": 3}, timeout=5)
                         for r in replicas])
    time.sleep(max(0, outage - (time.monotonic() - stopped)))
    subprocess.run([pgserver, "resume"], check=True)
    returned = time.monotonic()
    back = each_replica(replicas, lambda r: request(r.port, "GET", "/v1/items?limit=1", timeout=2)[0] == 200, 30,
                        returned)
    ready = each_replica(replicas, lambda r: request(r.port, "GET", "/readyz", timeout=2)[0] == 200, 30, returned)
    slowest_503 = max(seconds for _, _, seconds in answers)
    check("(b1) /readyz 503 within 2 s of the database stopping, every replica",
          all(t is not None and t <= 2 for t in to_503), f"seconds {fmt(to_503)}", failures)
    check("(b2) catalog requests answer 503 catalog_unavailable within 1 s",
          all(s == 503 and (b or {}).get("error", {}).get("code") == "catalog_unavailable" for s, b, _ in answers)
          and slowest_503 <= 1,
          f"statuses {[s for s, _, _ in answers]}, seconds {fmt([t for _, _, t in answers])}", failures)
    check("(b3) every replica serves again within 2 s of the database's return, no restart",
          all(t is not None and t <= 2 for t in back) and all(r.process.poll() is None for r in replicas),
          f"catalog back after {fmt(back)} s, /readyz 200 after {fmt(ready)} s", failures)


def catalog_observability(replica, failures):
    """After (b): the outage shows in /metrics and /v1/hardware."""
    connection = http.client.HTTPConnection("127.0.0.1", replica.port, timeout=5)
    connection.request("GET", "/metrics")
    lines = connection.getresponse().read().decode().splitlines()
    connection.close()
    catalog = [line for line in lines if line.startswith("glimpse_catalog_")]
    outages = [line for line in catalog if line.startswith("glimpse_catalog_outages{")]
    unavailable = [line for line in catalog if line.startswith("glimpse_catalog_errors_total") and "unavailable" in line]
    latency = [line for line in catalog if line.startswith("glimpse_catalog_call_seconds_count")]
    status, hardware, _ = request(replica.port, "GET", "/v1/hardware")
    state = (hardware or {}).get("catalog", {})
    check("(b4) /metrics and /v1/hardware show the catalog",
          outages and float(outages[0].split()[-1]) == 1 and unavailable and latency and state.get("available") is True,
          f"{outages}, {len(unavailable)} unavailable-error series, {len(latency)} latency histograms, "
          f"/v1/hardware catalog {state}", failures)


def fmt(values):
    return "[" + ", ".join("none" if v is None else f"{v:.2f}" for v in values) + "]"


def concurrent_creates(replicas, failures, rounds=30):
    """(c): two replicas create one new id at the same moment."""
    wins = []
    for round_ in range(rounds):
        item_id = f"race-{round_}-{uuid.uuid4().hex[:6]}"
        barrier, statuses = threading.Barrier(2), []

        def create(replica, seed):
            barrier.wait()
            statuses.append(request(replica.port, "POST", "/v1/items", {"id": item_id, "embedding": vector(seed)})[0])

        threads = [threading.Thread(target=create, args=(replicas[i], round_ * 2 + i)) for i in (0, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wins.append((statuses.count(201), sorted(statuses)))
    exact = sum(1 for count, statuses in wins if count == 1 and statuses == [201, 409])
    check("(c) concurrent creates of one id on two replicas: exactly one 201", exact == rounds,
          f"{exact}/{rounds} rounds with one 201 and one 409 {[s for c, s in wins if c != 1][:3]}", failures)


def durability(replicas, nginx, acknowledged, failures, items=200):
    """(d): acknowledged adds present; read-your-writes across replicas."""
    missing = [i for i in acknowledged if request(nginx.port, "GET", f"/v1/items/{i}")[0] != 200]
    check("(d1) every acknowledged add is present", not missing,
          f"{len(acknowledged) - len(missing)}/{len(acknowledged)} present", failures)
    seen = 0
    for n in range(items):
        item_id = f"ryw-{n}-{uuid.uuid4().hex[:6]}"
        writer, reader = replicas[n % 3], replicas[(n + 1) % 3]
        created = request(writer.port, "POST", "/v1/items", {"id": item_id, "embedding": vector(n)})[0]
        seen += created == 201 and request(reader.port, "GET", f"/v1/items/{item_id}")[0] == 200
    check("(d2) read-your-writes across replicas", seen == items, f"{seen}/{items}", failures)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--pgserver", required=True)
    parser.add_argument("--outage", type=float, default=20)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="glimpse-cluster-")
    replicas = [Replica(args.binary, args.store, folder, i) for i in range(3)]
    nginx, failures, started = None, [], time.monotonic()
    try:
        replicas[0].start()
        replicas[0].wait_ready()  # the first one creates the schema
        for replica in replicas[1:]:
            replica.start()
        for replica in replicas[1:]:
            replica.wait_ready()
        nginx = Nginx(folder, [r.port for r in replicas])
        acknowledged = replica_failover(replicas, nginx, failures)
        database_outage(replicas, args.pgserver, failures, args.outage)
        catalog_observability(replicas[0], failures)
        concurrent_creates(replicas, failures)
        durability(replicas, nginx, acknowledged, failures)
    finally:
        if nginx:
            nginx.stop()
        for replica in replicas:
            replica.stop()
    print(f"[check-cluster] {'FAILED: ' + ', '.join(failures) if failures else 'all checks passed'} "
          f"in {time.monotonic() - started:.0f} s (logs in {folder})", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
