"""Opt-in: a real single-node Slurm (Debian's slurm-wlm, unpacked by
``docs/cluster/local-slurm.sh``) runs a 2-task job of ``train validate``: each task is one
rank under Lightning's SLURM environment, and they agree on the metrics.

Run with ``SSL_TEST_SLURM=1 uv run pytest -m slurm`` as root on Debian 12 (installs munge
and downloads Slurm's packages the first time; needs the package registry).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "docs" / "cluster" / "local-slurm.sh"

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(
        os.environ.get("SSL_TEST_SLURM") != "1",
        reason="opt-in: SSL_TEST_SLURM=1 starts a local Slurm (root, apt; see docs/cluster.md)",
    ),
]


def test_two_task_job_validates_as_two_slurm_ranks(fake_root, tmp_path):
    subprocess.run(["bash", str(SCRIPT)], check=True, timeout=900)
    try:
        train = Path(sys.executable).parent / "train"
        config = REPO / "packages" / "ssl-core" / "tests" / "configs" / "tiny.yaml"
        command = (
            f"{train} validate --config {config} --data.root {fake_root} --data.num_workers 0 "
            f"--trainer.default_root_dir {tmp_path / 'run'} --trainer.accelerator cpu "
            "--trainer.devices 2 --trainer.strategy ddp"
        )
        out = tmp_path / "job.out"
        job = (
            f"source /opt/slurm-test/env.sh && sbatch --wait --nodes=1 --ntasks-per-node=2 --cpus-per-task=1 "
            f"--time=10 -o {out} --export=ALL --wrap 'srun {command}'"
        )
        subprocess.run(["bash", "-c", job], check=True, timeout=900, cwd=tmp_path)
        text = out.read_text()
        assert "GLOBAL_RANK: 0, MEMBER: 1/2" in text and "GLOBAL_RANK: 1, MEMBER: 2/2" in text
        assert "val/knn_top1" in text
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], check=False, timeout=120)
