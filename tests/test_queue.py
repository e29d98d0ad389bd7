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
            "config": run.config().to_dict(), "metrics": {"linear_acc": acc}}


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


def test_the_command_refuses_a_bad_next_in_one_line(capsys):
    from ssllib.__main__ import main

    assert main(["queue", "--next", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--next 0" in err
