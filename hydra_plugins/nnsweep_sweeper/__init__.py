"""nnsweep's Hydra plugin: Hydra only loads plugins from the ``hydra_plugins`` package."""
