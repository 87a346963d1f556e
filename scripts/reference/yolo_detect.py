"""The detection fidelity reference: Ultralytics' own preprocessing and post-processing around
onnxruntime, on the same ONNX file Glimpse runs.

Step for step what `YOLO("model.onnx").predict(path)` does for a fixed-size export
(ultralytics 8.4, engine/predictor.py and models/yolo/detect/predict.py):
  imread (cv2, BGR) -> LetterBox(imgsz, auto=False, stride) -> HWC->CHW, BGR->RGB
  -> uint8 to float32 (or float16 for an fp16 model) -> /255 -> onnxruntime
  -> ops.non_max_suppression(conf, iou, classes, agnostic, max_det) -> ops.scale_boxes
Only the model call differs: onnxruntime directly instead of AutoBackend (which runs the same
onnxruntime session), so a golden does not depend on Ultralytics' backend plumbing.

Needs the heavy venv (torch, ultralytics, opencv): .deps/venv-yolo. Used as a module by
scripts/make-yolo-test-models, or on its own:
  .deps/venv-yolo/bin/python scripts/reference/yolo_detect.py MODEL IMAGE... [--conf 0.25]
"""
import argparse
import ast
import json

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import torch
from ultralytics.data.augment import LetterBox
from ultralytics.utils import nms, ops


def model_metadata(path):
    """Ultralytics' metadata_props, with names, imgsz and stride parsed."""
    props = {p.key: p.value for p in onnx.load(path, load_external_data=False).metadata_props}
    names = ast.literal_eval(props["names"])
    imgsz = ast.literal_eval(props["imgsz"])
    return names, (imgsz, imgsz) if isinstance(imgsz, int) else tuple(imgsz), int(props["stride"])


def letterbox(image_bgr, imgsz, stride):
    """Ultralytics' LetterBox as the predictor builds it for a fixed-size export (auto=False)."""
    return LetterBox(imgsz, auto=False, stride=stride)(image=image_bgr)


def model_input(letterboxed_bgr, half):
    """The predictor's preprocess: BCHW, BGR->RGB, uint8 -> float (half) / 255."""
    image = torch.from_numpy(letterboxed_bgr).unsqueeze(0)
    image = image.permute(0, 3, 1, 2).contiguous().flip(1)
    return (image.half() if half else image.float()).div_(255).numpy()


class Reference:
    def __init__(self, path):
        self.session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        self.names, self.imgsz, self.stride = model_metadata(path)
        self.half = self.session.get_inputs()[0].type == "tensor(float16)"

    def letterboxed(self, image_bgr):
        return letterbox(image_bgr, self.imgsz, self.stride)

    def raw_output(self, image_bgr):
        feed = {self.session.get_inputs()[0].name: model_input(self.letterboxed(image_bgr), self.half)}
        return self.session.run(None, feed)[0]

    def detect(self, image_bgr, conf=0.25, iou=0.7, classes=None, agnostic=False, max_det=300):
        """[{box: [x1, y1, x2, y2] in original pixels, confidence, class}], as Ultralytics' predictor."""
        prediction = torch.from_numpy(self.raw_output(image_bgr))
        kept = nms.non_max_suppression(
            prediction, conf, iou, classes=classes, agnostic=agnostic, max_det=max_det
        )[0]
        kept[:, :4] = ops.scale_boxes(self.imgsz, kept[:, :4], image_bgr.shape)
        return [
            {"box": [float(v) for v in row[:4]], "confidence": float(row[4]), "class": int(row[5])}
            for row in kept.float()
        ]


def read_bgr(path):
    """Ultralytics' imread: cv2.imdecode of the file's bytes, 3-channel BGR."""
    return cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)


def main():
    parser = argparse.ArgumentParser(description="Ultralytics reference detections as JSON")
    parser.add_argument("model")
    parser.add_argument("images", nargs="+")
    parser.add_argument("--conf", type=float, default=0.25)
    parser.add_argument("--iou", type=float, default=0.7)
    parser.add_argument("--agnostic", action="store_true")
    parser.add_argument("--max-det", type=int, default=300)
    args = parser.parse_args()
    reference = Reference(args.model)
    results = {
        path: reference.detect(read_bgr(path), args.conf, args.iou, None, args.agnostic, args.max_det)
        for path in args.images
    }
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
