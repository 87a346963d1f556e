#!/usr/bin/env python3
"""Glimpse against the Python stack it replaces, side by side, on this machine.

  python3 bench/compare.py [--glimpse .build/release/glimpse] [--quick]

1. Makes (once per seed, cached in bench/models/) one random-weight ViT-B/32 from
   `torch.manual_seed(SEED)`, saved as a sentence-transformers folder (seed stack) and exported
   as ONNX in Immich's layout (ORT peer and Glimpse), two photo-like JPEG fixtures (640×480 and
   4000×3000) and a catalog of 10,000 clustered 512-d vectors with metadata.
2. Checks the contestants compute the same thing: `glimpse embed` (CLI) and every server's
   /embed answer against the sentence-transformers one (cosine, printed; ≥ 0.99 expected).
3. Starts each service alone on loopback, measures start-up (process start -> readiness 200,
   and -> first image embedding answered), then drives it with the same requests:
   image embed (640×480 and 12 MP JPEG, raw body), text embed, and catalog search with a text
   query over the 10,000 items, each at concurrency 1 and 8, bounded by a request count and a
   time limit. Peak RSS of the server's process tree is sampled from /proc every 20 ms.
4. Prints one Markdown table with Glimpse/seed and Glimpse/ORT-peer ratios per row and writes
   it with a JSON file under bench/results/<time>/ (and bench/results/latest.{md,json}).

Contestants (bench/peer_seed.py, bench/peer_ort.py, and Glimpse):
  seed     FastAPI + uvicorn + sentence-transformers CLIP, torch.no_grad()   POST /embed, /search
  ort      FastAPI + uvicorn + PIL + numpy + onnxruntime, Immich-style        POST /embed, /search
  glimpse  `glimpse serve`                                                    POST /v1/embed, /v1/search
The peers load the catalog from the .npz at start-up; Glimpse gets it through its public
interface (POST /v1/items, 8 connections), then is restarted so that its measured start-up
includes opening the 10,000-item catalog, like the peers' start-up includes loading theirs.

The Python side runs in .deps/venv-peers, which this script creates when it is missing (see
PEER_PACKAGES). Everything runs one service at a time (the machine has 2 cores); the load
generator is this process (asyncio, raw HTTP/1.1 keep-alive); its own CPU use is reported.
"""
import argparse
import asyncio
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
VENV = os.path.join(ROOT, ".deps", "venv-peers")
VENV_PYTHON = os.path.join(VENV, "bin", "python")

# torch: the CPU-only wheel. PyPI's default Linux torch wheel depends on CUDA libraries (GBs);
# 2.13.0+cpu (a 190 MB wheel) is what pip finds here (pip.conf find-links /opt/wheels); where it
# is not available the script falls back to PyPI's default torch.
TORCH_CPU = "torch==2.13.0+cpu"
PEER_PACKAGES = [
    "sentence-transformers==6.2.0", "transformers==5.24.0", "tokenizers==0.23.3",
    "fastapi==0.165.0", "uvicorn[standard]==0.54.0",
    "onnxruntime==1.31.1", "onnx==1.23.2", "onnxscript==0.7.2", "numpy==2.4.6", "pillow==13.0.0",
]
PEER_IMPORTS = "import torch, transformers, sentence_transformers, fastapi, uvicorn, onnxruntime, onnx, PIL, numpy, tokenizers"


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# The peers' virtual environment; the script re-executes itself inside it.

def ensure_venv():
    if os.path.exists(VENV_PYTHON) and subprocess.run([VENV_PYTHON, "-c", PEER_IMPORTS], capture_output=True).returncode == 0:
        return
    log(f"creating {VENV} (CPU torch, sentence-transformers, FastAPI, onnxruntime; ~1 minute)")
    if not os.path.exists(VENV_PYTHON):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    pip = [VENV_PYTHON, "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True)
    if subprocess.run(pip + [TORCH_CPU]).returncode != 0:
        log(f"{TORCH_CPU} is not available here; installing PyPI's default torch wheel (with CUDA libraries)")
        subprocess.run(pip + ["torch"], check=True)
    subprocess.run(pip + PEER_PACKAGES, check=True)


def in_venv():
    return os.path.realpath(sys.prefix) == os.path.realpath(VENV)


# --------------------------------------------------------------------------------------------
# A minimal HTTP/1.1 keep-alive client (asyncio streams); the timed loop only checks statuses.

class Connection:
    def __init__(self, port):
        self.port = port
        self.reader = self.writer = None

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except Exception:  # noqa: BLE001
                pass
        self.reader = self.writer = None

    async def request(self, data):
        """Sends one prepared request; returns (status, body). Reconnects once on a dropped connection."""
        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port, limit=1 << 20)
            try:
                self.writer.write(data)
                head = await self.reader.readuntil(b"\r\n\r\n")
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 1:
                    raise
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(parts)
        else:
            body = await self.reader.read()
            await self.close()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body


def http_request(method, path, port, body=b"", content_type=None):
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: glimpse-bench\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    if body or method in ("POST", "PUT"):
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def http_once(port, method, path, body=b"", content_type=None, timeout=120):
    """One blocking request on a fresh connection (for probes and checks)."""
    async def go():
        connection = Connection(port)
        try:
            return await asyncio.wait_for(connection.request(http_request(method, path, port, body, content_type)), timeout)
        finally:
            await connection.close()
    return asyncio.run(go())


