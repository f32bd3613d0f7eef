"""The layers import only downward (pyproject.toml, [tool.importlinter]): govscan (vocabulary, paths) <- checks,
storage <- reports <- scanner. A module that imports upward fails this test with import-linter's report of the
offending import chain."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_layer_imports_upward():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint_imports), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_store_loads_no_network_code():
    """Opening the store (as reports and the web service do) must not pull in the resolver, the probes or the
    checks."""
    code = ("import sys, storage.store, storage.history, storage.work; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'scanner', 'checks', 'dns', 'sslyze', 'playwright'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
