#!/usr/bin/env python3
"""FAISS's own figures on the vectors `glimpse bench-search --dump DIR` wrote: the same HNSW
settings built and searched through the faiss-cpu wheel, and the exact flat scan.

Usage: bench/faiss_hnsw.py DIR [--dim 512] [--k 10] [--m 32] [--ef-construction 80] [--ef-search 96]
"""
import argparse
import os
import time

import faiss
import numpy as np


def load(folder, name, dim):
    return np.fromfile(os.path.join(folder, name), dtype=np.float32).reshape(-1, dim)


def latencies(search, queries):
    times = []
    results = []
    for query in queries:
        start = time.perf_counter()
        results.append(search(query[None, :]))
        times.append((time.perf_counter() - start) * 1000)
    return np.percentile(times, 50), np.percentile(times, 95), results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--m", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=80)
    parser.add_argument("--ef-search", type=int, default=96)
    args = parser.parse_args()
    vectors = load(args.folder, "vectors.f32", args.dim)
    queries = load(args.folder, "queries.f32", args.dim)
    print(f"faiss {faiss.__version__}, {len(vectors)} vectors, {len(queries)} queries, threads {faiss.omp_get_max_threads()}")

    flat = faiss.IndexFlatIP(args.dim)
    flat.add(vectors)
    p50, p95, exact = latencies(lambda q: flat.search(q, args.k)[1][0], queries)
    print(f"FAISS IndexFlatIP exact top-{args.k}: p50 {p50:.2f} ms, p95 {p95:.2f} ms")

    hnsw = faiss.IndexHNSWFlat(args.dim, args.m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = args.ef_construction
    start = time.perf_counter()
    hnsw.add(vectors)
    print(f"FAISS HNSW build (M {args.m}, efConstruction {args.ef_construction}): {time.perf_counter() - start:.1f} s")
    hnsw.hnsw.efSearch = args.ef_search
    p50, p95, approximate = latencies(lambda q: hnsw.search(q, args.k)[1][0], queries)
    found = sum(len(set(a) & set(e)) for a, e in zip(approximate, exact))
    print(f"FAISS HNSW top-{args.k} (efSearch {args.ef_search}): p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
          f"recall@{args.k} {found / (len(queries) * args.k):.4f}")


if __name__ == "__main__":
    main()
