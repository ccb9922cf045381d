"""The label-fraction comparison: the report on hand-written runs, one real
``--test-only`` run on ssl-core's fake data, and its stages in each project's
``projects/<p>/dvc.yaml`` (written from its ``params.yaml``)."""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from ssl_core import cli as ssl_cli
from ssl_core import pipeline
from ssl_core import results as compare
from ssl_core.evaluate import evaluate
from ssl_core.evaluate import metrics as M
from ssl_core.knn import knn_accuracy
from ssl_core.splits import LabelSplit, split_name
from ssl_core.two_class import two_class_scores

REPO_ROOT = Path(__file__).resolve().parents[3]

# method -> split -> test top-1 (what the compare-<method> stages would have written)
RUNS = {
    "supervised": {
        "frac0.01-seed0": 0.20,
        "frac0.01-seed1": 0.25,
        "frac0.01-seed2": 0.33,
        "frac0.10-seed0": 0.50,
        "frac1.00-seed0": 0.80,
    },
    "fixmatch": {"frac0.01-seed0": 0.40, "frac0.01-seed1": 0.46, "frac0.10-seed0": 0.61},
}
LABELED = {0.01: 94, 0.1: 947, 1.0: 9469}


def _write_runs(results: Path) -> None:
    for method, splits in RUNS.items():
        for split, top1 in splits.items():
            fraction, seed = float(split[4:8]), int(split[-1])
            out = results / "compare" / f"{method}-{split}"
            out.mkdir(parents=True)
            metrics = {
                "test_top1": top1,
                "method": method,
                "split": split,
                "fraction": fraction,
                "seed": seed,
                "num_labeled": LABELED[fraction],
                "seconds": {"start": 10.0, "fit": 80.0, "test": 10.0, "total": 100.0},
            }
            (out / "metrics.json").write_text(json.dumps(metrics))


def _params(path: Path) -> Path:
    """A project's params.yaml whose comparison asks for RUNS and frac0.01-seed2 of each
    method (fixmatch's not done yet)."""
    runs = {m: list(dict.fromkeys([*splits, "frac0.01-seed2"])) for m, splits in RUNS.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump({"source": "download", "comparison": {"steps": 200, "runs": runs}})
    )
    return path


def test_summary_is_mean_and_sample_std_over_seeds(tmp_path):
    _write_runs(tmp_path / "toy")
    cells = compare.summarize(compare.load_runs(tmp_path / "toy" / "compare"))
    one = cells[("supervised", 0.01)]
    assert one.mean == pytest.approx((0.20 + 0.25 + 0.33) / 3)
    mean = one.mean
    by_hand = (sum((v - mean) ** 2 for v in (0.20, 0.25, 0.33)) / 2) ** 0.5  # ddof=1
    assert one.std == pytest.approx(by_hand) and one.n == 3 and one.num_labeled == 94
    assert cells[("fixmatch", 0.01)].std == pytest.approx(statistics.stdev([0.40, 0.46]))
    assert cells[("supervised", 1.0)].std is None and cells[("supervised", 1.0)].n == 1


