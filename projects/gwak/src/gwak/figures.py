"""Pictures of the generated strain and of a space learned on it (GWAK, Raikman et al.
2023): one whitened window per class in both detectors, a spectrogram of a chirp, and the
test embeddings (first two principal components) coloured by class and by SNR.

``python -m gwak.figures OUT [--data ROOT] [--embeddings DIR]``: ``ROOT`` is a folder
written by :func:`gwak.strain.write_dataset` (default: the GWAK source's under
``$SSL_CORE_CACHE``), ``DIR`` a run's ``embeddings/`` with ``snr`` in ``test.npz``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from gwak.strain import CLASSES, DETECTORS, GWConfig, load_dataset
from ssl_core.evaluate.plots import embedding_by_value, plt, save

CONFIG = GWConfig()


def plot_strain_examples(root: str | Path, out: str | Path) -> Path:
    """One whitened window ``(2, T)`` per class (the highest-SNR one of the first 50, so
    the injection shows), H1 and L1 in one panel per class; written to ``out``."""
    data = load_dataset(root)
    t = np.arange(CONFIG.length) / CONFIG.sample_rate
    fig, axes = plt.subplots(len(CLASSES), 1, figsize=(7, 1.6 * len(CLASSES)), sharex=True)
    for ax, (k, name) in zip(axes, enumerate(CLASSES), strict=True):
        rows = np.flatnonzero(data["label"] == k)[:50]
        if not rows.size:
            continue
        i = rows[np.argmax(data["snr"][rows])]
        for d, detector in enumerate(DETECTORS):
            ax.plot(t, data["strain"][i, d], lw=0.6, label=detector)
        ax.set_title(f"{name} (SNR {data['snr'][i]:.1f})", fontsize=9)
        ax.set_ylabel("whitened")
    axes[0].legend(fontsize=7, loc="upper right")
    axes[-1].set_xlabel("time (s)")
    return save(fig, Path(out))


def plot_spectrogram(root: str | Path, out: str | Path, kind: str = "bbh") -> Path:
    """Spectrogram (H1, whitened) of the loudest of the first 50 windows of ``kind``."""
    from scipy.signal import spectrogram

    data = load_dataset(root)
    rows = np.flatnonzero(data["label"] == CLASSES.index(kind))[:50]
    i = rows[np.argmax(data["snr"][rows])]
    f, t, power = spectrogram(data["strain"][i, 0], fs=CONFIG.sample_rate, nperseg=64, noverlap=56)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.pcolormesh(t, f, power, shading="auto")
    ax.set_ylim(CONFIG.f_low, 512)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    ax.set_title(f"{kind}, H1, SNR {data['snr'][i]:.1f}", fontsize=9)
    return save(fig, Path(out))


def plot_embedding_snr(embeddings: str | Path, out: str | Path, space: str = "features") -> Path:
    """Test embeddings ``(N, D)`` on their first two principal components, coloured by
    class (left) and by SNR (right; background has SNR 0)."""
    with np.load(Path(embeddings) / "test.npz") as data:
        x, labels, snr = data[space], data["labels"], data["snr"]
    return embedding_by_value(x, labels, snr, Path(out), CLASSES, "network SNR", f"test {space}")


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--data", type=Path, help="a written strain folder")
    parser.add_argument("--embeddings", type=Path, help="a run's embeddings/ (with snr)")
    ns = parser.parse_args(args)
    if ns.data is None:
        from gwak.dataset import GWAK

        ns.data = GWAK().prepare()
    print(plot_strain_examples(ns.data, ns.out / "strain_examples.png"))
    print(plot_spectrogram(ns.data, ns.out / "spectrogram_bbh.png"))
    if ns.embeddings is not None:
        print(plot_embedding_snr(ns.embeddings, ns.out / "embedding_class_snr.png"))


if __name__ == "__main__":
    main()
