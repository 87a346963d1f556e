"""Random-weight ViT-B/32 for every contestant, from one seed, plus the shared fixtures.

One `transformers.CLIPModel` is initialised from `torch.manual_seed(seed)` with
openai/clip-vit-base-patch32's shapes and written twice:

  st-clip-vit-b-32/   a sentence-transformers folder laid out like the `clip-ViT-B-32` repo
                      (modules.json -> `sentence_transformers.models.CLIPModel` in 0_CLIPModel/,
                      safetensors weights, CLIPProcessor files: vocab.json, merges.txt,
                      tokenizer.json, preprocessor_config.json)
  vit-b-32/           the same weights as ONNX in Immich's layout, which Glimpse reads:
                      config.json (open_clip config), visual/model.onnx (`image` [batch,3,224,224]
                      -> `embedding` = get_image_features), textual/model.onnx (`text` int64
                      [batch,77] -> `embedding` = get_text_features), textual/bpe_simple_vocab_16e6.txt.gz
                      (Glimpse's tokenizer) and textual/tokenizer.json (Immich's tokenizer).

The HF vocabulary and merges are derived from open_clip's bpe_simple_vocab_16e6.txt.gz exactly
the way open_clip (and Glimpse) build their encoder, so token ids agree; `verify` checks it.
Runs inside .deps/venv-peers (torch, transformers, onnx).
"""
import gzip
import json
import os
import shutil
import time

CONTEXT = 77
OPSET = 17


def bytes_to_unicode():
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(printable, [chr(c) for c in cs]))


def clip_vocabulary(bpe_path):
    """vocab (token -> id) and merges, as open_clip's SimpleTokenizer builds them."""
    merges = gzip.open(bpe_path).read().decode("utf-8").split("\n")[1:49152 - 256 - 2 + 1]
    merges = [tuple(m.split()) for m in merges]
    symbols = list(bytes_to_unicode().values())
    symbols = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    assert len(symbols) == 49408, len(symbols)
    return {s: i for i, s in enumerate(symbols)}, merges


def clip_config():
    from transformers import CLIPConfig
    text = dict(vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                num_attention_heads=8, max_position_embeddings=CONTEXT, hidden_act="quick_gelu",
                bos_token_id=49406, eos_token_id=49407, pad_token_id=1, projection_dim=512)
    vision = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                  image_size=224, patch_size=32, hidden_act="quick_gelu", projection_dim=512)
    return CLIPConfig(text_config=text, vision_config=vision, projection_dim=512, logit_scale_init_value=2.6592)