def test_report_writes_the_table_the_plot_and_the_missing_runs(tmp_path):
    results = tmp_path / "toy"
    _write_runs(results)
    md = compare.report(results, _params(tmp_path / "params.yaml"))
    assert md == results / "compare.md"
    text = md.read_text()
    assert (results / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![test top-1 (classifier) against the number of labels](compare.png)" in text
    header = next(line for line in text.splitlines() if line.startswith("| method"))
    assert "1% (94 labels)" in header and "100% (9469 labels)" in header
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert [r.split(" | ")[0] for r in rows[1:]] == ["| supervised", "| fixmatch"]  # baseline 1st
    std = statistics.stdev([0.20, 0.25, 0.33])
    assert f"| supervised | 0.260 ± {std:.3f} (3) | 0.500 (1) | 0.800 (1) | 8.3 |" in text
    assert "| fixmatch | 0.430 ± 0.042 (2) | 0.610 (1) | – | 5.0 |" in text
    assert "8 runs, 0.22 h of stage time in all (800 s" in text
    missing = text.split("Missing", 1)[1]
    assert "fixmatch frac0.01-seed2 (`dvc repro projects/toy/dvc.yaml:compare-fixmatch`)" in missing
    assert "supervised" not in missing and missing.count("frac") == 1  # the one run not done


def test_report_reads_only_the_runs_params_asks_for_and_refuses_mixed_budgets(tmp_path):
    results = tmp_path / "toy"
    _write_runs(results)
    params = _params(tmp_path / "params.yaml")
    leftover = results / "compare" / "pseudolabel-frac0.01-seed0"  # params no longer names it
    leftover.mkdir()
    metrics = json.loads(
        (results / "compare" / "fixmatch-frac0.01-seed0" / "metrics.json").read_text()
    )
    (leftover / "metrics.json").write_text(json.dumps({**metrics, "method": "pseudolabel"}))
    assert "pseudolabel" not in compare.report(results, params).read_text()
    assert "pseudolabel" in compare.report(results).read_text()  # without params: every run
    stale = results / "compare" / "fixmatch-frac0.10-seed0" / "metrics.json"
    stale.write_text(json.dumps({**json.loads(stale.read_text()), "steps": 100}))
    with pytest.raises(ValueError, match="different"):
        compare.report(results, params)


def test_a_segmentation_comparison_reads_its_iou_and_its_random_init_row(tmp_path):
    results = tmp_path / "seg"
    for method, split, iou in (
        ("supervised", "frac0.05-seed0", 0.6),
        ("unimatch", "frac0.05-seed0", 0.7),
    ):
        out = results / "compare" / f"{method}-{split}"
        out.mkdir(parents=True)
        metrics = {"test_iou": iou, "test_dice": 0.8, "metric": "test_iou", "method": method}
        metrics |= {"split": split, "fraction": 0.05, "seed": 0, "num_labeled": 26}
        (out / "metrics.json").write_text(json.dumps(metrics))
    baseline = results / "random-init"
    baseline.mkdir()
    (baseline / "metrics.json").write_text(json.dumps({"iou": 0.12, "dice": 0.2}))
    text = compare.report(results, random_init=baseline).read_text()
    assert "Test foreground IoU after the last step" in text
    rows = [r for r in text.splitlines() if r.startswith("| ") and "---" not in r]
    assert [r.split(" | ")[0] for r in rows[1:]] == ["| random-init", "| supervised", "| unimatch"]
    assert rows[1].startswith("| random-init | 0.120 (1) |")  # one measurement, not per seed
    dice = compare.report(results, random_init=baseline, metric="test_dice").read_text()
    assert "| random-init | 0.200 (1) |" in dice  # its Dice beside theirs, not its IoU
    # a comparison mixing metrics means nothing
    other = results / "compare" / "fixmatch-frac0.05-seed0"
    other.mkdir()
    (other / "metrics.json").write_text(
        json.dumps(
            {"test_top1": 0.5, "method": "fixmatch", "split": "frac0.05-seed0", "fraction": 0.05}
        )
    )
    with pytest.raises(ValueError, match="different metrics"):
        compare.report(results)


def test_report_without_params_lists_nothing_missing_and_without_runs_says_so(
    tmp_path, capsys, monkeypatch
):
    results = tmp_path / "results" / "toy"
    _write_runs(results)
    compare.main([str(results), "--compare", "--params", str(tmp_path / "absent.yaml")])
    assert "Missing" not in capsys.readouterr().out
    monkeypatch.chdir(tmp_path)  # the repository root: --params is projects/toy/params.yaml
    compare.main(["results/toy", "--compare"])
    assert "Missing" not in capsys.readouterr().out  # none there
    _params(tmp_path / "projects" / "toy" / "params.yaml")
    compare.main(["results/toy", "--compare"])
    assert "fixmatch frac0.01-seed2 (`dvc repro projects/toy" in capsys.readouterr().out
    with pytest.raises(SystemExit, match=r"dvc repro --glob 'projects/empty/dvc\.yaml:compare-\*'"):
        compare.main([str(tmp_path / "empty"), "--compare"])


# ------------------------------------------------- the no-training baselines
def _random_init(tmp_path: Path, two_classes: bool = False) -> tuple[Path, Path]:
    """A stage folder as the random-init stage writes it: embeddings (train rows in shuffled
    order), the two label splits of RUNS at 1% and 10% in a folder, and ``evaluate
    --splits`` run on it (``metrics.json`` with the probes on each split's labels)."""
    rng = np.random.default_rng(0)
    n_train, n_test, dim, classes = 300, 120, 16, 3
    centers = rng.normal(size=(classes, dim))
    y_train = rng.integers(0, classes, n_train)
    y_test = rng.integers(0, classes, n_test)
    if two_classes:  # jets-like: class 2 folds into 1, the signal
        y_train, y_test = np.minimum(y_train, 1), np.minimum(y_test, 1)
    run = tmp_path / "random-init"
    emb = run / "embeddings"
    emb.mkdir(parents=True)
    parts = {
        "train": (centers[y_train] + rng.normal(scale=2.0, size=(n_train, dim)), y_train),
        "test": (centers[y_test] + rng.normal(scale=2.0, size=(n_test, dim)), y_test),
    }
    for name, (x, y) in parts.items():
        order = rng.permutation(len(y))  # rows not in id order: ids are looked up
        ids = np.array([f"{name}/{i:04d}.png" for i in range(len(y))])
        np.savez(
            emb / f"{name}.npz",
            features=x[order].astype(np.float32),
            labels=y[order],
            ids=ids[order],
        )
    meta = {"splits": {name: {"rows": len(y)} for name, (_, y) in parts.items()}}
    names = {"class_names": ["qcd", "top"], "signal_class": 1} if two_classes else {}
    (emb / "meta.json").write_text(json.dumps({**meta, "class_names": ["a", "b", "c"], **names}))
    splits = tmp_path / "splits"
    for fraction, count in ((0.01, 6), (0.1, 60)):
        for seed in (0, 1):
            pick = np.random.default_rng(seed).choice(n_train, count, replace=False)
            labeled = [(f"train/{i:04d}.png", int(y_train[i])) for i in pick]
            split = LabelSplit("toy", fraction, seed, "x", n_train, labeled=labeled)
            split.save(splits / f"frac{fraction:.2f}-seed{seed}.json")
    evaluate(run, splits=splits, umap=False, k=20, log=lambda _: None)
    return run, splits


def test_random_init_baselines_are_evaluate_s_knn_and_probe_on_each_split_s_labels(tmp_path):
    run, splits = _random_init(tmp_path)
    runs = compare.frozen_runs(run, ["frac0.10-seed1", "frac0.01-seed0"] * 2)
    assert [(r.method, r.split) for r in runs] == [
        (compare.RANDOM_KNN, "frac0.01-seed0"),
        (compare.RANDOM_LINEAR, "frac0.01-seed0"),
        (compare.RANDOM_KNN, "frac0.10-seed1"),
        (compare.RANDOM_LINEAR, "frac0.10-seed1"),
    ]
    emb = run / "embeddings"
    train, test = np.load(emb / "train.npz"), np.load(emb / "test.npz")
    split = LabelSplit.load(splits / "frac0.10-seed1.json")
    rows = [list(train["ids"]).index(p) for p, _ in split.labeled]
    x, y = train["features"][rows], np.array([label for _, label in split.labeled])
    knn = knn_accuracy(x, y, test["features"], test["labels"], 3, k=20)["top1"]
    linear = M.linear_probe(x, y, test["features"], test["labels"])["top1"]
    assert (runs[2].value, runs[3].value) == (knn, linear)
    assert (runs[2].fraction, runs[2].seed, runs[2].num_labeled) == (0.1, 1, 60)
    assert runs[2].seconds is None  # nothing trained: no stage time
    assert knn > 0.5 and linear > 0.5  # the clusters are real: 60 labels beat chance (1/3)
    assert compare.frozen_runs(run / "embeddings", ["frac0.10-seed1"]) == runs[2:]

    path, label = split.labeled[0]
    split.labeled[0] = (path, (label + 1) % 3)  # embeddings of another class order
    split.save(splits / "frac0.10-seed1.json")
    with pytest.raises(ValueError, match="labels of .*frac0.10-seed1.json differ"):
        evaluate(run, splits=splits, umap=False, log=lambda _: None)
    split.labeled[0] = ("train/9999.png", 0)  # a sample the embeddings do not hold
    split.save(splits / "frac0.10-seed1.json")
    metrics = evaluate(run, splits=splits, umap=False, log=lambda _: None)
    assert metrics["split_probes"]["skipped"] == ["frac0.10-seed1"]
    with pytest.raises(ValueError, match="no probes of split frac0.10-seed1"):
        compare.frozen_runs(run, ["frac0.10-seed1"])
    evaluate(run, umap=False, log=lambda _: None)  # without --splits: nothing to read
    with pytest.raises(ValueError, match="no split_probes: run `evaluate"):
        compare.frozen_runs(run, ["frac0.01-seed0"])


def test_report_puts_the_baselines_first_in_the_table_and_the_plot(tmp_path, capsys):
    results = tmp_path / "toy"
    _write_runs(results)
    for run in (results / "compare").iterdir():  # keep the two splits _random_init writes
        if run.name.split("-", 1)[1] not in {"frac0.01-seed0", "frac0.01-seed1"}:
            shutil.rmtree(run)
    baseline, _ = _random_init(tmp_path)
    compare.main(
        [str(results), "--compare", "--params", "absent.yaml", "--random-init", str(baseline)]
    )
    text = capsys.readouterr().out
    rows = [r.split(" | ")[0] for r in text.splitlines() if r.startswith("| ") and "---" not in r]
    assert rows[1:] == [
        "| random-init, kNN",
        "| random-init, linear probe",
        "| supervised",
        "| fixmatch",
    ]
    baseline_row = next(r for r in text.splitlines() if r.startswith("| random-init, kNN"))
    assert " ± " in baseline_row and "(2)" in baseline_row  # over the two seeds' splits
    assert baseline_row.endswith("| – |")  # no stage time
    assert "4 runs, " in text  # the trained runs only
    with pytest.raises(SystemExit, match="no metrics.json"):
        compare.main([str(results), "--compare", "--random-init", str(tmp_path / "none")])


def test_at_budget_smoke_a_split_the_random_init_embeddings_lack_is_left_out_and_said(tmp_path):
    """Budget smoke's random-init stage embeds a few images per class, fewer than a
    split's labeled images: the report leaves that baseline out and says so (at any
    other budget such embeddings are stale, and refused)."""
    results = tmp_path / "toy"
    _write_runs(results)
    for run in (results / "compare").iterdir():
        if run.name.split("-", 1)[1] not in {"frac0.01-seed0", "frac0.01-seed1"}:
            shutil.rmtree(run)
        else:
            metrics = json.loads((run / "metrics.json").read_text())
            (run / "metrics.json").write_text(json.dumps({**metrics, "budget": "smoke"}))
    baseline, splits = _random_init(tmp_path)
    split = LabelSplit.load(splits / "frac0.01-seed1.json")
    split.labeled[0] = ("train/9999.png", split.labeled[0][1])  # not embedded
    split.save(splits / "frac0.01-seed1.json")
    evaluate(baseline, splits=splits, umap=False, log=lambda _: None)
    text = compare.report(results, random_init=baseline).read_text()
    assert "No random-init baseline for frac0.01-seed1: their labeled images" in text
    knn = next(r for r in text.splitlines() if r.startswith("| random-init, kNN"))
    assert "(1) |" in knn  # seed 0's split only
    for run in (results / "compare").iterdir():  # the same runs at budget cpu: refused
        metrics = json.loads((run / "metrics.json").read_text())
        (run / "metrics.json").write_text(json.dumps({**metrics, "budget": "cpu"}))
    with pytest.raises(ValueError, match="no probes of split frac0.01-seed1"):
        compare.report(results, random_init=baseline)


def test_two_class_runs_compare_their_roc_auc_or_rejection_with_frozen_space_rows(tmp_path, capsys):
    """Jets-like data: runs whose headline is the classifier's ROC AUC; ``--metric``
    compares their rejection instead; ``--frozen`` adds a pretrained space's kNN and
    linear-probe rows scored on the same metric, from the signal class's score."""
    space, splits = _random_init(tmp_path, two_classes=True)
    results = tmp_path / "jets"
    for seed, (auc, rejection) in enumerate(((0.90, 12.0), (0.92, 14.0))):
        out = results / "compare" / f"supervised-frac0.01-seed{seed}"
        out.mkdir(parents=True)
        metrics = {
            "test_roc_auc": auc,
            "test_rejection_eff30": rejection,
            "test_top1": 0.8,
            "metric": "test_roc_auc",
            "method": "supervised",
            "split": f"frac0.01-seed{seed}",
            "fraction": 0.01,
            "seed": seed,
            "num_labeled": 6,
        }
        (out / "metrics.json").write_text(json.dumps(metrics))

    frozen = [("simclr", space)]
    text = compare.report(results, frozen=frozen).read_text()
    assert "test ROC AUC (classifier)" in text
    assert "| supervised | 0.910 ± 0.014 (2) |" in text
    emb = space / "embeddings"
    train, test = np.load(emb / "train.npz"), np.load(emb / "test.npz")
    split = LabelSplit.load(splits / "frac0.01-seed0.json")
    rows = [list(train["ids"]).index(p) for p, _ in split.labeled]
    x, y = train["features"][rows], np.array([label for _, label in split.labeled])
    probe = M.linear_probe(x, y, test["features"], test["labels"])
    auc = two_class_scores(test["labels"], probe["proba"][:, 1], 1)["roc_auc"]
    runs = compare.frozen_runs(space, ["frac0.01-seed0"], "simclr", "test_roc_auc")
    assert [(r.method, r.metric) for r in runs] == [
        ("simclr, kNN", "test_roc_auc"),
        ("simclr, linear probe", "test_roc_auc"),
    ]
    assert runs[1].value == pytest.approx(auc) and 0.5 < auc <= 1.0
    assert "| simclr, linear probe | " in text

    compare.main(
        [str(results), "--compare", "--params", "absent.yaml", "--metric", "test_rejection_eff30"]
        + ["--frozen", f"simclr={space}"]
    )
    text = (results / "compare.md").read_text()
    assert "| supervised | 13.000 ± 1.414 (2) |" in text and "rejection" in text
    with pytest.raises(SystemExit):
        compare.main([str(results), "--compare", "--frozen", str(space)])
    assert "--frozen takes NAME=FOLDER" in capsys.readouterr().err
    with pytest.raises(ValueError, match="has no test_rejection_eff50"):
        compare.report(results, metric="test_rejection_eff50")
    with pytest.raises(ValueError, match="has no knn_top1"):
        compare.frozen_runs(space, ["frac0.01-seed0"], "simclr", "test_knn_top1")


# ------------------------------------------------- a real --test-only run
CONFIG = """\
seed_everything: 0
trainer:
  accelerator: cpu
  devices: 1
  precision: 32
  enable_progress_bar: false
  enable_model_summary: false
  log_every_n_steps: 1
  num_sanity_val_steps: 0
  callbacks:
    - class_path: lightning.pytorch.callbacks.ModelCheckpoint
      init_args: {save_last: true}
model:
  class_path: ssl_core.methods.Supervised
  init_args:
    num_classes: 5
    backbone:
      class_path: ssl_core.backbones.Backbone
      init_args: {name: resnet18}
    optimizer:
      class_path: torch.optim.SGD
      init_args: {lr: 0.03, momentum: 0.9}
    knn_k: 5
data:
  class_path: ssl_core.data.ClassificationDataModule
  init_args:
    source:
      class_path: ssl_core.data.ImageFolder
    train_on: labeled
    modality: {class_path: ssl_core.data.Images, init_args: {size: 32}}
    labeled_transform:
      class_path: ssl_core.transforms.WeakStrongTransform
      init_args: {size: 32, weak_views: 1, strong_views: 0}
    batch_size: 8
    eval_batch_size: 32
    num_workers: 0
"""


def test_a_real_test_only_run_then_its_report(fake_root, tmp_path, monkeypatch):
    """Supervised on ssl-core's fake data (no project package: ``--project`` resolves to
    none here), 3 steps; then the report on it."""
    monkeypatch.setattr(ssl_cli, "resolve_project", lambda name=None: None)
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "supervised-cpu.yaml").write_text(CONFIG)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"root": str(fake_root)}))
    out = tmp_path / "toy" / "compare" / "supervised-frac0.50-seed0"
    pipeline.main(
        ["--project", "toy", "--method", "supervised", "--budget", "cpu", "--steps", "3"]
        + ["--configs", str(configs), "--manifest", str(manifest), "--split", "frac0.50-seed0"]
        + ["--out", str(out), "--test-only"]
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["test_top1"] <= 1.0 and "test_knn_top1" in metrics
    assert metrics["steps"] == 3  # --steps, whatever the config says
    assert (metrics["split"], metrics["fraction"], metrics["seed"]) == ("frac0.50-seed0", 0.5, 0)
    assert set(metrics["seconds"]) == {"start", "fit", "test", "total"}
    last = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)
    assert last["global_step"] == 3 and "optimizer_states" not in last  # weights only
    assert (out / "train" / "metrics.csv").is_file()
    assert not any((out / p).exists() for p in ("embeddings", "plots", "test", "report.md"))
    md = compare.report(tmp_path / "toy")
    assert "| supervised | " in md.read_text() and (tmp_path / "toy" / "compare.png").is_file()


