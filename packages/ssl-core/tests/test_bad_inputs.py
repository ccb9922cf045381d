"""The bad-input matrix: every damaged input the program foresees, one row each, for
every modality and for ``evaluate``.

A row damages a fresh copy of a modality's fake data (in the real layout), runs the real
command line (``train fit`` through :func:`ssl_core.cli.cli`, or ``evaluate``) and
asserts what the user sees: one line that names the input and the reason (exit code 1:
``SystemExit`` with a message, no traceback). A row with ``skipped`` also runs with
``--data.on_bad_file skip``: the run finishes, leaves the samples out and counts them
(``train/skipped_files``). A new modality adds its rows (a list of :class:`Row`) and
its runner (a ``MODALITIES`` entry); ``docs/bad-inputs.md`` lists the same cases with
their messages.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ssl_core.cli import cli
from ssl_core.data.fake import class_image, write_image
from ssl_core.embeddings import write_split
from ssl_core.evaluate import main as evaluate_main
from ssl_core.points.fake import write_fake_jet_files
from ssl_core.segmentation.data import make_fake_segmentation
from ssl_core.series.fake import write_fake_ts
from ssl_core.splits import make_split

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CONFIGS = Path(__file__).resolve().parent / "configs"


@dataclass(frozen=True)
class Row:
    """One bad input.

    Attributes:
        case: What the user did (the first column of docs/bad-inputs.md).
        damage: Damages the data root (or run folder) in place.
        says: A regular expression the one line must match: the input and the reason.
        args: Extra command-line arguments of the run.
        skipped: With ``--data.on_bad_file skip``: the run finishes having left out and
            counted this many samples (``None``: nothing can be left out).
    """

    case: str
    damage: Callable[[Path], None]
    says: str
    args: tuple[str, ...] = ()
    skipped: int | None = None

    def __str__(self) -> str:
        return self.case


def rng() -> np.random.Generator:
    return np.random.default_rng(0)


# ------------------------------------------------------------------------- images
def images_root(folder: Path) -> Path:
    from ssl_core.data.fake import make_fake_image_folder

    return make_fake_image_folder(folder, ("ant", "bee", "cat"), {"train": 6, "test": 2}, 36)


def truncated_jpeg(root: Path) -> None:
    path = root / "train" / "bee" / "cut.jpg"
    write_image(path, class_image(1, 3, 40, 40, rng()))
    path.write_bytes(path.read_bytes()[:300])


def bound_then_grown(root: Path) -> None:
    """``--data.split n4-seed0`` used once, then two labeled images added."""
    from ssl_core.data import ClassificationDataModule

    ClassificationDataModule(root=str(root), split="n4-seed0", num_workers=0).setup("fit")
    for name in ("new1.png", "new2.png"):
        write_image(root / "train" / "ant" / name, class_image(0, 3, 36, 36, rng()))


def split_file(root: Path, edit: Callable[[dict], None]) -> None:
    from ssl_core.data import ImageFolder

    listing = ImageFolder().list_samples(root, "train")
    split = make_split("images", [p for p, _ in listing], [y for _, y in listing], 0.5, 0)
    data = json.loads(split.save(root / "split.json").read_text())
    edit(data)
    (root / "split.json").write_text(json.dumps(data))


def then_one_removed(root: Path) -> None:
    """A split file written for the data, then one training image deleted."""
    split_file(root, lambda data: None)
    (root / "train" / "bee" / "bee_0000.png").unlink()


IMAGES = [
    Row("a text file saved as .png", lambda r: (r / "train/ant/notes.png").write_text("no"),
        r"Cannot decode image .*train/ant/notes\.png", skipped=1),
    Row("a text file saved as .png, read in a loader worker process",
        lambda r: (r / "train/ant/notes.png").write_text("no"),
        r"Cannot decode image .*train/ant/notes\.png", ("--data.num_workers", "2"), skipped=1),
    Row("a JPEG cut short", truncated_jpeg, r"cut\.jpg: the JPEG is truncated", skipped=1),
    Row("a zero-byte image", lambda r: (r / "train/cat/empty.png").write_bytes(b""),
        r"train/cat/empty\.png: the file is empty \(0 bytes\)", skipped=1),
    Row("a zero-byte image among the unlabeled ones",
        lambda r: (r / "unlabeled").mkdir() or (r / "unlabeled/u.png").write_bytes(b""),
        r"unlabeled/u\.png: the file is empty \(0 bytes\)", skipped=1),
    Row("a 5-channel TIFF among RGB images",
        lambda r: write_image(r / "train/ant/stack.tif", np.zeros((36, 36, 5), np.uint8)),
        r"stack\.tif has 5 channels, expected 3", skipped=1),
    Row("a class folder train/unlabeled/", lambda r: (r / "train/unlabeled").mkdir(),
        r"train/unlabeled would be a class: images without a class go in .*/unlabeled/"),
    Row("no data at the root", lambda r: shutil.rmtree(r / "train"),
        r"images not found at .*: point --data.root to a copy"),
    Row("the network's channels differ from the data's", lambda r: None,
        r"in_channels is 1 but the data has 3 channels",
        ("--model.init_args.backbone.init_args.in_channels", "1")),
    Row("a weights file that does not exist", lambda r: None, r"weights file not found: .*nothing\.pt",
        ("--model.init_args.backbone.init_args.weights", "{root}/nothing.pt")),
    Row("an unknown class to leave out", lambda r: None, r"Unknown class 'eel' to leave out; the classes: \['ant', 'bee', 'cat'\]",
        ("--data.exclude_classes", "[eel]")),
]  # fmt: skip

SPLITS = [
    Row("an unknown split name", lambda r: None, r"No label split 'n4-sed0'",
        ("--data.split", "n4-sed0")),
    Row("fewer labeled samples than classes", lambda r: None,
        r"Split n2-seed0 asks for 2 labeled samples but the data has 3 classes: some class "
        r"would have no label; use a count >= 3 \(n3-seed0\)", ("--data.split", "n2-seed0")),
    Row("more labeled samples than there are", lambda r: None,
        r"Split n500-seed0 asks for 500 labeled samples; images has 15",
        ("--data.split", "n500-seed0")),
    Row("a named split whose labeled data changed at the same root", bound_then_grown,
        r"Split n4-seed0 of images at .* was drawn from other samples with targets \(18 "
        r"samples with targets then, 20 now: 2 added \(e\.g\. train/ant/new1\.png, "
        r"train/ant/new2\.png\)\): a name means one draw\. Use a new name \(e\.g\. "
        r"n4-seed0-v2\) or redraw n4-seed0 .*--data\.redraw_split true",
        ("--data.split", "n4-seed0")),
    Row("a split file made from other data", then_one_removed,
        r"split\.json was made from another dataset \(fingerprint \w+, this data's \w+; 18 "
        r"samples with targets then, 17 now: 1 removed or without a target now \(e\.g\. "
        r"train/bee/bee_0000\.png\)\)",
        ("--data.split", "{root}/split.json")),
    Row("a split file naming files outside the data",
        lambda r: split_file(r, lambda d: d["labeled"].__setitem__(0, ["../../etc/passwd", 0])),
        r"split\.json names 1 samples that are not in the training images",
        ("--data.split", "{root}/split.json", "--data.train_on", "labeled")),
    Row("a split file that is not JSON",
        lambda r: (r / "split.json").write_text("{labeled: "),
        r"Label split .*split\.json is not JSON", ("--data.split", "{root}/split.json")),
]  # fmt: skip


# -------------------------------------------------------------------------- masks
def masks_root(folder: Path) -> Path:
    return make_fake_segmentation(folder, {"train": 16, "test": 2}, size=40)


def mask_pixels(root: Path, name: str, edit: Callable[[np.ndarray], np.ndarray]) -> None:
    from ssl_core.data.images import read_image

    path = root / "train" / "masks" / name
    write_image(path, edit(read_image(path, channels=1)))


def red_on_black(mask: np.ndarray) -> np.ndarray:
    rgb = np.zeros((*mask.shape[:2], 3), np.uint8)
    rgb[mask[:, :, 0] > 0] = (255, 0, 0)
    return rgb


def seven(mask: np.ndarray) -> np.ndarray:
    out = (mask > 0).astype(np.uint8)
    out[0, 0] = 7
    return out


MASKS = [
    Row("a red-on-black RGB mask (no palette declared)",
        lambda r: mask_pixels(r, "img_0001.png", red_on_black),
        r"img_0001\.png is a colour mask \(its channels differ.* declare the source's "
        r"palette", skipped=1),
    Row("a mask value 7 in a 2-class project", lambda r: mask_pixels(r, "img_0002.png", seven),
        r"img_0002\.png holds values \[0, 1, 7\]", skipped=1),
    Row("a zero-byte mask", lambda r: (r / "train/masks/img_0003.png").write_bytes(b""),
        r"masks/img_0003\.png: the file is empty \(0 bytes\)", skipped=1),
    Row("a zero-byte image", lambda r: (r / "train/images/img_0004.png").write_bytes(b""),
        r"img_0004\.png is empty \(0 bytes\)", skipped=1),
    Row("a mask of another size than its image",
        lambda r: mask_pixels(r, "img_0005.png", lambda m: np.zeros((8, 8, 1), np.uint8)),
        r"Mask train/masks/img_0005\.png is 8x8 px \(WxH\) but its image is", skipped=1),
    Row("no masks at all", lambda r: shutil.rmtree(r / "train/masks"),
        r"No training sample of .* has a mask: .*pretrain an encoder self-supervised"),
]  # fmt: skip


# --------------------------------------------------------------------------- jets
def jets_root(folder: Path) -> Path:
    return write_fake_jet_files(folder, per_class=20)


def edit_jets(root: Path, name: str, **changes) -> None:
    with np.load(root / name) as data:
        arrays = {k: data[k] for k in data.files}
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value(arrays[key]) if callable(value) else value
    np.savez(root / name, **arrays)


def nan_row(constituents: np.ndarray) -> np.ndarray:
    constituents = constituents.copy()
    constituents[3, 0, 0] = np.nan
    return constituents


def label_five(labels: np.ndarray) -> np.ndarray:
    labels = labels.copy()
    labels[2] = 5
    return labels


def overfull(counts: np.ndarray) -> np.ndarray:
    counts = counts.copy()
    counts[4] = 500
    return counts


JETS = [
    Row("a truncated .npz",
        lambda r: (r / "top.npz").write_bytes((r / "top.npz").read_bytes()[:500]),
        r"top\.npz cannot be read as a \.npz file \(File is not a zip file\)"),
    Row("a jet file without its constituents array",
        lambda r: edit_jets(r, "qcd.npz", constituents=None),
        r"qcd\.npz has no constituents array \(it has \['n_constituents', 'jet', 'label'\]\)"),
    Row("constituents of the wrong shape",
        lambda r: edit_jets(r, "top.npz", constituents=lambda c: c[:, :, :3]),
        r"top\.npz: constituents must be \(N, P, 4\) .* not \(20, 64, 3\)"),
    Row("a missing jet file", lambda r: (r / "qcd.npz").unlink(),
        r"jets not found at .*: point --data.root to a copy \(a folder with top\.npz"),
    Row("a jet with NaN constituents", lambda r: edit_jets(r, "top.npz", constituents=nan_row),
        r"1 bad jets: top\.npz:3 \(NaN or inf in constituent\(s\) \[0\]", skipped=1),
    Row("a label outside the declared classes",
        lambda r: edit_jets(r, "qcd.npz", label=label_five),
        r"1 bad jets: qcd\.npz:2 \(label 5 outside the classes \['qcd', 'top'\]\)", skipped=1),
    Row("more constituents counted than the file holds",
        lambda r: edit_jets(r, "qcd.npz", n_constituents=overfull),
        r"qcd\.npz:4 \(n_constituents 500 > the file's 64 slots\)", skipped=1),
]  # fmt: skip


# ------------------------------------------------------------------------- series
def series_root(folder: Path) -> Path:
    write_fake_ts(folder / "Toy_TRAIN.ts", ("a", "b"), 10, channels=2, seed=0)
    write_fake_ts(folder / "Toy_TEST.ts", ("a", "b"), 3, channels=2, seed=1)
    return folder


def edit_ts(root: Path, line: int, edit: Callable[[str], str], header: str = "") -> None:
    """Edit data line ``line`` (0 = the first series) of Toy_TRAIN.ts; add a header line."""
    path = root / "Toy_TRAIN.ts"
    lines = path.read_text().splitlines()
    first = lines.index("@data") + 1
    lines[first + line] = edit(lines[first + line])
    if header:
        lines = [header if ln.split(" ")[0] == header.split(" ")[0] else ln for ln in lines]
    path.write_text("\n".join(lines) + "\n")


def first_value(text: str) -> Callable[[str], str]:
    return lambda row: text + row[row.index(",") :]


SERIES = [
    Row("@equalLength true over series of different lengths",
        lambda r: edit_ts(r, 0, str, "@equalLength true"),
        r"Toy_TRAIN\.ts:\d+: \d+ time steps, but @equalLength true \(line \d+\) and the first "
        r"series \(line \d+\) has \d+"),
    Row("a label outside @classLabel", lambda r: edit_ts(r, 4, lambda s: s[:-1] + "c"),
        r"Toy_TRAIN\.ts:\d+: label 'c' is not one of the classes of @classLabel"),
    Row("a '?' under @missing false", lambda r: edit_ts(r, 1, first_value("?")),
        r"Toy_TRAIN\.ts:\d+: a '\?' \(missing value\), but the header says @missing false"),
    Row("a '?' under @missing true",
        lambda r: edit_ts(r, 1, first_value("?"), "@missing true"),
        r"1 bad series: Toy_TRAIN\.ts:\d+ \(1 missing values \('\?'\): the file declares "
        r"@missing true and ssl-core does not impute them\)", skipped=1),
    Row("a value that is not a number", lambda r: edit_ts(r, 2, first_value("x")),
        r"Toy_TRAIN\.ts:\d+: 'x' is not a number"),
    Row("a series with another number of dimensions",
        lambda r: edit_ts(r, 3, lambda s: s[s.index(":") + 1 :]),
        r"Toy_TRAIN\.ts:\d+: 1 dimensions, but @dimensions 2"),
]  # fmt: skip


# ----------------------------------------------------------------------- evaluate
def embeddings_run(folder: Path) -> Path:
    """A run folder with ``embeddings/`` as ``train predict`` writes it."""
    emb = folder / "embeddings"
    emb.mkdir(parents=True)
    meta = {"format_version": 1, "splits": {}, "class_names": ["a", "b"]}
    for name, n in (("train", 12), ("test", 6)):
        x = np.random.default_rng(n).normal(size=(n, 4)).astype(np.float32)
        rows = {"features": x, "labels": np.arange(n) % 2, "indices": np.arange(n)}
        ids = [f"{name}/{i}.png" for i in range(n)]
        meta["splits"][name] = write_split(emb, name, rows, ids, np.ones(n, bool))
    (emb / "meta.json").write_text(json.dumps(meta))
    return folder


def edit_npz(path: Path, **changes) -> None:
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    np.savez(path, **{**arrays, **changes})


EVALUATE = [
    Row("a run folder without embeddings", lambda r: shutil.rmtree(r / "embeddings"),
        r"No embeddings directory .*embeddings\. Write one with `uv run --package"),
    Row("meta.json that is not JSON", lambda r: (r / "embeddings/meta.json").write_text("{x"),
        r"embeddings/meta\.json is not valid JSON"),
    Row("a truncated test.npz",
        lambda r: (r / "embeddings/test.npz").write_bytes(b"PK\x03\x04broken"),
        r"Cannot read .*embeddings/test\.npz: .*write it again \(train predict\)"),
    Row("NaN features (a diverged model)",
        lambda r: edit_npz(r / "embeddings/train.npz", features=np.full((12, 4), np.nan)),
        r"train\.npz: features holds NaN or inf \(diverged model\?\)"),
    Row("rows that disagree with meta.json",
        lambda r: edit_npz(r / "embeddings/test.npz", ids=np.array(["x"] * 4)),
        r"test\.npz: ids has 4 rows but labels has 6"),
    Row("a class to hold out that the run does not have", lambda r: None,
        r"--hold-out \['zebra'\]: classes are", ("--hold-out", "zebra")),
    Row("a space the embeddings do not hold", lambda r: None,
        r"--space projection: the embeddings hold only \['features'\]", ("--space", "projection")),
]  # fmt: skip


# ------------------------------------------------------------------------ runners
def train(config: str) -> Callable[[Path, Path, tuple[str, ...]], None]:
    def run(root: Path, tmp: Path, args: tuple[str, ...]):
        return cli(
            ["fit", "--config", str(CONFIGS / config), "--data.root", str(root),
             "--trainer.default_root_dir", str(tmp / "run"), *args]
        )  # fmt: skip

    return run


def evaluate(root: Path, tmp: Path, args: tuple[str, ...]) -> None:
    evaluate_main([str(root), "--no-umap", *args])


#: modality: (data maker, runner, rows)
MODALITIES = {
    "images": (images_root, train("tiny.yaml"), IMAGES),
    "splits": (images_root, train("tiny.yaml"), SPLITS),
    "masks": (masks_root, train("segmentation-tiny.yaml"), MASKS),
    "jets": (jets_root, train("jets-tiny.yaml"), JETS),
    "series": (series_root, train("series-tiny.yaml"), SERIES),
    "evaluate": (embeddings_run, evaluate, EVALUATE),
}
CASES = [
    pytest.param(name, row, id=f"{name}: {row.case}")
    for name, (_, _, rows) in MODALITIES.items()
    for row in rows
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict[str, Path]:
    """Each modality's good data, made once; rows damage copies."""
    base = tmp_path_factory.mktemp("pristine")
    return {name: make(base / name) for name, (make, _, _) in MODALITIES.items()}


