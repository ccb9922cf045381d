"""Fake Jets jets in the real layout, for the tests (``python -m jets.fake ROOT``):
``ROOT/top.npz`` and ``ROOT/qcd.npz``, 60 jets each.

Not physics (1 or 3 Gaussian prongs, see :mod:`ssl_core.points.fake`): the arrays the
real files hold, so that the code sees what it will read.
"""

import sys

from ssl_core.points.fake import write_fake_jet_files

if __name__ == "__main__":
    print(write_fake_jet_files(sys.argv[1], per_class=60))
