"""The sequential plan (ssllib.sequential): a claim's p-value over pre-planned looks, and the
simulation showing the family-wise error of a false "reproduced" stays at most alpha."""
import math

import pytest

from ssllib import sequential, stats


def test_the_sequential_p_is_the_smallest_p_over_its_share_capped_at_one():
    assert sequential.sequential_p([0.004], (0.1, 0.3, 0.6)) == pytest.approx(0.04)
    assert sequential.sequential_p([0.5, 0.012], (0.1, 0.3, 0.6)) == pytest.approx(0.04)
    assert sequential.sequential_p([0.5, 0.9, 0.9]) == 1.0
    with pytest.raises(ValueError, match="4 looks"):
        sequential.sequential_p([0.1] * 4)


@pytest.mark.parametrize("looks, spend", [((3, 3), (0.5, 0.5)), ((1, 5), (0.5, 0.5)), ((3, 5), (0.7, 0.7)),
                                          ((3, 5), (0.5,))])
def test_a_bad_schedule_is_refused(looks, spend):
    with pytest.raises(ValueError):
        sequential.check_schedule(looks, spend)


@pytest.mark.parametrize("effect", [0.0, -1.0])
def test_under_no_true_difference_the_family_wise_error_stays_at_most_alpha(effect):
    """Ten claims with no difference in the paper's direction, looked at 3, 5 and 8 seeds: the rate
    of a family with any false 'reproduced' is at most alpha, up to three Monte Carlo errors."""
    reps = 800
    out = sequential.simulate(n_claims=10, sd=2.0, effect=effect, reps=reps, seed=1)
    margin = 3 * math.sqrt(stats.ALPHA * (1 - stats.ALPHA) / reps)
    assert out["family_wise_false_reproduced"] <= stats.ALPHA + margin


def test_a_decided_claim_stops_adding_seeds():
    """With a clear true difference, claims are decided before the last look: fewer seeds an arm
    than the last look's, and a decided claim spent at least the first look's."""
    out = sequential.simulate(n_claims=5, sd=1.0, effect=4.0, reps=100, seed=2)
    assert out["reproduced_rate"] > 0.5
    assert sequential.LOOKS[0] <= out["seeds_per_decided_claim"] < sequential.LOOKS[-1]
    assert out["seeds_per_claim"] < sequential.LOOKS[-1]
