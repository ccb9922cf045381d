"""The MiniRocket row of vowels on fake JapaneseVowels files:
``evaluate --splits`` of a vowels run (the random-init stage's) writes it, and the
command computes it alone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ssl_core.evaluate import evaluate
from ssl_core.series import minirocket as mr
from ssl_core.series.fake import write_fake_ts
from ssl_core.splits import write_splits
from vowels import Vowels

CLASSES = ("1", "2", "3")


@pytest.fixture
def vowels_run(tmp_path):
    """Fake JapaneseVowels files, splits of 8 labels per class (seeds 0, 1), and a run
    folder whose embeddings (random features) name a vowels datamodule on that root."""
    root = tmp_path / "data"
    for part, n, seed in (("TRAIN", 12, 0), ("TEST", 10, 1)):
        path = root / f"JapaneseVowels_{part}.ts"
        # 3 channels: the fake sines' phase shifts across 12 channels nearly cancel in
        # MiniRocket's sums over random channel subsets (JapaneseVowels' do not)
        write_fake_ts(path, CLASSES, n, 3, lengths=(20, 40), seed=seed)
    source = Vowels()
    train = source.list_samples(root, "train")
    splits = tmp_path / "splits"
    ids, labels = [p for p, _ in train], [y for _, y in train]
    write_splits("vowels", ids, labels, splits, [], [0, 1], counts=[24])
    emb = tmp_path / "random-init" / "embeddings"
    emb.mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = {}
    for part in ("train", "test"):
        samples = source.list_samples(root, part)
        rows[part] = {"rows": len(samples)}
        np.savez(
            emb / f"{part}.npz",
            features=rng.normal(size=(len(samples), 8)).astype(np.float32),
            labels=np.array([y for _, y in samples]),
            ids=np.array([p for p, _ in samples]),
        )
    meta = {
        "splits": rows,
        "class_names": list(CLASSES),
        "datamodule": "vowels.datamodule.VowelsDataModule",
        "data_root": str(root),
        "evaluators": list(source.evaluators),
    }
    (emb / "meta.json").write_text(json.dumps(meta))
    return emb.parent, root, splits


def test_evaluate_with_splits_writes_the_minirocket_row_of_each_split(vowels_run):
    run, root, splits = vowels_run
    metrics = evaluate(run, splits=splits, umap=False, k=5, log=lambda _: None)
    scores = metrics["minirocket"]
    assert sorted(k for k in scores if k.startswith("n")) == ["n24-seed0", "n24-seed1"]
    for name in ("n24-seed0", "n24-seed1"):
        row = scores[name]
        assert (row["num_labeled"], row["num_test"]) == (24, 30)
        assert row["top1"] >= 0.7  # sines of 1, 2, 3 cycles; chance 1/3
        assert row["num_labeled"] == metrics["split_probes"][name]["num_labeled"]
    direct = mr.split_scores(Vowels(), root, splits, log=lambda _: None)
    assert direct["n24-seed0"]["top1"] == scores["n24-seed0"]["top1"]  # seeded: the same


def test_the_command_scores_the_splits_alone(vowels_run, tmp_path, capsys):
    _, root, splits = vowels_run
    out = tmp_path / "minirocket.json"
    mr.main(["--project", "vowels", "--data", str(root), "--splits", str(splits),
             "--out", str(out)])  # fmt: skip
    assert "2 splits: test top-1 " in capsys.readouterr().out
    assert set(json.loads(out.read_text())) == {"n24-seed0", "n24-seed1"}
