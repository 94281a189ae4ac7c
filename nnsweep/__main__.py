"""``python -m nnsweep``: the command line (nnsweep.cli.main)."""

from nnsweep.cli.main import main

if __name__ == "__main__":
    main()
