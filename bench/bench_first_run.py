"""`scripts/run` on a fresh clone: seconds until the first page answers (not a test).

Usage: .venv/bin/python bench/bench_first_run.py [--ref HEAD] [--ref OTHER ...] [--cold]

For each git ref (default: HEAD), in the order given: a fresh `git clone` of this repository
into a temporary folder, checked out at the ref, then `scripts/run --port N` exactly as a
newcomer types it, timed until `GET /` and `GET /forms/` both answer 200; then the server is
stopped. Prints the seconds to the first page, the size of the clone's `.venv`, and what it
installed. pip uses its cache as a returning developer's would; `--cold` turns the cache off
(every package downloaded). Refs run one after the other, so they see about the same load.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def first_run(ref: str, cold: bool, timeout: float) -> tuple[float, float, int]:
    """(seconds to the first page, .venv MB, installed distributions) for `ref`."""
    with tempfile.TemporaryDirectory(prefix="first-run-") as tmp:
        clone = Path(tmp) / "kb"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "checkout", "-q", ref], cwd=clone, check=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("CMSKIT_FORMS_", "VIRTUAL_ENV", "PYTHON"))}
        if cold:
            env["PIP_NO_CACHE_DIR"] = "1"
        port = free_port()
        log = (Path(tmp) / "run.log").open("w")
        started = time.perf_counter()
        server = subprocess.Popen(
            ["scripts/run", "--port", str(port)], cwd=clone, env=env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            while not (answers(f"{base}/") and answers(f"{base}/forms/")):
                if server.poll() is not None or time.perf_counter() - started > timeout:
                    log.close()
                    sys.exit(f"{ref}: no first page:\n{(Path(tmp) / 'run.log').read_text()}")
                time.sleep(0.2)
            took = time.perf_counter() - started
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            log.close()
        listed = subprocess.run(
            [str(clone / ".venv/bin/python"), "-m", "pip", "list", "--format=freeze"],
            capture_output=True, text=True, check=True,
        ).stdout.splitlines()
        return took, size_mb(clone / ".venv"), len(listed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", action="append", default=[], help="git ref (default HEAD)")
    parser.add_argument("--cold", action="store_true", help="pip without its cache")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    print(f"scripts/run on a fresh clone, pip cache {'off' if args.cold else 'on'}; "
          f"load average {os.getloadavg()[0]:.1f}")
    for ref in args.ref or ["HEAD"]:
        took, venv, packages = first_run(ref, args.cold, args.timeout)
        print(f"  {ref:12} first page after {took:6.1f} s   .venv {venv:6.0f} MB   "
              f"{packages} distributions installed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
