"""`python -m tcnvae ...` (what torchrun runs: `torchrun --nproc-per-node 2 -m tcnvae train ...`)."""

import sys

from tcnvae.cli import main

sys.exit(main())
