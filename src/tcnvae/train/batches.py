"""Which windows each training step sees: the epoch's global batches, and this rank's shard.

All labelled (or all unlabelled) data: one permutation cut into batches. Both kinds: every
batch holds at least `labelled_share` labelled windows (`mixed_batches`), so the activity head
sees a steady stream of labels however few there are.

Under torchrun every rank draws the same global batches from the same seeded stream and keeps
every world-th window of each (`shard`): the effective batch and steps per epoch are those of
one process, and labelled and unlabelled windows alike are split across the ranks.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from tcnvae.train.distributed import World, shard


def global_batches(labelled: np.ndarray, batch_size: int, steps: int, share: float,
                   rng: np.random.Generator, world: World) -> Iterator[np.ndarray]:
    """Sorted index arrays of this rank's shard of each global batch of one epoch."""
    if labelled.all() or not labelled.any():
        order = rng.permutation(len(labelled))
        # Every shard of the last batch holds >= 2 windows (BatchNorm in training mode needs 2).
        last = len(order) - (2 * world.size - 1)
        groups: Iterator[np.ndarray] = (order[i:i + batch_size] for i in range(0, max(last, 0), batch_size))
    else:
        groups = mixed_batches(labelled, batch_size, steps, share, rng)
    for group in groups:
        yield np.sort(shard(group, world))


def mixed_batches(labelled: np.ndarray, batch_size: int, steps: int, share: float,
                  rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Index batches that each hold max(share, natural share) labelled windows, the rest unlabelled.

    Each kind is drawn from its own permutation, repeated when it runs out: with 5 % labels the
    labelled windows are seen several times an epoch, the unlabelled ones about once.
    """
    lab, unl = np.flatnonzero(labelled), np.flatnonzero(~labelled)
    k = min(batch_size - 1, max(1, round(batch_size * max(share, len(lab) / len(labelled)))))
    lab_order = _cycled(lab, steps * k, rng)
    unl_order = _cycled(unl, steps * (batch_size - k), rng)
    for s in range(steps):
        idx = np.concatenate([lab_order[s * k:(s + 1) * k], unl_order[s * (batch_size - k):(s + 1) * (batch_size - k)]])
        yield idx[rng.permutation(len(idx))]  # mixed order: the decoded first windows (and every shard) hold both kinds


def _cycled(pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    reps = -(-n // max(len(pool), 1))
    return np.concatenate([rng.permutation(pool) for _ in range(reps)])[:n]
