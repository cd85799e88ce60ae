"""The re-run test runs only when asked for (`make test-rerun`): it doubles the notebooks' time.

Collected when DCGAN_RERUN=1 (what `make test-rerun` sets) or when this folder or the file is named
on pytest's command line."""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _asked_for(config) -> bool:
    if os.environ.get("DCGAN_RERUN") == "1":
        return True
    for arg in config.args:
        path = Path(str(arg).split("::")[0])
        path = (path if path.is_absolute() else Path(config.invocation_params.dir) / path).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path, config):
    if collection_path.name.startswith("test_") and collection_path.parent == HERE:
        return None if _asked_for(config) else True
    return None
