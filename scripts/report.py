#!/usr/bin/env python
"""Write the report of sweep folders by hand: python scripts/report.py DIR... [--out OUT].

The same as the console script ``nnsweep-report``; ``--help`` lists the options.
"""

from nnsweep.cli.report import main

if __name__ == "__main__":
    raise SystemExit(main())
