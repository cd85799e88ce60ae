"""Self-conditioning on clusters (dcgan_lib/clusters.py, issue 16's twelfth round): k-means,
label maps for k labels, the clustered pair make_gan builds, and the CLI's --clusters."""

import json

import numpy as np
import pytest
from helpers import needs_mnist, run_cli

import dcgan_lib as dl
from dcgan_lib import cli
from dcgan_lib import conditional as cgan


def test_kmeans_finds_separate_groups():
    """Three far-apart groups of points come back as three clusters, each group whole."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]], np.float32)
    group = np.repeat(np.arange(3), 50)
    points = centres[group] + rng.normal(0, 0.5, (150, 2)).astype(np.float32)
    cluster = dl.clusters.kmeans(points, 3, seed=1)
    assert sorted(set(cluster.tolist())) == [0, 1, 2]
    assert all(len(set(cluster[group == g].tolist())) == 1 for g in range(3))
    assert np.array_equal(cluster, dl.clusters.kmeans(points, 3, seed=1))  # the seed decides
    with pytest.raises(ValueError, match="k must be from 1 to the 150 rows"):
        dl.clusters.kmeans(points, 151)


def test_shares_and_draws_follow_the_cluster_sizes():
    share = dl.clusters.shares(np.array([0, 0, 0, 1], np.uint8), 3)
    assert share.tolist() == [0.75, 0.25, 0.0]
    drawn = dl.clusters.draw(share, 4000, seed=0)
    assert set(drawn.tolist()) == {0, 1} and 0.7 < np.mean(drawn == 0) < 0.8
    assert np.array_equal(drawn, dl.clusters.draw(share, 4000, seed=0))


def test_label_maps_of_50_labels_round_trip_through_the_model_range():
    labels = np.arange(50)
    maps = dl.to_model_range(cgan.label_map(labels, classes=50))  # (50, 28, 28, 1)
    pairs = np.concatenate([np.zeros_like(maps), maps], -1)
    assert np.asarray(cgan.read_labels(pairs, classes=50)).tolist() == labels.tolist()
    assert np.array_equal(cgan.label_map(np.arange(10)), cgan.label_map(np.arange(10), 10))
    with pytest.raises(ValueError, match=r"whole numbers 0\.\.49"):
        cgan.label_map(np.array([50]), classes=50)


def test_make_gan_builds_the_pair_for_clusters_and_draws_in_their_shares():
    gan = dl.make_gan("fast", seed=0, cluster_shares=[0.0, 0.2, 0.8])
    pairs = np.asarray(gan.generator(np.zeros((400, 64), np.float32)))  # (400, 28, 28, 2)
    assert pairs.shape == (400, 28, 28, 2)
    asked = np.asarray(cgan.read_labels(pairs, classes=3))
    assert set(asked.tolist()) <= {1, 2} and 0.7 < np.mean(asked == 2) < 0.9
    assert gan.discriminator(pairs[:5]).shape == (5, 1)
    images = cgan.generate_digits(gan.sampling_generator, np.array([0, 1, 2]))
    assert images.shape == (3, 28, 28, 1)
    with pytest.raises(ValueError, match=r"whole numbers 0\.\.2"):
        cgan.generate_digits(gan.generator, np.array([3]))
    with pytest.raises(ValueError, match="only 'fast' trains on clusters"):
        dl.make_gan("dense", cluster_shares=[0.5, 0.5])


@pytest.fixture(scope="module")
def clustered_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "clustered"
    train = ["train", "--model", "fast", "--clusters", 4, "--out", out, "--images", 256]
    result = run_cli(*train, "--epochs", 1)
    assert result.returncode == 0, result.stdout + result.stderr
    return out, train, result.stdout


@needs_mnist
def test_cli_trains_on_clusters_keeps_them_and_samples_unlabelled_images(clustered_run, tmp_path):
    out, train, said = clustered_run
    assert "k-means: 256 images in 4 clusters of their pixels" in said
    assigned = np.load(out / "clusters.npy")
    assert assigned.shape == (256,) and assigned.dtype == np.uint8 and set(assigned) == {0, 1, 2, 3}
    settings = json.loads((out / "run.json").read_text())["settings"]
    assert (
        settings["clusters"] == 4
        and settings["cluster_shares"] == (np.bincount(assigned) / 256).tolist()
    )
    target = tmp_path / "s.npz"
    result = run_cli("sample", out, "--n", 20, "--out", target)
    assert result.returncode == 0, result.stderr
    with np.load(target) as f:  # clusters are not digits: no labels, so evaluate reads no obedience
        assert sorted(f.files) == ["images"] and f["images"].shape == (20, 28, 28, 1)
    resumed = run_cli(*train, "--epochs", 2)  # the same clusters, not k-means again
    assert resumed.returncode == 0, resumed.stderr
    assert "k-means" not in resumed.stdout and np.array_equal(
        np.load(out / "clusters.npy"), assigned
    )


@needs_mnist
def test_cli_refuses_what_a_run_on_clusters_cannot_do(clustered_run, tmp_path, capsys):
    out, train, _ = clustered_run
    asked = ["sample", str(out), "--n", "5", "--out", str(tmp_path / "a.npz")]
    assert cli.main([*asked, "--digit", "3"]) == 2
    assert (
        "'fast' is not conditional (train one with --model conditional)" in capsys.readouterr().err
    )
    assert cli.main([*asked, "--rejection", "on"]) == 2
    assert "judges an image with its cluster" in capsys.readouterr().err
    changed = [str(a) for a in train[:4]] + ["8", *map(str, train[5:]), "--epochs", "3"]
    assert cli.main(changed) == 2  # a run keeps its clusters
    assert "started with --clusters 4; it cannot change" in capsys.readouterr().err
    new = ["train", "--out", str(tmp_path / "n"), "--images", "256", "--epochs", "1"]
    assert cli.main([*new, "--model", "dense", "--clusters", "3"]) == 2
    assert "only --model fast trains on clusters" in capsys.readouterr().err
    assert cli.main([*new, "--model", "fast", "--clusters", "1"]) == 2
    assert "--clusters must be 0 (off) or from 2 to 255, got 1" in capsys.readouterr().err
    assert not (tmp_path / "n" / "run.json").exists() and not (tmp_path / "a.npz").exists()
