"""``python -m sk_softmax``: the command line (the digits demo without arguments)."""

# SPDX-License-Identifier: BSD-3-Clause

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
