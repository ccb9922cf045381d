"""``ssl_core.results``: the short, baselines-first view of a project's pipeline results."""

from __future__ import annotations

import json

import pytest

from ssl_core.results import collect, final_metrics, main


def _stage(results, name, knn, seconds, log=None):
    folder = results / name
    folder.mkdir(parents=True)
    metrics = {"knn_top1": knn, "linear_top1": knn + 0.01, "seconds": seconds}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    if log is not None:
        (folder / "train").mkdir()
        (folder / "train" / "metrics.csv").write_text(log)


def test_baselines_first_final_classifier_value_and_the_budget_sum(tmp_path, capsys):
    results = tmp_path / "results"
    _stage(results, "byol", 0.2, {"start": 6, "fit": 60, "predict": 6, "evaluate": 12, "total": 84})
    # the classifier's last validation is reported, not its best (0.5 at step 9)
    log = "step,val/top1,val/knn_top1,train/loss\n9,0.5,0.3,\n10,,,1.0\n19,0.4,0.35,\n"
    _stage(results, "supervised", 0.45, {"fit": 30, "total": 30}, log)
    _stage(results, "random-init", 0.25, {"predict": 18, "evaluate": 12, "total": 30})
    (results / "not-a-stage").mkdir()  # no metrics.json: not a row

    rows = collect(results)
    assert [r.name for r in rows] == ["random-init", "supervised", "byol"]
    assert rows[1].classifier_top1 == 0.4 and rows[0].classifier_top1 is None
    assert rows[1].val_knn_top1 == 0.35 and rows[2].val_knn_top1 is None
    assert rows[2].minutes == {
        "start": 0.1,
        "fit": 1.0,
        "predict": 0.1,
        "evaluate": 0.2,
        "total": 1.4,
    }

    main([str(results), "--out", str(tmp_path / "table.md")])
    printed = capsys.readouterr().out
    assert printed == (tmp_path / "table.md").read_text()
    lines = printed.splitlines()
    assert lines[0].endswith(
        "| test kNN top-1 | test linear probe top-1 | val kNN top-1 | val classifier top-1 |"
    )
    assert lines[2].startswith(
        "| **random-init** | – | – | 0.3 | 0.2 | 0.5 | 0.250 | 0.260 | – | – |"
    )
    assert lines[3].endswith("| 0.450 | 0.460 | 0.350 | 0.400 |")
    assert lines[-1] == "3 stages, 2.4 min in all (their own times)."


def test_a_log_with_no_rows_has_no_final_values(tmp_path):
    (tmp_path / "metrics.csv").write_text("epoch,step,val/top1\n")
    assert final_metrics(tmp_path / "metrics.csv") == {}


def test_no_results_says_how_to_get_them(tmp_path):
    with pytest.raises(SystemExit, match="dvc repro"):
        main([str(tmp_path)])
