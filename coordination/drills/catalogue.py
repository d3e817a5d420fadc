"""The scenario files a trainer can run: every file in plans/drills/, valid or not.

Invalid files are listed with their errors (file, line, field) so the trainer
sees why a scenario cannot start; only a file inside the drills folder can be
named, so a form field cannot reach elsewhere on disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l

from ..errors import NotFound
from .loader import load_file, scenario_files


def drills_dir(root: Path) -> Path:
    return root / "drills"


def scenarios(root: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    folder = drills_dir(root)
    if not folder.is_dir():
        return out
    for path in scenario_files([folder]):
        loaded = load_file(path, root=root)
        sc = loaded.model
        out.append({
            "file": path.name, "path": loaded.path, "ok": loaded.ok,
            "id": sc.id if sc else None, "version": sc.version if sc else None,
            "title": sc.title.model_dump() if sc else None,
            "summary": sc.summary.model_dump() if sc else None,
            "injects": len(sc.injects) if sc else 0,
            "duration_min": round(sc.duration.total_seconds() / 60) if sc else None,
            "errors": [e.as_dict() for e in loaded.errors],
        })
    return out


def resolve(root: Path, name: str) -> Path:
    """A scenario file by its name in the drills folder; nothing outside it."""
    folder = drills_dir(root).resolve()
    if not _possible_file_name(name):
        raise NotFound(_l("No such scenario file."))
    candidate = (folder / Path(name).name).resolve()
    try:
        found = candidate.is_file()
    except OSError:  # a name the file system refuses is no file it holds
        found = False
    if not found or candidate.parent != folder or candidate.suffix not in (".yaml", ".yml"):
        raise NotFound(_l("No such scenario file."))
    return candidate


def _possible_file_name(name: str) -> bool:
    """Could any file system hold ``name``? NUL, lone surrogates and names over 255
    bytes fail in the OS calls with three different exceptions; they name nothing."""
    if not name or "\x00" in name:
        return False
    try:
        return len(name.encode("utf-8")) <= 255
    except UnicodeEncodeError:
        return False
