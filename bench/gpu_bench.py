#!/usr/bin/env python3
"""Glimpse against the seed's stack on one GPU, side by side in one run (docs/benchmarks.md, "GPU").

Runs on the GPU machine itself (../shared/GPU.md: python3 with torch, transformers,
sentence-transformers, onnx, nvidia-ml-py and the CUDA 13 pip libraries; no Swift), in phases,
so that the slow Python ones run while the Glimpse bundle is still on its way there:

  models   the random-weight ViT-B/32 of bench_models.py (torch.manual_seed(0)) as a
           sentence-transformers folder and as ONNX, fp32 and fp16 (ONNX Runtime's converter, as
           scripts/export-clip), the 640×480 photo of compare.py and a 1,000-item catalog
  peer     the seed stack on CUDA, fp32 and `.half()`: images/s and p50/p95 at batch 1/8/32/128
           for the model alone (pixels on the host, copied in and the embeddings copied out,
           like `glimpse bench`) and for `encode` from decoded PIL images; load time; VRAM; then
           peer_seed.py (FastAPI + uvicorn + `encode`) over HTTP at concurrency 1 and 64
  glimpse  the bundle: `glimpse bench --device cuda` at fp32 and fp16, `glimpse bench-detect`
           (YOLO end to end against its bare run), `glimpse models verify`
           (fp16 against fp32, on CUDA), and `glimpse serve` over HTTP with dynamic batching
           at concurrency 1 and 288 (6 client processes × 48 connections)
  report   prints the tables from the JSON files the phases wrote

Usage:
  gpu_bench.py models  --work DIR --vocab bpe_simple_vocab_16e6.txt.gz
  gpu_bench.py peer    --work DIR
  gpu_bench.py glimpse --work DIR --glimpse dist/glimpse-linux-x86_64/glimpse --detector yolov8n.onnx
  gpu_bench.py report  --work DIR

Timing: every figure is a median (p50) or percentile over repeated runs after warm-up runs;
device work is synchronised before the clock is read (torch.cuda.synchronize; ONNX Runtime's
Run returns once the outputs are on the host). Inputs are never all zeros.
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from compare import percentile  # noqa: E402 (bench/compare.py: the CPU comparison's helpers)

BATCHES = (1, 8, 32, 128)
SEED = 0
# `--device cpu --quick` runs every phase on a machine without a GPU, small, to check the
# script itself before spending GPU time on it.
DEVICE = "cuda"
QUICK = False


def log(message):
    print(f"[gpu-bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def summary_ms(seconds):
    """p50 / p95 / mean in milliseconds of a list of durations in seconds."""
    return {"p50_ms": round(percentile(seconds, 0.5) * 1000, 3), "p95_ms": round(percentile(seconds, 0.95) * 1000, 3),
            "mean_ms": round(statistics.fmean(seconds) * 1000, 3), "runs": len(seconds)}


def paths(work):
    models = os.path.join(work, "models")
    return {
        "models": models,
        "st": os.path.join(models, "st-clip-vit-b-32"),
        "onnx": os.path.join(models, "vit-b-32"),
        "photo": os.path.join(work, "photo_640x480.jpg"),
        "catalog": os.path.join(work, "catalog-1000.npz"),
        "peer": os.path.join(work, "peer.json"),
        "glimpse": os.path.join(work, "glimpse.json"),
    }


def write_json(path, value):
    with open(path + ".tmp", "w") as f:
        json.dump(value, f, indent=2)
    os.replace(path + ".tmp", path)


# --------------------------------------------------------------------------------------------
# GPU memory, through NVML (nvidia-ml-py): the whole device's used bytes, sampled.

class VRAMSampler(threading.Thread):
    """Peak of the GPU's used memory while running, and the baseline when it started."""

    def __init__(self, interval=0.05):
        super().__init__(daemon=True)
        self.handle = None
        if DEVICE == "cuda":
            import pynvml
            pynvml.nvmlInit()
            self.nvml = pynvml
            self.handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        self.baseline = self.used()
        self.peak = self.baseline
        self.interval = interval
        self.running = True

    def used(self):
        return self.nvml.nvmlDeviceGetMemoryInfo(self.handle).used if self.handle else 0

    def run(self):
        while self.running:
            self.peak = max(self.peak, self.used())
            time.sleep(self.interval)

    def stop(self):
        self.running = False
        self.join()
        return {"peak_mib": round((self.peak - self.baseline) / 2**20), "baseline_mib": round(self.baseline / 2**20)}


