"""The command line and a web worker start without the heavy libraries: pyogrio (which loads
geopandas and pandas), pyarrow, rio-tiler and folium are imported by the code that uses them
(an import or export of annotations, a tile, a story map), not when a process starts.

`annotator --help` imports `annotator.cli`; every gunicorn worker of `annotator serve`
imports `annotator.wsgi`, which builds the app (and takes GDAL offline). One process does
both, as cheaply as a test can: it records, for each heavy library loaded, the chain of
modules and functions that imported it, so a failure names the import to make lazy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pyogrio", "geopandas", "pandas", "pyarrow", "rio_tiler", "folium")

PROGRAM = """
import json, sys

HEAVY = set(sys.argv[1].split(","))


# notes who looks for each heavy module until it is imported (importlib.util.find_spec looks
# too, without importing: only the modules in sys.modules are reported)
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name in HEAVY and name not in sys.modules:
            chain, frame = [], sys._getframe(1)
            while frame is not None:
                if "importlib" not in frame.f_code.co_filename:
                    chain.append(f"{frame.f_globals.get('__name__')}.{frame.f_code.co_name}")
                frame = frame.f_back
            seen[name] = " <- ".join(chain[:12])
        return None


def loaded():
    return {name: chain for name, chain in seen.items() if name in sys.modules}


seen = {}
sys.meta_path.insert(0, Watch())
import annotator.cli

after_cli = loaded()
import annotator.wsgi

after_worker = loaded()
HEAVY.add("tabnanny")  # a control: a module nothing here imports, imported now
import tabnanny

print(json.dumps({"cli": after_cli, "worker": after_worker, "control": loaded()}))
"""


def test_the_cli_and_a_web_worker_start_without_heavy_libraries(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOTATOR_")}
    env["ANNOTATOR_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, ",".join(HEAVY)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    # the watch sees an import when one is made (so the check below can fail)
    assert loaded["control"]["tabnanny"].startswith("__main__.<module>"), loaded["control"]
    for where in ("cli", "worker"):
        listed = "\n".join(f"  {name}: {chain}" for name, chain in loaded[where].items())
        assert loaded[where] == {}, f"importing the {where} loaded:\n{listed}"
