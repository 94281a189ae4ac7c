"""One job's life: its config (schema, ranges, preflight), what it trains (build), its
folder (lock, files, params.npz, Hydra's record), its console, and run, which ties them."""
