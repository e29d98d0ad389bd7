"""The queue (ssllib.queue): derived from the plan, ordered by expected claims settled per CPU hour,
never starting a run that is cached or being trained.  (A killed run resumes from its checkpoint:
the queue trains through `ssllib run`, whose resume tests/test_reliability.py checks.)"""
from ssllib import queue
from ssllib.config import config_hash
from ssllib.plan import PLAN


def key(run):
    return config_hash(run.config(), labels=False)


def record(run, acc):
    return {"experiment": run.experiment, "variant": run.variant, "profile": run.length,
            "config": run.config().to_dict(), "metrics": {"linear_acc": acc, "m_r": 0.5}}


def test_every_planned_claim_is_a_need_and_the_order_follows_the_rate():
    needs = queue.build(keys={}, is_running=lambda r: False)
    planned = {c.key for c in PLAN if not c.extra}
    assert planned <= {n.claim for n in needs}
    assert not any("SimSiam behind our head" in n.claim for n in needs)  # labelled extras need no runs
    rates = [n.rate for n in needs]
    assert rates == sorted(rates, reverse=True)
    assert all(abs(n.rate - n.chance / n.hours) < 1e-9 for n in needs)
    runs = [r for r, _ in queue.order(needs)]
    assert len(runs) == len(set(runs))  # each run once, whatever number of claims it serves
    tied = {}  # equal rates (the collapse claims of three runs, none run yet) go in the book's order
    for n in needs:
        tied.setdefault(round(n.rate, 9), []).append(queue.BOOK_ORDER.index(n.runs[0].experiment))
    assert all(book == sorted(book) for book in tied.values())
    assert any(book[0] < queue.BOOK_ORDER.index("ab_bn") < book[-1] for book in tied.values())


def test_a_claim_whose_runs_are_in_leaves_the_queue_and_a_clear_difference_moves_a_claim_up():
    empty = queue.build(keys={}, is_running=lambda r: False)
    collapse = next(n for n in empty if n.kind == "collapse")
    keys = {key(r): record(r, 50.0) for r in collapse.runs}
    assert collapse.claim not in {n.claim for n in queue.build(keys=keys, is_running=lambda r: False)}

    claim = next(c for c in PLAN if c.experiment == "table3" and c.dataset == "cifar10")
    need = next(n for n in empty if n.claim == claim.key)
    a = [r for r in need.runs if r.variant == claim.a]
    b = [r for r in need.runs if r.variant in claim.b]

    def rate(gap):  # one seed of each arm in, the rest missing
        keys = {key(a[0]): record(a[0], 40.0 + gap), key(b[0]): record(b[0], 40.0)}
        return next(n for n in queue.build(keys=keys, is_running=lambda r: False) if n.claim == claim.key).rate
    assert rate(15.0) > rate(0.5)


def test_a_second_call_starts_nothing_the_first_is_training():
    first = [r for r, _ in queue.order(queue.build(keys={}, is_running=lambda r: False))][:4]
    second = [r for r, _ in queue.order(queue.build(keys={}, is_running=lambda r: r in first))]
    assert first and not set(first) & set(second)
    assert queue.child(first[0])[2:6] == ["ssllib", "run", first[0].experiment, "--profile"]


def test_a_record_without_the_claims_metric_is_missing_and_gets_it_the_cheap_way(tmp_path, monkeypatch):
    """A metric the plan added after some runs (CIFAR-100's knn20_acc): a record lacking it counts
    as missing; an untrained control or a run whose final checkpoint is here is re-evaluated
    (`run --add-metrics`, no training), another is retrained under its own record (`--force`)."""
    claim = next(c for c in PLAN if c.metric == "knn20_acc")
    runs = next(n for n in queue.build(keys={}, is_running=lambda r: False) if n.claim == claim.key).runs
    old = {key(r): record(r, 30.0) for r in runs}  # no knn20_acc
    monkeypatch.setenv("SSLLIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("SSLLIB_CHECKPOINTS", str(tmp_path / "checkpoints"))
    trained = next(r for r in runs if r.variant == claim.a)
    control = next(r for r in runs if r.variant != claim.a)
    for r in (trained, control):  # both have records of their own; only `trained` lacks a checkpoint
        path = queue.entry_path(r.config(), r.length)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    need = next(n for n in queue.build(keys=old, is_running=lambda r: False, own=lambda p: None)
                if n.claim == claim.key)
    redo = {(r.variant, r.seed): r.redo for r in need.missing}
    assert len(need.missing) == len(runs) and redo[(control.variant, control.seed)] == "add"
    assert redo[(trained.variant, trained.seed)] == "retrain"
    by = {(r.variant, r.seed): r for r in need.missing}
    assert queue.child(by[(trained.variant, trained.seed)])[-1] == "--force"
    assert queue.child(by[(control.variant, control.seed)])[-1] == "--add-metrics"
    assert by[(control.variant, control.seed)].hours < 0.1 <= by[(trained.variant, trained.seed)].hours
    have = {key(r): dict(record(r, 30.0), metrics={"linear_acc": 30.0, "m_r": 0.5, claim.metric: 20.0}) for r in runs}
    assert claim.key not in {n.claim for n in queue.build(keys=have, is_running=lambda r: False)}


def test_the_command_refuses_a_bad_next_in_one_line(capsys):
    from ssllib.__main__ import main

    assert main(["queue", "--next", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--next 0" in err
