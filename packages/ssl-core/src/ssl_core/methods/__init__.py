"""Methods: one per file, all on :class:`~ssl_core.methods.base.BaseMethod`."""

from ssl_core.methods.barlowtwins import BarlowTwins
from ssl_core.methods.base import BaseMethod
from ssl_core.methods.byol import BYOL
from ssl_core.methods.dino import DINO
from ssl_core.methods.finetune import FineTune
from ssl_core.methods.fixmatch import FixMatch
from ssl_core.methods.meanteacher import MeanTeacher
from ssl_core.methods.moco import MoCo
from ssl_core.methods.pseudolabel import PseudoLabel
from ssl_core.methods.semisupcon import SemiSupCon
from ssl_core.methods.simclr import SimCLR
from ssl_core.methods.supcon import SupCon
from ssl_core.methods.supconclassifier import SupConClassifier
from ssl_core.methods.supervised import Supervised
from ssl_core.methods.vicreg import VICReg

__all__ = ["BaseMethod", "SimCLR", "SupCon", "BYOL", "MoCo", "VICReg", "DINO", "BarlowTwins"]
# with a classifier: supervised contrastive, the supervised baseline, semi-supervised methods
__all__ += ["SupConClassifier", "Supervised", "FixMatch", "MeanTeacher", "PseudoLabel"]
__all__ += ["SemiSupCon", "FineTune"]
