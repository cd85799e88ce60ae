"""The browser test of the decks runs only when asked for: `make test-slides`.

It needs Chromium and built decks, so `make test` (which collects tests/) leaves it out. It is
collected when DCGAN_SLIDES_BROWSER=1 (what `make test-slides` sets) or when this folder or the
file itself is named on pytest's command line:

    make test-slides
    python -m pytest tests/slides/test_browser.py      # after `make slides`
"""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _asked_for(config) -> bool:
    if os.environ.get("DCGAN_SLIDES_BROWSER") == "1":
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
