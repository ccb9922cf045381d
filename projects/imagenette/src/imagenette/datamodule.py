"""Imagenette for ssl-core methods: the generic datamodule with Imagenette's source."""

from __future__ import annotations

from typing import Literal

from imagenette.dataset import BASE_URL, Imagenette
from ssl_core.data import ClassificationDataModule


class ImagenetteDataModule(ClassificationDataModule):
    """Imagenette (see :class:`~ssl_core.data.ClassificationDataModule` for the rest).

    Args:
        variant: Official archive to download: ``160``, ``320`` (px, shorter side) or
            ``full``; the default root is ``projects/imagenette/data/imagenette2-<variant>``.
        download: Download the archive when ``root`` holds no data.
        label_noise: fast.ai's noisy training labels, percent (0, 1, 5, 25, 50).
        base_url: Download mirror.
        **kwargs: :class:`~ssl_core.data.ClassificationDataModule` arguments (``root``,
            ``split``, ``train_on``, ``batch_size``, ``num_workers``, ``image_size``, ...).
    """

    def __init__(
        self,
        variant: Literal["160", "320", "full"] = "160",
        download: bool = True,
        label_noise: int = 0,
        base_url: str = BASE_URL,
        **kwargs,
    ) -> None:
        source = Imagenette(label_noise=label_noise, base_url=base_url)
        super().__init__(source=source, download=download, variant=variant, **kwargs)
