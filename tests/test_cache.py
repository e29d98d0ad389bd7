"""The result cache: hit, miss on any config change, corrupted entries rejected, force."""
import json

import pytest

from ssllib import records, runner, train
from ssllib.config import config_hash
from ssllib.results import CacheError, entry_path, read_entry


def run(cfg, **kw):
    return runner.run_one(cfg, "smoke", progress=False, **kw)


def test_record_has_the_agreed_keys(tiny):
    r = run(tiny)
    assert {"experiment", "profile", "config", "metrics", "provenance"} <= set(r)
    assert {"linear_acc", "knn_acc", "z_std", "m_o", "m_r", "collapsed", "spectral_auc"} <= set(r["metrics"])
    assert isinstance(r["metrics"]["collapsed"], bool)
    p = r["provenance"]
    for k in ("git_sha", "git_dirty", "torch", "python", "device", "data_source", "data_sha256",
              "wall_seconds", "images_per_s", "started", "ended"):
        assert k in p
    assert r["config"]["loss"] == "simsiam" and r["config"]["dataset"] == "synthetic"
    assert entry_path(tiny, "smoke").name == config_hash(tiny) + ".json"


def test_the_record_says_how_training_started(tiny):
    """A first attempt, or one whose checkpoint could not be used, says so in the record
    (a resumed one says where it resumed: tests/test_processes.py, with a stale lock and no
    checkpoint: 'started over')."""
    from ssllib.results import checkpoint_path

    first = run(tiny)
    assert first["train"]["start"] == "trained from the start"
    checkpoint_path(tiny, "smoke").write_bytes(b"damaged")
    again = runner._train_and_record(tiny, "smoke", entry_path(tiny, "smoke"), force=False, device="cpu",
                                          data=runner.load_dataset("synthetic"), progress=False)
    assert again["train"]["start"] == "started over: its checkpoint could not be used"
    assert again["metrics"] == first["metrics"]


def test_hit_never_retrains(tiny, monkeypatch):
    first = run(tiny)
    monkeypatch.setattr(train.Trainer, "fit", lambda *a, **k: pytest.fail("retrained on a hit"))
    assert run(tiny) == first


@pytest.mark.parametrize("change", [dict(seed=1), dict(loss="naive_siamese"), dict(width=8),
                                    dict(base_lr=0.25), dict(dataset="cifar10")])
def test_any_config_change_is_a_miss(tiny, change):
    assert config_hash(tiny.replace(**change)) != config_hash(tiny)


def test_logging_cadence_is_not_part_of_the_key(tiny):
    assert config_hash(tiny.replace(log_every=7, ckpt_every=9)) == config_hash(tiny)


