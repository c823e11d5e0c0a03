"""All-or-nothing writing: a generator plans every file first, then writes them; a failure restores the tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from airnub.engine.storage import write_atomic
from airnub.scaffolding.names import ScaffoldError


def _write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through the engine's atomic writer: a rewritten file keeps its mode."""
    write_atomic(path, lambda partial: partial.write_bytes(data))


def _package_files(root: Path) -> dict[Path, bytes]:
    """Every file of the package nbdev writes (`lib_path` in pyproject.toml), with its bytes."""
    lib_path = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["nbdev"]["lib_path"]
    return {path: path.read_bytes() for path in (root / lib_path).rglob("*.py")}


def nbdev_export(root: Path) -> None:
    """Run `nbdev-export` in `root` (the venv's own when there is one), or ScaffoldError with its message."""
    local = Path(sys.executable).parent / "nbdev-export"
    command = str(local) if local.exists() else shutil.which("nbdev-export")
    if command is None:
        raise ScaffoldError("nbdev-export not found: run `make setup` first")
    done = subprocess.run([command], cwd=root, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise ScaffoldError(f"nbdev-export failed in {root}: {(done.stderr or done.stdout).strip()[-2000:]}")


@dataclass
class Plan:
    """The files a command writes (relative path -> text), and whether nbdev-export follows."""

    root: Path
    files: dict[str, str] = field(default_factory=dict)
    exported: list[str] = field(default_factory=list)  # package modules nbdev-export is expected to write

    def current(self, relative: str) -> str | None:
        """The text `relative` will hold: as planned, else as on disk, else None."""
        if relative in self.files:
            return self.files[relative]
        path = self.root / relative
        return path.read_text(encoding="utf-8") if path.exists() else None

    def create(self, relative: str, text: str) -> None:
        """Plan `relative` with `text` unless it exists: files once generated belong to the user."""
        if self.current(relative) is None:
            self.files[relative] = text

    def change(self, relative: str, text: str) -> None:
        """Plan `relative` to hold `text` (wiring into an existing file)."""
        self.files[relative] = text

    def pending(self) -> dict[str, str]:
        """The planned files whose text differs from what is on disk."""
        return {rel: text for rel, text in self.files.items() if self._on_disk(rel) != text}

    def _on_disk(self, relative: str) -> str | None:
        path = self.root / relative
        return path.read_text(encoding="utf-8") if path.exists() else None

    def export_needed(self) -> bool:
        """Whether nbdev-export must run: a notebook changes or an expected module is missing."""
        return bool(self.exported) and (any(rel.startswith("nbs/") for rel in self.pending())
                                        or not all((self.root / rel).exists() for rel in self.exported))

    def describe(self) -> list[str]:
        """One line per file this plan creates or changes, in the order it writes them."""
        lines = [f"{'change' if self._on_disk(rel) is not None else 'create'} {rel}" for rel in self.pending()]
        if self.export_needed():
            lines += [f"{'change' if (self.root / rel).exists() else 'create'} {rel} (nbdev-export)"
                      for rel in self.exported]
        return lines

    def apply(self) -> list[str]:
        """Write every pending file, then run nbdev-export if needed; on any failure restore the tree and re-raise."""
        described, pending, export = self.describe(), self.pending(), self.export_needed()
        originals: dict[Path, bytes | None] = {}
        created_dirs: list[Path] = []
        package_before: dict[Path, bytes] | None = None
        try:
            for relative, text in pending.items():
                path = self.root / relative
                missing = [p for p in [path.parent, *path.parent.parents] if not p.exists()]
                created_dirs.extend(reversed(missing))
                path.parent.mkdir(parents=True, exist_ok=True)
                originals[path] = path.read_bytes() if path.exists() else None
                _write_atomic(path, text.encode("utf-8"))
            if export:
                package_before = _package_files(self.root)
                nbdev_export(self.root)
                if absent := [rel for rel in self.exported if not (self.root / rel).exists()]:
                    raise ScaffoldError(f"nbdev-export did not write {', '.join(absent)}")
        except BaseException:
            self._restore(originals, created_dirs, package_before)
            raise
        return described

    def _restore(self, originals: dict[Path, bytes | None], created_dirs: list[Path],
                 package_before: dict[Path, bytes] | None) -> None:
        if package_before is not None:
            for path, data in _package_files(self.root).items():
                if path not in package_before:
                    path.unlink()
                elif data != package_before[path]:
                    _write_atomic(path, package_before[path])
        for path, data in originals.items():
            if data is None:
                path.unlink(missing_ok=True)
            else:
                _write_atomic(path, data)
        for folder in sorted(set(created_dirs), key=lambda p: len(p.parts), reverse=True):
            shutil.rmtree(folder / "__pycache__", ignore_errors=True)
            if folder.exists() and not any(folder.iterdir()):
                folder.rmdir()
