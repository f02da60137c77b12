"""Runs in a recorded environment: the dataset's transform on archived files; prints the result as one JSON line.

    python -m dfc_assets.publication.rebuild_worker REQUEST.json SPEC.pickle
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path


def main(request_path: str, spec_path: str) -> int:
    from dfc_assets.publication.artifact import transform
    from dfc_assets.transform.manifest import library_versions

    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    spec = pickle.loads(Path(spec_path).read_bytes())
    result = transform(spec, request["version"], [Path(p) for p in request["files"]], Path(request["out"]), lambda message: print(message, file=sys.stderr))
    print(json.dumps({"sha256": result.sha256, "size": result.size, "libraries": library_versions()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
