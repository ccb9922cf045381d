"""GWAK's anomaly test over runs: the table's means and spreads, the plot, the refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gwak.compare import compare, main


def _run(folder, auroc, sine, burst, far=1e-3):
    folder.mkdir(parents=True)
    metrics = {
        "anomaly_auroc": auroc,
        "efficiency": {
            "far": far,
            "snr_bins": [5.0, 15.0, 30.0],
            "classes": {
                "sine_gaussian": {"efficiency": sine, "counts": [10, 10]},
                "white_noise_burst": {"efficiency": burst, "counts": [10, 10]},
            },
        },
    }
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_spaces_are_pooled_over_their_runs_baselines_first(tmp_path, capsys):
    a = [_run(tmp_path / f"simclr-{s}", 0.8 + 0.1 * s, [0.1 * s, 0.5], [0.2, 0.6]) for s in (0, 1)]
    r = _run(tmp_path / "random", 0.6, [0.0, 0.1], [0.0, 0.2])
    main([str(tmp_path / "out"), f"random-init={r}", f"simclr={a[0]},{a[1]}"])
    text = capsys.readouterr().out
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| space | anomaly AUROC | held-out class | SNR 5-15 | SNR 15-30 |")
    assert rows[1] == "| random-init | 0.600 (1) | sine_gaussian | 0.000 (1) | 0.100 (1) |"
    assert rows[3].startswith(f"| simclr | 0.850 ± {np.std([0.8, 0.9], ddof=1):.3f} (2) |")
    assert "| 0.050 ± 0.071 (2) | 0.500 ± 0.000 (2) |" in rows[3]
    assert rows[4].startswith("|  |  | white_noise_burst | 0.200 ± 0.000 (2) |")
    assert (tmp_path / "out" / "efficiency_vs_snr_compare.png").stat().st_size > 0


def test_runs_that_cannot_be_compared_are_refused(tmp_path):
    a = _run(tmp_path / "a", 0.8, [0.1, 0.5], [0.2, 0.6])
    b = _run(tmp_path / "b", 0.8, [0.1, 0.5], [0.2, 0.6], far=1e-2)
    with pytest.raises(ValueError, match="another false-alarm rate"):
        compare(tmp_path / "out", {"x": [a, b]})
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "metrics.json").write_text(json.dumps({"knn_top1": 0.5}))
    with pytest.raises(SystemExit, match="compare: .* no anomaly_auroc"):
        main([str(tmp_path / "out"), f"x={tmp_path / 'c'}"])
    with pytest.raises(SystemExit, match="compare: no metrics.json"):
        main([str(tmp_path / "out"), f"x={tmp_path / 'd'}"])
