"""Settings of every test session, for the tests of every workspace member.

One torch thread in the test process and in every process it starts (``OMP_NUM_THREADS``,
which ``train --cpu_threads auto`` leaves as it is): with ``auto``, two runs a test
compares (a killed run and its resume, a run and its twin) could train with other thread
counts as the load changes, and the count changes a CPU run's last bits (see
``ssl_core.threads``). On 2 cores shared by pytest and the runs it starts, one thread each
is also the faster choice (docs/development.md, "CPU threads"). Tests of the choice itself
(``test_threads.py``) unset it.
"""

import os

import torch

os.environ["OMP_NUM_THREADS"] = "1"
# A warm server that a test's pipeline started (ssl_core.warm) ends 20 s after its last
# stage, not 5 min after the suite.
os.environ.setdefault("SSL_CORE_WARM_IDLE", "20")
torch.set_num_threads(1)
