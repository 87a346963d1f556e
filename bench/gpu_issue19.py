#!/usr/bin/env python3
"""Issue 19's measurements on a lent GPU (docs/gpu.md, "Issue 19 on a GPU"), after
`gpu_bench.py models` and `peer` (the seed stack) have run in the same work folder:

  check     `glimpse gpu-check` on the image fixtures: the ONNX preprocessing graph on CUDA
            against the exact CPU path (levels, embedding cosine), then nvJPEG's pixels against
            the CPU decoder's; first, since neither can run in CI. A path found broken here is
            measured as its fallback in `variants` (the flags in the table say which ran)
  variants  `glimpse serve` (fp16, ViT-B/32 of `models`, YOLOv8n) once per variant, cumulative:
              start        --decode cpu --exact-preprocess      (this issue's starting point)
              nvjpeg       + --decode nvjpeg
              graph        + --preprocess graph
              cudagraphs   + --cuda-graphs (CUDA provider)
              tensorrt     graph + --provider tensorrt (engines built on first start, then cached)
            each: the c=1 breakdown of 200 lone requests (bench/breakdown.py), images/s at
            concurrency 288 from the 640×480 JPEG, images/s at concurrency 64 from a 12 MP JPEG,
            and YOLOv8n end to end from JPEG bytes (/v1/detect, c=1 p50)

Every step has a time limit, so that the whole stays under about 6 minutes; results go to
WORK/issue19.json and a table on stdout.

  gpu_issue19.py check|variants|report --work DIR --glimpse LAUNCHER --detector yolov8n.onnx
      [--images Tests/ImagingTests/Fixtures/generated] [--device cuda|cpu --quick]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import breakdown  # noqa: E402
import gpu_bench  # noqa: E402
from gpu_bench import free_port, http_load, log, paths, stop, wait_ready  # noqa: E402

VARIANTS = [
    ("start", ["--decode", "cpu", "--exact-preprocess"]),
    ("nvjpeg", ["--decode", "nvjpeg", "--exact-preprocess"]),
    ("graph", ["--decode", "nvjpeg", "--preprocess", "graph"]),
    ("cudagraphs", ["--decode", "nvjpeg", "--preprocess", "graph", "--cuda-graphs"]),
    # Last: its first start builds TensorRT engines (minutes) when libnvinfer is there.
    ("tensorrt", ["--decode", "nvjpeg", "--preprocess", "graph", "--provider", "tensorrt"]),
]
TWELVE_MP = os.path.join(os.path.dirname(HERE), "Tests/ImagingTests/Fixtures/generated/jpeg_12mp_4000x3000.jpg")


def result_path(work):
    return os.path.join(work, "issue19.json")


def load_results(work):
    path = result_path(work)
    return json.load(open(path)) if os.path.exists(path) else {}


def save_results(work, results):
    with open(result_path(work), "w") as file:
        json.dump(results, file, indent=1)


def run_check(args, decode):
    """`glimpse gpu-check` with `--decode DECODE`; its JSON with a summary, or the error."""
    p = paths(args.work)
    command = [args.glimpse, "gpu-check", args.images, "--model", p["onnx"], "--device", gpu_bench.DEVICE,
               "--precision", "fp16" if gpu_bench.DEVICE == "cuda" else "fp32", "--decode", decode,
               "--log-level", "info"]
    log("$ " + " ".join(command))
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as error:
        return {"error": f"timeout: {error}"}
    if completed.returncode != 0:
        return {"error": f"exit {completed.returncode}: {completed.stderr[-3000:]}"}
    report = json.loads(completed.stdout)
    rows = report["images"]
    decoded = [r for r in rows if r["nvjpeg"] == "nvjpeg"]
    report["summary"] = {
        "nvjpeg": report["nvjpeg"],
        "nvjpeg_files": len(decoded),
        "nvjpeg_failures": [r["file"] + ": " + r["nvjpeg"] for r in rows if r["nvjpeg"] not in ("cpu", "nvjpeg")],
        "nvjpeg_max_difference": max((r["decode_max_difference"] for r in decoded), default=None),
        "graph_providers": report["graph_providers"],
        "graph_worst_levels": max(r["graph_levels"] for r in rows),
        "graph_lowest_cosine": min(r["cosine"] for r in rows),
    }
    report["log_tail"] = completed.stderr[-2000:]
    log(f"gpu-check --decode {decode}: {json.dumps(report['summary'])}")
    return report


def phase_check(args):
    """The graph alone first (`--decode cpu`), so that its figures survive a crash in nvJPEG."""
    results = load_results(args.work)
    results["check_graph"] = run_check(args, "cpu")
    save_results(args.work, results)
    results["check_nvjpeg"] = run_check(args, "nvjpeg")
    save_results(args.work, results)


def checked_flags(results, flags):
    """The variant's flags without the paths `check` found broken (a crash, an error, pixels
    more than 16 levels from the CPU decoder's: a layout or colour-order bug, not nvJPEG's own
    chroma upsampling, which `check` reports but which does not stop the timing): those are
    measured as their fallback."""
    flags = list(flags)
    nvjpeg = results.get("check_nvjpeg", {})
    summary = nvjpeg.get("summary", {})
    broken = "error" in nvjpeg or summary.get("nvjpeg_failures") or (summary.get("nvjpeg_max_difference") or 0) > 16
    if broken and "nvjpeg" in flags:
        flags[flags.index("nvjpeg")] = "cpu"
    if "error" in results.get("check_graph", {}) and "graph" in flags:
        flags[flags.index("graph")] = "exact"
    return flags


def serve_variant(args, name, flags):
    p = paths(args.work)
    port = free_port()
    command = [args.glimpse, "serve", "--clip-model", p["onnx"], "--detector-model", args.detector,
               "--device", gpu_bench.DEVICE, "--precision", "fp16" if gpu_bench.DEVICE == "cuda" else "fp32",
               "--store", os.path.join(args.work, f"catalog-{name}-{port}.sqlite"), "--port", str(port),
               "--max-batch", "128", "--max-wait-ms", "2", "--queue-length", "4096", "--log-level", "info"] + flags
    log("$ " + " ".join(command))
    server_log_path = os.path.join(args.work, f"serve-issue19-{name}.log")
    server_log = open(server_log_path, "w")
    process = subprocess.Popen(command, stdout=server_log, stderr=server_log)
    result = {"variant": name, "flags": flags}
    try:
        # TensorRT builds its engines on the first start: minutes, once.
        result["ready_s"] = round(wait_ready(port, process, "/readyz", limit_s=240 if name == "tensorrt" else 90), 2)
        measure_variant(args, port, result)
    except Exception as error:  # noqa: BLE001 - record it and go on to the next variant
        result["error"] = repr(error)
    finally:
        stop(process)
        server_log.close()
    result["log_lines"] = [line for line in open(server_log_path).read().splitlines()
                           if "not used" in line or "Preprocessing" in line or "nvJPEG" in line
                           or "could not be added" in line or "failed to start" in line][:12]
    return result


def measure_variant(args, port, result):
    import compare
    p = paths(args.work)
    photo = open(p["photo"], "rb").read()
    runs = 20 if gpu_bench.QUICK else 200
    connection = breakdown.http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(20):
        breakdown.request(connection, "/v1/embed", photo, "image/jpeg")
    samples = [breakdown.request(connection, "/v1/embed", photo, "image/jpeg") for _ in range(runs)]
    result["breakdown_c1"] = breakdown.breakdown(samples)
    detect = [breakdown.request(connection, "/v1/detect", photo, "image/jpeg") for _ in range(runs // 2)]
    result["detect_c1"] = breakdown.breakdown(detect)
    connection.close()
    seconds = 2 if gpu_bench.QUICK else 6
    request = compare.http_request("POST", "/v1/embed", port, photo, "image/jpeg")
    result["c288"] = http_load(port, request, 1 if gpu_bench.QUICK else 6, 48, seconds, warmup=4)
    big = compare.http_request("POST", "/v1/embed", port, open(TWELVE_MP, "rb").read(), "image/jpeg")
    result["c64_12mp"] = http_load(port, big, 1 if gpu_bench.QUICK else 4, 16, seconds, warmup=2)
    log(f"{result['variant']}: c1 p50 {result['breakdown_c1']['client_p50_ms']:.2f} ms, "
        f"c288 {result['c288']['images_per_s']} img/s, 12 MP c64 {result['c64_12mp']['images_per_s']} img/s, "
        f"detect c1 p50 {result['detect_c1']['client_p50_ms']:.2f} ms")


def phase_variants(args):
    results = load_results(args.work)
    results["machine"] = gpu_bench.gpu_description() if gpu_bench.DEVICE == "cuda" else {"device": "cpu"}
    results["variants"] = []
    for name, flags in VARIANTS:
        results["variants"].append(serve_variant(args, name, checked_flags(results, flags)))
        save_results(args.work, results)


def phase_report(args):
    results = load_results(args.work)
    print(f"\nMachine: {results.get('machine')}")
    for key in ("check_graph", "check_nvjpeg"):
        check = results.get(key, {})
        print(f"{key}: {json.dumps(check.get('summary') or check.get('error', 'not run')[-2000:])}")
    print("\n| variant | c=1 p50 ms | c=1 server parts (median ms) | c=288 img/s | 12 MP c=64 img/s | YOLOv8n c=1 p50 ms |")
    print("|---|---:|---|---:|---:|---:|")
    for row in results.get("variants", []):
        if "error" in row and "breakdown_c1" not in row:
            print(f"| {row['variant']} | {row['error'][:80]} | | | | |")
            continue
        parts = ", ".join(f"{k} {v:.2f}" for k, v in row["breakdown_c1"]["parts_p50_ms"].items())
        print(f"| {row['variant']} {' '.join(row['flags'])} | {row['breakdown_c1']['client_p50_ms']:.2f} | {parts}, "
              f"rest {row['breakdown_c1']['server_unaccounted_p50_ms']:.2f}, "
              f"outside {row['breakdown_c1']['outside_server_p50_ms']:.2f} | {row['c288']['images_per_s']} | "
              f"{row['c64_12mp']['images_per_s']} | {row['detect_c1']['client_p50_ms']:.2f} |")
        for line in row.get("log_lines", []):
            print(f"    log: {line[:200]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", choices=["check", "variants", "report"])
    parser.add_argument("--work", required=True)
    parser.add_argument("--glimpse")
    parser.add_argument("--detector")
    parser.add_argument("--images", default=os.path.join(os.path.dirname(HERE), "Tests/ImagingTests/Fixtures/generated"))
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    gpu_bench.DEVICE, gpu_bench.QUICK = args.device, args.quick
    {"check": phase_check, "variants": phase_variants, "report": phase_report}[args.phase](args)


if __name__ == "__main__":
    main()