def gpu_description():
    if DEVICE != "cuda":
        return {"gpu": None, "cpu_cores": os.cpu_count()}
    import pynvml
    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    name = pynvml.nvmlDeviceGetName(handle)
    return {"gpu": name.decode() if isinstance(name, bytes) else name,
            "driver": pynvml.nvmlSystemGetDriverVersion(),
            "memory_total_mib": round(pynvml.nvmlDeviceGetMemoryInfo(handle).total / 2**20),
            "cpu_cores": os.cpu_count()}


# --------------------------------------------------------------------------------------------
# Phase models

def phase_models(args):
    import onnx
    # ONNX Runtime's own converter: onnxconverter-common 1.16 leaves the vision tower's
    # Cast(to=float) typed float16, which ONNX Runtime refuses to load.
    from onnxruntime.transformers.float16 import convert_float_to_float16
    import bench_models
    p = paths(args.work)
    os.makedirs(args.work, exist_ok=True)
    stamp = bench_models.build(p["models"], SEED, args.vocab, log=log, quantize=False)
    for tower in ("visual", "textual"):
        target = os.path.join(p["onnx"], tower, "model.fp16.onnx")
        if not os.path.exists(target):
            started = time.time()
            source = onnx.load(os.path.join(p["onnx"], tower, "model.onnx"))
            onnx.save(convert_float_to_float16(source, keep_io_types=False), target)
            log(f"models: {tower} fp16 in {time.time() - started:.1f} s")
    bench_models.make_photo(p["photo"], 640, 480, seed=1)
    bench_models.make_catalog(p["catalog"], 1000, 512, seed=SEED)
    log(f"models: ready ({stamp})")


# --------------------------------------------------------------------------------------------
# Phase peer: sentence-transformers on CUDA, in process and behind FastAPI

def timed_cuda(function, warmup, runs):
    import torch
    synchronize = torch.cuda.synchronize if DEVICE == "cuda" else (lambda: None)
    for _ in range(warmup):
        function()
    synchronize()
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        synchronize()
        durations.append(time.perf_counter() - started)
    return durations


def batches():
    return BATCHES[:2] if QUICK else BATCHES


def runs_for(batch):
    return {1: 200, 8: 60, 32: 30, 128: 15}[batch] // (20 if QUICK else 1) or 1


