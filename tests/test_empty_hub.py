"""No silent emptiness: a hub that does not exist, or holds no model, is an error that names it and says
how to fill it (and reading creates nothing); closed choices list their values; unknown ids suggest near ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import mdl
from mdl.errors import EmptyHubError, HubError, HubNotFoundError, InvalidInputError, ModelNotFoundError
from mdl.hub import LocalHub, open_hub
from mdl.hub.index import search_choices
from mdl.hub.mirror import mirror

#: the three ways to fill a hub every missing or empty hub error names
FILLS = ("mdl zoo build starter", "make demo", "mdl zoo build --reference", "mdl mirror")


def _says_how_to_fill(message: str, address: Path) -> bool:
    return all(fill in message for fill in FILLS) and f"MDL_HUB={address} make demo" in message


@pytest.fixture
def empty(tmp_path) -> LocalHub:
    (tmp_path / "empty").mkdir()
    return LocalHub(tmp_path / "empty")


@pytest.fixture
def published(hub, sources) -> LocalHub:
    mdl.publish(list(sources.values()), modelset="t-gap", hub=hub, progress=False)
    return hub


def test_reading_a_hub_that_does_not_exist_is_an_error_and_creates_nothing(tmp_path, target):
    nohub = tmp_path / "nohub"
    smiles, y = target
    reads = {
        "search": lambda: mdl.search(property="gap", hub=nohub),
        "pull": lambda: mdl.pull("t-gap-nn-0000", hub=nohub),
        "pull many": lambda: mdl.pull(["t-gap-nn-0000"], hub=nohub),
        "screen": lambda: mdl.screen(smiles, y, property="gap", hub=nohub, progress=False),
        "transfer": lambda: mdl.transfer("t-gap-nn-0000", smiles, y, hub=nohub),
        "row": lambda: LocalHub(nohub).row("t-gap-nn-0000"),
        "index": lambda: LocalHub(nohub).index(missing_ok=False),
        "mirror source": lambda: mirror(nohub, tmp_path / "copy", progress=False),
    }
    for name, read in reads.items():
        with pytest.raises(HubNotFoundError) as err:
            read()
        assert str(err.value).startswith(f"hub {nohub} does not exist"), name
        assert _says_how_to_fill(str(err.value), nohub), name
        assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, HubError)
    assert list(tmp_path.iterdir()) == []  # no hub folder, no .lock, no mirror destination


def test_the_default_hub_that_was_never_filled_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("MDL_HUB", str(tmp_path / "fresh"))
    with pytest.raises(HubNotFoundError, match=re.escape(f"MDL_HUB={tmp_path / 'fresh'} make demo")):
        mdl.search(property="band gap", material="inorganic", min_r2=0.5)
    assert not (tmp_path / "fresh").exists()


def test_an_empty_hub_says_it_is_empty_and_how_to_fill_it(empty, target):
    smiles, y = target
    reads = {
        "search": lambda: mdl.search(hub=empty),
        "pull": lambda: mdl.pull("t-gap-nn-0000", hub=empty),
        "screen": lambda: mdl.screen(smiles, y, material="molecule", hub=empty, progress=False),
        "transfer": lambda: mdl.transfer("t-gap-nn-0000", smiles, y, hub=empty),
        "finetune": lambda: mdl.finetune("t-gap-nn-0000", smiles, y, hub=empty),
        "mirror source": lambda: mirror(empty, empty.root.parent / "copy", progress=False),
    }
    for name, read in reads.items():
        with pytest.raises(EmptyHubError) as err:
            read()
        assert str(err.value).startswith(f"hub {empty.root} is empty: it holds no model yet"), name
        assert _says_how_to_fill(str(err.value), empty.root), name
        assert isinstance(err.value, LookupError)
    assert list(empty.root.iterdir()) == [] and not (empty.root.parent / "copy").exists()


def test_a_write_creates_the_hub(tmp_path, sources):
    """Publishing, and mirroring into a destination that does not exist yet, create the hub."""
    fresh = tmp_path / "a" / "b"
    assert len(LocalHub(fresh).index()) == 0 and not fresh.exists()  # what a writer reads before its first publish
    assert mdl.publish(sources["rf"], modelset="t-gap", hub=fresh, progress=False) == ["t-gap-rf-0000"]
    assert mirror(fresh, tmp_path / "copy", progress=False).copied == ["t-gap-rf-0000"]
    assert mdl.search(hub=tmp_path / "copy")["model_id"].tolist() == ["t-gap-rf-0000"]


def test_filters_matching_nothing_give_an_empty_frame_and_the_values_there_are(published):
    hits = mdl.search(property="band gap", hub=published)
    assert hits.empty and "model_id" in hits.columns
    assert search_choices(published.index()) == {"material": ["molecule"], "property": ["gap"],
                                                 "descriptor": ["morgan"], "model_type": ["nn", "rf"]}


def test_unknown_materials_and_model_types_list_the_valid_ones(published, target, tmp_path):
    smiles, y = target
    listed = r"unknown material 'crystal'; use one of 'inorganic', 'molecule', 'polymer'$"
    for call in (lambda: mdl.search(material="crystal", hub=published),
                 lambda: mdl.screen(smiles, y, material="crystal", hub=published, progress=False),
                 lambda: mdl.search(material="crystal", hub=tmp_path / "nohub")):  # before the hub is read
        with pytest.raises(InvalidInputError, match=listed):
            call()
    assert len(mdl.search(material="Molecule", hub=published)) == 2
    with pytest.raises(InvalidInputError, match=r"unknown model_type 'svm'; use one of 'boosting', .*'rf', "):
        mdl.search(model_type="svm", hub=published)


def test_an_unknown_model_id_suggests_near_ones(published, target):
    smiles, y = target
    for call in (lambda: mdl.pull("t-gap-nn-000", hub=published),
                 lambda: published.row("t-gap-nn-000"),
                 lambda: mdl.transfer("t-gap-nn-000", smiles, y, hub=published),
                 lambda: mirror(published, published.root.parent / "copy", ["t-gap-nn-000"], progress=False)):
        with pytest.raises(ModelNotFoundError) as err:
            call()
        assert str(err.value) == (f"no model 't-gap-nn-000' in hub {published.root}; "
                                  "did you mean t-gap-nn-0000 or t-gap-rf-0000?")
        assert err.value.suggestions == ["t-gap-nn-0000", "t-gap-rf-0000"]
    with pytest.raises(ModelNotFoundError) as err:
        mdl.pull("qm9-homo-elastic-net", hub=published)
    assert err.value.suggestions == [] and str(err.value).endswith(f"in hub {published.root}")


def test_the_hub_lock_is_a_cross_platform_file_lock(published):
    """No module of mdl imports fcntl (absent on Windows): the lock is filelock's, on ``<hub>/.lock``."""
    import filelock

    sources = [p for p in Path(mdl.__file__).parent.rglob("*.py")
               if re.search(r"^\s*(import fcntl|from fcntl )", p.read_text(), re.MULTILINE)]
    assert sources == []
    with published.locked():
        with pytest.raises(filelock.Timeout):
            filelock.FileLock(published.root / ".lock", timeout=0.1).acquire()
    with filelock.FileLock(published.root / ".lock", timeout=0.1):
        pass  # released when the block ended
