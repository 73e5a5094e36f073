"""`mdl hub catalogue`: the static site of a hub, its data checked against the index, and the site used in
a real browser (Debian's headless Chromium driven by selenium through chromium-driver)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

import mdl
from mdl.catalogue import write_catalogue
from mdl.catalogue.data import modelset_summaries, r2_by_property
from mdl.cli import main
from mdl.errors import InvalidInputError
from mdl.hub import LocalHub

EVIL = "<script>alert('hub')</script> & <b>bold</b>"


def _copy(model, model_id):
    return type(model)(model_id=model_id, estimator=model.estimator, descriptor=model.descriptor,
                       columns=model.columns, info=model.info)


@pytest.fixture(scope="module")
def zoo(tmp_path_factory, sources):
    """Two model sets: t-gap (a network and a forest) and t-other (a forest whose set's texts are markup)."""
    hub = LocalHub(tmp_path_factory.mktemp("zoo") / "hub")
    mdl.publish(list(sources.values()), modelset="t-gap", hub=hub, progress=False,
                meta={"license": "CC-BY-4.0", "source": "QM9 (Ramakrishnan et al. 2014)"})
    mdl.publish(_copy(sources["rf"], "t-other-rf-0000"), modelset="t-other", hub=hub, progress=False,
                meta={"license": "MIT", "description": EVIL, "source": EVIL})
    return hub


@pytest.fixture(scope="module")
def site(zoo, tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "catalogue"
    report = write_catalogue(zoo, out, progress=False)
    assert (report.models, report.modelsets, report.curves) == (3, 2, 1)
    return out


def _table(site: Path) -> pd.DataFrame:
    text = (site / "models.js").read_text()
    assert text.startswith("window.MDL_CATALOGUE = ") and text.endswith(";\n")
    data = json.loads(text[len("window.MDL_CATALOGUE = "):-2])
    return pd.DataFrame(data["rows"], columns=data["columns"])


def test_the_table_holds_every_model_with_the_index_numbers(zoo, site):
    index = zoo.index().set_index("model_id")
    table = _table(site).set_index("model_id")
    assert sorted(table.index) == sorted(index.index) == ["t-gap-nn-0000", "t-gap-rf-0000", "t-other-rf-0000"]
    for column in ("modelset", "property", "unit", "material", "family", "descriptor", "n_train"):
        assert table[column].to_dict() == index.loc[table.index, column].to_dict(), column
    for column in ("r2", "mae", "rmse"):
        assert table[column].tolist() == pytest.approx(index.loc[table.index, column].tolist(), rel=1e-5)


def test_the_overview_summarises_each_model_set_from_the_index(zoo, site):
    index = zoo.index()
    summaries = {s["modelset"]: s for s in modelset_summaries(index, {m: zoo.modelset_meta(m)
                                                                      for m in ("t-gap", "t-other")})}
    gap = summaries["t-gap"]
    assert gap["families"] == {"nn": 1, "rf": 1} and gap["license"] == "CC-BY-4.0" and gap["unit"] == "eV"
    assert gap["n_train"] == [int(index["n_train"].min()), int(index["n_train"].max())]
    nn_r2 = float(index.loc[index["model_id"] == "t-gap-nn-0000", "r2"].iloc[0])
    assert gap["r2"]["nn"] == pytest.approx({"min": nn_r2, "median": nn_r2, "max": nn_r2}, rel=1e-5)
    assert summaries["t-other"]["families"] == {"rf": 1} and summaries["t-other"]["license"] == "MIT"
    page = (site / "index.html").read_text()
    for name in ("t-gap", "t-other", "CC-BY-4.0", "MIT", "qm9", "gap"):
        assert name in page
    assert f"{nn_r2:.3f} [{nn_r2:.3f}, {nn_r2:.3f}]" in page
    # one figure of every property side by side and one per property, as static SVG
    assert len(r2_by_property(index)) == 3
    plots = sorted(p.name for p in (site / "plots").iterdir())
    assert plots == ["all-properties.svg", "property-000.svg"]
    assert all((site / "plots" / p).read_text().lstrip().startswith("<?xml") for p in plots)
    assert 'src="plots/all-properties.svg"' in page and 'src="plots/property-000.svg"' in page


def test_each_model_has_a_page_with_its_card_files_curve_and_usage(zoo, site, sources):
    for model_id in ("t-gap-nn-0000", "t-gap-rf-0000", "t-other-rf-0000"):
        row = zoo.row(model_id)
        page = (site / "models" / f"{model_id}.html").read_text()
        for name, digest in json.loads(row["files"]).items():
            assert f"{row['path']}/{name}</code></td><td><code>{digest}</code>" in page
        assert f"mdl pull {model_id} --hub {zoo.address}" in page
        assert f"mdl.transfer(&#34;{model_id}&#34;, X, y, hub=&#34;{zoo.address}&#34;)" in page
        for key, value in json.loads(row["hyperparameters"]).items():
            assert f"<th>{key}</th><td><code>{json.dumps(value)}</code>" in page
        assert f"{row['r2']:.6g}" in page and row["dataset_hash"] in page
    curve = sources["nn"].info["training"]["validation_loss"]
    nn = (site / "models" / "t-gap-nn-0000.html").read_text()
    best = curve.index(min(curve)) + 1
    assert nn.count('<svg xmlns="http://www.w3.org/2000/svg" class="curve"') == 1
    assert f"best epoch {best} of {len(curve)}" in nn
    assert "<svg" not in (site / "models" / "t-gap-rf-0000.html").read_text()
    assert "CC-BY-4.0" in nn and "QM9 (Ramakrishnan et al. 2014)" in nn


def test_text_from_the_hub_is_escaped_and_nothing_is_fetched(site):
    pages = [site / "index.html", site / "models.html", *sorted((site / "models").iterdir())]
    other = (site / "models" / "t-other-rf-0000.html").read_text()
    assert "&lt;script&gt;alert(&#39;hub&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in other
    for page in pages:
        text = page.read_text()
        assert "<script>alert" not in text and "<b>bold" not in text, page
        for link in re.findall(r'(?:src|href)="([^"]*)"', text):
            assert "://" not in link and not link.startswith("//"), (page, link)  # every file is in the site
    assert "<script>" not in (site / "models.js").read_text()  # JSON escapes nothing here, but holds no markup


def test_writing_again_replaces_a_catalogue_and_refuses_other_folders(zoo, tmp_path, capsys):
    out = tmp_path / "site"
    assert main(["hub", "catalogue", "--hub", zoo.address, "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out.startswith(f"catalogue of 3 models in 2 model sets written to {out} (index.html)")
    (out / "models" / "stale-model.html").write_text("from an earlier hub")
    assert main(["hub", "catalogue", "--hub", zoo.address, "--out", str(out), "--quiet"]) == 0
    assert sorted(p.stem for p in (out / "models").iterdir()) == ["t-gap-nn-0000", "t-gap-rf-0000", "t-other-rf-0000"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(InvalidInputError, match="holds other files"):
        write_catalogue(zoo, mine, progress=False)
    assert (mine / "notes.txt").read_text() == "keep me"
    assert main(["hub", "catalogue", "--hub", str(tmp_path / "nothing"), "--out", str(tmp_path / "s2")]) == 2
    assert capsys.readouterr().err.startswith(f"mdl: error: hub {tmp_path / 'nothing'} does not exist")


def test_a_config_that_does_not_verify_shows_no_curve_and_says_why(zoo, tmp_path):
    copy = tmp_path / "hub"
    shutil.copytree(zoo.root, copy)
    config = copy / "t-gap" / "models" / "t-gap-nn-0000" / "config.json"
    config.write_bytes(config.read_bytes().replace(b'"validation_loss": [', b'"validation_loss": [0.0, '))
    report = write_catalogue(copy, tmp_path / "site", progress=False)
    page = (tmp_path / "site" / "models" / "t-gap-nn-0000.html").read_text()
    assert report.curves == 0 and "<svg" not in page and "Not shown: model t-gap-nn-0000" in page
    assert "sha256 mismatch" in page


# -- a Hugging Face registry: the index and the model-set records only ------------------------------
def test_a_registry_catalogue_downloads_no_weights(tmp_path, monkeypatch, sources):
    pytest.importorskip("olah", reason="olah (pip install -e '.[dev]') runs the loopback Hub server")
    if shutil.which("git") is None:
        pytest.skip("git is needed to write the repositories the loopback server serves")
    from hubserver import HubServer

    from mdl.hub import HFHub

    cache = tmp_path / "hf-cache"
    with HubServer(tmp_path / "olah") as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv("HF_HUB_CACHE", str(cache))
        for name in ("HF_HUB_OFFLINE", "HF_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        address = "hf://tcatalogue/registry"
        mdl.publish(list(sources.values()), modelset="t-gap", hub=HFHub(address, writer=server.writer),
                    progress=False, meta={"license": "CC-BY-4.0"})
        report = write_catalogue(address, tmp_path / "site", progress=False)
    assert (report.models, report.modelsets, report.curves) == (2, 1, 0)
    fetched = sorted(p.name for p in cache.rglob("*") if p.is_file() and "snapshots" in p.parts)
    assert fetched == ["index.parquet", "modelset.json"]  # no config.json, no weights
    nn = (tmp_path / "site" / "models" / "t-gap-nn-0000.html").read_text()
    assert "Not shown for a Hugging Face registry" in nn and "CC-BY-4.0" in nn
    assert f"mdl pull t-gap-nn-0000 --hub {address}" in nn
    assert sorted(_table(tmp_path / "site")["model_id"]) == ["t-gap-nn-0000", "t-gap-rf-0000"]


# -- a real browser ------------------------------------------------------------------------------
def _chromium() -> tuple[str, str] | None:
    found = shutil.which("chromium"), shutil.which("chromedriver")
    return found if all(found) else None


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium under selenium (installed with apt-get when missing and possible)."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (pip install -e '.[dev]') drives Chromium")
    if _chromium() is None:
        if shutil.which("apt-get") is None or os.geteuid() != 0:
            pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
        install = ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"]
        for command in (["apt-get", "update", "-qq"], install):
            subprocess.run(command, check=False, capture_output=True, timeout=900,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if _chromium() is None:
            pytest.skip("apt-get could not install chromium and chromium-driver")
    chromium, chromedriver = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=chromedriver))
    try:
        yield driver
    finally:
        driver.quit()


def _wait(condition, seconds: float = 10.0):
    end = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > end:
            return value
        time.sleep(0.05)


def test_in_a_browser_the_search_filters_the_table_and_a_model_page_opens(browser, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    def ids() -> list[str]:
        return [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#models tbody tr td:first-child a")]

    browser.get((site / "models.html").as_uri())
    status = browser.find_element(By.ID, "status")
    assert _wait(lambda: "3 matching models" in status.text), status.text
    assert sorted(ids()) == ["t-gap-nn-0000", "t-gap-rf-0000", "t-other-rf-0000"]
    search = browser.find_element(By.ID, "search")
    search.send_keys("other")
    assert _wait(lambda: ids() == ["t-other-rf-0000"]), ids()
    assert status.text == "1–1 of 1 matching models (3 in all)"
    search.clear()
    search.send_keys("nothing-like-this")
    assert _wait(lambda: ids() == []) and status.text == "no model matches (3 in all)"
    search.clear()
    search.send_keys(" ")  # an input event with an empty query: every model again
    assert _wait(lambda: len(ids()) == 3)
    Select(browser.find_element(By.ID, "filter-family")).select_by_value("rf")
    assert _wait(lambda: sorted(ids()) == ["t-gap-rf-0000", "t-other-rf-0000"])
    assert "family=rf" in browser.current_url  # the state is in the address, to share or go back to
    Select(browser.find_element(By.ID, "filter-family")).select_by_value("")
    header = browser.find_element(By.CSS_SELECTOR, 'th[data-column="model_id"]')
    header.click()
    assert _wait(lambda: ids() == ["t-gap-nn-0000", "t-gap-rf-0000", "t-other-rf-0000"])
    header.click()
    assert _wait(lambda: ids() == ["t-other-rf-0000", "t-gap-rf-0000", "t-gap-nn-0000"])
    assert header.get_attribute("aria-sort") == "descending"

    browser.find_element(By.LINK_TEXT, "t-gap-nn-0000").click()
    assert _wait(lambda: browser.title.startswith("t-gap-nn-0000"))
    assert browser.find_element(By.CSS_SELECTOR, "h1").text == "t-gap-nn-0000"
    assert browser.find_element(By.CSS_SELECTOR, "svg.curve").is_displayed()
    assert "mdl pull t-gap-nn-0000" in browser.find_element(By.CSS_SELECTOR, "pre.usage").text

    browser.get((site / "index.html").as_uri())
    images = browser.find_elements(By.CSS_SELECTOR, "figure img")
    assert len(images) == 2
    for image in images:
        browser.execute_script("arguments[0].scrollIntoView()", image)
        assert _wait(lambda image=image: browser.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth > 0", image)), image.get_attribute("src")
    browser.find_element(By.LINK_TEXT, "t-other").click()  # a model set's row opens the table filtered to it
    assert _wait(lambda: ids() == ["t-other-rf-0000"]), ids()
    errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
    assert errors == []
