"""The full evaluation for BENCHMARKS.md: make a synthetic corpus, score it and the real reports.

Usage:
    python benchmarks/run_eval.py [--out /tmp/gongkai-corpus] [--n 200] [--seed 2024]
                                  [--inject-errors 0.2] [--workers 2] [--json-dir /tmp]
                                  [--no-generate]

Generates the corpus outside the repository with ``gongkai corpus generate`` (unless --no-generate
or the folder already holds truth files), runs ``gongkai evaluate`` on it and on corpora/real/truth,
and prints Markdown ready for BENCHMARKS.md: the machine, the exact commands and the tables.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from gongkai.devtools.evaluation import evaluate
from gongkai.devtools.evaluation.report import machine_line, render_tables
from gongkai.errors import GongkaiError

REPO = Path(__file__).resolve().parents[1]


def _gongkai() -> str:
    exe = Path(sys.executable).with_name("gongkai")
    return str(exe) if exe.exists() else "gongkai"


def _generate(out: Path, n: int, seed: int, inject: float) -> str:
    cmd = [_gongkai(), "corpus", "generate", str(out), "--n", str(n), "--seed", str(seed)]
    cmd += ["--inject-errors", str(inject)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=REPO)
    sys.stderr.write(f"generated {n} documents in {time.perf_counter() - t0:.0f} s\n")
    return shlex.join(["gongkai", *cmd[1:]])


def _evaluate(corpus: Path, workers: int, json_out: Path | None) -> str:
    report = evaluate([corpus], workers=workers)
    if json_out is not None:
        json_out.write_text(json.dumps(report.to_json({"corpus": str(corpus)}), ensure_ascii=False, indent=1))
    return render_tables(report)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("/tmp/gongkai-corpus"))
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--inject-errors", type=float, default=0.2, help="share of reports with one wrong cell")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json-dir", type=Path, help="write eval-synthetic.json and eval-real.json here")
    ap.add_argument("--no-generate", action="store_true", help="use the corpus already in --out")
    args = ap.parse_args()

    commands: list[str] = []
    has_truth = args.out.is_dir() and any(args.out.rglob("*.truth.json"))
    if not args.no_generate and not has_truth:
        commands.append(_generate(args.out, args.n, args.seed, args.inject_errors))
    json_dir: Path | None = args.json_dir
    sections: list[tuple[str, str]] = []
    for name, corpus in (("synthetic", args.out), ("real", REPO / "corpora" / "real" / "truth")):
        json_out = json_dir / f"eval-{name}.json" if json_dir else None
        cmd = ["gongkai", "evaluate", str(corpus), "--workers", str(args.workers)]
        if json_out is not None:
            cmd += ["--json", str(json_out)]
        commands.append(shlex.join(cmd))
        sections.append((name, _evaluate(corpus, args.workers, json_out)))

    print(f"Machine: {machine_line()}. Shared with other jobs while measured: timings are noisy.\n")
    print("```sh")
    print("\n".join(commands))
    print("```")
    for name, text in sections:
        print(f"\n### {name}\n")
        print(text)
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except GongkaiError as exc:
        sys.stderr.write(f"run_eval: {exc}\n")
        raise SystemExit(2) from exc
