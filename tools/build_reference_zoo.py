"""Build the reference zoo from the packaged recipes and print its table of model sets: tier, property,
material, families and counts, rows trained on, median and best test R².

A thin wrapper over :func:`mdl.zoo.build_reference` and :func:`mdl.zoo.reference_summary` (the tiers,
the foundation import and the tables are described in :mod:`mdl.zoo.reference`).

    python tools/build_reference_zoo.py                  # the base tier into $MDL_HUB (~/.cache/mdl/hub)
    python tools/build_reference_zoo.py --tier heavy --hub /data/zoo   # the heavy tier (or --tier all)
    python tools/build_reference_zoo.py --hub /data/zoo --engine ray --address auto
    python tools/build_reference_zoo.py --scale 0.1      # a tenth of every family's count (a trial)
    python tools/build_reference_zoo.py --summary-only   # only the table of what the hub holds

The build is resumable: run it again after an interruption and it continues.
"""

from __future__ import annotations

import argparse

from mdl.zoo import build_reference, reference_summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub", default=None)
    parser.add_argument("--engine", default="local", choices=["local", "ray"])
    parser.add_argument("--address", default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=None,
                        help="local processes of one thread each (default: one per core for the base tier; 1 for "
                             "--tier heavy, whose few wide networks per recipe train faster on all cores' threads)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every family's count (at least 1)")
    parser.add_argument("--tier", default="base", choices=["base", "heavy", "all"],
                        help="which recipes: base (molecules, polymers, crystals), heavy (registry/heavy) or all")
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.summary_only:
        report = build_reference(args.tier, hub=args.hub, workers=args.workers, engine=args.engine,
                                 address=args.address, scale=args.scale, device=args.device)
        print("\n".join(report.lines()))
    print(reference_summary(args.hub))


if __name__ == "__main__":
    main()
