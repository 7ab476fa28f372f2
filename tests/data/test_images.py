"""Real photo folders: every format and mode, EXIF orientation, mixed sizes brought to one by a stated policy,
unreadable files skipped by name or, past a small share, refused."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import depthgauge
from depthgauge.data.images import fit_to_size, read_image
from depthgauge.data.kinds import prepare
from depthgauge.errors import DepthgaugeError

FORMATS = [("JPEG", ".jpg"), ("PNG", ".png"), ("WEBP", ".webp"), ("BMP", ".bmp"), ("TIFF", ".tif")]
MODES = ("RGB", "L", "RGBA", "P")


def _photo(rng, red: bool, width: int, height: int) -> Image.Image:
    """A noisy photo with a disc whose colour is the class: red, or blue."""
    pixels = rng.integers(90, 170, (height, width, 3)).astype(np.uint8)
    yy, xx = np.mgrid[:height, :width]
    disc = (yy - height / 2) ** 2 + (xx - width / 2) ** 2 < (min(height, width) / 3) ** 2
    pixels[disc] = (220, 30, 30) if red else (30, 30, 220)
    return Image.fromarray(pixels)


def write_photo_folder(folder, per_class: int = 30, seed: int = 0):
    """Two classes of photos, 80 to 200 pixels a side, in every format and mode, one corrupt and one rotated by EXIF."""
    rng = np.random.default_rng(seed)
    for label in ("red", "blue"):
        (folder / label).mkdir(parents=True)
        for i in range(per_class):
            fmt, suffix = FORMATS[i % len(FORMATS)]
            mode = MODES[(i // len(FORMATS)) % len(MODES)]
            image = _photo(rng, label == "red", int(rng.integers(80, 201)), int(rng.integers(80, 201)))
            if mode == "L" and fmt != "WEBP":
                image = image.convert("L")
            elif mode == "RGBA" and fmt in ("PNG", "WEBP", "TIFF"):
                image = image.convert("RGBA")
            elif mode == "P" and fmt in ("PNG", "BMP", "TIFF"):
                image = image.convert("P")
            image.save(folder / label / f"{i}{suffix}", format=fmt)
    (folder / "red" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    rotated = Image.fromarray(np.zeros((40, 120, 3), np.uint8) + 128)  # landscape as stored
    exif = rotated.getexif()
    exif[0x0112] = 6  # EXIF orientation: rotate 90° clockwise to show it upright (portrait)
    rotated.save(folder / "blue" / "rotated.jpg", format="JPEG", exif=exif)
    return folder


def test_a_photo_folder_of_mixed_sizes_formats_and_modes_is_read_at_one_stated_size(tmp_path):
    folder = write_photo_folder(tmp_path / "photos")
    prepared = prepare("image", folder, None)
    shapes = {image.shape for image in prepared.frame["image"]}
    assert shapes == {(64, 64, 3)}  # median shorter side above 64: clamped; some colour, so all colour
    assert len(prepared.frame) == 61 and set(prepared.frame["label"]) == {"red", "blue"}
    assert prepared.settings["image_shape"] == [64, 64, 3]
    skipped = next(w for w in prepared.warnings if w.startswith("Skipped 1 unreadable"))
    assert "corrupt.jpg" in skipped
    chosen = next(w for w in prepared.warnings if "brought to 64×64" in w)
    assert "centre-cropped" in chosen and "--image-size" in chosen
    given = prepare("image", folder, None, image_size=32)
    assert {image.shape for image in given.frame["image"]} == {(32, 32, 3)}


def test_exif_orientation_transparency_and_palettes_are_read_as_a_viewer_shows_them(tmp_path):
    folder = write_photo_folder(tmp_path / "photos", per_class=20)
    assert read_image(folder / "blue" / "rotated.jpg").shape == (120, 40, 3)  # upright: portrait
    clear = Image.new("RGBA", (10, 10), (255, 0, 0, 0))  # fully transparent red reads as the white behind it
    clear.save(tmp_path / "clear.png")
    assert (read_image(tmp_path / "clear.png") == 255).all()
    assert read_image(tmp_path / "nothing.png") is None  # missing or empty files are unreadable, not a crash
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert read_image(tmp_path / "empty.jpg") is None
    wide = np.zeros((20, 60, 3), np.uint8)
    wide[:, 20:40] = 255  # the centre third is white
    square = fit_to_size(wide, 10, 10)
    assert square.shape == (10, 10, 3) and square.mean() > 250  # shorter side to 10, the centre kept


def test_too_many_unreadable_files_stop_the_run_with_their_names_and_write_nothing(tmp_path):
    folder = write_photo_folder(tmp_path / "photos", per_class=10)
    for i in range(3):
        (folder / "blue" / f"broken{i}.png").write_bytes(b"not a png")
    home = tmp_path / "ws"
    with pytest.raises(DepthgaugeError, match=r"4 of 25 files are not readable images.*broken0.png.*Remove or replace"):
        depthgauge.assess(folder, home=home, time_budget="30s")
    with pytest.raises(DepthgaugeError, match="--image-size is the side of the square input"):
        depthgauge.assess(folder, home=home, time_budget="30s", image_size=4)
    assert not home.exists()


def test_a_photo_folder_is_assessed_and_served_like_in_process(tmp_path):
    import base64
    import io

    import pandas as pd

    from depthgauge.govern.keys import create_key
    from depthgauge.serve import deploy as deployments
    from depthgauge.server import create_app
    from depthgauge.workspace import Workspace
    from tests.helpers.servers import LiveServer, client

    folder = write_photo_folder(tmp_path / "photos", per_class=40)
    home = tmp_path / "ws"
    result = depthgauge.assess(folder, home=home, time_budget="40s", image_size=24, resamples=200, name="photos",
                               candidates=("dummy", "pixels_linear", "cnn"))
    assert result.options["kind"] == "image" and result.options["image_image_shape"] == [24, 24, 3]
    assert any("corrupt.jpg" in w for w in result.warnings)
    linear = next(c for c in result.candidates if c.family == "pixels_linear")
    assert linear.quality["accuracy"].value > 0.9  # the colour of the disc is learnt through the resize
    buffer = io.BytesIO()
    _photo(np.random.default_rng(7), True, 173, 91).convert("RGBA").save(buffer, format="PNG")
    sent = base64.b64encode(buffer.getvalue()).decode()
    version = result.registered[[c.family for c in result.candidates if c.ok].index("pixels_linear")]
    local = depthgauge.load_model(version, home=home)
    expected = local.predict_proba(pd.DataFrame({"image": [sent]}))[0]
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        token = create_key(session, "deployer", "deployer")[1]
        deployments.deploy(session, "photos", version.split(":")[1])
    with LiveServer(create_app(home)) as url, client(url, token) as c:
        answer = c.post("/v1/models/photos/predict", json={"inputs": {"image": sent}})
    assert answer.status_code == 200, answer.text
    served = answer.json()["predictions"][0]
    assert [served["probabilities"][str(k)] for k in local.classes_] == pytest.approx(list(expected), abs=1e-6)
    assert served["prediction"] == "red"