def percentile(values, q):
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def drive(port, requests, concurrency, max_requests, max_seconds, warmup, timeout=120):
    """Runs `requests` (prepared bytes, used round-robin) with `concurrency` connections: first
    `warmup` untimed requests, then until `max_requests` are answered or `max_seconds` pass
    (requests in flight at the deadline finish and count). Returns the measured figures."""
    connections = [Connection(port) for _ in range(concurrency)]
    counter = {"next": 0}
    latencies, failures = [], []

    async def worker(connection, limit, deadline, record):
        while True:
            index = counter["next"]
            if index >= limit or (deadline is not None and time.perf_counter() >= deadline):
                return
            counter["next"] = index + 1
            started = time.perf_counter()
            try:
                status, body = await asyncio.wait_for(connection.request(requests[index % len(requests)]), timeout)
            except Exception as error:  # noqa: BLE001
                await connection.close()
                status, body = None, repr(error).encode()
            finished = time.perf_counter()
            if record:
                if status == 200:
                    latencies.append((finished - started, finished))
                else:
                    failures.append(f"{status}: {body[:200].decode(errors='replace')}")

    try:
        if warmup:
            await asyncio.gather(*(worker(c, warmup, None, False) for c in connections))
        counter["next"] = 0
        cpu_before = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(worker(c, max_requests, started + max_seconds, True) for c in connections))
        wall = time.perf_counter() - started
        client_cpu = time.process_time() - cpu_before
    finally:
        for connection in connections:
            await connection.close()
    times = [latency for latency, _ in latencies]
    last = max((finished for _, finished in latencies), default=started)
    return {
        "requests": len(times), "failures": len(failures), "failure_examples": failures[:3],
        "wall_s": round(wall, 3),
        "throughput_rps": round(len(times) / (last - started), 3) if times else 0.0,
        "p50_ms": round(percentile(times, 0.50) * 1000, 2) if times else None,
        "p90_ms": round(percentile(times, 0.90) * 1000, 2) if times else None,
        "p99_ms": round(percentile(times, 0.99) * 1000, 2) if times else None,
        "mean_ms": round(statistics.fmean(times) * 1000, 2) if times else None,
        "client_cpu_percent": round(100 * client_cpu / wall, 1) if wall else None,
    }


