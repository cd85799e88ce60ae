"""The re-run test runs only when asked for (`make test-rerun`): it doubles the notebooks' time.

Collected when DCGAN_RERUN=1 (what `make test-rerun` sets) or when this folder or the file is named
on pytest's command line."""

from pathlib import Path

from helpers import opt_in

pytest_ignore_collect = opt_in(Path(__file__).resolve().parent, "DCGAN_RERUN")
