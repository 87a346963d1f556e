"""open_clip in PyTorch on the CPU, on the same random weights scripts/export-clip wrote:
the reference Glimpse's `glimpse bench` rows are compared with (docs/benchmarks.md).

The model is rebuilt as export-clip builds it (same name, seed, --config/--local), so the
weights are identical; the script checks that by comparing its image embedding with
onnxruntime's on the exported folder. Rows, each the median of --iterations runs after one
warm-up: image end to end (PIL open + open_clip's preprocess + encode_image, batch 1), image
model only (encode_image on a prepared tensor), text (tokenizer + encode_text, batch 1).

Usage: .deps/venv-ref/bin/python bench/open_clip_cpu.py MODEL --folder DIR --image JPEG
       [--local NAME=DIR] [--threads 2] [--iterations 5]
"""
import argparse
import importlib.machinery
import json
import os
import statistics
import time

import numpy as np
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
export_clip = importlib.machinery.SourceFileLoader("export_clip", os.path.join(ROOT, "scripts/export-clip")).load_module()


def median_ms(function, iterations):
    function()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--folder", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--local", action="append", default=[])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    argv = [args.model, "--random", "--out", args.folder] + [a for item in args.local for a in ("--local", item)]
    model, tokenizer, _, _ = export_clip.create(export_clip.parse_args(argv))
    from open_clip.transform import PreprocessCfg, image_transform_v2
    preprocess = image_transform_v2(PreprocessCfg(**model.visual.preprocess_cfg), is_train=False)
    pixels = preprocess(Image.open(args.image).convert("RGB")).unsqueeze(0)
    import onnxruntime as ort
    session = ort.InferenceSession(os.path.join(args.folder, "visual/model.onnx"), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        ours = model.encode_image(pixels)[0].numpy()
        theirs = session.run(None, {"image": pixels.numpy()})[0][0]
        del session
        cosine = float(np.dot(ours, theirs) / np.linalg.norm(ours) / np.linalg.norm(theirs))
        end_to_end = median_ms(lambda: model.encode_image(
            preprocess(Image.open(args.image).convert("RGB")).unsqueeze(0)), args.iterations)
        model_only = median_ms(lambda: model.encode_image(pixels), args.iterations)
        text = median_ms(lambda: model.encode_text(tokenizer(["a photo of a dog"])), args.iterations)
    print(json.dumps({"model": args.model, "threads": args.threads, "cosine_to_onnx": cosine,
                      "image_end_to_end_ms": end_to_end, "image_model_ms": model_only, "text_ms": text}))


if __name__ == "__main__":
    main()