def peer_in_process(p, half):
    import numpy as np
    import torch
    from PIL import Image
    from sentence_transformers import SentenceTransformer
    cuda = DEVICE == "cuda"
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    sampler = VRAMSampler()
    sampler.start()
    started = time.perf_counter()
    model = SentenceTransformer(p["st"], device=DEVICE)
    if half:
        model.half()
    if cuda:
        torch.cuda.synchronize()
    load_s = time.perf_counter() - started
    clip = getattr(model[0], "model", None) or model[0].auto_model  # the transformers CLIPModel
    dtype = torch.float16 if half else torch.float32
    photo = Image.open(p["photo"]).convert("RGB")
    generator = torch.Generator().manual_seed(1)
    result = {"precision": "fp16" if half else "fp32", "load_s": round(load_s, 3), "model": [], "encode": []}

    def model_only(pixels):
        with torch.inference_mode():
            output = clip.get_image_features(pixel_values=pixels.to(DEVICE, dtype))
            output = getattr(output, "pooler_output", output)
            return output.float().cpu()

    for batch in batches():
        pixels = torch.randn(batch, 3, 224, 224, generator=generator)  # on the host, like Glimpse's input
        durations = timed_cuda(lambda: model_only(pixels), 3, runs_for(batch))
        result["model"].append({"batch": batch, "images_per_s": round(batch / percentile(durations, 0.5), 1),
                                **summary_ms(durations)})
        images = [photo] * batch
        durations = timed_cuda(lambda: model.encode(images, batch_size=batch, convert_to_tensor=True,
                                                    show_progress_bar=False), 2, max(5, runs_for(batch) // 3))
        result["encode"].append({"batch": batch, "images_per_s": round(batch / percentile(durations, 0.5), 1),
                                 **summary_ms(durations)})
        log(f"peer {result['precision']} batch {batch}: model {result['model'][-1]['images_per_s']} img/s, "
            f"encode {result['encode'][-1]['images_per_s']} img/s")
    embedding = model.encode([photo], convert_to_numpy=True, show_progress_bar=False)[0].astype(np.float64)
    result["photo_embedding"] = (embedding / np.linalg.norm(embedding)).tolist()
    result["torch_peak_allocated_mib"] = round(torch.cuda.max_memory_allocated() / 2**20) if cuda else 0
    result["vram"] = sampler.stop()
    del model, clip
    if cuda:
        torch.cuda.empty_cache()
    return result


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, process, path, limit_s=300):
    import compare
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            status, _ = compare.http_once(port, "GET", path, timeout=5)
            if status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("server not ready in time")


async def _drive(port, request, concurrency, seconds, warmup):
    """`concurrency` keep-alive connections sending `request` until `seconds` pass; returns the
    latencies of the 200 answers, the other statuses, and the wall time."""
    import compare
    connections = [compare.Connection(port) for _ in range(concurrency)]
    latencies, failures = [], []

    async def worker(connection, deadline, record, count=None):
        done = 0
        while time.perf_counter() < deadline and (count is None or done < count):
            started = time.perf_counter()
            try:
                status, body = await asyncio.wait_for(connection.request(request), 60)
            except Exception as error:  # noqa: BLE001
                await connection.close()
                status, body = None, repr(error).encode()
            done += 1
            if record:
                if status == 200:
                    latencies.append(time.perf_counter() - started)
                else:
                    failures.append(f"{status}: {body[:160].decode(errors='replace')}")

    try:
        await asyncio.gather(*(worker(c, time.perf_counter() + 30, False, warmup) for c in connections))
        started = time.perf_counter()
        await asyncio.gather(*(worker(c, started + seconds, True) for c in connections))
        wall = time.perf_counter() - started
    finally:
        for connection in connections:
            await connection.close()
    return latencies, failures, wall


def _drive_process(arguments):
    return asyncio.run(_drive(*arguments))


def http_load(port, request, processes, concurrency, seconds, warmup=2):
    """Drives the server from `processes` client processes at once; figures over all of them."""
    if processes == 1:
        parts = [_drive_process((port, request, concurrency, seconds, warmup))]
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            parts = pool.map(_drive_process, [(port, request, concurrency, seconds, warmup)] * processes)
    latencies = [latency for part in parts for latency in part[0]]
    failures = [failure for part in parts for failure in part[1]]
    wall = max(part[2] for part in parts)
    return {"concurrency": processes * concurrency, "requests": len(latencies), "failures": len(failures),
            "failure_examples": failures[:3], "images_per_s": round(len(latencies) / wall, 1),
            **(summary_ms(latencies) if latencies else {})}


def embed_request(port, photo_bytes, path):
    import compare
    return compare.http_request("POST", path, port, photo_bytes, "image/jpeg")


def served_embedding(port, photo_bytes, path):
    import compare
    import numpy as np
    status, body = compare.http_once(port, "POST", path, photo_bytes, "image/jpeg")
    assert status == 200, body[:300]
    vector = np.asarray(json.loads(body)["embeddings"][0], dtype=np.float64)
    return vector / np.linalg.norm(vector)


def server_timing_breakdown(port, body, path, runs=100):
    """Medians of the `Server-Timing` entries of `runs` sequential requests: where the time of
    a lone request goes inside the server (decode, prepare, batcher, model run, total)."""
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    samples = {}
    for _ in range(runs):
        connection.request("POST", path, body=body, headers={"Content-Type": "image/jpeg"})
        response = connection.getresponse()
        response.read()
        for item in (response.getheader("Server-Timing") or "").split(","):
            parts = [part.strip() for part in item.split(";")]
            durations = [float(part[4:]) for part in parts[1:] if part.startswith("dur=")]
            if parts[0] and durations:
                samples.setdefault(parts[0], []).append(durations[0])
    connection.close()
    return {name: round(percentile(values, 0.5), 3) for name, values in samples.items()}


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def peer_http(p, half):
    port = free_port()
    command = [sys.executable, os.path.join(HERE, "peer_seed.py"), "--model", p["st"], "--catalog", p["catalog"],
               "--port", str(port)] + (["--half"] if half else [])
    sampler = VRAMSampler()
    sampler.start()
    process = subprocess.Popen(command, stdout=sys.stderr, stderr=sys.stderr)
    try:
        ready_s = wait_ready(port, process, "/readyz")
        photo = open(p["photo"], "rb").read()
        request = embed_request(port, photo, "/embed")
        result = {"precision": "fp16" if half else "fp32", "ready_s": round(ready_s, 2),
                  "c1": http_load(port, request, 1, 1, seconds(6), warmup=10),
                  "c64": http_load(port, request, 1, 64, seconds(6), warmup=1)}
    finally:
        stop(process)
        result_vram = sampler.stop()
    result["vram"] = result_vram
    log(f"peer HTTP {result['precision']}: c1 p50 {result['c1'].get('p50_ms')} ms, c64 {result['c64']['images_per_s']} img/s")
    return result


def seconds(wanted):
    return 2 if QUICK else wanted


def phase_peer(args):
    import sentence_transformers
    import torch
    import transformers
    p = paths(args.work)
    result = {"machine": gpu_description(), "torch": torch.__version__, "transformers": transformers.__version__,
              "sentence_transformers": sentence_transformers.__version__, "in_process": [], "http": []}
    for half in (False, True):
        result["in_process"].append(peer_in_process(p, half))
    for half in (False, True):
        result["http"].append(peer_http(p, half))
    write_json(p["peer"], result)
    log(f"peer: written {p['peer']}")


# --------------------------------------------------------------------------------------------
# Phase glimpse: the bundle on CUDA

def run_logged(command, timeout=600):
    log("$ " + " ".join(command))
    completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr[-4000:])
    return completed


