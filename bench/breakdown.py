#!/usr/bin/env python3
"""Where a lone request's time goes: N single-image requests, one at a time (concurrency 1),
to a running `glimpse serve`, with the median of each `Server-Timing` part, and what neither
part accounts for: the server's total minus its parts (hand-offs between tasks and threads,
routing, middleware) and the client's latency minus the server's total (HTTP parsing,
the loopback, the client).

Parts that nest are split so that the rows add up: `<model>` (queue and run) becomes
`<model>-queue` (its minus `<model>-run`) and `<model>-run`.

  python3 bench/breakdown.py --url http://127.0.0.1:8080 --image photo.jpg [-n 200] [--route embed]
      [--json OUT.json]

Standard library only, so that it runs on a bare GPU server (bench/gpu_session.sh).
"""
import argparse
import http.client
import json
import statistics
import sys
import time
import urllib.parse

NESTED_MODELS = ("clip-visual", "clip-textual", "detector")


def parse_server_timing(value: str) -> dict[str, float]:
    """`name;dur=1.23;desc="…", …` as {name: milliseconds}; repeated names add up."""
    parts: dict[str, float] = {}
    for item in value.split(","):
        fields = [field.strip() for field in item.split(";")]
        duration = next((float(f[4:]) for f in fields[1:] if f.startswith("dur=")), None)
        if fields[0] and duration is not None:
            parts[fields[0]] = parts.get(fields[0], 0.0) + duration
    for model in NESTED_MODELS:
        if model in parts and f"{model}-run" in parts:
            parts[f"{model}-queue"] = max(0.0, parts.pop(model) - parts[f"{model}-run"])
    return parts


def request(connection: http.client.HTTPConnection, path: str, body: bytes, content_type: str):
    start = time.perf_counter()
    connection.request("POST", path, body=body, headers={"Content-Type": content_type})
    response = connection.getresponse()
    response.read()
    latency = (time.perf_counter() - start) * 1000
    if response.status != 200:
        sys.exit(f"{path}: HTTP {response.status}")
    return latency, parse_server_timing(response.getheader("Server-Timing") or "")


def breakdown(samples: list[tuple[float, dict[str, float]]]) -> dict:
    names = sorted({name for _, parts in samples for name in parts if name != "total"},
                   key=lambda n: -statistics.median(p.get(n, 0.0) for _, p in samples))
    medians = {name: statistics.median(parts.get(name, 0.0) for _, parts in samples) for name in names}
    server_rest = [parts.get("total", 0.0) - sum(v for k, v in parts.items() if k != "total")
                   for _, parts in samples]
    client_rest = [latency - parts.get("total", 0.0) for latency, parts in samples]
    return {
        "requests": len(samples),
        "client_p50_ms": statistics.median(latency for latency, _ in samples),
        "server_total_p50_ms": statistics.median(parts.get("total", 0.0) for _, parts in samples),
        "parts_p50_ms": medians,
        "server_unaccounted_p50_ms": statistics.median(server_rest),
        "outside_server_p50_ms": statistics.median(client_rest),
    }


def print_table(result: dict) -> None:
    client = result["client_p50_ms"]
    rows = list(result["parts_p50_ms"].items()) + [
        ("server, not in a part", result["server_unaccounted_p50_ms"]),
        ("outside the server (HTTP, loopback, client)", result["outside_server_p50_ms"]),
    ]
    print(f"c=1, {result['requests']} requests: client p50 {client:.3f} ms, "
          f"server total p50 {result['server_total_p50_ms']:.3f} ms")
    print("| part | median ms | share of client p50 |\n|---|---:|---:|")
    for name, value in rows:
        print(f"| {name} | {value:.3f} | {100 * value / client:.1f} % |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--image", required=True)
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--route", default="embed", choices=["embed", "detect", "search"])
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.url)
    connection = http.client.HTTPConnection(url.hostname, url.port or 80)
    body = open(args.image, "rb").read()
    content_type = "image/png" if args.image.lower().endswith(".png") else "image/jpeg"
    path = f"/v1/{args.route}"
    for _ in range(args.warmup):
        request(connection, path, body, content_type)
    samples = [request(connection, path, body, content_type) for _ in range(args.n)]
    result = breakdown(samples)
    print_table(result)
    if args.json:
        with open(args.json, "w") as file:
            json.dump(result, file, indent=1)


if __name__ == "__main__":
    main()
