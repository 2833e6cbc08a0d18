import sys

from tcnvae.cli import main

sys.exit(main())
