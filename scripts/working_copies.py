"""Working copies of the chapters: `make lab` opens JupyterLab on workspace/, never on notebooks/.

The committed notebooks hold the outputs of real full-length runs, and the slides are built from
them; JupyterLab saves (and autosaves every two minutes) whatever is open. So students and
instructors work on copies in workspace/ (git-ignored), made from notebooks/:

    python scripts/working_copies.py                # copy each chapter that workspace/ lacks
    python scripts/working_copies.py --fresh NAME   # replace a copy by the committed chapter;
                                                    # the old copy is kept in workspace/replaced/

A copy is never overwritten without --fresh. Each copy records which committed version it was
made from, so that a course update is reported ("notebooks/X changed since your copy").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY = "dcgan_course_copy"  # notebook metadata: {"from": "notebooks/NAME", "sha256": ...}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def chapters(source: Path) -> list[Path]:
    return sorted(source.glob("[0-9][0-9]_*.ipynb"))


def copy(chapter: Path, target: Path) -> None:
    """Write ``chapter`` to ``target`` with a note of where it came from (atomically)."""
    nb = json.loads(chapter.read_text())
    nb.setdefault("metadata", {})[KEY] = {"from": f"notebooks/{chapter.name}",
                                          "sha256": digest(chapter)}  # fmt: skip
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    tmp.replace(target)


def made_from(copy_path: Path) -> str | None:
    """The sha256 of the committed notebook a working copy was made from (None: unknown)."""
    try:
        return json.loads(copy_path.read_text()).get("metadata", {}).get(KEY, {}).get("sha256")
    except (OSError, ValueError):
        return None


def sync(source: Path, workspace: Path, fresh=(), out=print) -> list[str]:
    """Copy the chapters ``workspace`` lacks; replace those named in ``fresh`` (keeping the old
    copy in workspace/replaced/); report copies whose chapter changed since. The names copied."""
    workspace.mkdir(parents=True, exist_ok=True)
    known = {c.name: c for c in chapters(source)}
    unknown = [name for name in fresh if name not in known]
    if unknown:
        raise SystemExit(f"no chapter {', '.join(unknown)} in {source}: one of {', '.join(known)}")
    copied = []
    for name, chapter in known.items():
        target = workspace / name
        if target.exists() and name in fresh:
            kept = workspace / "replaced" / f"{target.stem}.{time.strftime('%Y%m%d-%H%M%S')}.ipynb"
            kept.parent.mkdir(exist_ok=True)
            shutil.move(target, kept)
            out(f"{name}: your copy moved to {kept.relative_to(workspace.parent)}")
        if not target.exists():
            copy(chapter, target)
            copied.append(name)
        elif made_from(target) != digest(chapter):
            fix = f"`make fresh NB={name}` replaces it (your copy is kept in workspace/replaced/)"
            out(f"{name}: notebooks/{name} changed since your copy was made; {fix}")
    if copied:
        out(f"copied into {workspace.name}/: {', '.join(copied)}")
    return copied


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", nargs="*", default=[], metavar="NAME",
                        help="replace these working copies by the committed chapters")  # fmt: skip
    parser.add_argument("--workspace", type=Path, default=ROOT / "workspace")
    args = parser.parse_args(argv)
    names = [Path(name).name for name in args.fresh]  # notebooks/X.ipynb or X.ipynb
    sync(ROOT / "notebooks", args.workspace, fresh=names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