def write_sentence_transformers(model, folder, bpe_path):
    from transformers import CLIPImageProcessorPil, CLIPProcessor, CLIPTokenizer
    inner = os.path.join(folder, "0_CLIPModel")
    os.makedirs(inner, exist_ok=True)
    model.save_pretrained(inner)
    vocab, merges = clip_vocabulary(bpe_path)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=CONTEXT)
    image_processor = CLIPImageProcessorPil()  # shortest edge 224 bicubic, centre crop, OpenAI mean/std
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(inner)
    # The original vocab.json / merges.txt files too, as the clip-ViT-B-32 repository has them.
    with open(os.path.join(inner, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(inner, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
    with open(os.path.join(folder, "modules.json"), "w") as f:
        json.dump([{"idx": 0, "name": "0", "path": "0_CLIPModel", "type": "sentence_transformers.models.CLIPModel"}], f, indent=2)
    with open(os.path.join(folder, "config_sentence_transformers.json"), "w") as f:
        json.dump({"prompts": {}, "default_prompt_name": None, "similarity_fn_name": "cosine"}, f, indent=2)


# Bumped when the exported files change (2: dynamic text sequence length; 3: INT8 towers).
LAYOUT = 3


def export_onnx(model, folder, bpe_path, tokenizer_json):
    import torch

    class Visual(torch.nn.Module):
        def __init__(self, clip):
            super().__init__()
            self.clip = clip

        def forward(self, image):
            return self.clip.get_image_features(pixel_values=image).pooler_output

    class Textual(torch.nn.Module):
        def __init__(self, clip):
            super().__init__()
            self.clip = clip

        def forward(self, text):
            return self.clip.get_text_features(input_ids=text).pooler_output

    os.makedirs(os.path.join(folder, "visual"), exist_ok=True)
    os.makedirs(os.path.join(folder, "textual"), exist_ok=True)
    image = torch.randn(2, 3, 224, 224)
    text = torch.zeros(2, CONTEXT, dtype=torch.int64)
    text[:, 0] = 49406
    text[0, 1:4] = torch.tensor([320, 1125, 539])
    text[0, 4] = 49407
    text[1, 1] = 49407
    for wrapper, example, in_name, sub in [(Visual(model), image, "image", "visual"), (Textual(model), text, "text", "textual")]:
        path = os.path.join(folder, sub, "model.onnx")
        # The text tower's sequence length is dynamic, as in the Hugging Face model that
        # sentence-transformers runs: a client may pad to the longest text of its batch
        # instead of 77 (the causal mask makes the result identical). Glimpse does.
        axes = {0: "batch", 1: "sequence"} if in_name == "text" else {0: "batch"}
        torch.onnx.export(wrapper, (example,), path, input_names=[in_name], output_names=["embedding"],
                          dynamic_axes={in_name: axes, "embedding": {0: "batch"}},
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump({"embed_dim": 512, "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 32},
                   "text_cfg": {"context_length": CONTEXT, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12}}, f, indent=2)
    with open(os.path.join(folder, "visual", "preprocess_cfg.json"), "w") as f:
        json.dump({"size": [224, 224], "mode": "RGB", "mean": [0.48145466, 0.4578275, 0.40821073],
                   "std": [0.26862954, 0.26130258, 0.27577711], "interpolation": "bicubic",
                   "resize_mode": "shortest", "fill_color": 0}, f, indent=2)
    shutil.copyfile(bpe_path, os.path.join(folder, "textual", "bpe_simple_vocab_16e6.txt.gz"))
    shutil.copyfile(tokenizer_json, os.path.join(folder, "textual", "tokenizer.json"))
    with open(os.path.join(folder, "textual", "tokenizer_config.json"), "w") as f:  # what Immich's loader reads
        json.dump({"pad_token": "<|endoftext|>"}, f)


def quantize_towers(folder):
    """model.int8.onnx beside each tower, for Glimpse's `--precision int8` contestant."""
    import logging
    from onnxruntime.quantization import QuantType, quantize_dynamic
    logging.getLogger().setLevel(logging.ERROR)
    for tower in ("visual", "textual"):
        quantize_dynamic(os.path.join(folder, tower, "model.onnx"), os.path.join(folder, tower, "model.int8.onnx"),
                         weight_type=QuantType.QInt8)


def build(root, seed, bpe_path, log=print, quantize=True):
    """Writes root/st-clip-vit-b-32 and root/vit-b-32 unless a stamp says they exist for `seed`
    (without the INT8 towers when `quantize` is off: the GPU run has no use for them)."""
    stamp_path = os.path.join(root, "stamp.json")
    if os.path.exists(stamp_path):
        with open(stamp_path) as f:
            stamp = json.load(f)
        if stamp.get("seed") == seed and stamp.get("layout") == LAYOUT:
            return stamp
    import torch
    import transformers
    from transformers import CLIPModel
    started = time.time()
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    torch.manual_seed(seed)
    model = CLIPModel(clip_config()).eval()
    st_dir, onnx_dir = os.path.join(root, "st-clip-vit-b-32"), os.path.join(root, "vit-b-32")
    log(f"models: CLIPModel ViT-B/32 from torch.manual_seed({seed}) -> {st_dir}")
    write_sentence_transformers(model, st_dir, bpe_path)
    log(f"models: ONNX export (opset {OPSET}) -> {onnx_dir}")
    with torch.no_grad():
        export_onnx(model, onnx_dir, bpe_path, os.path.join(st_dir, "0_CLIPModel", "tokenizer.json"))
    if quantize:
        log("models: INT8 towers (ONNX Runtime dynamic quantization, as scripts/quantize-clip)")
        quantize_towers(onnx_dir)
    stamp = {"seed": seed, "layout": LAYOUT, "torch": torch.__version__, "transformers": transformers.__version__,
             "parameters": sum(p.numel() for p in model.parameters()), "build_s": round(time.time() - started, 1)}
    with open(stamp_path, "w") as f:
        json.dump(stamp, f, indent=2)
    log(f"models: done in {stamp['build_s']} s ({stamp['parameters'] / 1e6:.1f} M parameters)")
    return stamp


def make_photo(path, width, height, seed, quality=90):
    """A deterministic, photo-like JPEG: smooth lighting, soft shapes, texture and sensor noise
    (not white noise, which no camera produces and which makes JPEG decoding a worst case)."""
    import numpy as np
    from PIL import Image, ImageFilter
    rng = np.random.default_rng(seed)
    # Low-frequency colour field: a small random image upsampled (bicubic) to full size.
    base = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize((width, height), Image.BICUBIC)
    img = np.asarray(base, dtype=np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    # A few soft discs and bands ("objects").
    for _ in range(12):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.04, 0.25) * min(width, height)
        colour = rng.uniform(0, 255, 3).astype(np.float32)
        mask = np.clip((r - np.hypot(xx - cx, yy - cy)) / (0.02 * r + 1), 0, 1)[..., None]
        img = img * (1 - 0.8 * mask) + colour * 0.8 * mask
    # Mid-frequency texture, scaled with the image so a 12 MP photo keeps its detail level.
    for cell, amplitude in [(24, 0.2), (8, 0.2), (3, 0.15)]:
        tex = Image.fromarray(rng.integers(0, 256, (height // cell, width // cell), dtype=np.uint8)).resize((width, height), Image.BILINEAR)
        img += (np.asarray(tex, dtype=np.float32)[..., None] - 128) * amplitude
    img += rng.normal(0, 3.0, img.shape).astype(np.float32)  # sensor noise
    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.5))
    out.save(path, "JPEG", quality=quality, subsampling=2)


def make_catalog(path, count, dim, seed):
    """`count` clustered unit vectors (1,000 random centres + Gaussian noise, like Glimpse's
    bench-search data) with ids and metadata, saved as .npz."""
    import numpy as np
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((1000, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    vectors = centres[rng.integers(0, 1000, count)] + rng.standard_normal((count, dim)).astype(np.float32) * (0.5 / dim ** 0.5)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    brands = ["acme", "zeta", "nova", "orbit", "pluto"]
    ids = np.array([f"item-{i:05d}" for i in range(count)])
    metadata = np.array([json.dumps({"name": f"Product {i}", "brand": brands[i % 5], "price": round(5 + (i * 37 % 1000) / 10, 2)}) for i in range(count)])
    np.savez(path, ids=ids, vectors=vectors.astype(np.float32), metadata=metadata)
