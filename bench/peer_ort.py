"""ORT peer: FastAPI + PIL + onnxruntime, the way Immich's machine-learning service (immich_ml)
serves CLIP: PIL decode, bicubic resize of the short side + centre crop in PIL, scaling and
normalisation in numpy (immich_ml/models/transforms.py), one onnxruntime CPU session per tower
with Immich's CPU defaults (immich_ml/sessions/ort.py: memory arena on with
arena_extend_strategy kSameAsRequested, inter-op threads 1, intra-op threads 2 unless
--threads), the text tokenised with the `tokenizers` library from tokenizer.json, padded to 77
with the pad token of tokenizer_config.json (immich_ml/models/clip/textual.py). Handlers are
async and run decode + preprocessing + the model in a ThreadPoolExecutor with os.cpu_count()
workers (Immich's MACHINE_LEARNING_REQUEST_THREADS default), via run_in_executor.

Routes and bodies: the same as bench/peer_seed.py (/embed, /search, /readyz).

Usage: peer_ort.py --model IMMICH_FOLDER --catalog catalog.npz --port 8102 [--threads N]
"""
import argparse
import asyncio
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO

STARTED = time.time()

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--catalog", required=True)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8102)
parser.add_argument("--threads", type=int, default=2, help="ORT intra-op threads (Immich's CPU default: 2)")
args = parser.parse_args()

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import JSONResponse, Response  # noqa: E402
from PIL import Image  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

SIZE = 224
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
CONTEXT = 77


def session(path):
    options = ort.SessionOptions()
    options.enable_cpu_mem_arena = True
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = args.threads
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"],
                                provider_options=[{"arena_extend_strategy": "kSameAsRequested"}])


visual = session(os.path.join(args.model, "visual", "model.onnx"))
textual = session(os.path.join(args.model, "textual", "model.onnx"))
tokenizer = Tokenizer.from_file(os.path.join(args.model, "textual", "tokenizer.json"))
pad_token = json.load(open(os.path.join(args.model, "textual", "tokenizer_config.json")))["pad_token"]
tokenizer.enable_padding(length=CONTEXT, pad_token=pad_token, pad_id=tokenizer.token_to_id(pad_token))
tokenizer.enable_truncation(max_length=CONTEXT)

catalog = np.load(args.catalog)
catalog_ids = [str(i) for i in catalog["ids"]]
catalog_vectors = np.ascontiguousarray(catalog["vectors"], dtype=np.float32)
catalog_metadata = [json.loads(m) for m in catalog["metadata"]]

pool = ThreadPoolExecutor(max_workers=os.cpu_count())
app = FastAPI()


# Immich's immich_ml/models/transforms.py
def decode_pil(image_bytes):
    image = Image.open(BytesIO(image_bytes))
    image.load()
    return image if image.mode == "RGB" else image.convert("RGB")


def resize_pil(img, size):
    if img.width < img.height:
        return img.resize((size, int((img.height / img.width) * size)), resample=Image.Resampling.BICUBIC)
    return img.resize((int((img.width / img.height) * size), size), resample=Image.Resampling.BICUBIC)


def crop_pil(img, size):
    left = int((img.size[0] / 2) - (size / 2))
    upper = int((img.size[1] / 2) - (size / 2))
    return img.crop((left, upper, left + size, upper + size))


def to_numpy(img):
    return np.asarray(img if img.mode == "RGB" else img.convert("RGB"), dtype=np.float32) / 255.0


def normalize(img, mean, std):
    img *= 1.0 / std
    img -= mean / std
    return img


def normalized(embedding):
    return embedding / np.linalg.norm(embedding, axis=-1, keepdims=True)


def embed_image(body):
    image = crop_pil(resize_pil(decode_pil(body), SIZE), SIZE)
    tensor = np.expand_dims(normalize(to_numpy(image), MEAN, STD).transpose(2, 0, 1), 0)
    return normalized(visual.run(None, {"image": np.ascontiguousarray(tensor)})[0])


def embed_texts(texts):
    tokens = np.array([tokenizer.encode(" ".join(t.split())).ids for t in texts], dtype=np.int64)  # clean_text
    return normalized(textual.run(None, {"text": tokens})[0])


def search_catalog(text, k):
    query = embed_texts([text])[0]
    scores = catalog_vectors @ query
    top = np.argpartition(-scores, k)[:k]
    top = top[np.argsort(-scores[top])]
    return {"results": [{"id": catalog_ids[i], "score": float(scores[i]), "metadata": catalog_metadata[i]} for i in top]}


async def run(function, *arguments):
    return await asyncio.get_running_loop().run_in_executor(pool, function, *arguments)


def error(status, code, message):
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def as_json(payload):
    return Response(json.dumps(payload), media_type="application/json")


@app.post("/embed")
async def embed(request: Request):
    body = await request.body()
    try:
        if request.headers.get("content-type", "").startswith("image/"):
            embeddings = await run(embed_image, body)
        else:
            embeddings = await run(embed_texts, json.loads(body)["texts"])
        return as_json({"embeddings": embeddings.tolist()})
    except Exception as e:  # noqa: BLE001
        return error(400, "bad_request", str(e))


@app.post("/search")
async def search(request: Request):
    body = await request.body()
    try:
        query = json.loads(body)
        return as_json(await run(search_catalog, query["text"], int(query.get("k", 10))))
    except Exception as e:  # noqa: BLE001
        return error(400, "bad_request", str(e))


@app.get("/readyz")
async def readyz():
    return {"status": "ready"}


if __name__ == "__main__":
    print(f"ORT peer: loaded in {time.time() - STARTED:.2f} s, onnxruntime {ort.__version__}, "
          f"{len(catalog_ids)} catalog items", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
