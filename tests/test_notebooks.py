"""CI executes every notebook through papermill at the smoke profile (plumbing, not science)."""
import os
from pathlib import Path

import pytest

pm = pytest.importorskip("papermill")
from ssllib.data import find_data_dir  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"), key=lambda p: p.stem == "scorecard")


def test_every_experiment_notebook_has_a_parameters_cell():
    import nbformat

    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        assert "profile" in tagged[0].source


@pytest.mark.notebooks
def test_notebooks_execute_at_smoke_profile(tmp_path):
    """Experiment notebooks train at smoke size into a temporary cache; the scorecard (last)
    then finds those results and computes verdicts from them."""
    dataset = "cifar10" if find_data_dir() else "synthetic"
    for path in NOTEBOOKS:
        params = {"profile": "smoke"}
        if path.stem != "scorecard":
            params |= {"dataset": dataset, "allow_train": True}
        out = tmp_path / path.name
        pm.execute_notebook(str(path), str(out), parameters=params, cwd=str(path.parent),
                            kernel_name="python3", progress_bar=False)
        assert out.stat().st_size > 0
    assert any((Path(os.environ["SSLLIB_RESULTS"]) / "smoke").rglob("*.json"))


def test_every_experiment_has_its_notebook_in_the_book():
    from ssllib.experiments import EXPERIMENTS

    toc = (ROOT / "_toc.yml").read_text()
    for exp in EXPERIMENTS.values():
        assert (ROOT / "notebooks" / exp.notebook).is_file(), exp.notebook
        assert f"book/_generated/{Path(exp.notebook).stem}" in toc, exp.notebook
