"""Every file the polymer and crystal loaders read, pinned: where it comes from, its sha256, and how it is found.

A file is looked for, in this order and nowhere else:

1. the mirror ``$MDL_SHARED_DATA`` when that is set (a folder laid out like ``shared/data``:
   ``polymers/<set>/<file>``, ``crystals/<set>/<file>``); a file missing there is an error, never a download;
2. the files shipped inside this package (:data:`SHIPPED`: ``transpolymer_Nc``, 11.7 kB, MIT);
3. the cache ``$MDL_DATA_CACHE`` (``~/.cache/mdl/data``), checked against the pinned sha256;
4. a download with ``pooch`` from the file's pinned public address, kept in the cache only when its sha256
   matches, unless ``MDL_DATA_OFFLINE`` forbids it.

Each address names the origin repository at the commit its SOURCE.txt records: ``raw.githubusercontent.com``,
or for TransPolymer (whose repository stores Git LFS pointers) the LFS media address of the canonical
repository, whose object id is the sha256 pinned here. The ``optimal_ptft_*`` files were merged from many
per-trial files of their origin in a way SOURCE.txt does not pin down byte for byte, so they have no address:
they come from a mirror only, and the error says where they were made from.

Examples
--------
>>> entry = FILES["polymers/transpolymer_Nc", "Nc.csv"]
>>> entry.url.startswith("https://media.githubusercontent.com/media/ChangwenXu98/TransPolymer/8399d48")
True
>>> data_file("polymers/transpolymer_Nc", "Nc.csv").read_text().splitlines()[0]   # shipped: no network
'smiles,value'
>>> folder_version("polymers/transpolymer_Nc")[:7]
'8399d48'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mdl.config import DATA_OFFLINE_ENV, SHARED_DATA_ENV, data_cache_dir, environment, shared_data_dir
from mdl.errors import DataUnavailableError

__all__ = ["FILES", "SHIPPED", "DataFile", "available", "data_file", "fetch", "folder_version"]

#: The folder of the data files shipped inside the package (laid out like the mirror).
SHIPPED = Path(__file__).resolve().parent / "data"
#: Seconds a download may wait for the server (connect, then each read).
TIMEOUT_S = 60


@dataclass(frozen=True)
class DataFile:
    """One file a loader reads.

    Parameters
    ----------
    folder : str
        Its data set folder, relative to the mirror (``"polymers/transpolymer_Nc"``).
    name : str
        The file name in that folder.
    sha256 : str
        The sha256 of its bytes (hex).
    commit : str
        The origin commit the file is taken from: the data set's version.
    url : str
        Its pinned public address; "" for a file that only a mirror holds.
    origin : str
        Where it comes from, for people (the repository, and for a derived file how it was made).

    Examples
    --------
    >>> DataFile("polymers/x", "x.csv", "0" * 64, "1" * 40, "", "made here").downloadable
    False
    """

    folder: str
    name: str
    sha256: str
    commit: str
    url: str
    origin: str

    @property
    def downloadable(self) -> bool:
        """Whether the file has a public address to download it from."""
        return bool(self.url)

    @property
    def label(self) -> str:
        """``folder/name``, the file's path in a mirror."""
        return f"{self.folder}/{self.name}"


def _github(repo: str, commit: str, path: str, sha256: str, folder: str, *, lfs: bool = False) -> DataFile:
    host = "https://media.githubusercontent.com/media" if lfs else "https://raw.githubusercontent.com"
    return DataFile(folder, path.rsplit("/", 1)[-1], sha256, commit, f"{host}/{repo}/{commit}/{path}",
                    f"github.com/{repo} @ {commit[:7]}, {path}" + (" (Git LFS object)" if lfs else ""))


