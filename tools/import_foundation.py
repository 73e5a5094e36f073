"""Import the foundation sources into a hub: CHGNet from the chgnet wheel (model set ``foundation-chgnet``).

The packaged checkpoint is read with ``torch.load(weights_only=True)``, checked like any hub model and
published as safetensors + JSON with a card naming its origin, licence and citation. Re-running is a
no-op once the hub holds the same model.

    python tools/import_foundation.py                    # into $MDL_HUB (~/.cache/mdl/hub)
    python tools/import_foundation.py --hub /data/zoo
"""

from __future__ import annotations

import argparse
import time

from mdl.zoo.foundation_import import CHECKPOINTS, MODELSET, publish_chgnet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub", default=None, help="hub address (default: $MDL_HUB or ~/.cache/mdl/hub)")
    parser.add_argument("--versions", nargs="+", default=["0.3.0"], choices=sorted(CHECKPOINTS))
    args = parser.parse_args()
    start = time.perf_counter()
    ids = publish_chgnet(args.hub, tuple(args.versions))
    print(f"{MODELSET}: {', '.join(ids)} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
