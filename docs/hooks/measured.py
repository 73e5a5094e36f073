"""The "measured" page, written from the benchmarks' own output, never from numbers copied by hand.

Each benchmark of :data:`RUNS` is a tool under ``tools/`` that prints its table. Running this file runs
them and saves each one's output verbatim, with the command, date, commit, machine and wall time, in
``docs/measured/<name>.txt``::

    .venv/bin/python docs/hooks/measured.py                 # the cheap runs (a few minutes on 2 cores)
    .venv/bin/python docs/hooks/measured.py search fuzz     # only these
    .venv/bin/python docs/hooks/measured.py --list          # every run, its command and whether it is saved

As an mkdocs hook (``hooks:`` in mkdocs.yml) it replaces the marker ``<!-- measured-runs -->`` of
``measured.md`` with one section per run: what it measures, the command, and the saved output (or, for a
run never saved, the command to produce it). ``mkdocs build`` therefore shows what the last saved run
printed, and a re-run of the benchmark is the only way to change a number on the page.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAVED = ROOT / "docs" / "measured"
MARKER = "<!-- measured-runs -->"
PAGE = "measured.md"


@dataclass(frozen=True)
class Run:
    """One benchmark run: its name (the saved file's stem), what it measures and its command line."""

    name: str
    title: str
    args: tuple[str, ...]
    cheap: bool  # run by default (minutes on 2 cores); the others need the reference zoo or an hour

    @property
    def command(self) -> str:
        return shlex.join(("python", *self.args))

    @property
    def saved(self) -> Path:
        return SAVED / f"{self.name}.txt"


RUNS: tuple[Run, ...] = (
    Run("search", "`mdl.search` over a generated index of 150,000 models", ("tools/bench_search.py",), True),
    Run("fuzz", "Loading mutated models: every one predicts finite numbers or raises an `MDLError`",
        ("tools/fuzz_models.py", "--cases", "300"), True),
    Run("zoo", "Training zoo networks: one by one, stacked, and as `mdl zoo build` runs them",
        ("tools/bench_zoo.py", "--models", "16", "--rows", "1000", "--epochs", "20"), True),
    Run("hub", "Publishing into a local hub and pulling through a loopback Hugging Face server",
        ("tools/bench_hub.py", "--models", "24"), True),
    Run("screen", "Screening 1,000 network sources for a 200-sample target, `mdl.screen` against the naive loop",
        ("tools/bench_screen.py",), False),
    Run("screen-zoo", "One `mdl.screen` over the reference zoo's pools, stage by stage (needs the reference zoo)",
        ("tools/bench_screen_zoo.py", "--hub", "/work/refzoo", "--cases", "molecule,inorganic,replicated"), False),
    Run("transfer", "Held-out targets: `board.best` against training from scratch (needs the reference zoo)",
        ("tools/bench_transfer.py", "--hub", "/work/refzoo"), False),
    Run("crystals", "Crystals on one fixed split: composition, structure, graph network and CHGNet features",
        ("tools/bench_crystals.py",), False),
)


def run(job: Run) -> Path:
    """Run one benchmark from the repository root and save what it printed, with how it was run."""
    load = os.getloadavg()[0]  # the machine's other work, which slows a benchmark on a shared machine
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *job.args], cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{job.command} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    git = [subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
           for args in (["rev-parse", "--short", "HEAD"], ["status", "--porcelain", "--untracked-files=no"])]
    commit = (git[0] or "unknown") + (" with uncommitted changes" if git[1] else "")
    header = (f"# command: {job.command}\n"
              f"# date: {datetime.date.today().isoformat()}, commit {commit}, {platform.machine()} "
              f"{os.cpu_count()} CPUs (load average {load:.1f} at the start), Python {platform.python_version()}, "
              f"{seconds:.0f} s wall\n")
    SAVED.mkdir(exist_ok=True)
    job.saved.write_text(header + done.stdout)
    return job.saved


def section(job: Run) -> str:
    """The Markdown of one run: title, command, and the saved output or how to produce it."""
    lines = [f"## {job.title}", ""]
    if not job.saved.exists():
        return "\n".join(lines + [f"Not saved yet: `python docs/hooks/measured.py {job.name}` runs `{job.command}`.",
                                  ""])
    header, _, output = job.saved.read_text().partition("\n# date: ")
    when, _, output = output.partition("\n")
    lines += [f"`{job.command}` ({when})", "", "```text", output.rstrip(), "```", ""]
    return "\n".join(lines)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ANN001  (mkdocs' hook signature)
    """mkdocs hook: fill the measured page's marker with every run's saved output."""
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"{PAGE} lost its marker {MARKER}")
    return markdown.replace(MARKER, "\n".join(section(job) for job in RUNS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"runs to make, of {', '.join(job.name for job in RUNS)} "
                        "(default: the cheap ones)")
    parser.add_argument("--list", action="store_true", help="list the runs and whether each is saved")
    args = parser.parse_args()
    unknown = set(args.names) - {job.name for job in RUNS}
    if unknown:
        parser.error(f"unknown run(s) {', '.join(sorted(unknown))}")
    if args.list:
        for job in RUNS:
            print(f"{job.name:10s} {'saved' if job.saved.exists() else 'not saved':10s} {job.command}")
        return
    for job in RUNS:
        if job.name in args.names or (not args.names and job.cheap):
            print(f"{job.name}: {job.command} ...", flush=True)
            print(f"  saved {run(job).relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    main()
