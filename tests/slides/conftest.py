"""The browser test of the decks runs only when asked for: `make test-slides`.

It needs Chromium and built decks, so `make test` (which collects tests/) leaves it out. It is
collected when DCGAN_SLIDES_BROWSER=1 (what `make test-slides` sets) or when this folder or the
file itself is named on pytest's command line:

    make test-slides
    python -m pytest tests/slides/test_browser.py      # after `make slides`
"""

from pathlib import Path

from helpers import opt_in

pytest_ignore_collect = opt_in(Path(__file__).resolve().parent, "DCGAN_SLIDES_BROWSER")
