"""Import pretrained foundation models into the zoo once, at build time: CHGNet from its wheel.

The chgnet wheel carries its pretrained checkpoints (``chgnet/pretrained/<version>/*.pth.tar``). The
checkpoint is read with ``torch.load(weights_only=True)`` (never plain unpickling), its
``model.model_args`` and ``model.state_dict`` are taken out, checked like any stored model, and the
result becomes a :class:`~mdl.models.source.SourceModel` whose weights are safetensors and whose card
names the origin (package, version, checkpoint file and its sha256), licence and citation. At transfer
time the zoo model loads from those files only. The import is deterministic (no timestamp on the card),
so importing again into the same hub is a no-op.

    python tools/import_foundation.py --hub /data/zoo        # publishes model set "foundation-chgnet"

Other registry packages, checked by their wheels' contents (pip download --no-deps, Python 3.11): only
sevenn 0.13.0 (MIT) also ships pretrained crystal potentials inside the wheel (SevenNet-0 in two
releases, SevenNet-MF-0, SevenNet-l3i5; 10-14 MB .pth each), but its checkpoints hold numpy arrays
that ``torch.load(weights_only=True)`` refuses without allow-listing numpy globals, and it needs e3nn.
matgl 4.1.2, mace-torch 0.3.16, alignn 2026.8.11, orb-models 0.5.5, mattersim 1.2.3, torchani 2.9.0,
m3gnet 0.2.4 and schnetpack 2.1.1 ship no weights in their wheels (mace-torch, alignn, orb-models and
torchani name release, figshare or S3 addresses to fetch them from at run time; torchani's wheel holds
dispersion constants only); megnet 1.3.2 ships only a 16-wide elemental embedding (JSON).

>>> model = import_chgnet("0.3.0")                                  # doctest: +SKIP
>>> model.info["origin"]["checkpoint"]                              # doctest: +SKIP
'pretrained/0.3.0/chgnet_0.3.0_e29f68s314m37.pth.tar'
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from mdl.errors import ModelFormatError
from mdl.models.foundation import CHGNetFeaturizer, require_chgnet
from mdl.models.state import from_state

MODELSET = "foundation-chgnet"
CITATION = ("B. Deng, P. Zhong, K. Jun, J. Riebesell, K. Han, C. J. Bartel and G. Ceder, CHGNet as a pretrained "
            "universal neural network potential for charge-informed atomistic modelling, Nat. Mach. Intell. 5, "
            "1031-1041 (2023), doi:10.1038/s42256-023-00716-3")
#: The checkpoints imported (0.2.0 is deprecated by its authors, r2scan is a transfer-learned variant):
#: the energy MAE the authors report on the MPtrj test split (chgnet/pretrained/<version>/README.md,
#: eV/atom) and the arguments chgnet's own ``CHGNet.load`` adds to the stored model_args.
CHECKPOINTS: dict[str, dict[str, Any]] = {
    "0.3.0": {"test_mae": 0.029, "extra_args": {"mlp_out_bias": False}},
}


def checkpoint_file(version: str) -> Path:
    """The packaged checkpoint of CHGNet ``version`` inside the installed chgnet wheel.

    Parameters
    ----------
    version : str
        A key of :data:`CHECKPOINTS` (e.g. "0.3.0").

    Returns
    -------
    Path
        The ``*.pth.tar`` file under ``chgnet/pretrained/<version>/``.

    Examples
    --------
    >>> checkpoint_file("0.3.0").name                      # doctest: +SKIP
    'chgnet_0.3.0_e29f68s314m37.pth.tar'
    """
    require_chgnet()
    import chgnet

    if version not in CHECKPOINTS:
        raise ValueError(f"unknown CHGNet checkpoint {version!r}: known {sorted(CHECKPOINTS)}")
    found = sorted((Path(chgnet.__file__).parent / "pretrained" / version).glob("*.pth.tar"))
    if len(found) != 1:
        raise FileNotFoundError(f"chgnet {metadata.version('chgnet')} ships no single checkpoint for {version!r}")
    return found[0]


def read_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The model arguments and weights of a CHGNet checkpoint, read with ``weights_only=True``.

    Parameters
    ----------
    path : Path
        A packaged checkpoint (:func:`checkpoint_file`).

    Returns
    -------
    model_args : dict
        CHGNet's constructor arguments.
    arrays : dict of str to ndarray
        The state dict as float32 arrays, keys prefixed ``module.``.

    Raises
    ------
    ModelFormatError
        When the checkpoint is not a dict with ``model.state_dict`` (tensors only) and ``model.model_args``.

    Examples
    --------
    >>> model_args, arrays = read_checkpoint(checkpoint_file("0.3.0"))   # doctest: +SKIP
    """
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    model = state.get("model") if isinstance(state, dict) else None
    if not isinstance(model, dict) or not {"state_dict", "model_args"} <= set(model):
        raise ModelFormatError("expected a dict with model.state_dict and model.model_args", file=path.name)
    arrays = {}
    for key, tensor in model["state_dict"].items():
        if not isinstance(tensor, torch.Tensor):
            raise ModelFormatError(f"not a tensor: {type(tensor).__name__}", file=path.name, field=key)
        arrays[f"module.{key}"] = tensor.detach().to(torch.float32).numpy().copy()
    return dict(model["model_args"]), arrays


