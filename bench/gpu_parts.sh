#!/usr/bin/env bash
# Makes the parts that bench/gpu_session.sh receives on a GPU machine, in .gpu/ (ignored by
# git), each under ~60 MB with the working tree (docs/gpu.md, "Measuring"):
#
#   .gpu/c1  the CUDA provider, part aa, and the Python wheels the run needs there
#            (onnxconverter-common; FastAPI, uvicorn, pydantic … for the seed stack's server;
#            nvidia-nvjpeg for issue 19's nvJPEG path)
#   .gpu/c2  part ab, the CLIP vocabulary, and a zstd binary with its library
#   .gpu/c3  part ac
#   .gpu/c4  part ad and the YOLOv8n detector (DETECTOR, default models/yolov8n-random)
#   .gpu/c5  the bundle (dist/, from scripts/bundle) with onnxruntime-gpu's libraries
#
# Usage: bench/gpu_parts.sh [DETECTOR.onnx]   (after scripts/setup and scripts/bundle --archive)
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION=1.31.1
DETECTOR=${1:-models/yolov8n-random/model.onnx}
OUT=.gpu
log() { printf '[gpu-parts] %s\n' "$*" >&2; }

[ -x dist/glimpse-linux-x86_64/bin/glimpse ] || { echo "run scripts/bundle --archive first" >&2; exit 1; }
[ -f "$DETECTOR" ] || { echo "no detector at $DETECTOR (scripts/export-yolo, or pass a path)" >&2; exit 1; }

# onnxruntime-gpu's three libraries, from the wheel (255 MB, kept in .deps/wheels).
mkdir -p .deps/wheels "$OUT/ort"
wheel=$(ls .deps/wheels/onnxruntime_gpu-"$ORT_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  log "fetching onnxruntime-gpu==$ORT_VERSION"
  python3 -m pip download -q --no-deps --only-binary=:all: -d .deps/wheels "onnxruntime-gpu==$ORT_VERSION"
  wheel=$(ls .deps/wheels/onnxruntime_gpu-"$ORT_VERSION"-*.whl | head -n 1)
fi
unzip -q -o -j "$wheel" 'onnxruntime/capi/libonnxruntime*' -d "$OUT/ort"

rm -rf "$OUT"/c1 "$OUT"/c2 "$OUT"/c3 "$OUT"/c4 "$OUT"/c5 "$OUT"/bundle
mkdir -p "$OUT"/c1/whl "$OUT"/c2/whl "$OUT"/c3 "$OUT"/c4 "$OUT"/c5 "$OUT"/bundle

# The CUDA provider (284 MB): the strongest zstd, decoded there with --long=28, in 54 MB parts.
if [ ! -f "$OUT/cuda.zst" ] || [ "$OUT/ort/libonnxruntime_providers_cuda.so" -nt "$OUT/cuda.zst" ]; then
  log "compressing the CUDA provider (about 2 minutes)"
  zstd -q -f --ultra -22 --long=28 -T0 "$OUT/ort/libonnxruntime_providers_cuda.so" -o "$OUT/cuda.zst"
fi
(cd "$OUT" && rm -f cuda.zst.part-* && split -b 54M cuda.zst cuda.zst.part-)
mv "$OUT"/cuda.zst.part-aa "$OUT"/c1/
mv "$OUT"/cuda.zst.part-ab "$OUT"/c2/
mv "$OUT"/cuda.zst.part-ac "$OUT"/c3/
mv "$OUT"/cuda.zst.part-ad "$OUT"/c4/

# Wheels for the machine's Python 3.12 (its own torch, transformers and sentence-transformers
# stay): the seed stack's web server, and onnxconverter-common.
log "fetching wheels for Python 3.12"
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --platform any -d "$OUT"/c1/whl \
  onnxconverter-common==1.16.0 fastapi==0.165.0 starlette==1.10.0 uvicorn==0.54.0 pydantic==2.14.4 \
  pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5 opentelemetry-api==1.45.2 \
  annotated-doc==0.0.7 typing_extensions==4.16.0 anyio==4.16.0 h11==0.16.0 click==8.5.1 idna==3.20 \
  nvidia-nvjpeg==13.2.3.58

cp .deps/bpe_simple_vocab_16e6.txt.gz "$OUT"/c2/
cp "$(command -v zstd)" "$OUT"/c2/whl/
cp -L "$(ldconfig -p | awk '/libzstd\.so\.1 .*x86-64/ { print $NF; exit }')" "$OUT"/c2/whl/
cp "$DETECTOR" "$OUT"/c4/yolov8n.onnx

# The bundle with the GPU build of ONNX Runtime in place of the CPU one; the CUDA provider
# joins it there, from the parts.
cp -a dist/glimpse-linux-x86_64 "$OUT"/bundle/
cp "$OUT"/ort/libonnxruntime.so."$ORT_VERSION" "$OUT"/ort/libonnxruntime_providers_shared.so \
  "$OUT"/ort/libonnxruntime_providers_tensorrt.so "$OUT"/bundle/glimpse-linux-x86_64/lib/
tar -C "$OUT"/bundle -cf - glimpse-linux-x86_64 | zstd -19 -T0 -q -f -o "$OUT"/c5/glimpse-linux-x86_64.tar.zst
rm -rf "$OUT"/bundle

du -sh "$OUT"/c1 "$OUT"/c2 "$OUT"/c3 "$OUT"/c4 "$OUT"/c5 >&2
