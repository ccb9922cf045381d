"""GWAK's test over runs: the table's means and spreads, the baseline, the refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gwak.compare import compare, main


def _classes(sine, burst, auroc=0.7):
    return {
        "sine_gaussian": {"efficiency": sine, "counts": [10, 10], "auroc": auroc},
        "white_noise_burst": {"efficiency": burst, "counts": [10, 10], "auroc": auroc},
    }


def _run(folder, unseen, sine, burst, far=10.0, baseline=([0.3, 0.9], [0.4, 1.0])):
    folder.mkdir(parents=True)
    efficiency = {
        "far_per_hour": far,
        "window_s": 0.5,
        "background_classes": ["background", "glitch"],
        "background_windows": 2000,
        "background_live_time_s": 1000.0,
        "false_alarms": 2,
        "snr_bins": [5.0, 15.0, 30.0],
        "held_out_classes": ["sine_gaussian", "white_noise_burst"],
        "classes": _classes(sine, burst),
    }
    if baseline is not None:
        efficiency["baseline"] = {
            "name": "coincident excess power",
            "classes": _classes(*baseline, 0.9),
        }
    metrics = {"anomaly_auroc": unseen, "efficiency": efficiency}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_spaces_are_pooled_over_their_runs_beside_the_baseline(tmp_path, capsys):
    a = [_run(tmp_path / f"simclr-{s}", 0.8 + 0.1 * s, [0.1 * s, 0.5], [0.2, 0.6]) for s in (0, 1)]
    r = _run(tmp_path / "random", 0.6, [0.0, 0.1], [0.0, 0.2])
    main([str(tmp_path / "out"), f"random-init={r}", f"simclr={a[0]},{a[1]}"])
    text = capsys.readouterr().out
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0].startswith(
        "| space | unseen-class AUROC | signal class | AUROC vs background | SNR 5-15 | SNR 15-30 |"
    )
    # The baseline once (three runs on the same windows hold the same numbers), first.
    assert rows[1] == (
        "| excess power (coincident) | – | sine_gaussian (unseen) | 0.900 (1) | 0.300 (1) "
        "| 0.900 (1) |"
    )
    assert rows[3].startswith("| random-init | 0.600 (1) | sine_gaussian (unseen) | 0.700 (1) |")
    assert rows[5].startswith(f"| simclr | 0.850 ± {np.std([0.8, 0.9], ddof=1):.3f} (2) |")
    assert "| 0.050 ± 0.071 (2) | 0.500 ± 0.000 (2) |" in rows[5]
    assert rows[6].startswith("|  |  | white_noise_burst (unseen) | 0.700 ± 0.000 (2) |")
    assert "false-alarm rate of 10 per hour" in text and "background, glitch" in text
    assert (tmp_path / "out" / "efficiency_vs_snr_compare.png").stat().st_size > 0


def test_runs_that_cannot_be_compared_are_refused(tmp_path):
    a = _run(tmp_path / "a", 0.8, [0.1, 0.5], [0.2, 0.6])
    b = _run(tmp_path / "b", 0.8, [0.1, 0.5], [0.2, 0.6], far=1.0)
    with pytest.raises(ValueError, match="another false-alarm rate"):
        compare(tmp_path / "out", {"x": [a, b]})
    (tmp_path / "c").mkdir()
    old = {"anomaly_auroc": 0.5, "efficiency": {"far": 1e-3, "snr_bins": [5, 30]}}
    (tmp_path / "c" / "metrics.json").write_text(json.dumps(old))  # per window, not per hour
    with pytest.raises(
        SystemExit, match="compare: .* no efficiency at a false-alarm rate per hour"
    ):
        main([str(tmp_path / "out"), f"x={tmp_path / 'c'}"])
    with pytest.raises(SystemExit, match="compare: no metrics.json"):
        main([str(tmp_path / "out"), f"x={tmp_path / 'd'}"])


def test_runs_without_the_baseline_are_compared_without_its_rows(tmp_path, capsys):
    r = _run(tmp_path / "random", 0.6, [0.0, 0.1], [0.0, 0.2], baseline=None)
    main([str(tmp_path / "out"), f"random-init={r}"])
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert len(rows) == 3 and rows[1].startswith("| random-init |")
