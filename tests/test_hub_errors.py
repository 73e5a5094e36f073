"""Hub errors carry where they happened (hub, model_id, file, revision) and are also the built-in exception
a caller who knows nothing of mdl would catch, as huggingface_hub's are (its EntryNotFoundError is a
FileNotFoundError carrying the repository and file)."""

from __future__ import annotations

import pickle

import pytest

from mdl.errors import (
    EmptyHubError,
    HubError,
    HubLocatedError,
    HubNotFoundError,
    IntegrityError,
    MDLError,
    ModelFormatError,
    ModelNotFoundError,
)
from mdl.hub import LocalHub
from mdl.hub.errors import (
    EntryNotFoundError,
    HubConflictError,
    HubUnreachableError,
    OfflineError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

#: each hub error and the built-in exceptions it must also be
BUILT_IN_PARENTS = {
    HubError: (),
    HubNotFoundError: (FileNotFoundError, OSError),
    EmptyHubError: (LookupError,),
    ModelNotFoundError: (KeyError, LookupError),
    IntegrityError: (ValueError,),
    ModelFormatError: (ValueError,),
    HubUnreachableError: (ConnectionError, OSError),
    RepositoryNotFoundError: (FileNotFoundError, OSError),
    RevisionNotFoundError: (LookupError,),
    EntryNotFoundError: (FileNotFoundError, OSError),
    OfflineError: (ConnectionError, OSError),
    HubConflictError: (),
}
WHERE = {"hub": "hf://org/registry", "model_id": "set-nn-0000", "file": "config.json", "revision": "abc123"}


@pytest.mark.parametrize("kind", [k for k in BUILT_IN_PARENTS if k is not ModelFormatError],
                         ids=lambda k: k.__name__)
def test_each_hub_error_is_its_built_in_and_carries_where(kind):
    err = kind("org/set@abc123: config.json: file not found", **WHERE)
    for parent in (MDLError, HubLocatedError, *BUILT_IN_PARENTS[kind]):
        assert isinstance(err, parent), parent
    assert issubclass(kind, HubError) != (kind is IntegrityError)   # a checksum is not the hub failing
    assert {name: getattr(err, name) for name in WHERE} == WHERE
    assert str(err) == "org/set@abc123: config.json: file not found"   # not OSError's "[Errno ...]", not quoted
    with pytest.raises(next(iter(BUILT_IN_PARENTS[kind]), HubError)):  # caught by the built-in alone
        raise err
    copy = pickle.loads(pickle.dumps(err))   # a worker process can hand it back whole
    assert type(copy) is kind and str(copy) == str(err) and copy.file == "config.json"


@pytest.mark.parametrize("kind", list(BUILT_IN_PARENTS), ids=lambda k: k.__name__)
def test_the_fields_are_optional_so_every_existing_raise_still_works(kind):
    err = kind("what went wrong")
    assert str(err) == "what went wrong" and err.args == ("what went wrong",)
    assert (err.hub, err.revision) == ("", "")
    if kind is not ModelFormatError:
        assert (err.model_id, err.file) == ("", "")
    with pytest.raises(TypeError):   # the fields are keyword-only: a stray positional is an error, not a field
        kind("message", (), "hub", "model")


def test_model_not_found_keeps_its_suggestions_and_gains_fields():
    err = ModelNotFoundError("no model 'qm9-gap-nn-000' in hub /srv/zoo", ["qm9-gap-nn-0000"], hub="/srv/zoo",
                             model_id="qm9-gap-nn-000")
    assert str(err) == "no model 'qm9-gap-nn-000' in hub /srv/zoo; did you mean qm9-gap-nn-0000?"
    assert err.suggestions == ["qm9-gap-nn-0000"] and (err.hub, err.model_id) == ("/srv/zoo", "qm9-gap-nn-000")


def test_a_format_error_names_its_model_and_file_as_the_hub_fields():
    err = ModelFormatError("must be finite", model="m-0", file="weights.safetensors", field="values")
    assert str(err) == "model m-0: weights.safetensors: values: must be finite"
    assert (err.model, err.model_id, err.file, err.field) == ("m-0", "m-0", "weights.safetensors", "values")
    assert isinstance(err, IntegrityError) and isinstance(err, ValueError)


def test_a_real_missing_hub_and_model_are_caught_by_their_built_ins(tmp_path, sources):
    with pytest.raises(FileNotFoundError, match=f"hub {tmp_path / 'nohub'} does not exist"):
        LocalHub(tmp_path / "nohub").index(missing_ok=False)
    hub = LocalHub(tmp_path / "hub")
    hub.publish([sources["rf"]], modelset="t-gap")
    with pytest.raises(KeyError) as err:
        hub.row("t-gap-rf-9999")
    assert isinstance(err.value, HubError) and str(err.value).startswith("no model 't-gap-rf-9999' in hub")


def test_a_real_missing_hub_model_and_model_set_carry_where(tmp_path, sources):
    """The raise sites of the hubs pass the fields: a caller reads which hub and model without parsing text."""
    with pytest.raises(HubNotFoundError) as err:
        LocalHub(tmp_path / "nohub").index(missing_ok=False)
    assert err.value.hub == str(tmp_path / "nohub") and err.value.model_id == ""
    hub = LocalHub(tmp_path / "hub")
    hub.publish([sources["rf"]], modelset="t-gap")
    with pytest.raises(ModelNotFoundError) as err:
        hub.load("t-gap-rf-9999")
    assert (err.value.hub, err.value.model_id) == (hub.address, "t-gap-rf-9999")
    assert err.value.suggestions and err.value.suggestions[0].startswith("t-gap-rf-")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyHubError) as err:
        LocalHub(tmp_path / "empty").row("t-gap-rf-0000")
    assert err.value.hub == LocalHub(tmp_path / "empty").address


def test_a_broken_index_names_the_hub_and_the_index_file(tmp_path, sources):
    hub = LocalHub(tmp_path / "hub")
    hub.publish([sources["rf"]], modelset="t-gap")
    (tmp_path / "hub" / "index.parquet").write_bytes(b"not parquet")
    with pytest.raises(HubError, match="mdl hub repair") as err:
        LocalHub(tmp_path / "hub").index()
    assert (err.value.hub, err.value.file) == (hub.address, "index.parquet")
