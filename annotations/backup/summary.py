"""The one line that tells a person what a backup, a restore or a check did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annotations.backup.manifest import IMAGES


def size(count: int) -> str:
    """Bytes in decimal units: 512 bytes, 79.6 MB, 20.1 GB."""
    if count < 1000:
        return f"{count} bytes"
    amount = float(count)
    for unit in ("kB", "MB", "GB"):
        amount /= 1000
        if amount < 1000 or unit == "GB":
            break
    return f"{amount:.1f} {unit}"


def many(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def backed_up(path: Path, manifest: dict[str, Any]) -> str:
    files = manifest["files"]
    images = sum(1 for entry in files if entry["path"].startswith(f"{IMAGES}/"))
    return (
        f"backup {path}: {manifest['engine']} database at schema {manifest['schema_revision']}, "
        f"{many(manifest['counts'].get('annotations', 0), 'annotation')}, "
        f"{many(images, 'image')}, {many(len(files), 'file')}, "
        f"{size(sum(entry['size'] for entry in files))}"
    )


def restored(path: Path, result: dict[str, Any]) -> str:
    before, after = result["backup_schema_revision"], result["schema_revision"]
    return (
        f"restored {path} into {result['data_dir']} ({result['engine']} {result['database']}): "
        f"schema {before}{f' upgraded to {after}' if after != before else ''}, "
        f"{many(result['counts'].get('annotations', 0), 'annotation')}, "
        f"{many(result['images'], 'image')}; all {many(result['files'], 'file')} "
        "matched their sha256"
    )


def checked(path: Path, manifest: dict[str, Any]) -> str:
    return (
        f"OK {path}: every hash checks out ({manifest['engine']} database at schema "
        f"{manifest['schema_revision']}, {len(manifest['files'])} files)"
    )