def glimpse_bench(args, p, precision):
    sampler = VRAMSampler()
    sampler.start()
    completed = run_logged([args.glimpse, "bench", "--model", p["onnx"], "--device", DEVICE, "--precision", precision,
                            "--detector-model", args.detector, "--image", p["photo"],
                            "--iterations", "5" if QUICK else "300", "--batches", ",".join(map(str, batches())),
                            "--search-items", "1000" if QUICK else "10000", "--json"])
    vram = sampler.stop()
    if completed.returncode != 0:
        return {"precision": precision, "error": completed.stderr[-1500:]}
    report = json.loads(completed.stdout)
    report["vram"] = vram
    report["log_tail"] = completed.stderr[-1500:]
    return report


def glimpse_http(args, p, precision):
    port = free_port()
    store = os.path.join(args.work, f"catalog-{precision}-{port}.sqlite")
    command = [args.glimpse, "serve", "--clip-model", p["onnx"], "--detector-model", args.detector, "--device", DEVICE,
               "--precision", precision, "--store", store, "--port", str(port), "--max-batch", "128",
               "--max-wait-ms", "2", "--queue-length", "4096", "--log-level", "info"]
    sampler = VRAMSampler()
    sampler.start()
    log("$ " + " ".join(command))
    server_log = open(os.path.join(args.work, f"serve-{precision}.log"), "w")
    process = subprocess.Popen(command, stdout=server_log, stderr=server_log)
    try:
        ready_s = wait_ready(port, process, "/readyz")
        photo = open(p["photo"], "rb").read()
        request = embed_request(port, photo, "/v1/embed")
        embedding = served_embedding(port, photo, "/v1/embed")
        import compare
        health = compare.http_request("GET", "/healthz", port)
        result = {"precision": precision, "ready_s": round(ready_s, 2), "photo_embedding": embedding.tolist(),
                  # The HTTP round trip alone (loopback, keep-alive, the Python client), for the
                  # share of the c=1 latency that is not image work.
                  "healthz_c1": http_load(port, health, 1, 1, seconds(2), warmup=20),
                  "c1": http_load(port, request, 1, 1, seconds(6), warmup=20)}
        result["server_timing_c1_ms"] = server_timing_breakdown(port, photo, "/v1/embed", 20 if QUICK else 200)
        result["c288"] = http_load(port, request, 6, 48, seconds(8), warmup=4)
        import compare
        result["hardware"] = json.loads(compare.http_once(port, "GET", "/v1/hardware")[1])
        metrics = compare.http_once(port, "GET", "/metrics")[1].decode()
        result["batch_size_metrics"] = [line for line in metrics.splitlines()
                                        if line.startswith(("glimpse_batch_size_sum", "glimpse_batch_size_count"))]
    finally:
        stop(process)
        result_vram = sampler.stop()
        server_log.close()
    result["vram"] = result_vram
    result["exit_status"] = process.returncode
    log(f"glimpse HTTP {precision}: ready {result['ready_s']} s, c1 p50 {result['c1'].get('p50_ms')} ms, "
        f"c288 {result['c288']['images_per_s']} img/s")
    return result