DAMAGE = {  # what is done to a valid record -> what the one-line error must say
    "truncate": "unreadable", "curve": "does not match its checksum", "config": "checksum",
    "metrics": "missing metrics.m_r", "nan metric": "metrics.m_r is nan, not a finite number",
    "edited metric": "contents do not match its checksum", "string metric": "metrics.linear_acc is 'high'",
    "null": "the record is a NoneType", "list": "the record is a list", "metrics not a dict": "metrics is a list",
    "no train": "missing train", "no checksum": "no record checksum", "flipped bit": "contents do not match its checksum",
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_corrupted_entry_is_rejected_and_recomputed(tiny, damage, capsys):
    """Truncated, edited (a NaN, 99, a string), reshaped (null, [], metrics not an object),
    keys missing, checksum missing or bits flipped: each is named in one line, never read as valid."""
    first = run(tiny)
    path = entry_path(tiny, "smoke")
    if damage == "truncate":
        path.write_text(path.read_text()[:100])
    elif damage == "curve":
        curve = path.with_name(first["curve_file"])
        curve.write_text(curve.read_text() + "1,2,3\n")
    elif damage == "flipped bit":  # one bit of one digit of the record
        text = path.read_text()
        i = text.index('"m_o": 0.') + 9
        assert text[i].isdigit()
        path.write_text(text[:i] + chr(ord(text[i]) ^ 1) + text[i + 1:])
    else:
        rec = json.loads(path.read_text())
        if damage == "config":
            rec["config"]["width"] = 99
        elif damage == "metrics":
            del rec["metrics"]["m_r"]
        elif damage == "nan metric":
            rec["metrics"]["m_r"] = float("nan")
        elif damage == "edited metric":
            rec["metrics"]["linear_acc"] = 99.0
        elif damage == "string metric":
            rec["metrics"]["linear_acc"] = "high"
        elif damage == "metrics not a dict":
            rec["metrics"] = [1, 2]
        elif damage == "no train":
            del rec["train"]
        elif damage == "no checksum":
            del rec["record_sha256"]
        rec = {"null": None, "list": []}.get(damage, rec)
        path.write_text(json.dumps(rec))
    with pytest.raises(CacheError, match=DAMAGE[damage]) as err:
        read_entry(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    again = run(tiny)
    said = capsys.readouterr().out
    assert "cache entry damaged, not used (recomputing)" in said
    assert read_entry(path) == again
    assert again["metrics"] == first["metrics"]  # same seed, same result


def test_force_retrains_and_reading_never_trains(tiny, monkeypatch):
    run(tiny)
    calls = []
    real_fit = train.Trainer.fit
    monkeypatch.setattr(train.Trainer, "fit", lambda self, *a, **k: calls.append(1) or real_fit(self, *a, **k))
    run(tiny, force=True)
    assert calls == [1]
    assert records.lookup(tiny.replace(seed=5), "smoke") == (None, False)  # not cached: read, not trained
    assert records.find([tiny, tiny.replace(seed=5)], "smoke") == ([read_entry(entry_path(tiny, "smoke"))],
                                                                  [f"{tiny.variant} (seed 5)"])
    assert calls == [1] and not entry_path(tiny.replace(seed=5), "smoke").exists()


def test_every_committed_result_is_a_valid_entry():
    """The book reads these: each must pass the same checks as any cache read."""
    from ssllib.data import REPO_ROOT

    paths = [p for p in (REPO_ROOT / "results").glob("*/*/*.json") if p.parts[-3] != "smoke"]
    for path in paths:
        record = read_entry(path)
        assert record["profile"] == path.parts[-3] and record["experiment"] == path.parts[-2]
        assert record["provenance"]["data_sha256"] and record["provenance"]["device"]


def _without(record, drop):
    return dict(record, metrics={k: v for k, v in record["metrics"].items() if not drop(k)})


def test_metrics_added_later_come_from_the_final_checkpoint(tiny):
    """A record written before a metric existed (the snapshot's p_*, the fair kNN's knn20_acc)
    gets it from the run's final checkpoint, equal to what a fresh run records; nothing else moves."""
    from ssllib.data import synthetic
    from ssllib.results import rewrite_entry

    first = run(tiny)
    path = entry_path(tiny, "smoke")
    rewrite_entry(_without(first, lambda k: k.startswith("p_") or k == "knn20_acc"), path)
    back = runner.add_metrics(read_entry(path), synthetic())
    assert back["metrics"] == first["metrics"] and {"p_m_r", "knn20_acc"} <= set(back["metrics_added"])
    assert back["metrics_added_check"] == {"knn_acc": 0.0, "linear_acc": 0.0}
    assert read_entry(path) == back


def test_an_untrained_control_is_re_evaluated_without_a_checkpoint(tiny):
    """A 0-step control (Table 2's random encoders) has no training to replay: its seed builds
    the state it measured, so a metric it lacks is added with no checkpoint on the machine."""
    from ssllib.data import synthetic
    from ssllib.results import checkpoint_path, rewrite_entry

    control = tiny.replace(epochs=0.0, warmup_epochs=0.0, bn_calibration=64)
    first = run(control)
    checkpoint_path(control, "smoke").unlink(missing_ok=True)
    path = entry_path(control, "smoke")
    rewrite_entry(_without(first, lambda k: k == "knn20_acc"), path)
    back = runner.add_metrics(read_entry(path), synthetic())
    assert back["metrics"]["knn20_acc"] == first["metrics"]["knn20_acc"] and back["metrics_added"] == ["knn20_acc"]


def test_a_trained_run_without_its_checkpoint_is_refused(tiny):
    from ssllib.data import synthetic
    from ssllib.results import checkpoint_path, rewrite_entry

    first = run(tiny)
    checkpoint_path(tiny, "smoke").unlink()
    rewrite_entry(_without(first, lambda k: k == "knn20_acc"), entry_path(tiny, "smoke"))
    with pytest.raises(CacheError, match="no final checkpoint .* retrain it"):
        runner.add_metrics(read_entry(entry_path(tiny, "smoke")), synthetic())


def test_reading_every_chapter_writes_nothing(tmp_path, monkeypatch):
    """The book only reads: loading every experiment at both committed lengths (records, runs
    shared between chapters, what is missing, the verdicts with their Holm family) leaves the
    results folder exactly as it was, file for file (a copy of the committed results)."""
    import shutil
    from pathlib import Path

    from ssllib import experiments, scorecard

    committed = Path(__file__).resolve().parent.parent / "results"
    results = tmp_path / "committed"
    shutil.copytree(committed, results, ignore=shutil.ignore_patterns("smoke"))
    monkeypatch.setenv("SSLLIB_RESULTS", str(results))

    def snapshot():
        return sorted((str(p.relative_to(results)), p.stat().st_size, p.stat().st_mtime_ns)
                      for p in results.rglob("*") if p.is_file())

    before = snapshot()
    rows, missing, read = scorecard.gather("cpu")
    assert any(r.get("reused_from") for r in read)  # shared runs are found, in memory
    assert any(r["kind"] == "accuracy" and r["length"] == "cpu_long" for r in rows)
    for name in experiments.EXPERIMENTS:
        records.missing(name, "cpu")
    assert snapshot() == before


def test_a_resealed_record_whose_collapse_flag_contradicts_m_r_or_names_another_curve_is_refused(tiny):
    """Integrity is not authenticity: a record edited and re-sealed passes its digest; two cheap
    consistency checks catch the commonest edits (a flipped 'collapsed', a curve elsewhere)."""
    import json

    import pytest

    from ssllib.integrity import RECORD_KEY, record_digest
    from ssllib.results import CacheError, entry_path, read_entry

    record = experiments_run(tiny)
    path = entry_path(tiny, "smoke")
    for edit in ({"metrics": dict(record["metrics"], collapsed=not record["metrics"]["collapsed"])},
                 {"curve_file": "../../elsewhere.curve.csv"}):
        forged = {**json.loads(path.read_text()), **edit}
        forged[RECORD_KEY] = record_digest(forged)
        path.write_text(json.dumps(forged))
        with pytest.raises(CacheError, match="collapsed' says|is not .*curve.csv"):
            read_entry(path)


def test_a_resealed_record_that_would_crash_a_page_is_refused_in_one_line(tiny):
    """Issue 42: forged, re-sealed records had crashed the notebooks (a metric that is text, a
    step count that is not a count, provenance that is not text, a config no run could have);
    read_entry refuses each with one CacheError line, so a chapter lists the run as missing."""
    import json

    import pytest

    from ssllib.integrity import RECORD_KEY, record_digest
    from ssllib.results import CacheError, entry_path, read_entry

    experiments_run(tiny)
    path = entry_path(tiny, "smoke")
    clean = json.loads(path.read_text())
    edits = {"metrics.bias": {"metrics": dict(clean["metrics"], bias_centre_cos="high")},
             "train.steps": {"train": dict(clean["train"], steps="many")},
             "provenance.device": {"provenance": dict(clean["provenance"], device=["cpu"])},
             "config": {"config": dict(clean["config"], width=-4)}}
    for what, edit in edits.items():
        forged = {**clean, **edit}
        forged[RECORD_KEY] = record_digest(forged)
        path.write_text(json.dumps(forged))
        with pytest.raises(CacheError) as e:
            read_entry(path)
        assert "\n" not in str(e.value) and what.split(".")[0] in str(e.value), what
    path.write_text(json.dumps(clean))
    assert read_entry(path)["metrics"] == clean["metrics"]


def experiments_run(cfg):
    return runner.run_one(cfg, "smoke", progress=False)


def test_a_failed_record_write_leaves_no_orphan_curve(tmp_path, monkeypatch):
    """The curve is written first; when the record's own write then fails (a full
    disk), the curve goes too, so no curve stands without its record."""
    import pytest

    from ssllib import results
    from ssllib.storage import StorageError

    calls = []
    real = results._atomic_write

    def full_at_the_record(path, text):
        calls.append(path.name)
        if path.suffix == ".json":
            raise StorageError(f"cannot write {path}: No space left on device (ENOSPC)")
        real(path, text)

    monkeypatch.setattr(results, "_atomic_write", full_at_the_record)
    entry = tmp_path / "abc.json"
    with pytest.raises(StorageError):
        results.write_entry(entry, {"x": 1}, "step,m_r\n1,0.5\n")
    assert calls == ["abc.curve.csv", "abc.json"] and not list(tmp_path.iterdir())


def test_a_checkpoint_that_is_not_the_records_encoder_is_refused(tiny):
    """The re-evaluation must give the record's kNN accuracy again: a record whose kNN differs
    (another encoder's checkpoint under its key) gets nothing added."""
    from ssllib.data import synthetic
    from ssllib.results import rewrite_entry

    first = run(tiny)
    path = entry_path(tiny, "smoke")
    other = _without(first, lambda k: k == "knn20_acc")
    rewrite_entry(dict(other, metrics=dict(other["metrics"], knn_acc=first["metrics"]["knn_acc"] + 5.0)), path)
    with pytest.raises(CacheError, match="not the encoder it measured"):
        runner.add_metrics(read_entry(path), synthetic())
    assert "knn20_acc" not in read_entry(path)["metrics"]
