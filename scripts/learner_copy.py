"""The learner's own copy of the course: ``my-course/`` (git-ignored), which `make lab` opens.

    python scripts/learner_copy.py [--course notebooks] [--copy my-course]

Running the course writes outputs into the notebooks it runs, so the learner works in a copy and the
checkout stays clean. The rule is that nothing the learner did is lost:

- a notebook missing from the copy is copied (the first run copies them all);
- a notebook the learner has not edited (its cells are as copied; outputs do not count) is replaced
  by the course's new version when the course changes;
- an edited notebook is never touched: the new version is written beside it as ``NN-topic.new.ipynb``
  (``.new-2``, ... when that name is taken by a file the learner changed), and a message says so.

What was copied is remembered in ``my-course/.omnilab/copied.json`` (a hidden file): for each
notebook, the fingerprint of the course version the learner's copy started from.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORD = Path(".omnilab") / "copied.json"


def fingerprint(path: Path) -> str:
    """What the learner can edit in a notebook: its cells' kinds and sources (not outputs, counts or
    metadata, which running a notebook changes)."""
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    text = json.dumps([(cell.get("cell_type"), "".join(cell.get("source", ""))) for cell in cells])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _update_name(target: Path, offered: dict) -> Path:
    """Where to offer a new version of `target`: the first ``.new`` name that is free, or that holds
    an earlier offer the learner has not edited."""
    for n in range(1, 1000):
        candidate = target.with_name(f"{target.stem}.new{'' if n == 1 else f'-{n}'}{target.suffix}")
        if not candidate.exists() or offered.get(candidate.name) == fingerprint(candidate):
            return candidate
    raise RuntimeError(f"too many updates waiting beside {target}: delete the old .new notebooks")


def update_copy(course: Path, copy: Path) -> list[str]:
    """Bring `copy` up to date with the notebooks in `course` by the rules above; returns one message
    per notebook copied, replaced or offered (nothing when all is up to date)."""
    copy.mkdir(parents=True, exist_ok=True)
    record_path = copy / RECORD
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.exists() else {}
    base, offered = record.setdefault("base", {}), record.setdefault("offered", {})
    messages = []
    for source in sorted(course.glob("*.ipynb")):
        target = copy / source.name
        new = fingerprint(source)
        if not target.exists():
            shutil.copyfile(source, target)
            base[source.name] = new
            messages.append(f"copied {source.name}")
            continue
        if base.get(source.name) == new:
            continue  # the course has not changed since this copy was made
        mine = fingerprint(target)
        if mine == new:
            base[source.name] = new  # already the new version (the learner took it by hand)
        elif base.get(source.name) == mine:
            shutil.copyfile(source, target)  # not edited: only outputs could be lost, and they rerun
            base[source.name] = new
            messages.append(f"updated {source.name} to the new version of the course")
        else:
            offer = _update_name(target, offered)
            if offer.exists() and fingerprint(offer) == new:
                continue  # this version is already waiting beside the learner's copy
            shutil.copyfile(source, offer)
            offered[offer.name] = new
            messages.append(f"{source.name} has a new version in the course; you edited yours, so it is "
                            f"kept as it is and the new version is {offer.name} beside it")
    record_path.parent.mkdir(exist_ok=True)
    record_path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="create or update the learner's copy of the course")
    parser.add_argument("--course", type=Path, default=ROOT / "notebooks", help="the course notebooks")
    parser.add_argument("--copy", type=Path, default=ROOT / "my-course", help="the learner's copy")
    args = parser.parse_args(argv)
    messages = update_copy(args.course, args.copy)
    for message in messages:
        print(f"{args.copy.name}/: {message}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