def phase_glimpse(args):
    p = paths(args.work)
    result = {"machine": gpu_description(), "bench": [], "http": []}
    result["info"] = run_logged([args.glimpse, "info"]).stdout
    for precision in ("fp32", "fp16"):
        result["bench"].append(glimpse_bench(args, p, precision))
        log(f"glimpse bench {precision}: {json.dumps(result['bench'][-1].get('throughput'))}")
    detect = run_logged([args.glimpse, "bench-detect", "--model", args.detector, "--device", DEVICE,
                         "--image", p["photo"], "--runs", "10" if QUICK else "200", "--json"])
    result["bench_detect"] = json.loads(detect.stdout) if detect.returncode == 0 else {"error": detect.stderr[-1500:]}
    log(f"bench-detect: {detect.stdout.strip()[:600]}")
    verify = run_logged([args.glimpse, "models", "verify", p["onnx"], "--device", DEVICE, "--image", p["photo"],
                         "--minimum-cosine", "0.999"])
    result["verify"] = {"status": verify.returncode, "output": verify.stdout}
    log("verify: " + verify.stdout.strip())
    for precision in ("fp16", "fp32"):
        try:
            result["http"].append(glimpse_http(args, p, precision))
        except Exception as error:  # noqa: BLE001 - record it and go on to the other precision
            result["http"].append({"precision": precision, "error": repr(error)})
            log(f"glimpse HTTP {precision} failed: {error!r}")
    write_json(p["glimpse"], result)
    log(f"glimpse: written {p['glimpse']}")


# --------------------------------------------------------------------------------------------
# Phase report

def cosine(a, b):
    return sum(x * y for x, y in zip(a, b))