# --------------------------------------------------------------------------------------------
# The server process tree, watched through /proc.

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def process_tree(pid):
    pids, stack = [], [pid]
    while stack:
        current = stack.pop()
        pids.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    stack.extend(int(child) for child in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    return pids


def tree_rss(pid):
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def tree_cpu_seconds(pid):
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / TICK


def system_busy_seconds():
    """CPU seconds all cores spent busy (not idle or iowait) since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


def other_cpu_percent(pid, seconds=1.0):
    """CPU % (of one core) used over `seconds` by everything but the server tree and this process."""
    busy, server, own, started = system_busy_seconds(), tree_cpu_seconds(pid), time.process_time(), time.perf_counter()
    time.sleep(seconds)
    other = (system_busy_seconds() - busy) - (tree_cpu_seconds(pid) - server) - (time.process_time() - own)
    return 100 * max(0.0, other) / (time.perf_counter() - started)


QUIET_BUDGET = {"left_s": 0.0}  # total waiting allowed in one run (--quiet-budget)


def wait_until_quiet(pid, limit_percent, max_wait_s):
    """Waits (up to max_wait_s, and within what is left of the run's --quiet-budget) until other
    processes use < limit_percent of a core; returns the seconds waited and the last reading.
    The machine is shared: a build meanwhile skews figures."""
    started = time.perf_counter()
    reading = other_cpu_percent(pid)
    limit = min(max_wait_s, QUIET_BUDGET["left_s"])
    while reading >= limit_percent and time.perf_counter() - started < limit:
        reading = other_cpu_percent(pid, 2.0)
    waited = time.perf_counter() - started
    QUIET_BUDGET["left_s"] = max(0.0, QUIET_BUDGET["left_s"] - max(0.0, waited - 1.0))
    return waited, reading


def proc_status(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return line.split()[1]
    except FileNotFoundError:
        return None


class RSSSampler(threading.Thread):
    """Samples the tree's RSS every `interval` s; `peak` overall, `window_peak` since mark()."""

    def __init__(self, pid, interval=0.02):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = self.window_peak = 0
        self.stopped = threading.Event()

    def mark(self):
        self.window_peak = tree_rss(self.pid)

    def run(self):
        while not self.stopped.is_set():
            rss = tree_rss(self.pid)
            self.peak = max(self.peak, rss)
            self.window_peak = max(self.window_peak, rss)
            self.stopped.wait(self.interval)


# --------------------------------------------------------------------------------------------
# Contestants.

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    def __init__(self, name, label, command, ready_path, embed_path, search_path, log_path, cwd=ROOT, env=None):
        self.name, self.label, self.command = name, label, command
        self.ready_path, self.embed_path, self.search_path = ready_path, embed_path, search_path
        self.log_path, self.cwd, self.env = log_path, cwd, env
        self.process = self.sampler = None
        self.port = None

    def start(self, port, timeout=600):
        """Starts the process and waits for readiness; returns seconds from start to ready."""
        self.port = port
        command = [part.replace("{port}", str(port)) for part in self.command]
        self.log_file = open(self.log_path, "a")
        self.log_file.write(f"$ {' '.join(command)}\n")
        self.log_file.flush()
        env = dict(os.environ, **(self.env or {}))
        started = time.perf_counter()
        self.process = subprocess.Popen(command, cwd=self.cwd, env=env, stdout=self.log_file, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.sampler = RSSSampler(self.process.pid)
        self.sampler.start()
        self.started = started
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label} exited with status {self.process.returncode} before it was ready (see {self.log_path})")
            try:
                status, _ = http_once(port, "GET", self.ready_path, timeout=5)
                if status == 200:
                    ready = time.perf_counter() - started
                    self.ready_rss = tree_rss(self.process.pid)
                    return ready
            except Exception:  # noqa: BLE001  (not listening yet, reset, timeout)
                pass
            time.sleep(0.01)
        raise RuntimeError(f"{self.label} not ready after {timeout} s")

    def stop(self):
        if self.sampler:
            self.sampler.stopped.set()
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if getattr(self, "log_file", None):
            self.log_file.close()


def warm_page_cache(folder):
    """Reads the model files once so every contestant's start-up finds them in the page cache."""
    for directory, _, files in os.walk(folder):
        for name in files:
            with open(os.path.join(directory, name), "rb") as f:
                while f.read(1 << 24):
                    pass


# --------------------------------------------------------------------------------------------
# Loads.

def _texts():
    """4,096 distinct short queries (8-12 tokens), shuffled deterministically. Each load takes
    its own slice, so no contestant ever sees a text twice: a cache of text embeddings cannot
    turn a model benchmark into a cache benchmark."""
    import random
    adjectives = ["red", "blue", "old", "small", "shiny", "wooden", "striped", "green",
                  "leather", "vintage", "broken", "yellow", "tiny", "huge", "plastic", "golden"]
    nouns = ["shoe", "car", "dog", "chair", "lamp", "backpack", "bicycle", "teapot",
             "guitar", "watch", "sofa", "camera", "umbrella", "kettle", "helmet", "bottle"]
    places = ["on a table", "in the park", "at night", "on the beach", "in a shop window", "in the snow",
              "next to a wall", "on a wooden floor", "under a tree", "in the rain", "on a shelf",
              "in a kitchen", "by the sea", "on the grass", "in a garage", "on a white background"]
    texts = [f"a photo of {'an' if a[0] in 'aeiou' else 'a'} {a} {n} {p}" for a in adjectives for n in nouns for p in places]
    random.Random(0).shuffle(texts)
    return texts


TEXTS = _texts()
TEXT_SLICE = 500
PROBE_TEXTS = ["a photo of a red shoe", "a diagram of a bicycle"]

LOADS = [
    ("image640", "embed image 640×480 JPEG"),
    ("image12mp", "embed image 12 MP JPEG"),
    ("text", "embed text"),
    ("search", "search {items} items (text query)"),
]


def load_requests(kind, service, port, images, slot):
    """The prepared requests of one load (used round-robin); texts: slice `slot` of TEXTS."""
    if kind in ("image640", "image12mp"):
        return [http_request("POST", service.embed_path, port, images[kind], "image/jpeg")]
    texts = [TEXTS[(slot * TEXT_SLICE + i) % len(TEXTS)] for i in range(TEXT_SLICE)]
    if kind == "text":
        return [http_request("POST", service.embed_path, port, json.dumps({"texts": [t]}).encode(), "application/json") for t in texts]
    return [http_request("POST", service.search_path, port, json.dumps({"text": t, "k": 10}).encode(), "application/json") for t in texts]


def embedding_of(service, body, content_type):
    status, answer = http_once(service.port, "POST", service.embed_path, body, content_type)
    if status != 200:
        raise RuntimeError(f"{service.label} {service.embed_path}: {status} {answer[:300]!r}")
    return json.loads(answer)["embeddings"][0]


def probe_embeddings(service, images):
    """The embeddings the service answers for the check inputs (also its first requests)."""
    return {
        "image640": embedding_of(service, images["image640"], "image/jpeg"),
        "image12mp": embedding_of(service, images["image12mp"], "image/jpeg"),
        "text0": embedding_of(service, json.dumps({"texts": [PROBE_TEXTS[0]]}).encode(), "application/json"),
        "text1": embedding_of(service, json.dumps({"texts": [PROBE_TEXTS[1]]}).encode(), "application/json"),
    }


def populate_glimpse(port, catalog_path, concurrency=8):
    import numpy as np
    catalog = np.load(catalog_path)
    requests = [http_request("POST", "/v1/items", port,
                             json.dumps({"id": str(i), "embedding": v.tolist(), "metadata": json.loads(m)}).encode(),
                             "application/json")
                for i, v, m in zip(catalog["ids"], catalog["vectors"], catalog["metadata"])]
    connections = [Connection(port) for _ in range(concurrency)]
    counter = {"next": 0}
    failures = []

    async def worker(connection):
        while counter["next"] < len(requests):
            index = counter["next"]
            counter["next"] += 1
            status, body = await connection.request(requests[index])
            if status not in (200, 201):
                failures.append(f"{status}: {body[:200]!r}")

    async def run():
        try:
            await asyncio.gather(*(worker(c) for c in connections))
        finally:
            for c in connections:
                await c.close()
    started = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"POST /v1/items failed {len(failures)} times, e.g. {failures[0]}")
    return {"items": len(requests), "seconds": round(elapsed, 2), "items_per_s": round(len(requests) / elapsed, 1)}


def measure_load(service, requests, concurrency, budget, args):
    """One bounded load after waiting for the machine to be quiet; the figures, with the server's
    and everything else's CPU use meanwhile and the server tree's peak RSS."""
    if args.quiet_limit > 0:
        waited, reading = wait_until_quiet(service.process.pid, args.quiet_limit, args.quiet_wait)
        if waited > 1.5:
            log(f"waited {waited:.0f} s for other processes to quieten (now {reading:.0f}% of a core)")
    service.sampler.mark()
    pid = service.process.pid
    cpu_before, busy_before, client_before = tree_cpu_seconds(pid), system_busy_seconds(), time.process_time()
    wall_before = time.perf_counter()
    figures = asyncio.run(drive(service.port, requests, concurrency, budget["requests"], budget["seconds"],
                                warmup=max(2, concurrency)))
    wall = time.perf_counter() - wall_before
    cpu = tree_cpu_seconds(pid) - cpu_before
    other = system_busy_seconds() - busy_before - cpu - (time.process_time() - client_before)
    figures["server_cpu_percent"] = round(100 * cpu / wall, 1)
    # CPU used by everything else on the machine meanwhile (noise: should be near 0).
    figures["other_cpu_percent"] = round(100 * max(0.0, other) / wall, 1)
    figures["peak_rss_mib"] = round(service.sampler.window_peak / 2**20, 1)
    figures["server_cpu_s_per_request"] = round(cpu / max(1, figures["requests"] + max(2, concurrency)), 4)
    return figures


def run_service(service, args, images, catalog_path, budget):
    """Start-up, checks, then every load; returns the figures."""
    result = {"label": service.label, "command": " ".join(service.command), "rows": []}
    try:
        # Start-up is measured `--startups` times (the process is stopped in between, the page
        # cache stays warm); the median is reported and the last start serves the loads.
        startups, first_embeds = [], []
        for attempt in range(args.startups):
            if args.quiet_limit > 0:
                wait_until_quiet(os.getpid(), args.quiet_limit, args.quiet_wait)
            startups.append(service.start(free_port()))
            embeddings = probe_embeddings(service, images)
            first_embeds.append(time.perf_counter() - service.started)
            log(f"{service.label}: ready in {startups[-1]:.2f} s, first embeddings answered at {first_embeds[-1]:.2f} s")
            if attempt < args.startups - 1:
                service.stop()
        result["startup_s"] = round(statistics.median(startups), 3)
        result["first_image_embed_s"] = round(statistics.median(first_embeds), 3)
        result["startup_attempts_s"] = [round(x, 3) for x in startups]
        result["first_image_embed_attempts_s"] = [round(x, 3) for x in first_embeds]
        result["embeddings"] = embeddings
        result["rss_at_ready_mib"] = round(service.ready_rss / 2**20, 1)
        text_loads = 0
        for kind, title in LOADS:
            if kind not in args.loads.split(","):
                continue
            title = title.format(items=f"{args.items:,}")
            for concurrency in [int(c) for c in args.concurrency.split(",")]:
                attempts = []
                for attempt in range(1 + args.retries):
                    slot = text_loads * (1 + args.retries) + attempt  # fresh texts for every text load
                    requests = load_requests(kind, service, service.port, images, slot)
                    figures = measure_load(service, requests, concurrency, budget, args)
                    figures.update(load=kind, title=title, concurrency=concurrency, attempt=attempt + 1)
                    attempts.append(figures)
                    log(f"{service.label}: {title}, c={concurrency}: {figures['throughput_rps']:.2f} req/s, "
                        f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, n={figures['requests']}, "
                        f"failures {figures['failures']}, RSS {figures['peak_rss_mib']} MiB, CPU % server {figures['server_cpu_percent']} "
                        f"client {figures['client_cpu_percent']} other {figures['other_cpu_percent']}")
                    if figures["other_cpu_percent"] <= args.noisy_limit:
                        break
                    if attempt < args.retries:
                        log(f"  other processes used {figures['other_cpu_percent']}% of a core meanwhile: measuring again")
                # The attempt the rest of the machine disturbed least.
                figures = min(attempts, key=lambda f: f["other_cpu_percent"])
                if len(attempts) > 1:
                    figures["discarded_attempts"] = [{k: a[k] for k in ("throughput_rps", "p50_ms", "p99_ms", "other_cpu_percent")}
                                                     for a in attempts if a is not figures]
                result["rows"].append(figures)
                text_loads += kind in ("text", "search")
                if figures["failures"]:
                    log(f"  failures, e.g.: {figures['failure_examples']}")
        if service.name.startswith("glimpse"):
            try:
                status, metrics = http_once(service.port, "GET", "/metrics")
                with open(os.path.join(os.path.dirname(service.log_path), "glimpse-metrics.txt"), "wb") as f:
                    f.write(metrics)
            except Exception:  # noqa: BLE001
                pass
        result["threads"] = proc_status(service.process.pid, "Threads")
        result["vm_hwm_mib"] = round(int(proc_status(service.process.pid, "VmHWM") or 0) / 1024, 1)
        result["peak_rss_mib"] = round(service.sampler.peak / 2**20, 1)
    except Exception as error:  # noqa: BLE001
        result["error"] = str(error)
        log(f"{service.label}: FAILED: {error}")
    finally:
        service.stop()
    return result


# --------------------------------------------------------------------------------------------
# Glimpse.

def glimpse_serve_help(binary):
    if not binary or not os.path.exists(binary):
        return None
    try:
        answer = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, timeout=30, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return answer.stdout if answer.returncode == 0 and "USAGE: glimpse serve" in answer.stdout else None


def glimpse_command(binary, help_text, model_dir, store, extra):
    """`glimpse serve` on loopback with the benchmark's CLIP model and a fresh store. `serve`
    always loads a YOLO detector too: the tiny demo one (models/test/yolo-tiny, 0.2 ms a run) is
    named explicitly so the figures do not depend on whether models/yolov8n exists."""
    import re
    flags = set(re.findall(r"(--[a-z][a-z0-9-]*)", help_text))
    command = [binary, "serve", "--host", "127.0.0.1", "--port", "{port}"]
    command += ["--clip-model" if "--clip-model" in flags else "--model", model_dir]
    detector = os.path.join(ROOT, "models", "test", "yolo-tiny")
    if "--detector-model" in flags and os.path.exists(detector) and not any(a.startswith("--detector-model") for a in extra):
        command += ["--detector-model", detector]
    if "--store" in flags:
        command += ["--store", store]
    if "--log-level" in flags:
        command += ["--log-level", "warning"]
    return command + extra


def glimpse_cli_embeddings(binary, model_dir, images_paths):
    answer = subprocess.run([binary, "embed", "--model", model_dir, "--json", "--log-level", "error",
                             "--image", images_paths["image640"], "--image", images_paths["image12mp"],
                             "--text", PROBE_TEXTS[0], "--text", PROBE_TEXTS[1]], capture_output=True, text=True, cwd=ROOT, timeout=300)
    if answer.returncode != 0:
        raise RuntimeError(answer.stderr.strip()[-500:])
    rows = [json.loads(line) for line in answer.stdout.splitlines() if line.strip()]
    return dict(zip(["image640", "image12mp", "text0", "text1"], [row["embedding"] for row in rows]))


# --------------------------------------------------------------------------------------------
# Report.

def cosine(a, b):
    import numpy as np
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def fmt(value, digits=1):
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return f"{value:,.{digits}f}"


def fmt_ratio(value):
    return "—" if value is None else f"{value:.2f}×"


def report(results, order, items, levels, noisy_percent, loads):
    names = {"seed": "seed (ST + FastAPI)", "ort": "ORT peer (Immich-style)", "glimpse": "Glimpse",
             "glimpse-int8": "Glimpse INT8"}
    int8 = "glimpse-int8" in order
    lines = ["| load | conc. | measure | " + " | ".join(names[n] for n in order) + " | Glimpse/seed | Glimpse/ORT |"
             + (" INT8/seed |" if int8 else ""),
             "|---|---|---|" + "---|" * len(order) + "---|---|" + ("---|" if int8 else "")]

    def row(load, conc, measure, values, digits=1, marks=None):
        g, s, o = values.get("glimpse"), values.get("seed"), values.get("ort")
        cells = [fmt(values.get(n), digits) + ((marks or {}).get(n) or "") for n in order]
        extra = f" {fmt_ratio(ratio(values.get('glimpse-int8'), s))} |" if int8 else ""
        lines.append(f"| {load} | {conc} | {measure} | " + " | ".join(cells) + f" | {fmt_ratio(ratio(g, s))} | {fmt_ratio(ratio(g, o))} |" + extra)

    for kind, title in LOADS:
        if kind not in loads:
            continue
        title = title.format(items=f"{items:,}")
        for concurrency in levels:
            figures = {n: next((r for r in results[n].get("rows", []) if r["load"] == kind and r["concurrency"] == concurrency), None) for n in order}

            def get(key):
                return {n: (f[key] if f and f.get("requests") else None) for n, f in figures.items()}
            noisy = {n: (" †" if f and (f.get("other_cpu_percent") or 0) > noisy_percent else "") for n, f in figures.items()}
            row(title, concurrency, "throughput (req/s)", get("throughput_rps"), 2, noisy)
            row("", "", "p50 latency (ms)", get("p50_ms"))
            row("", "", "p99 latency (ms)", get("p99_ms"))
            row("", "", "peak RSS (MiB)", get("peak_rss_mib"), 0)
            failures = {n: (f["failures"] if f else None) for n, f in figures.items()}
            if any(failures.values()):
                row("", "", "failed requests", failures, 0)
    row("start-up (median)", "", "to ready (s)", {n: results[n].get("startup_s") for n in order}, 2)
    row("", "", "to first image embedding (s)", {n: results[n].get("first_image_embed_s") for n in order}, 2)
    row("", "", "RSS when ready (MiB)", {n: results[n].get("rss_at_ready_mib") for n in order}, 0)
    row("whole run", "", "peak RSS (MiB)", {n: results[n].get("peak_rss_mib") for n in order}, 0)
    return "\n".join(lines)


def targets(results, items):
    """The issue's targets against the seed stack, as measured."""
    if "glimpse" not in results or "seed" not in results or results["glimpse"].get("error") or results["seed"].get("error"):
        return []

    def figure(name, kind, concurrency, key):
        return next((r.get(key) for r in results[name]["rows"] if r["load"] == kind and r["concurrency"] == concurrency and r.get("requests")), None)
    checks = []
    for kind, label, goal in [("image640", "throughput 640×480, c=8", 1.6), ("image12mp", "throughput 12 MP, c=8", 3.0)]:
        checks.append((label, ratio(figure("glimpse", kind, 8, "throughput_rps"), figure("seed", kind, 8, "throughput_rps")), "≥", goal))
    for kind, title in LOADS:
        title = title.format(items=f"{items:,}")
        checks.append((f"p50 {title}, c=1", ratio(figure("glimpse", kind, 1, "p50_ms"), figure("seed", kind, 1, "p50_ms")), "≤", 0.6))
    checks.append(("peak RSS (whole run)", ratio(results["glimpse"].get("peak_rss_mib"), results["seed"].get("peak_rss_mib")), "≤", 0.5))
    checks.append(("start-up to ready", ratio(results["glimpse"].get("startup_s"), results["seed"].get("startup_s")), "≤", 0.2))
    out = []
    for label, value, op, goal in checks:
        met = None if value is None else (value >= goal if op == "≥" else value <= goal)
        out.append({"target": f"{label}: Glimpse/seed {op} {goal}", "ratio": None if value is None else round(value, 3),
                    "met": met})
    return out


def versions():
    import importlib.metadata as md
    found = {"python": platform.python_version()}
    for package in ["torch", "transformers", "sentence-transformers", "tokenizers", "fastapi", "starlette", "uvicorn",
                    "uvloop", "httptools", "onnxruntime", "onnx", "numpy", "pillow"]:
        try:
            found[package] = md.version(package)
        except md.PackageNotFoundError:
            found[package] = None
    return found


def machine():
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    memory = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    return {"cpu": model, "logical_cores": os.cpu_count(), "memory_gib": round(memory / 2**20, 1),
            "kernel": platform.release(), "load_average_at_start": os.getloadavg()}


# --------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--glimpse", default=os.path.join(ROOT, ".build", "release", "glimpse"),
                        help="the glimpse binary with `serve` (default .build/release/glimpse)")
    parser.add_argument("--glimpse-arg", action="append", default=[], help="extra argument for `glimpse serve` (repeatable)")
    parser.add_argument("--quick", action="store_true", help="smoke test: few requests per load (~3-4 minutes)")
    parser.add_argument("--only", default="seed,ort,glimpse,glimpse-int8",
                        help="comma-separated contestants to run (glimpse-int8: `--precision int8`, CPU INT8 towers)")
    parser.add_argument("--seed", type=int, default=0, help="torch.manual_seed of the random-weight model")
    parser.add_argument("--items", type=int, default=10000, help="catalog size")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="torch.set_num_threads of the seed stack and intra-op threads of the ORT peer (default: "
                             "logical cores; Immich's CPU default is 2); Glimpse keeps ONNX Runtime's default, which is "
                             "the core count")
    parser.add_argument("--requests", type=int, help="max measured requests per load (default 300, quick 40)")
    parser.add_argument("--seconds", type=float, help="time limit per load in s (default 25, quick 5)")
    parser.add_argument("--image-640", help="the 640×480 JPEG (default: generated)")
    parser.add_argument("--image-12mp", help="the 12 MP JPEG (default: generated)")
    parser.add_argument("--peer-blas-threads", type=int, default=1,
                        help="OPENBLAS_NUM_THREADS of the Python peers (default 1; 0: numpy's default, one per core, "
                             "which contends with torch/ORT threads and doubles the peers' search latency)")
    parser.add_argument("--seed-handlers", choices=["async", "sync"], default="async",
                        help="seed stack: model calls on the event loop (async, default) or in the thread pool")
    parser.add_argument("--quiet-limit", type=float, default=25.0,
                        help="before each load, wait until other processes use less than this %% of a core (0: don't wait)")
    parser.add_argument("--startups", type=int, help="start-ups measured per contestant, median reported (default 3, quick 1)")
    parser.add_argument("--noisy-limit", type=float, default=25.0,
                        help="a load during which other processes used more than this %% of a core is marked † "
                             "(and measured again, see --retries)")
    parser.add_argument("--retries", type=int, default=1, help="extra attempts for a load disturbed by other processes")
    parser.add_argument("--quiet-wait", type=float, help="longest such wait per load, in s (default 120, quick 30)")
    parser.add_argument("--quiet-budget", type=float, help="most waiting in the whole run, in s (default 480, quick 60)")
    parser.add_argument("--loads", default="image640,image12mp,text,search", help="loads to run (default: all)")
    parser.add_argument("--concurrency", default="1,8", help="concurrency levels (default 1,8)")
    parser.add_argument("--out", default=os.path.join(BENCH, "results"))
    args = parser.parse_args()

    if not in_venv():
        ensure_venv()
        os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])

    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    sys.path.insert(0, BENCH)
    import bench_models

    args.glimpse = os.path.abspath(args.glimpse)
    if args.startups is None:
        args.startups = 1 if args.quick else 3
    if args.quiet_wait is None:
        args.quiet_wait = 30.0 if args.quick else 120.0
    QUIET_BUDGET["left_s"] = args.quiet_budget if args.quiet_budget is not None else (60.0 if args.quick else 480.0)
    budget = {"requests": args.requests or (40 if args.quick else 300), "seconds": args.seconds or (5.0 if args.quick else 25.0)}
    order = [n for n in ["seed", "ort", "glimpse", "glimpse-int8"] if n in args.only.split(",")]
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = os.path.join(args.out, stamp)
    os.makedirs(out_dir, exist_ok=True)
    run_started = time.perf_counter()

    # 1. Models, fixtures, catalog.
    vocab = os.path.join(ROOT, ".deps", "bpe_simple_vocab_16e6.txt.gz")
    if not os.path.exists(vocab):
        sys.exit(f"{vocab} is missing: run scripts/setup (it fetches open_clip's BPE vocabulary)")
    models_dir = os.path.join(BENCH, "models", f"clip-seed{args.seed}")
    model_stamp = bench_models.build(models_dir, args.seed, vocab, log=log)
    st_dir, onnx_dir = os.path.join(models_dir, "st-clip-vit-b-32"), os.path.join(models_dir, "vit-b-32")
    fixtures = os.path.join(BENCH, "models", "fixtures")
    os.makedirs(fixtures, exist_ok=True)
    image_paths = {"image640": args.image_640 or os.path.join(fixtures, "photo_640x480.jpg"),
                   "image12mp": args.image_12mp or os.path.join(fixtures, "photo_4000x3000.jpg")}
    if not args.image_640 and not os.path.exists(image_paths["image640"]):
        bench_models.make_photo(image_paths["image640"], 640, 480, seed=1)
    if not args.image_12mp and not os.path.exists(image_paths["image12mp"]):
        bench_models.make_photo(image_paths["image12mp"], 4000, 3000, seed=2)
    images = {k: open(p, "rb").read() for k, p in image_paths.items()}
    catalog_path = os.path.join(BENCH, "models", f"catalog-{args.items}-seed{args.seed}.npz")
    if not os.path.exists(catalog_path):
        bench_models.make_catalog(catalog_path, args.items, 512, seed=args.seed)
    log(f"fixtures: {', '.join(f'{os.path.basename(p)} ({len(images[k]) / 1024:.0f} KiB)' for k, p in image_paths.items())}; "
        f"catalog {catalog_path} ({args.items} items)")

    # 2. Glimpse binary.
    glimpse_help = glimpse_serve_help(args.glimpse) if "glimpse" in order else None
    notes = []
    cli_embeddings = None
    if "glimpse" in order:
        if os.path.exists(args.glimpse):
            try:
                cli_embeddings = glimpse_cli_embeddings(args.glimpse, onnx_dir, image_paths)
            except Exception as error:  # noqa: BLE001
                notes.append(f"`glimpse embed` failed: {error}")
        if glimpse_help is None:
            notes.append(f"{args.glimpse} has no working `serve` subcommand: Glimpse was not measured")
            log(notes[-1])

    # 3. Services, one at a time.
    env_py = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    if args.peer_blas_threads > 0:
        # numpy's OpenBLAS pool (2 threads by default) fights torch's / ORT's spinning threads on
        # 2 cores: the 10,000 × 512 catalog product then costs ~20-30 ms instead of < 1 ms.
        env_py["OPENBLAS_NUM_THREADS"] = str(args.peer_blas_threads)
    services = {
        "seed": Service("seed", "seed stack", [VENV_PYTHON, os.path.join(BENCH, "peer_seed.py"), "--model", st_dir,
                                              "--catalog", catalog_path, "--port", "{port}", "--threads", str(args.threads),
                                              "--handlers", args.seed_handlers],
                        "/readyz", "/embed", "/search", os.path.join(out_dir, "seed.log"), env=env_py),
        "ort": Service("ort", "ORT peer", [VENV_PYTHON, os.path.join(BENCH, "peer_ort.py"), "--model", onnx_dir,
                                           "--catalog", catalog_path, "--port", "{port}", "--threads", str(args.threads)],
                       "/readyz", "/embed", "/search", os.path.join(out_dir, "ort.log"), env=env_py),
    }
    results = {}
    glimpse_store = os.path.join(out_dir, "glimpse-store", "catalog.sqlite")
    if glimpse_help is not None:
        os.makedirs(os.path.dirname(glimpse_store), exist_ok=True)
        services["glimpse"] = Service("glimpse", "Glimpse", glimpse_command(args.glimpse, glimpse_help, onnx_dir, glimpse_store, args.glimpse_arg),
                                      "/readyz", "/v1/embed", "/v1/search", os.path.join(out_dir, "glimpse.log"))
        int8_store = os.path.join(out_dir, "glimpse-int8-store", "catalog.sqlite")
        os.makedirs(os.path.dirname(int8_store), exist_ok=True)
        services["glimpse-int8"] = Service(
            "glimpse-int8", "Glimpse INT8",
            glimpse_command(args.glimpse, glimpse_help, onnx_dir, int8_store, list(args.glimpse_arg) + ["--precision=int8"]),
            "/readyz", "/v1/embed", "/v1/search", os.path.join(out_dir, "glimpse-int8.log"))
    for name in order:
        if name not in services:
            results[name] = {"label": name, "error": "not run", "rows": []}
            continue
        service = services[name]
        warm_page_cache(st_dir if name == "seed" else onnx_dir)
        if name.startswith("glimpse"):
            # Load the catalog through the HTTP API into a fresh store, then restart, so that the
            # measured start-up opens the 10,000-item catalog (the peers load theirs at start-up).
            try:
                first_start = service.start(free_port())
                empty_rss = service.ready_rss
                populate = populate_glimpse(service.port, catalog_path)
                service.stop()
                log(f"Glimpse: empty-catalog start-up {first_start:.2f} s; POST /v1/items: {populate['items']} items in "
                    f"{populate['seconds']} s ({populate['items_per_s']}/s)")
            except Exception as error:  # noqa: BLE001
                service.stop()
                results[name] = {"label": service.label, "error": f"loading the catalog: {error}", "rows": []}
                log(f"Glimpse: FAILED loading the catalog: {error}")
                continue
            service.process = service.sampler = None
        log(f"{service.label}: starting ({' '.join(service.command)})")
        results[name] = run_service(service, args, images, catalog_path, budget)
        if name.startswith("glimpse"):
            results[name]["catalog_load"] = populate
            results[name]["empty_catalog_startup_s"] = round(first_start, 3)
            results[name]["empty_catalog_rss_at_ready_mib"] = round(empty_rss / 2**20, 1)

    # 4. Checks: every served embedding (and `glimpse embed`) against sentence-transformers'.
    checks = {}
    reference = results.get("seed", {}).get("embeddings")
    if reference:
        others = {n: results[n].get("embeddings") for n in order if n != "seed" and results[n].get("embeddings")}
        if cli_embeddings:
            others["glimpse embed (CLI)"] = cli_embeddings
        for name, embeddings in others.items():
            checks[name] = {key: round(cosine(reference[key], embeddings[key]), 6) for key in reference}
        checks["seed: different inputs (for scale)"] = {
            "image640 vs image12mp": round(cosine(reference["image640"], reference["image12mp"]), 6),
            "text0 vs text1": round(cosine(reference["text0"], reference["text1"]), 6)}
    elif results.get("glimpse", {}).get("embeddings") and cli_embeddings:
        served = results["glimpse"]["embeddings"]
        checks["glimpse serve vs glimpse embed (no seed run)"] = {k: round(cosine(served[k], cli_embeddings[k]), 6) for k in served}
    failed_checks = [f"{name} {key} {value}" for name, values in checks.items() if not name.startswith("seed:")
                     for key, value in values.items() if value < 0.99]

    # 5. Report.
    noisy_percent = args.noisy_limit
    table = report(results, order, args.items, [int(c) for c in args.concurrency.split(",")], noisy_percent,
                   args.loads.split(","))
    if "†" in table:
        table += (f"\n\n† other processes on the machine used more than {noisy_percent:g}% of a core on average during "
                  "this load: the figure is skewed (see other_cpu_percent in results.json).")
    target_rows = targets(results, args.items)
    total = time.perf_counter() - run_started
    mode = "quick" if args.quick else "full"
    header = [
        f"# Glimpse vs the Python stack ({mode} run, {stamp})", "",
        f"Machine: {machine()['cpu']}, {os.cpu_count()} logical cores, {machine()['memory_gib']} GiB; loopback; one service at a time.",
        f"Model: random-weight ViT-B/32 (torch.manual_seed({args.seed}), {model_stamp['parameters'] / 1e6:.1f} M parameters), "
        f"fp32, CPU. Catalog: {args.items} items. Per load: ≤ {budget['requests']} requests or ≤ {budget['seconds']:g} s "
        f"after max(2, concurrency) warm-up requests.",
        f"Threads: seed torch.set_num_threads({args.threads}); ORT peer intra-op {args.threads} (inter-op 1, {os.cpu_count()} request threads); "
        f"Glimpse: ONNX Runtime's default intra-op threads (one per core). "
        f"Python peers: OPENBLAS_NUM_THREADS={args.peer_blas_threads or 'default'}.",
        "",
    ]
    check_lines = []
    if checks:
        check_lines = ["", "Embedding check (cosine to sentence-transformers' answer; ≥ 0.99 expected):", ""]
        for name, values in checks.items():
            check_lines.append(f"- {name}: " + ", ".join(f"{k} {v:.6f}" for k, v in values.items()))
        if failed_checks:
            check_lines.append(f"- **CHECK FAILED** (cosine < 0.99): {'; '.join(failed_checks)}")
    target_lines = []
    if target_rows:
        target_lines = ["", "Targets (Glimpse vs seed):", ""]
        for t in target_rows:
            mark = "n/a" if t["met"] is None else ("met" if t["met"] else "NOT met")
            target_lines.append(f"- {t['target']}: {fmt_ratio(t['ratio'])} — {mark}")
    extra = []
    if "glimpse" in results and results["glimpse"].get("catalog_load"):
        g = results["glimpse"]
        extra.append(f"- Glimpse catalog load through POST /v1/items (8 connections): {g['catalog_load']['items']} items in "
                     f"{g['catalog_load']['seconds']} s ({g['catalog_load']['items_per_s']}/s); with the empty catalog: start-up {g['empty_catalog_startup_s']} s, "
                     f"RSS when ready {g['empty_catalog_rss_at_ready_mib']} MiB.")
    for n in order:
        r = results.get(n, {})
        if r.get("error"):
            extra.append(f"- {r.get('label', n)}: {r['error']}")
        elif r.get("rows"):
            busiest = max(r["rows"], key=lambda x: x.get("client_cpu_percent") or 0)
            other = [x.get("other_cpu_percent") or 0 for x in r["rows"]]
            extra.append(f"- {r['label']}: {r.get('threads')} threads at the end, VmHWM {r.get('vm_hwm_mib')} MiB; "
                         f"load generator's busiest load used {busiest['client_cpu_percent']}% of a core ({busiest['title']}, c={busiest['concurrency']}); "
                         f"other processes used {statistics.fmean(other):.0f}% of a core on average during its loads (max {max(other):.0f}%).")
    extra += [f"- {note}" for note in notes]
    markdown = "\n".join(header + [table] + check_lines + target_lines + (["", "Notes:", ""] + extra if extra else []) +
                         ["", f"Total run time {total / 60:.1f} min. Full figures: results.json."]) + "\n"
    for n in results:
        results[n].pop("embeddings", None)
    document = {"mode": mode, "stamp": stamp, "machine": machine(), "versions": versions(),
                "glimpse_binary": args.glimpse if glimpse_help else None,
                "glimpse_version": subprocess.run([args.glimpse, "--version"], capture_output=True, text=True).stdout.strip() if glimpse_help else None,
                "model": model_stamp, "budget": budget, "threads": args.threads, "seed_handlers": args.seed_handlers,
                "peer_blas_threads": args.peer_blas_threads,
                "images": {k: {"path": p, "bytes": len(images[k])} for k, p in image_paths.items()},
                "contestants": results, "embedding_checks": checks, "targets": target_rows, "notes": notes,
                "total_s": round(total, 1)}
    for folder in (out_dir, args.out):
        with open(os.path.join(folder, "results.md" if folder == out_dir else "latest.md"), "w") as f:
            f.write(markdown)
        with open(os.path.join(folder, "results.json" if folder == out_dir else "latest.json"), "w") as f:
            json.dump(document, f, indent=2, ensure_ascii=False)
    shutil.rmtree(os.path.join(out_dir, "glimpse-store"), ignore_errors=True)
    print(markdown)
    log(f"wrote {out_dir}/results.md and results.json")
    if failed_checks:
        sys.exit(1)


if __name__ == "__main__":
    main()
