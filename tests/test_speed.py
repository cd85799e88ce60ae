"""Appendix A's arithmetic count (dcgan_lib/speed.py): multiply-adds per layer and the FLOPs
of one training image, checked against counts done by hand."""

import keras
import pytest

import dcgan_lib as dl


def _dense_net(*widths):
    """Dense layers widths[0] -> widths[1] -> ..., no biases' cost counted."""
    layers = [keras.layers.Dense(w) for w in widths[1:]]
    return keras.Sequential([keras.Input((widths[0],))] + layers)


def test_layer_macs_by_the_formulas():
    model = keras.Sequential(
        [
            keras.Input((7, 7, 8)),
            keras.layers.Conv2DTranspose(4, 5, strides=2, padding="same"),  # 7x7x8 -> 14x14x4
            keras.layers.BatchNormalization(),  # not counted
            keras.layers.Conv2D(6, 3, strides=2, padding="same"),  # 14x14x4 -> 7x7x6
            keras.layers.Flatten(),
            keras.layers.Dense(10),  # 294 -> 10
        ]
    )
    assert dl.layer_macs(model) == [
        7 * 7 * 25 * 8 * 4,  # transposed: *input* pixels
        7 * 7 * 9 * 4 * 6,  # convolution: output pixels
        294 * 10,
    ]


def test_nested_models_are_counted_in_place():
    inner, outer_last = _dense_net(3, 5), keras.layers.Dense(2)
    model = keras.Sequential([keras.Input((3,)), inner, outer_last])
    assert dl.layer_macs(model) == [15, 10]


def test_train_flops_counted_by_hand():
    # G: 2 -> 3 -> 4 (g = [6, 12]); D: 4 -> 5 -> 1 (d = [20, 5])
    G, D = _dense_net(2, 3, 4), _dense_net(4, 5, 1)
    forward = (6 + 12) + 2 * (20 + 5)  # G once, D on a real and on a fake image
    d_loss = 2 * ((20 + 5) + 5)  # both images: weights, inputs but not D's first
    g_loss_through_d = 20 + 5  # inputs only, down to the fake image
    g_loss_through_g = (6 + 12) + 12  # weights + inputs but not the noise's
    macs = forward + d_loss + g_loss_through_d + g_loss_through_g
    assert dl.train_flops_per_image(G, D) == 2 * macs == 2 * (3 * 18 + 7 * 25 - 2 * 20 - 6)


def test_tutorial_count_and_the_rough_rule():
    G, D = dl.build_tutorial_generator(), dl.build_tutorial_discriminator()
    g, d = dl.layer_macs(G), dl.layer_macs(D)
    assert (sum(g), sum(d)) == (51_744_000, 10_355_072)
    flops = dl.train_flops_per_image(G, D)
    assert flops == 2 * (3 * sum(g) + 7 * sum(d) - 2 * d[0] - g[0]) == 451_671_808
    rough = 6 * (sum(g) + 2 * sum(d))  # "backward = twice forward", BENCHMARKS.md's count
    assert round(rough * 60_000 / 1e12, 2) == 26.08  # BENCHMARKS.md, section 2
    assert flops / rough == pytest.approx(1.039, abs=1e-3)  # G's loss back through D: +4 %
    assert round(flops * 60_000 / 1e12) == 27


def test_fast_model_is_about_an_eighth_of_the_tutorial():
    fast = dl.train_flops_per_image(dl.build_fast_generator(), dl.build_fast_discriminator())
    tutorial = dl.train_flops_per_image(
        dl.build_tutorial_generator(), dl.build_tutorial_discriminator()
    )
    assert 0.11 < fast / tutorial < 0.14
