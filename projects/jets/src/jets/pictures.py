"""Pictures a physicist looks at, from a jets run's embeddings and the jets themselves.

``python -m jets.pictures OUT --root DATA`` reads ``OUT/embeddings`` (written
by ``train predict`` of a jets run) and the jet files under ``DATA``; writes

- ``OUT/plots/jet_images.png``: the average jet image (each particle's share of the jet's
  pT, summed in delta-eta x delta-phi bins around the jet axis, averaged over jets; log
  colour scale) of the test set's QCD jets, its top jets, and the 10% most top-like QCD
  jets (highest signal score: the classifier's when the run has one, else a logistic
  regression on the labeled training embeddings). What the tagger takes for "top-like".
- ``OUT/plots/embedding_mass.png``: the test embeddings (the first two principal
  components) coloured by class and by jet mass: whether the space has found the mass.

- [0] Kasieczka et al., The Machine Learning Landscape of Top Taggers, SciPost Phys. 7,
  014 (2019), https://arxiv.org/abs/1902.09914 (average jet images, their Fig. 2)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ssl_core.embeddings import load_embeddings
from ssl_core.errors import BadInputError, exits_on_input_errors
from ssl_core.points import JetFiles
from ssl_core.points.features import Jets
from ssl_core.points.jets import jet_pt_mass


def jet_image(jets: list[np.ndarray], bins: int = 33, extent: float = 0.8) -> np.ndarray:
    """The average pT-share image ``(bins, bins)`` of jets ``[(n_i, 4)]`` (px, py, pz, E):
    rows delta-eta, columns delta-phi, both in ``[-extent, extent]`` around the axis (the
    sum of the constituents); every jet sums to 1 (less what falls outside)."""
    if not jets:
        return np.zeros((bins, bins))
    batch = Jets.from_list(jets)
    share = batch.pt / batch.sum(batch.pt)[batch.index[1]]
    edges = np.linspace(-extent, extent, bins + 1)
    image, _, _ = np.histogram2d(batch.deta, batch.dphi, bins=[edges, edges], weights=share)
    return image / len(jets)


def signal_scores(directory: Path, signal: int) -> np.ndarray:
    """The signal score ``(N,)`` of every test row: the classifier's softmax when
    ``test.npz`` holds ``logits``, else a logistic regression on the labeled training
    features."""
    from scipy.special import softmax

    from ssl_core.evaluate.metrics import linear_probe

    with np.load(directory / "test.npz") as data:
        if "logits" in data.files:
            return softmax(data["logits"].astype(np.float64), axis=1)[:, signal]
    splits, _ = load_embeddings(directory)
    train, test = splits["train"], splits["test"]
    fit = train.labeled & (train.labels >= 0)
    if len(np.unique(train.labels[fit])) < 2:
        raise BadInputError(
            f"{directory}: the run's labeled training jets hold one class (a space trained "
            "without the signal, e.g. the anomaly space): no probe gives a signal score"
        )
    probe = linear_probe(train.features[fit], train.labels[fit], test.features, test.labels)
    return probe["proba"][:, list(probe["classes"]).index(signal)]


def pictures(out: str | Path, root: str | Path, top_like: float = 0.1) -> list[Path]:
    """Write ``plots/jet_images.png`` and ``plots/embedding_mass.png`` under ``out``."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    from ssl_core.evaluate.plots import embedding_by_value, save

    out, root = Path(out), Path(root)
    directory = out / "embeddings"
    splits, meta = load_embeddings(directory)
    test = splits["test"]
    signal = int(meta.get("signal_class") if meta.get("signal_class") is not None else 1)
    names = meta.get("class_names") or ["qcd", "top"]
    jets = JetFiles().load(root)
    constituents = [jets.read(jets.index(i)) for i in test.ids]
    background = np.flatnonzero(test.labels != signal)
    score = signal_scores(directory, signal)
    ranked = background[np.argsort(-score[background])]
    most = ranked[: max(1, int(round(top_like * len(ranked))))]
    panels = {
        f"{names[1 - signal]} ({len(background)})": background,
        f"{names[signal]} ({int((test.labels == signal).sum())})": np.flatnonzero(
            test.labels == signal
        ),
        f"most {names[signal]}-like {top_like:.0%} of {names[1 - signal]}": most,
    }
    plots = out / "plots"
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    for ax, (title, rows) in zip(axes, panels.items(), strict=True):
        image = jet_image([constituents[i] for i in rows])
        shown = ax.imshow(
            np.where(image > 0, image, np.nan),
            origin="lower",
            extent=(-0.8, 0.8, -0.8, 0.8),
            norm=LogNorm(vmin=1e-5, vmax=max(image.max(), 2e-5)),
            cmap="viridis",
        )
        ax.set(title=title, xlabel=r"$\Delta\phi$", ylabel=r"$\Delta\eta$")
    fig.colorbar(shown, ax=axes, label="average pT share per bin")
    images = save(fig, plots / "jet_images.png", tight=False)

    mass = np.array([jet_pt_mass(c[None])[1][0] for c in constituents])
    embedding = embedding_by_value(
        test.features, test.labels, mass, plots / "embedding_mass.png", names,
        "jet mass (GeV)", vmin=0, vmax=300,
    )  # fmt: skip
    return [images, embedding]


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="run directory with embeddings/")
    parser.add_argument("--root", type=Path, required=True, help="folder of the jet files")
    parser.add_argument("--top-like", type=float, default=0.1, help="share of QCD jets shown")
    ns = parser.parse_args(args)
    with exits_on_input_errors("pictures"):
        paths = pictures(ns.out, ns.root, ns.top_like)
    for path in paths:
        print(path)


if __name__ == "__main__":
    main()
