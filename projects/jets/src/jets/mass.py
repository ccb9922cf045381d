"""The jet mass alone as a tagger: the one-number baseline every learned top tagger is
read against.

``python -m jets.mass ROOT [--out mass.json]`` scores the fixed test set of a
jets root (:class:`~ssl_core.points.JetFiles`: 20% of every class, seed 0,
the same jets every run is tested on) with the invariant mass of each jet's constituents
(the E-scheme sum, :func:`~ssl_core.points.jets.jet_pt_mass`) and writes the field's
figures (:func:`ssl_core.two_class.two_class_scores`): ``roc_auc``,
``rejection_eff30`` (with its 68% bootstrap interval, ``rejection_eff30_lo``/``_hi``),
``rejection_eff50``; for two scores: the mass itself (top jets are
heavier than QCD jets of the same pT) and the distance to the top mass,
``-|m - 172.5 GeV|`` (a mass window). No training, no labels used.

- [0] Kasieczka et al., The Machine Learning Landscape of Top Taggers, SciPost Phys. 7,
  014 (2019), https://arxiv.org/abs/1902.09914 (jet mass as the simplest tagger)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ssl_core.errors import exits_on_input_errors
from ssl_core.points import JetFiles
from ssl_core.points.jets import jet_pt_mass
from ssl_core.two_class import rejection_interval, two_class_scores

TOP_MASS = 172.5  # GeV


def test_masses(root: str | Path, source: JetFiles | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mass (GeV) and class of every jet of the fixed test set of ``root``: ``(N,)``, ``(N,)``."""
    source = source or JetFiles()
    jets = source.load(Path(root))
    samples = source.list_samples(Path(root), "test")
    masses = [jet_pt_mass(jets.read(jets.index(i))[None])[1][0] for i, _ in samples]
    return np.array(masses), np.array([label for _, label in samples], dtype=np.int64)


def mass_tagger(root: str | Path, source: JetFiles | None = None) -> dict:
    """The test set's two-class figures of the jet mass and of the mass window, with the
    number of test jets: ``{"mass": {...}, "mass_window": {...}, "num_test": N}``."""
    source = source or JetFiles()
    masses, labels = test_masses(root, source)
    out: dict = {"num_test": len(labels), "signal_class": source.signal_class}
    for name, score in (("mass", masses), ("mass_window", -np.abs(masses - TOP_MASS))):
        figures = two_class_scores(labels, score, source.signal_class)
        out[name] = {k: v for k, v in figures.items() if k not in ("fpr", "tpr")}
        out[name] |= rejection_interval(labels, score, source.signal_class)
    return out


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m jets.mass", description=__doc__.splitlines()[0]
    )
    parser.add_argument("root", type=Path, help="a jets root (top.npz, qcd.npz)")
    parser.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    ns = parser.parse_args(args)
    with exits_on_input_errors("mass"):  # e.g. no jet files there
        figures = mass_tagger(ns.root)
    text = json.dumps(figures, indent=2) + "\n"
    print(text, end="")
    if ns.out:
        ns.out.write_text(text)


if __name__ == "__main__":
    main()
