"""Self-conditioning: ``train --clusters K`` splits the training images into K clusters of their
pixels (k-means), then trains Chapter 5's conditional pair on them as if the clusters were
labels: G is told which cluster to draw (drawn in the clusters' shares of the images), D judges
each image with its cluster. No digit labels are used; a cluster is a group of similar images,
not a digit (K = 50: 81 % of the images share their cluster's commonest digit). Self-conditioned
GANs (Liu et al., 2020) cluster D's features during training; here the pixels, once, before it.
On the command line's ``fast`` (whose default is K = 50) it lowered the Fréchet distance after
3 minutes from 6.53, 6.20 and 6.90 to 3.68, 3.54 and 3.09 (three seeds; issue 16: the search
log's twelfth round, ``benchmarks/fast_config_search.md``; ``BENCHMARKS.md`` section 8). Used as
``dl.clusters.<name>``."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

__all__ = []  # the command line's; dl.clusters.<name>
# The settings this module reads (run.json, as ``runs.SETTINGS``; None: no option of its own),
# their values in older runs, and the range of --clusters.
SETTINGS = {"clusters": ((int,), "train on K clusters of the images (0: off; fast's default: 50)")}
SETTINGS["cluster_shares"] = ((list, None), None)  # each cluster's share of the images, (K,)
BEFORE = {"clusters": 0, "cluster_shares": None}
LIMITS = {"clusters": ("0 (off) or from 2 to 255", lambda k: k == 0 or 2 <= k <= 255)}
FILE = "clusters.npy"  # a run's clusters: uint8 (N,), one per training image
MAX_CLUSTERS = 255  # a cluster is one level of a uint8 label map (dcgan_lib.conditional)


def kmeans(x, k: int, seed: int = 0, max_steps: int = 300) -> np.ndarray:
    """Cluster numbers (N,) int64 in 0..k-1 of the rows of ``x`` (N, D) float32: a k-means++
    start (Arthur and Vassilvitskii, 2007), then Lloyd's steps until no row changes cluster
    (at most ``max_steps``). The same ``seed``, the same clusters."""
    x = np.asarray(x, np.float32)
    if not 1 <= k <= len(x):
        raise ValueError(f"k must be from 1 to the {len(x)} rows, got {k}")
    rng = np.random.default_rng(seed)
    centres = [x[rng.integers(len(x))]]
    nearest = ((x - centres[0]) ** 2).sum(1)  # (N,) squared distance to the nearest centre
    for _ in range(k - 1):  # k-means++: far rows are likelier next centres
        p = nearest / nearest.sum() if nearest.sum() > 0 else None  # all alike: any row
        centres.append(x[rng.choice(len(x), p=p)])
        nearest = np.minimum(nearest, ((x - centres[-1]) ** 2).sum(1))
    centres, cluster = np.stack(centres), None
    for _ in range(max_steps):
        new = ((centres**2).sum(1) - 2 * x @ centres.T).argmin(1)  # (N,): |x - c|^2 less |x|^2
        if cluster is not None and np.array_equal(new, cluster):
            break
        cluster = new
        members = np.zeros((len(x), k), np.float32)
        members[np.arange(len(x)), cluster] = 1.0  # (N, k) one-hot
        sizes = members.sum(0)[:, None]  # (k, 1)
        centres = np.where(sizes > 0, members.T @ x / np.maximum(sizes, 1.0), centres)  # (k, D)
    return cluster


def for_run(directory: Path, images, k: int, reuse=True) -> np.ndarray:
    """The clusters uint8 (N,) of ``images`` (N, 28, 28) uint8 for a run in ``directory``: its
    ``clusters.npy`` if it has one and ``reuse`` (a run keeps its clusters; a new run's folder
    may hold one of a start that failed), else k-means of the pixels (seed 0), saved there.
    ValueError for a saved file that does not fit."""
    path = Path(directory) / FILE
    if path.exists() and reuse:
        saved = np.load(path)
        if saved.shape != (len(images),) or saved.dtype != np.uint8 or saved.max() >= k:
            raise ValueError(f"{path} does not hold {len(images)} clusters of 0..{k - 1}")
        return saved
    if not 2 <= k <= min(MAX_CLUSTERS, len(images)):
        most = min(MAX_CLUSTERS, len(images))
        raise ValueError(f"--clusters {k}: give 0 (off) or 2 to {most} (the images allow)")
    pixels = np.asarray(images, np.float32).reshape(len(images), -1) / 255.0  # (N, 784)
    clusters = kmeans(pixels, k).astype(np.uint8)
    tmp = path.with_name("clusters.tmp.npy")
    np.save(tmp, clusters)
    tmp.replace(path)
    return clusters


def shares(clusters, k: int) -> np.ndarray:
    """Each cluster's share of the images: float64 (k,), summing to 1."""
    return np.bincount(np.asarray(clusters), minlength=k) / len(clusters)


