"""Real photos: any format, mode, orientation and size, brought to one input size by a stated policy.

The policy, the same at training, serving and export: apply the EXIF orientation; flatten transparency onto white;
read grayscale as one channel and everything else (palette, CMYK, RGBA...) as RGB; then resize the shorter side to
the input size and centre-crop the square. The input size is `--image-size`, or, when the images differ in size,
the median shorter side clamped to 16..64 pixels (small enough for a CPU to train on in minutes), and the run says
which and why. Images that already share one size keep it unless `--image-size` is given.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from depthgauge.errors import DepthgaugeError

MIN_SIZE, MAX_DEFAULT_SIZE, MAX_SIZE = 8, 64, 512
MAX_UNREADABLE_SHARE = 0.05  # above this share of unreadable files the run stops and lists them
GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")
FORMATS = "JPEG, PNG, WebP, BMP, GIF and TIFF"


def check_image_size(size: int | None) -> None:
    if size is not None and not MIN_SIZE <= size <= MAX_SIZE:
        raise DepthgaugeError(f"--image-size is the side of the square input in pixels, from {MIN_SIZE} to {MAX_SIZE}, "
                              f"not {size}. Leave it out to choose it from the images.")


def to_array(image) -> np.ndarray:
    """Return a PIL image as uint8 pixels (height × width, or × 3), upright and without transparency."""
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    gray = image.mode in GRAY_MODES
    if has_alpha:
        rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat.alpha_composite(rgba)
        image = flat
    if image.mode in ("I", "I;16", "F"):  # 16-bit or float grayscale: scaled to 0..255
        values = np.asarray(image, dtype=np.float64)
        top = values.max() or 1.0
        return np.clip(values / top * 255.0, 0, 255).astype(np.uint8)
    return np.asarray(image.convert("L" if gray else "RGB"))


def read_image(path: Path) -> np.ndarray | None:
    """Return the image at `path` as uint8 pixels, or None when the file is empty or not a readable image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            return to_array(image)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


def decode_bytes(raw: bytes) -> np.ndarray:
    """Return encoded image bytes (as served) as uint8 pixels, by the same rules as a file."""
    from PIL import Image

    with Image.open(io.BytesIO(raw)) as image:
        image.load()
        return to_array(image)


def fit_to_size(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Return the image scaled so it covers `height` × `width` (for a square: its shorter side to that size), then
    centre-cropped to it."""
    from PIL import Image

    h, w = pixels.shape[:2]
    if (h, w) == (height, width):
        return pixels
    scale = max(height / h, width / w)
    new_w, new_h = max(width, round(w * scale)), max(height, round(h * scale))
    single = pixels.ndim == 3 and pixels.shape[2] == 1
    image = Image.fromarray(pixels[:, :, 0] if single else pixels)
    resized = np.asarray(image.resize((new_w, new_h), Image.Resampling.BICUBIC, reducing_gap=3.0))
    top, left = (new_h - height) // 2, (new_w - width) // 2
    out = resized[top:top + height, left:left + width]
    return out[:, :, None] if single else out


def to_channels(pixels: np.ndarray, channels: int) -> np.ndarray:
    """Return height × width × `channels` pixels: colour read as luminance for a grayscale model, gray repeated."""
    from PIL import Image

    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.shape[2] == 4:  # transparency flattened onto white, as for a file
        alpha = pixels[:, :, 3:].astype(np.float32) / 255.0
        pixels = np.rint(pixels[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    if pixels.shape[2] == channels:
        return pixels
    if channels == 1:
        return np.asarray(Image.fromarray(pixels[:, :, :3]).convert("L"))[:, :, None]
    return np.repeat(pixels[:, :, :1], channels, axis=2)


def default_size(shapes: list[tuple[int, int]]) -> int:
    """Return the input size for images of these (height, width): the median shorter side, within 16..64."""
    shorter = float(np.median([min(h, w) for h, w in shapes]))
    return int(min(max(round(shorter), 16), MAX_DEFAULT_SIZE))


def read_folder(classes: dict[str, list[Path]], image_size: int | None) -> tuple[list, list, list[str]]:
    """Return (images, labels, warnings) for the files of each class, every image brought to one size.

    Unreadable or empty files are skipped and named in a warning; more than 5% of them stops the run with the list.
    """
    images, labels, unreadable = [], [], []
    for label, files in classes.items():
        for path in files:
            pixels = read_image(path)
            if pixels is None or pixels.size == 0:
                unreadable.append(str(path))
                continue
            images.append(pixels)
            labels.append(label)
    total = len(images) + len(unreadable)
    listed = ", ".join(f"'{p}'" for p in unreadable[:10]) + (f" and {len(unreadable) - 10} more"
                                                             if len(unreadable) > 10 else "")
    if unreadable and (len(unreadable) > MAX_UNREADABLE_SHARE * total or not images):
        raise DepthgaugeError(f"{len(unreadable)} of {total} files are not readable images ({listed}). Remove or "
                              f"replace them; depthgauge reads {FORMATS}.")
    warnings = [f"Skipped {len(unreadable)} unreadable or empty file(s): {listed}."] if unreadable else []
    images, note = same_size(images, image_size)
    return images, labels, warnings + ([note] if note else [])


def same_size(images: list[np.ndarray], image_size: int | None) -> tuple[list[np.ndarray], str | None]:
    """Return the images at one size and one channel count, and the sentence that says what was done."""
    if any(i.ndim == 3 for i in images):  # some colour: all read as colour
        images = [np.repeat(i[:, :, None], 3, axis=2) if i.ndim == 2 else i for i in images]
    shapes = [i.shape[:2] for i in images]
    if image_size is None and len(set(shapes)) <= 1:
        return images, None
    size = image_size or default_size(shapes)
    low, high = min(min(s) for s in shapes), max(max(s) for s in shapes)
    why = "--image-size" if image_size else (f"chosen from the data: the median shorter side, within 16 to "
                                             f"{MAX_DEFAULT_SIZE} pixels; --image-size changes it")
    note = (f"Images of {low} to {high} pixels a side were brought to {size}×{size}: shorter side resized to {size}, "
            f"then centre-cropped ({why}). Serving and export apply the same.")
    return [fit_to_size(i, size, size) for i in images], note