def licence_text() -> str:
    """chgnet's packaged LICENSE (Modified BSD), whose notice must travel with redistributed weights.

    Returns
    -------
    str
        The licence text of the installed chgnet distribution.

    Examples
    --------
    >>> "Redistribution" in licence_text()                  # doctest: +SKIP
    True
    """
    dist = metadata.distribution("chgnet")
    for file in dist.files or []:
        if file.name.upper().startswith("LICENSE"):
            return file.read_text()
    raise FileNotFoundError("chgnet's LICENSE is not in its installed distribution")


def import_estimator(version: str = "0.3.0", batch_size: int = 16, pooling: str = "mean") -> CHGNetFeaturizer:
    """The packaged CHGNet ``version`` as a :class:`CHGNetFeaturizer`, built only after its arguments and
    arrays pass :func:`~mdl.models.foundation_schema.check_chgnet` (as a model read from a hub would).

    Parameters
    ----------
    version : str, default "0.3.0"
        The packaged checkpoint.
    batch_size : int, default 16
        Structures per forward pass.
    pooling : str, default "mean"
        How atom features become crystal features (see :class:`CHGNetFeaturizer`).

    Returns
    -------
    CHGNetFeaturizer

    Examples
    --------
    >>> import_estimator().n_hidden_layers                  # doctest: +SKIP
    4
    """
    model_args, arrays = read_checkpoint(checkpoint_file(version))
    model_args = {**model_args, **CHECKPOINTS[version]["extra_args"], "version": version}
    config = {"class": "CHGNetFeaturizer", "params": {"batch_size": batch_size, "pooling": pooling},
              "model_args": model_args}
    return from_state(config, arrays, {}, model=f"chgnet-{version}")


def import_chgnet(version: str = "0.3.0", batch_size: int = 16) -> Any:
    """CHGNet ``version`` as a SourceModel of the zoo (descriptor ``crystal_structure``), checked like a
    hub model: its config passes :func:`~mdl.models.foundation_schema.check_chgnet` before it is built.

    Parameters
    ----------
    version : str, default "0.3.0"
        The packaged checkpoint.
    batch_size : int, default 16
        Structures per forward pass.

    Returns
    -------
    SourceModel
        With a card naming origin (package, version, checkpoint and its sha256), licence and citation.

    Examples
    --------
    >>> import_chgnet().info["family"]                      # doctest: +SKIP
    'foundation'
    """
    from mdl.descriptors import get_descriptor
    from mdl.models.source import SourceModel

    path = checkpoint_file(version)
    estimator = import_estimator(version, batch_size)
    model_args = estimator.model_args_
    package = metadata.version("chgnet")
    info = {
        "family": "foundation",
        "material": "inorganic",
        "property": "energy per atom",
        "unit": "eV/atom",
        "dataset": "MPtrj (Materials Project relaxation trajectories, about 1.58 M structures)",
        "hyperparameters": {k: v for k, v in model_args.items() if k != "version"},
        "metrics": {"mae": CHECKPOINTS[version]["test_mae"]},
        "metrics_note": "energy MAE on the MPtrj test split as reported by the authors "
                        f"(chgnet/pretrained/{version}/README.md), not measured here",
        "origin": {"package": "chgnet", "package_version": package, "model_version": version,
                   "checkpoint": f"pretrained/{version}/{path.name}", "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                   "read_with": "torch.load(weights_only=True)"},
        "licence": "Modified BSD (chgnet's LICENSE, (c) 2023 The Regents of the University of California, "
                   "through Lawrence Berkeley National Laboratory)",
        "licence_text": licence_text(),
        "citation": CITATION,
        "layers": "one per interaction block: its atom features averaged over the crystal's atoms (the last "
                  "after the readout norm, as CHGNet's crystal feature vector; pooling='model' gives that exactly)",
    }
    descriptor = get_descriptor("crystal_structure")
    return SourceModel(model_id=f"chgnet-{version.replace('.', '-')}", estimator=estimator,
                       descriptor=descriptor.spec, columns=np.zeros(0, dtype=np.int64), info=info)


def publish_chgnet(hub: Any = None, versions: tuple[str, ...] = ("0.3.0",)) -> list[str]:
    """Import the CHGNet ``versions`` and publish them into model set :data:`MODELSET` of ``hub``.

    Parameters
    ----------
    hub : str, Path, Hub or None
        Where to publish (default hub when None).
    versions : tuple of str, default ("0.3.0",)
        Packaged checkpoints to import.

    Returns
    -------
    list of str
        The published model ids.

    Examples
    --------
    >>> publish_chgnet("/tmp/hub")                          # doctest: +SKIP
    ['chgnet-0-3-0']
    """
    from mdl.hub import open_hub

    models = [import_chgnet(v) for v in versions]
    meta = {"source": "chgnet wheel (pretrained checkpoints)", "citation": CITATION}
    return open_hub(hub).publish(models, MODELSET, meta=meta, progress=False)


__all__ = ["CITATION", "MODELSET", "checkpoint_file", "import_chgnet", "import_estimator", "publish_chgnet", "read_checkpoint"]
