"""Reading, running and judging apart (issue 41): `ssllib.records` reads and never trains or writes;
the judges take records and read no file."""
import builtins
import io
import os
import pathlib

import pytest

from ssllib import accuracy, records, runner, train
from ssllib.plan import at_length
from ssllib.results import entry_path
from ssllib.verdicts import claims_for


def _no_files(*args, **kwargs):
    raise AssertionError(f"a judge touched the file system: {args[:1]}")


@pytest.mark.parametrize("chapter", ["table2", "table5"])
def test_every_verdict_of_a_chapter_is_computed_from_records_in_memory(chapter, monkeypatch):
    """The committed records of the chapter's trained length (and the other items of its Holm
    family) read once, curves included; then every claim judged again with every way of reading a
    file patched to fail: the same verdicts, reasons and numbers."""
    from ssllib.data import REPO_ROOT

    length = "cpu_long"
    monkeypatch.setenv("SSLLIB_RESULTS", str(REPO_ROOT / "results"))  # the committed records, read only
    family = {name: records.with_curves(records.load(name, length))
              for name in dict.fromkeys([chapter] + [c.experiment for c in at_length(length, "cifar10")])}
    if not family[chapter]:
        pytest.skip(f"no committed {chapter} record at {length}")
    expected = claims_for(chapter, family[chapter], others=family)
    with monkeypatch.context() as patch:
        for target, name in ((builtins, "open"), (io, "open"), (os, "open"), (os, "stat"), (os, "listdir"),
                             (os, "scandir"), (pathlib.Path, "open"), (pathlib.Path, "read_text"),
                             (pathlib.Path, "read_bytes"), (pathlib.Path, "stat"), (pathlib.Path, "exists"),
                             (pathlib.Path, "glob"), (pathlib.Path, "iterdir")):
            patch.setattr(target, name, _no_files)
        accuracy._family_records.cache_clear()
        again = claims_for(chapter, family[chapter], others=family)
    assert again == expected and len(expected) >= 3
    assert {c["verdict"] for c in expected} - {""}  # every claim carries a verdict


def test_reading_never_trains_nor_writes_and_sees_a_record_that_lands(tiny, monkeypatch):
    calls = []
    with monkeypatch.context() as patch:
        patch.setattr(train.Trainer, "fit", lambda *a, **k: calls.append(1))
        assert records.find([tiny], "smoke") == ([], [f"{tiny.variant} (seed {tiny.seed})"])
    assert calls == [] and not entry_path(tiny, "smoke").parent.exists()
    made = runner.run_one(tiny, "smoke", progress=False)  # lands while this process has read the cache
    shared = records.shared_run(tiny.replace(experiment="fig3", variant="simsiam"), "smoke")
    assert shared is not None and shared["metrics"] == made["metrics"]  # the scan's memo saw it
    assert records.find([tiny], "smoke") == ([made], [])


def test_a_record_carrying_its_curve_is_never_written_with_it(tiny):
    made = runner.run_one(tiny, "smoke", progress=False)
    [with_curve] = records.with_curves([made])
    assert with_curve["curve"] and "curve" not in made
    from ssllib.results import read_entry, rewrite_entry
    path = entry_path(tiny, "smoke")
    rewrite_entry(with_curve, path)
    assert "curve" not in read_entry(path)


def test_a_run_trained_under_its_own_record_replaces_the_shared_one(tiny, monkeypatch):
    """Issue 38, item 5: a shared run the same key would not give again (a record of an older commit)
    is replaced by training the config under its own name (`--own-record`): shared before, its own
    record after, found first by every later read."""
    a = tiny.replace(experiment="table4", variant="both")
    b = tiny.replace(experiment="fig3", variant="simsiam")
    runner.run_one(a, "smoke", progress=False)
    assert records.lookup(b, "smoke")[0]["reused_from"].startswith("table4/")
    calls = []
    real_fit = train.Trainer.fit
    monkeypatch.setattr(train.Trainer, "fit", lambda self, *x, **k: calls.append(1) or real_fit(self, *x, **k))
    own = runner.run_one(b, "smoke", progress=False, share=False)
    assert calls == [1] and "reused_from" not in own and entry_path(b, "smoke").exists()
    assert records.lookup(b, "smoke")[0] == own
    assert runner.run_one(b, "smoke", progress=False, share=False) == own and calls == [1]  # not trained twice


def test_a_chapter_judges_its_records_once_however_often_it_reads_them(monkeypatch):
    """The opening verdicts (`chapter.lead`) and the long-length section each read the chapter's
    records; the claims are judged once per set of records (by content, not by object)."""
    from ssllib import chapter
    from ssllib.data import REPO_ROOT

    monkeypatch.setenv("SSLLIB_RESULTS", str(REPO_ROOT / "results"))
    monkeypatch.setattr(chapter, "_JUDGED", {})
    calls = []
    monkeypatch.setattr(chapter, "claims_for", lambda name, rs, **kw: calls.append(name) or claims_for(name, rs, **kw))
    first, again = (chapter.Chapter("table4", "cpu_long", records.load("table4", "cpu_long")) for _ in range(2))
    assert first.records and first.records[0] is not again.records[0]
    assert chapter.verdicts_of(first) == chapter.verdicts_of(again) and calls == ["table4"]
    one_less = chapter.Chapter("table4", "cpu_long", again.records[1:])  # another set: judged afresh
    chapter.verdicts_of(one_less)
    assert calls == ["table4", "table4"]