_TRANSPOLYMER = ("ChangwenXu98/TransPolymer", "8399d4816ce772b64deba34f4455d91d9a764b2a")
_NEURIPS = ("Asmaa6777/NeurIPS", "00c708c1fcc609a74173e658e0a684775a2c8c27")
_POLYVERSE = ("Ramprasad-Group/polyVERSE", "8463838bc1b7f74e63eab127f2341c1abf50b0ab")
_CROSSPROPTL = ("NU-CUCIS/CrossPropertyTL", "7258427fb5fe3cd8d34ece0fdfbd33f690d494a6")
_CDVAE = ("txie-93/cdvae", "f857f598d6f6cca5dc1ea0582d228f12dcc2c2ea")
_PTFT = ("sai-mat-group/transfer-learning-material-properties", "b21643f5a99fa0b3e9dc51bf49f6e0d812470d18")


def _ptft(code: str, sha256: str) -> DataFile:
    repo, commit = _PTFT
    return DataFile(f"crystals/optimal_ptft_{code}", f"{code}_union.json", sha256, commit, "",
                    f"merged from the per-trial JSON files of github.com/{repo} @ {commit[:7]} (listed in the "
                    "set's SOURCE.txt); no single file to download")


_TABLE: list[DataFile] = [
    *(_github(*_TRANSPOLYMER, f"data/{name}.csv", sha, f"polymers/transpolymer_{name}", lfs=True) for name, sha in [
        ("Egc", "d779e1777e7f25bf367dae2a2bf72659dba26345eb45dbc2cde73cdd461a9a14"),
        ("Egb", "14667622e0b600f434dcf65e39004bc0bd7b932e7340b8800f451644016e801e"),
        ("Eea", "3686258d43bed2aae744ccfaf9c7f8cc43867e2ae4d3816f3dacd43bc55c06b2"),
        ("Ei", "961bc75fd773457979df97562ec7a3f54188b09819e6d51aaf59d0ee8221d572"),
        ("Xc", "2a91afe2ced26e60e0ff5726bf742f251db2a9f8efe9ccb56b51abbce4911768"),
        ("EPS", "9f2aa17463c497cef4a171c78881e7b30ceff7d5a5850a9ec7ebff2f40b0ffcf"),
        ("Nc", "c21ee8b492ca14510ac6b52e556745e8cc033749f2d34c6b737fc71001f540f0"),
    ]),
    _github(*_NEURIPS, "Data/train.csv", "1f79c85c785698e8c3499d99721adfe3be9660a487f137a923dd34eb7ef845e1",
            "polymers/neurips2025_opp_train"),
    _github(*_NEURIPS, "Data/dataset1.csv", "17b229b256fe08dac2a5ac0b3fdb44686e3601221f54e14e565b234bc6ed5666",
            "polymers/neurips2025_opp_supp_Tc"),
    _github(*_NEURIPS, "Data/dataset4.csv", "b1b8ac021c9c0cf57f5316677e4a00d2507dc8acead89aa50e08023f6dc9be9d",
            "polymers/neurips2025_opp_supp_FFV"),
    *(_github(*_POLYVERSE, f"Other/{path}", sha, f"polymers/polyverse_{folder}") for folder, path, sha in [
        ("bandgap_chain", "bandgap_chain/bandgap_chain.csv",
         "4624950592aa7b3be480fec5abea682597569ebc0b02b9c56ceeadc88edcd5db"),
        ("bandgap_crystal", "bandgap_crystal/bandgap_crystal.csv",
         "afa8f0ef8c802537267af774b78922fb4f0c32ea05fbd1b390254f3d07592803"),
        ("charge_injection_barrier", "charge_injection_barrier/charge_injection_barrier.csv",
         "02d43de0bcc005d9fbe2fca78cd7fc9274bf9449a4be4bcd8c6b66c2c788608c"),
        ("cohesive_energy_density", "Cohesive_energy_density/Cohesive_energy_density_2025_06_23.csv",
         "3a42aaa7550eeb07bf745df982aa88c0710e982080a6357add486367aec3417b"),
        ("atomization_enthalpy", "Atomization_enthalpy/atomization_enthalpy_202412051524.csv",
         "6104cdb4b84cd6aba09bb5ab10af0ca034373f566d482eecf0efe4d487e2d812"),
    ]),
    *(_github(*_CROSSPROPTL, f"data/{path}", sha, f"crystals/crossproptl_{folder}") for folder, path, sha in [
        ("expt_bandgap", "expt_bandgap/expt_bandgap_training_set.csv",
         "57fa671792945cafb9a6d206c63521761aa12bb3e46122fb792b3d0eb3521a7b"),
        ("expt_bandgap", "expt_bandgap/expt_bandgap_test_set.csv",
         "5daa60e8b8e11c2c05f0dfe325f1ac0eb406eaed68f1eeb2c6437aab8e1ec243"),
        ("expt_formation_energy", "expt_deltae/expt_deltae_training_set.csv",
         "6fb5be8a8f637e53befc1c40e861ce45f9c71f8f77f43ffed2dba8e01eca8bbc"),
        ("expt_formation_energy", "expt_deltae/expt_deltae_test_set.csv",
         "6211631cef23d46cfe50ea71fecf33d896d44ff627517b8591cbda3f0a912bf1"),
    ]),
    *(_github(*_CDVAE, f"data/{path}", sha, f"crystals/cdvae_{folder}") for folder, path, sha in [
        ("perov5", "perov_5/val.csv", "326f401219901270374b71e2faff63df3a29a99fd26f469993b9f476b693daf2"),
        ("perov5", "perov_5/test.csv", "a85878c685037f0a578257f6d4fcdde00e968dbab73c5f1e90ecef65218513f6"),
        ("carbon24", "carbon_24/val.csv", "36c00689cd63073c954a58bc6ed6e2adb7aeed5a630c994970959a1babffd50e"),
        ("carbon24", "carbon_24/test.csv", "386b17c08816f434818d51e46687bf72ff3f92348f3ba24823e4758f1fe8a969"),
    ]),
    _ptft("bg", "15da1d20e0cf99703541edbaed5a00a0e7801e491ca72ef03a040f50811707d3"),
    _ptft("fe", "1c538985b8a0dc1e3b03e241ae416090284bec0800280114446f5a13768398ce"),
    _ptft("gv", "0e3ca75484a5e0c323eaae9f000d3dd1abd849aeb9bb9b4ca7a111428257308b"),
    _ptft("ph", "c7ee0de92266a4d6c257cdb8c8f14e653d654fdbc4d6ab90c16d6800919c7d0b"),
    _ptft("ebg", "4c38e6878ed6e8824ba2a33325ba238a8f2c32d0ab4a9dc77bc553f59cb19b2a"),
]

