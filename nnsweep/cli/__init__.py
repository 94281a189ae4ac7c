"""The command lines, kept thin: ``python -m nnsweep`` (main), ``nnsweep-report``,
``nnsweep-predict``, ``--help``'s text, and the Hydra callback that reports a sweep."""
