"""boundary.gif: a frame per snapshot, small enough to keep, drawn for a diverged network
too, and never left half-written."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nnsweep.data import make_dataset
from nnsweep.figures.boundary_gif import FRAME_MS, HOLD_LAST_MS, SHADES, Frame, boundary_gif
from nnsweep.nn.activations import make_activation
from nnsweep.nn.mlp import MLP


@pytest.fixture
def lab():
    """The XOR points, the 2-4-4-1 sigmoid network's predict(params (P,), points)."""
    sigmoid = make_activation("sigmoid")
    net = MLP((2, 4, 4, 1), sigmoid, sigmoid)
    x, y = make_dataset("xor", None)
    return net, lambda params, points: net.predict(params[None], points)[0], x, y


def random_frames(net: MLP, count: int, scale: float = 3.0) -> list[Frame]:
    """``count`` unrelated networks: every frame a new picture, the hardest to compress."""
    rng = np.random.default_rng(0)
    params = scale * rng.standard_normal((count, net.n_params))
    epochs = np.geomspace(1, 1e5, count).round().astype(int)
    return [Frame(e, p, 0.25 / e) for e, p in zip(epochs, params, strict=True)]


def test_forty_frames_make_forty_gif_frames_under_two_megabytes(lab, tmp_path):
    net, predict, x, y = lab
    path = boundary_gif(tmp_path / "boundary.gif", predict, random_frames(net, 40), x, y, "xor")
    assert path == tmp_path / "boundary.gif"
    with Image.open(path) as gif:
        assert gif.n_frames == 40
        durations = [gif.seek(k) or gif.info["duration"] for k in range(gif.n_frames)]
    assert path.stat().st_size < 2_000_000
    assert durations[:-1] == [FRAME_MS] * 39
    assert durations[-1] == FRAME_MS + HOLD_LAST_MS  # the end is held


def test_a_diverged_network_is_drawn_grey_and_said(lab, tmp_path):
    net, predict, x, y = lab
    nan = np.full(net.n_params, np.nan)
    frames = [*random_frames(net, 2), Frame(3, nan, np.nan, "diverged")]
    path = boundary_gif(tmp_path / "b.gif", predict, frames, x, y, x_test=x + 0.03, y_test=y)
    with Image.open(path) as gif:
        assert gif.n_frames == 3
    grey = 255 * (0.7 * np.array([211, 211, 211]) / 255 + 0.3)  # lightgrey at alpha 0.7
    assert np.abs(shading(path, 2) - grey).max() <= 3


def shading(path: Path, frame: int) -> np.ndarray:
    """The commonest colour (3,) of a frame other than the white around the axes."""
    with Image.open(path) as gif:
        gif.seek(frame)
        pixels = np.asarray(gif.convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(pixels[(pixels != 255).any(axis=1)], axis=0, return_counts=True)
    return colours[counts.argmax()].astype(float)


def test_the_colour_scale_is_zero_to_one_in_every_frame(lab, tmp_path):
    _, _, x, y = lab

    def constant(params, points):  # the output params[0] everywhere
        return np.full((len(points), 1), params[0])

    outputs = [0.05, 0.55, 0.95, 0.05]
    frames = [Frame(e + 1, np.array([v]), 0.1) for e, v in enumerate(outputs)]
    path = boundary_gif(tmp_path / "b.gif", constant, frames, x, y)
    colours = [shading(path, k) for k in range(len(frames))]
    for colour, value in zip(colours, outputs, strict=True):
        expected = 255 * (0.7 * np.array(SHADES(value)[:3]) + 0.3)  # alpha 0.7
        assert np.abs(np.subtract(colour, expected)).max() <= 6, (value, colour, expected)


@pytest.mark.parametrize("where", ["drawing a frame", "writing the file"])
def test_a_failure_leaves_no_file_and_an_earlier_gif_whole(lab, tmp_path, monkeypatch, where):
    net, predict, x, y = lab
    path = boundary_gif(tmp_path / "b.gif", predict, random_frames(net, 2), x, y)
    frames = random_frames(net, 5)

    def breaks_at_the_third_frame(params, points):
        if params is frames[2].params:
            raise OSError("killed")
        return predict(params, points)

    def half_written(image, target, *args, **kwargs):  # Pillow stopped by a full disk
        Path(target).write_bytes(b"GIF89a")
        raise OSError("killed")

    if where == "writing the file":
        monkeypatch.setattr(Image.Image, "save", half_written)
    draw = predict if where == "writing the file" else breaks_at_the_third_frame
    for target in (path, tmp_path / "new.gif"):
        with pytest.raises(OSError, match="killed"):
            boundary_gif(target, draw, frames, x, y)
    assert [p.name for p in tmp_path.iterdir()] == ["b.gif"]  # no new.gif, no partial file
    monkeypatch.undo()
    with Image.open(path) as gif:
        assert gif.n_frames == 2  # the earlier GIF, whole


def test_no_frames_is_an_error_that_says_so(lab, tmp_path):
    _, predict, x, y = lab
    with pytest.raises(ValueError, match="at least one frame"):
        boundary_gif(tmp_path / "b.gif", predict, [], x, y)
    assert not list(tmp_path.iterdir())
