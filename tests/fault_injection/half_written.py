"""A Hydra callback for tests: it runs after Hydra has written a job's ``.hydra/`` and
before the job starts, the moment another process's Hydra may be rewriting those files."""

import shutil
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback


class HalfWrittenHydraRecord(Callback):
    """Keep a copy of the record as Hydra wrote it (``.hydra-as-written/``), then truncate
    its config.yaml, as another process's Hydra does in the middle of writing its own."""

    def on_job_start(self, config, **kwargs) -> None:
        hydra = Path(HydraConfig.get().runtime.output_dir) / ".hydra"
        shutil.copytree(hydra, hydra.with_name(".hydra-as-written"))
        (hydra / "config.yaml").write_text("")