#: Every file the polymer and crystal loaders read, by (folder, file name).
FILES: dict[tuple[str, str], DataFile] = {(f.folder, f.name): f for f in _TABLE}


def _entry(folder: str, name: str) -> DataFile:
    try:
        return FILES[folder, name]
    except KeyError:
        raise KeyError(f"{folder}/{name} is not in mdl.datasets.remote.FILES") from None


def folder_version(folder: str) -> str:
    """The origin commit of a data set folder: the version its loader reports.

    Parameters
    ----------
    folder : str
        A folder of :data:`FILES` (``"crystals/cdvae_perov5"``).

    Returns
    -------
    str
        The 40-character commit.

    Examples
    --------
    >>> folder_version("crystals/cdvae_perov5")[:7]
    'f857f59'
    """
    (commit,) = {f.commit for f in _TABLE if f.folder == folder}
    return commit


def _sha256(path: Path) -> str:
    import pooch

    return pooch.file_hash(str(path), alg="sha256")


def fetch(entry: DataFile) -> Path:
    """The local path of a data file: mirror, else shipped, else cache, else a verified download.

    Parameters
    ----------
    entry : DataFile
        The file (usually from :data:`FILES`; tests pass their own address).

    Returns
    -------
    Path
        A readable file whose bytes are the pinned ones (a mirror is trusted as it is; the cache and
        downloads are checked against ``entry.sha256``).

    Raises
    ------
    DataUnavailableError
        When the mirror lacks the file; when it is not shipped or cached and cannot be downloaded (no
        address, ``MDL_DATA_OFFLINE``, an unreachable server, a wrong checksum: then nothing is cached).

    Examples
    --------
    >>> fetch(FILES["polymers/transpolymer_Nc", "Nc.csv"]).stat().st_size
    11758
    """
    mirror = shared_data_dir()
    if mirror is not None:
        path = mirror / entry.folder / entry.name
        if path.is_file():
            return path
        raise DataUnavailableError(
            f"{entry.name} is not in the mirror {mirror} named by {SHARED_DATA_ENV}; copy it there "
            f"({entry.url or entry.origin}) or unset {SHARED_DATA_ENV}",
            dataset=entry.folder, url=entry.url, setting=SHARED_DATA_ENV)
    shipped = SHIPPED / entry.folder / entry.name
    if shipped.is_file():
        return shipped
    if not entry.downloadable:
        raise DataUnavailableError(
            f"{entry.name} is {entry.origin}: set {SHARED_DATA_ENV} to a folder holding {entry.label}",
            dataset=entry.folder, setting=SHARED_DATA_ENV)
    cached = data_cache_dir() / entry.folder / entry.name
    if environment().data_offline:
        if cached.is_file() and _sha256(cached) == entry.sha256:
            return cached
        state = "is not cached" if not cached.is_file() else "is cached with the wrong sha256"
        raise DataUnavailableError(
            f"{entry.name} {state} in {cached.parent} and {DATA_OFFLINE_ENV} forbids downloading it from "
            f"{entry.url}; unset it, or set {SHARED_DATA_ENV} to a folder holding {entry.label}",
            dataset=entry.folder, url=entry.url, setting=DATA_OFFLINE_ENV)
    return _download(entry, cached)