def phase_report(args):
    p = paths(args.work)
    peer = json.load(open(p["peer"])) if os.path.exists(p["peer"]) else None
    glimpse = json.load(open(p["glimpse"])) if os.path.exists(p["glimpse"]) else None
    machine = (glimpse or peer or {}).get("machine", {})
    print(f"\nMachine: {machine}")
    if peer:
        print(f"Seed stack: torch {peer['torch']}, transformers {peer['transformers']}, "
              f"sentence-transformers {peer['sentence_transformers']}")
    print("\n| images/s (p50 ms) | " + " | ".join(f"batch {b}" for b in BATCHES) + " |")
    print("|---" * (len(BATCHES) + 1) + "|")
    for run in (glimpse or {}).get("bench", []):
        if "throughput" in run:
            cells = {row["batch"]: row["imagesPerSecond"] for row in run["throughput"]}
            print(f"| Glimpse {run['precision']} model run | " + " | ".join(f"{cells.get(b, 0):,.0f}" for b in BATCHES) + " |")
    for run in (peer or {}).get("in_process", []):
        for kind in ("model", "encode"):
            print(f"| seed {run['precision']} {kind} | " + " | ".join(
                f"{row['images_per_s']:,.0f} ({row['p50_ms']})" for row in run[kind]) + " |")
    print("\n| HTTP /embed, 640×480 JPEG | ready s | c=1 p50 / p95 ms | high concurrency img/s | p50 / p95 ms | VRAM peak MiB |")
    print("|---|---|---|---|---|---|")
    for name, runs, high in (("Glimpse", (glimpse or {}).get("http", []), "c288"), ("seed", (peer or {}).get("http", []), "c64")):
        for run in runs:
            if "error" in run:
                print(f"| {name} {run['precision']} | failed: {run['error'][:80]} |")
                continue
            if "healthz_c1" in run:
                print(f"| {name} {run['precision']} GET /healthz | | {run['healthz_c1'].get('p50_ms')} / {run['healthz_c1'].get('p95_ms')} | | | |")
            print(f"| {name} {run['precision']} | {run['ready_s']} | {run['c1'].get('p50_ms')} / {run['c1'].get('p95_ms')} | "
                  f"{run[high]['images_per_s']:,.0f} (c={run[high]['concurrency']}, {run[high]['failures']} failed) | "
                  f"{run[high].get('p50_ms')} / {run[high].get('p95_ms')} | {run['vram']['peak_mib']} |")
    if glimpse:
        for run in glimpse["bench"]:
            if "error" in run:
                print(f"\nGlimpse bench {run['precision']} failed: {run['error'][-400:]}")
                continue
            detection = run.get("detection") or {}
            print(f"\nGlimpse {run['precision']}: load {run['loadSeconds']:.2f} s, image b1 {run['imageBatch1']}, "
                  f"text b1 {run.get('textBatch1')}, YOLO {detection.get('inputSize')} {detection.get('latency')}, "
                  f"search {run.get('search')}, VRAM peak {run['vram']['peak_mib']} MiB")
        for run in glimpse["http"]:
            if run.get("server_timing_c1_ms"):
                print(f"Server-Timing medians, c=1, {run['precision']}: {run['server_timing_c1_ms']}")
        print(f"\nbench-detect: {json.dumps(glimpse.get('bench_detect'))[:700]}")
        print("\n" + glimpse["verify"]["output"])
        if peer:
            reference = peer["in_process"][0]["photo_embedding"]
            for run in glimpse["http"]:
                if "photo_embedding" in run:
                    print(f"cosine, Glimpse HTTP {run['precision']} vs sentence-transformers fp32 on CUDA: "
                          f"{cosine(run['photo_embedding'], reference):.6f}")
            half = peer["in_process"][1]["photo_embedding"]
            print(f"cosine, sentence-transformers .half() vs fp32: {cosine(half, reference):.6f}")
    for run in (peer or {}).get("in_process", []):
        print(f"seed {run['precision']}: load {run['load_s']} s, torch peak allocated {run['torch_peak_allocated_mib']} MiB, "
              f"VRAM peak {run['vram']['peak_mib']} MiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", choices=["models", "peer", "glimpse", "report"])
    parser.add_argument("--work", required=True)
    parser.add_argument("--vocab")
    parser.add_argument("--glimpse", help="the bundle's launcher")
    parser.add_argument("--detector", help="YOLOv8n .onnx")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--quick", action="store_true", help="a small run, to check the script")
    args = parser.parse_args()
    global DEVICE, QUICK
    DEVICE, QUICK = args.device, args.quick
    {"models": phase_models, "peer": phase_peer, "glimpse": phase_glimpse, "report": phase_report}[args.phase](args)


if __name__ == "__main__":
    main()