# ------------------------------------------------- the stages in projects/<p>/dvc.yaml
def _comparisons() -> list[str]:
    """The projects whose params.yaml asks for a comparison."""
    return [
        path.parent.name
        for path in sorted((REPO_ROOT / "projects").glob("*/params.yaml"))
        if (yaml.safe_load(path.read_text()).get("comparison") or {}).get("runs")
    ]


def _project(project: str) -> tuple[dict, dict]:
    """A project's params.yaml and the stages of its generated dvc.yaml."""
    folder = REPO_ROOT / "projects" / project
    entries = yaml.safe_load((folder / "params.yaml").read_text())
    return entries, yaml.safe_load((folder / "dvc.yaml").read_text())["stages"]


def _option(cmd: str, flag: str) -> list[str]:
    """The words after ``flag`` in a stage's command, up to the next option."""
    words = cmd.split()
    values = words[words.index(flag) + 1 :]
    return values[: next((i for i, w in enumerate(values) if w.startswith("--")), len(values))]


def _paths(entries: list) -> list[str]:
    """The paths of a stage's deps, outs or metrics (a string, or a one-key mapping)."""
    return [e if isinstance(e, str) else next(iter(e)) for e in entries]


def test_the_projects_with_a_comparison_are_found():  # the tests below run on each
    assert {"imagenette", "vowels"} <= set(_comparisons())


