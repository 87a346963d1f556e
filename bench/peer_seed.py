"""Seed stack: FastAPI + uvicorn + sentence-transformers `SentenceTransformer` CLIP on the CPU,
inference under `torch.no_grad()` with `encode(..., convert_to_numpy=True,
show_progress_bar=False, batch_size=1)`, exactly as the seed backend describes; an in-memory
catalog searched with one numpy matrix product.

The handlers are `async def` and call the model directly (the seed reads an upload with
`await file.read()`, then encodes), so requests run one at a time on the event loop; torch uses
its intra-op threads for each. `--handlers sync` runs them in FastAPI's thread pool instead.

Routes (same bodies as Glimpse's /v1 routes, so every contestant gets the same load):
  POST /embed   raw image body (image/jpeg ...) or JSON {"texts": [...]} -> {"embeddings": [[...]]}
  POST /search  JSON {"text": "...", "k": 10} -> {"results": [{"id", "score", "metadata"}]}
  GET  /readyz  200 once the model and catalog are loaded (they load before the port opens)

Usage: peer_seed.py --model ST_FOLDER --catalog catalog.npz --port 8101 [--threads N] [--half]
(on a machine with CUDA the model runs there: bench/gpu_bench.py)
"""
import argparse
import io
import json
import time

STARTED = time.time()

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--catalog", required=True)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8101)
parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave torch's default)")
parser.add_argument("--handlers", choices=["async", "sync"], default="async")
parser.add_argument("--half", action="store_true", help="the model in float16 (`.half()`, for a GPU)")
args = parser.parse_args()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import JSONResponse, Response  # noqa: E402
from PIL import Image  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

if args.threads > 0:
    torch.set_num_threads(args.threads)
device = "cuda" if torch.cuda.is_available() else "cpu"
visual_model = SentenceTransformer(args.model, device=device)
if args.half:
    visual_model.half()

catalog = np.load(args.catalog)
catalog_ids = [str(i) for i in catalog["ids"]]
catalog_vectors = np.ascontiguousarray(catalog["vectors"], dtype=np.float32)
catalog_metadata = [json.loads(m) for m in catalog["metadata"]]

app = FastAPI()


def error(status, code, message):
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def as_json(payload):
    return Response(json.dumps(payload), media_type="application/json")


def encode(inputs):
    with torch.no_grad():
        embedding = visual_model.encode(inputs, convert_to_numpy=True, show_progress_bar=False, batch_size=1)
    return embedding / np.linalg.norm(embedding, axis=1, keepdims=True)


def embed_body(content_type, body):
    if content_type.startswith("image/"):
        image = Image.open(io.BytesIO(body))
        return {"embeddings": encode([image]).tolist()}
    texts = json.loads(body)["texts"]
    return {"embeddings": encode(texts).tolist()}


def search_body(body):
    request = json.loads(body)
    k = int(request.get("k", 10))
    query = encode([request["text"]])[0]
    scores = catalog_vectors @ query
    top = np.argpartition(-scores, k)[:k]
    top = top[np.argsort(-scores[top])]
    return {"results": [{"id": catalog_ids[i], "score": float(scores[i]), "metadata": catalog_metadata[i]} for i in top]}


if args.handlers == "async":
    @app.post("/embed")
    async def embed(request: Request):
        body = await request.body()
        try:
            return as_json(embed_body(request.headers.get("content-type", ""), body))
        except Exception as e:  # noqa: BLE001
            return error(400, "bad_request", str(e))

    @app.post("/search")
    async def search(request: Request):
        body = await request.body()
        try:
            return as_json(search_body(body))
        except Exception as e:  # noqa: BLE001
            return error(400, "bad_request", str(e))
else:
    from starlette.concurrency import run_in_threadpool

    @app.post("/embed")
    async def embed(request: Request):
        body = await request.body()
        try:
            return as_json(await run_in_threadpool(embed_body, request.headers.get("content-type", ""), body))
        except Exception as e:  # noqa: BLE001
            return error(400, "bad_request", str(e))

    @app.post("/search")
    async def search(request: Request):
        body = await request.body()
        try:
            return as_json(await run_in_threadpool(search_body, body))
        except Exception as e:  # noqa: BLE001
            return error(400, "bad_request", str(e))


@app.get("/readyz")
async def readyz():
    return {"status": "ready"}


if __name__ == "__main__":
    print(f"seed peer: loaded in {time.time() - STARTED:.2f} s, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {len(catalog_ids)} catalog items", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
