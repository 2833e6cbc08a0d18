"""tcnvae.

OpenMP threads (PyTorch's intra-op pool) sleep instead of spinning when they wait: on a shared
machine a spinning thread burns the cores another job needs, and a training epoch measured
6-7x slower beside other work with the default spin policy (BENCHMARKS.md, "OpenMP wait
policy"). Set before torch loads its OpenMP runtime; a value the user exported wins.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