@pytest.mark.parametrize("project", _comparisons())
def test_the_comparison_is_methods_x_fractions_x_seeds_plus_the_ceiling(project):
    entries, _ = _project(project)
    comparison = entries["comparison"]
    assert isinstance(comparison["steps"], int) and comparison["steps"] > 0  # one for all runs
    splits, seeds = entries["splits"], entries["splits"]["seeds"]
    written = {split_name(f, s) for f in splits.get("fractions", []) for s in seeds}  # its splits
    written |= {split_name(0.0, s, count=c) for c in splits.get("counts", []) for s in seeds}
    configs = REPO_ROOT / "projects" / project / "configs"
    for method, names in comparison["runs"].items():
        assert len(set(names)) == len(names) > 0  # one output folder each (DVC: unique outputs)
        assert (configs / f"{method}-cpu.yaml").is_file() and (configs / f"{method}.yaml").is_file()
        assert set(names) <= written, set(names) - written
    assert entries["random_init"]["split"]  # compare-report reads the random-init baseline


@pytest.mark.parametrize("project", _comparisons())
def test_each_method_is_one_compare_stage_running_its_splits(project):
    entries, stages = _project(project)
    comparison = entries["comparison"]
    compare_stages = {name for name in stages if name.startswith("compare-")}
    assert compare_stages == {f"compare-{m}" for m in comparison["runs"]} | {"compare-report"}
    for method, names in comparison["runs"].items():
        stage = stages[f"compare-{method}"]
        cmd = stage["cmd"]
        warm = ["uv", "run", "--no-sync", "python", "-m", "ssl_core.warm", "ssl_core.pipeline"]
        assert cmd.split()[:7] == warm
        assert "--test-only" in cmd.split() and _option(cmd, "--method") == [method]
        assert _option(cmd, "--steps") == [str(comparison["steps"])]
        assert _option(cmd, "--split") == [f"projects/{project}/splits/{s}.json" for s in names]
        assert _option(cmd, "--out") == [f"results/{project}/compare/{method}-{{split}}"]
        outs = [f"results/{project}/compare/{method}-{s}" for s in names]
        assert _paths(stage["metrics"]) == [f"{out}/metrics.json" for out in outs]
        assert {f"{out}/checkpoints" for out in outs} <= set(_paths(stage["outs"]))
        assert f"projects/{project}/splits" in stage["deps"]
        params = {k: v for p in stage["params"] for k, v in p.items()}
        assert params[f"projects/{project}/experiments.json"] == [f"{method}.${{budget}}"]


@pytest.mark.parametrize("project", _comparisons())
def test_compare_report_reads_every_compare_run_and_the_random_init_baseline(project):
    entries, stages = _project(project)
    report = stages["compare-report"]
    runs = [
        f"results/{project}/compare/{method}-{split}/metrics.json"
        for method, names in entries["comparison"]["runs"].items()
        for split in names
    ]
    baseline = f"results/{project}/random-init"
    assert set(runs) | {f"{baseline}/metrics.json"} <= set(report["deps"])
    assert f"{baseline}/metrics.json" in _paths(stages["random-init"]["metrics"])
    cmd = report["cmd"]
    assert _option(cmd, "--random-init") == [baseline] and "--compare" in cmd.split()
    assert _option(cmd, "--params") == [f"projects/{project}/params.yaml"]
    assert report["params"] == [{f"projects/{project}/params.yaml": ["comparison"]}]
    assert _paths(report["outs"]) == [f"results/{project}/compare.md"]
