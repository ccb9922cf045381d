"""Methods: one per file, all on :class:`~ssl_core.methods.base.BaseMethod`."""

from ssl_core.methods.base import BaseMethod
from ssl_core.methods.simclr import SimCLR

__all__ = ["BaseMethod", "SimCLR"]
