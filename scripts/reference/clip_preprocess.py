"""open_clip's image preprocessing, reproduced with Pillow and numpy: the fidelity reference.

open_clip's eval transform for a square model is
    Resize(size, interpolation=BICUBIC) -> CenterCrop(size) -> _convert_to_rgb -> ToTensor -> Normalize
applied to `Image.open(path)`; Immich and the seed's sentence-transformers apply it after
`ImageOps.exif_transpose` and `convert("RGB")`. torchvision cannot be installed without torch,
so its size arithmetic is reproduced here from torchvision/transforms/functional.py:
  _compute_resized_output_size: short side -> size, long side -> int(size * long / short)
  resize: returns the image unchanged when the size already matches, else PIL resize
  center_crop: pads with 0 when smaller, offsets int(round((dim - crop) / 2.0))
  to_tensor: uint8 HWC -> float32 CHW / 255;  normalize: (x - mean) / std in float32
"""
import numpy as np
from PIL import Image, ImageOps

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def load_rgb(path):
    """Decoded, upright, RGB: what every Glimpse decoder must reproduce."""
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def resize_shortest(image, size, resample=Image.BICUBIC):
    width, height = image.size
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, int(size * long / short)
    new_width, new_height = (new_short, new_long) if width <= height else (new_long, new_short)
    if (new_width, new_height) == (width, height):
        return image
    return image.resize((new_width, new_height), resample)


def center_crop(image, size):
    width, height = image.size
    if width < size or height < size:
        padded = Image.new("RGB", (max(width, size), max(height, size)))
        padded.paste(image, ((max(width, size) - width) // 2, (max(height, size) - height) // 2))
        image, (width, height) = padded, padded.size
    left = int(round((width - size) / 2.0))
    top = int(round((height - size) / 2.0))
    return image.crop((left, top, left + size, top + size))


def to_normalized_tensor(image, mean=OPENAI_MEAN, std=OPENAI_STD):
    array = np.asarray(image, dtype=np.uint8).transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    mean = np.asarray(mean, dtype=np.float32)[:, None, None]
    std = np.asarray(std, dtype=np.float32)[:, None, None]
    return ((array - mean) / std).astype(np.float32)


def clip_input(path, size=224):
    """The float32 [3, size, size] tensor open_clip feeds the visual tower for `path`."""
    return to_normalized_tensor(center_crop(resize_shortest(load_rgb(path), size), size))