def _download(entry: DataFile, cached: Path) -> Path:
    """``pooch.retrieve`` into the cache: nothing is fetched when the cached copy verifies, and a download
    whose sha256 differs is deleted before it reaches the cache."""
    import pooch
    import requests

    try:
        path = pooch.retrieve(entry.url, known_hash=f"sha256:{entry.sha256}", fname=entry.name,
                              path=cached.parent, progressbar=False,
                              downloader=pooch.HTTPDownloader(progressbar=False, timeout=TIMEOUT_S))
    except ValueError as exc:  # pooch's checksum mismatch
        if "hash" not in str(exc).lower():
            raise
        raise DataUnavailableError(
            f"{entry.name} downloaded from {entry.url} does not match its pinned sha256 {entry.sha256[:16]}...: "
            f"refused, nothing cached; set {SHARED_DATA_ENV} to a folder holding a verified {entry.label}",
            dataset=entry.folder, url=entry.url, setting=SHARED_DATA_ENV) from exc
    except requests.RequestException as exc:
        raise DataUnavailableError(
            f"{entry.name} could not be downloaded from {entry.url} ({type(exc).__name__}); "
            f"set {SHARED_DATA_ENV} to a folder holding {entry.label}",
            dataset=entry.folder, url=entry.url, setting=SHARED_DATA_ENV) from exc
    return Path(path)


def data_file(folder: str, name: str) -> Path:
    """The local path of one of :data:`FILES`, found as :func:`fetch` finds it.

    Parameters
    ----------
    folder : str
        The data set folder (``"polymers/transpolymer_Nc"``).
    name : str
        The file name.

    Returns
    -------
    Path
        The file.

    Raises
    ------
    DataUnavailableError
        As :func:`fetch`.
    KeyError
        For a file not in :data:`FILES`.

    Examples
    --------
    >>> data_file("polymers/transpolymer_Nc", "Nc.csv").name
    'Nc.csv'
    """
    return fetch(_entry(folder, name))


def available(folder: str, name: str) -> bool:
    """Whether a file of :data:`FILES` can be read now without a download (mirror, package or verified cache).

    Parameters
    ----------
    folder, name : str
        The file, as in :func:`data_file`.

    Returns
    -------
    bool
        True when :func:`data_file` would return without touching the network.

    Examples
    --------
    >>> available("polymers/transpolymer_Nc", "Nc.csv")   # shipped with the package
    True
    """
    entry = _entry(folder, name)
    mirror = shared_data_dir()
    if mirror is not None:
        return (mirror / entry.folder / entry.name).is_file()
    cached = data_cache_dir() / entry.folder / entry.name
    return (SHIPPED / entry.folder / entry.name).is_file() or (cached.is_file() and _sha256(cached) == entry.sha256)
