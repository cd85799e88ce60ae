"""D's rejection sampling (``dcgan_lib.rejection``, the command line's ``sample``): with D's
logit the true log density ratio, what it keeps follows the data, not G."""

import numpy as np
import pytest

from dcgan_lib.rejection import kept_batches


class Spread:
    """A toy G: z (b, 1) ~ N(0, 1) -> images filled with z / 4, so u = 4 x mean(image) ~ N(0, 1)."""

    input_shape = (None, 1)

    def __call__(self, z, training=False):
        return np.broadcast_to(np.asarray(z)[:, :, None, None] / 4, (len(z), 28, 28, 1))


def log_ratio(images, training=False):
    """log N(u; 0, 0.5^2) / N(u; 0, 1): the logit of a D at its optimum when the data is
    N(0, 0.5^2) and G gives N(0, 1)."""
    u = 4 * np.asarray(images).mean(axis=(1, 2, 3))
    return -1.5 * u**2 + np.log(2.0)


def sampled(n, judge, **options):
    images = np.concatenate(list(kept_batches(Spread(), judge, n, **options)))
    assert images.shape == (n, 28, 28, 1) and images.dtype == np.float32
    return 4 * images.mean(axis=(1, 2, 3))


def test_kept_images_follow_the_data_not_g():
    tally = {}
    u = sampled(8000, log_ratio, seed=1, tally=tally)
    assert 0.47 < u.std() < 0.53, u.std()  # the data's 0.5; G's own spread is 1
    assert abs(u.mean()) < 0.03
    assert 0.45 < tally["kept"] / tally["drawn"] < 0.55  # 1 / M, M = max p_data / p_G = 2
    assert tally["kept"] == 8000


def test_a_discriminator_of_probabilities_is_read_as_its_logit():
    probability = lambda images, training: 1 / (1 + np.exp(-log_ratio(images)))  # noqa: E731
    u = sampled(8000, probability, logits=False, seed=2)
    assert 0.47 < u.std() < 0.53, u.std()


def test_the_same_seed_gives_the_same_images():
    assert np.array_equal(sampled(700, log_ratio, seed=3), sampled(700, log_ratio, seed=3))
    assert not np.array_equal(sampled(700, log_ratio, seed=3), sampled(700, log_ratio, seed=4))


def test_degenerate_verdicts_are_refused_with_what_to_do():
    rare = lambda images, training: np.where(4 * images.mean(axis=(1, 2, 3)) > 2.5, 0.0, -100.0)  # noqa: E731
    with pytest.raises(ValueError, match=r"D kept \d+ of 100,000 images.*--rejection off"):
        sampled(5000, rare)
    nan = lambda images, training: np.full(len(images), np.nan)  # noqa: E731
    with pytest.raises(ValueError, match="not finite.*--rejection off"):
        sampled(10, nan)