def one_line(error: SystemExit, command: str) -> str:
    message = error.code
    assert isinstance(message, str), f"exit code {message!r}, not a message"
    assert message.startswith(f"{command}: ") and "\n" not in message
    assert "Traceback" not in message
    return message


@pytest.mark.parametrize(("modality", "row"), CASES)
def test_a_bad_input_ends_in_one_line_naming_it(modality, row, pristine, tmp_path):
    _, run, _ = MODALITIES[modality]
    root = tmp_path / "data"
    shutil.copytree(pristine[modality], root)
    row.damage(root)
    args = tuple(a.replace("{root}", str(root)) for a in row.args)
    with pytest.raises(SystemExit) as info:
        run(root, tmp_path, args)
    message = one_line(info.value, "evaluate" if modality == "evaluate" else "train")
    assert re.search(row.says, message), message
    if row.skipped is not None:
        done = run(root, tmp_path, (*args, "--data.on_bad_file", "skip"))
        assert done.trainer.state.finished
        assert done.trainer.callback_metrics["train/skipped_files"].item() == row.skipped


def test_the_command_prints_the_line_and_exits_1(pristine, tmp_path):
    """The real process: one line on stderr, exit code 1, nothing else said about it."""
    root = tmp_path / "data"
    shutil.copytree(pristine["jets"], root)
    (root / "top.npz").write_bytes(b"")
    command = [sys.executable, "-m", "ssl_core.cli", "fit", "--config",
               str(CONFIGS / "jets-tiny.yaml"), "--data.root", str(root),
               "--trainer.default_root_dir", str(tmp_path / "run")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("train: ") and "top.npz cannot be read as a .npz file" in last
    assert "Traceback" not in done.stderr


def table() -> str:
    """docs/bad-inputs.md's table: every row run once, its message as the user sees it
    (the temporary folder shown as ``<root>``)."""
    import os
    import tempfile
    import warnings

    warnings.filterwarnings("ignore")
    os.environ["SSL_CORE_CACHE"] = tempfile.mkdtemp()
    lines = [
        "| modality | case | what the command says (exit code 1) | skip |",
        "|---|---|---|---|",
    ]
    for name, (make, run, rows) in MODALITIES.items():
        for row in rows:
            with tempfile.TemporaryDirectory() as tmp:
                root = make(Path(tmp) / "data")
                row.damage(root)
                args = tuple(a.replace("{root}", str(root)) for a in row.args)
                try:
                    run(root, Path(tmp), args)
                    message = "(no error: a defect)"
                except SystemExit as err:
                    message = str(err.code).replace(str(Path(tmp).resolve()), "<root>")
                    message = message.replace(tmp, "<root>").replace("|", "\\|")
                skip = "left out, counted" if row.skipped is not None else "-"
                code = f"`` {message} ``" if "`" in message else f"`{message}`"
                lines.append(f"| {name} | {row.case} | {code} | {skip} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python packages/ssl-core/tests/test_bad_inputs.py
    print(table(), end="")