def draw(share, n: int, seed=0) -> np.ndarray:
    """``n`` clusters int64 (n,) drawn in the shares ``share`` (k,): what G is asked to draw;
    ``seed``: an int or a numpy Generator."""
    return np.random.default_rng(seed).choice(len(share), n, p=share)


def labels_for(out: Path, images, labels, s: dict, run) -> np.ndarray | None:
    """What ``train`` trains on besides ``images``: MNIST's ``labels`` for a labelled model, the
    clusters (N,) of a run on clusters (:func:`for_run`; a new run's shares go into ``s``), else
    None. CLIError for clusters asked of a model other than fast, or changed on resume."""
    from .models import MODELS
    from .runs import CLIError

    k, old = s["clusters"], (run or {}).get("settings", {}).get("cluster_shares")
    if not k:
        return labels if MODELS[s["model"]].labelled else None
    if s["model"] != "fast":
        raise CLIError(f"--clusters {k}: only --model fast trains on clusters")
    if run is not None and len(old or []) != k:
        raise CLIError(f"this run was started with --clusters {len(old or [])}; it cannot change")
    began, saved = time.perf_counter(), run is not None and (Path(out) / FILE).exists()
    try:
        assigned = for_run(out, images, k, reuse=run is not None)
    except ValueError as err:
        raise CLIError(f"{err}: train into a new --out" if saved else str(err)) from None
    if not saved:
        took = time.perf_counter() - began
        print(f"k-means: {len(images)} images in {k} clusters of their pixels in {took:.0f} s")
    s["cluster_shares"] = old or shares(assigned, k).tolist()
    return assigned


def spec(model_name: str, cluster_shares=None):
    """``MODELS[model_name]``, or with ``cluster_shares`` (k,) (fast only) its builders replaced
    by Chapter 5's pair for k labels, G drawing them in those shares (``make_gan`` uses it)."""
    from . import conditional
    from .models import MODELS

    if model_name not in MODELS:
        raise ValueError(f"unknown model {model_name!r}; known: {', '.join(MODELS)}")
    if cluster_shares is None:
        return MODELS[model_name]
    if model_name != "fast":
        raise ValueError(f"cluster_shares: only 'fast' trains on clusters, not {model_name!r}")
    k = len(cluster_shares)
    pair = lambda: conditional.build_pair_generator(  # noqa: E731
        conditional.build_generator(classes=k), shares=cluster_shares
    )
    return MODELS[model_name]._replace(
        generator=pair, discriminator=lambda: conditional.build_discriminator(classes=k)
    )


class Sampler:
    """A run on clusters' G as ``sample`` draws from it: z (batch, latent_dim) -> images (batch,
    28, 28, 1) of clusters drawn in ``cluster_shares`` (numpy, ``seed``: the same images)."""

    def __init__(self, pair_generator, cluster_shares, seed=0):
        self.inner = pair_generator.get_layer("conditional_generator")  # G(z, c)
        self.input_shape, self.shares = pair_generator.input_shape, np.asarray(cluster_shares)
        self.rng = np.random.default_rng([seed, len(cluster_shares)])

    def __call__(self, z, training=False):
        asked = draw(self.shares / self.shares.sum(), len(z), self.rng).astype(np.int32)
        return self.inner([np.asarray(z), asked], training=training)


def sampler(gan, run, seed=0):
    """What ``sample`` draws from: ``gan.sampling_generator``, or a :class:`Sampler` of it for
    a run on clusters."""
    shares = run["settings"]["cluster_shares"]
    return gan.sampling_generator if not shares else Sampler(gan.sampling_generator, shares, seed)
