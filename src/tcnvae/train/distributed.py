"""Data-parallel training under torchrun: process group, shards, rank-0-only side effects.

    torchrun --standalone --nproc-per-node 2 -m tcnvae train --data uci-hapt --out runs/ddp

torchrun sets RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT; `init_from_env`
joins the group (NCCL on CUDA, gloo on CPU) and binds each process to its GPU. Without those
variables everything here is the single-process case (rank 0 of 1) and costs nothing.

Every rank holds the same prepared windows (the data layer is deterministic and cached) and
the same global batch order; rank r trains on every world-th window of each global batch, so
the effective batch and the number of steps per epoch are those of a single-process run with
the same config. Validation, early stopping decisions, checkpoints and the run directory are
rank 0's; the others receive its decisions by broadcast and wait at barriers.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from tcnvae.errors import TcnvaeError

log = logging.getLogger(__name__)


class DistributedError(TcnvaeError):
    """A torchrun setup this run cannot use (names the variable or value)."""


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


SINGLE = World()

# The other ranks wait in a collective while rank 0 alone validates each epoch and, after
# training, fits motifs and evaluates: minutes on HAPT, far longer on a large own dataset on CPU.
# PyTorch's defaults (30 min gloo, 10 min NCCL) would time them out and torchrun would then stop
# rank 0 mid-way; a crashed rank is still caught at once, because torchrun watches its exit.
TIMEOUT_ENV = "TCNVAE_DIST_TIMEOUT_MIN"
DEFAULT_TIMEOUT_MIN = 180


def group_timeout() -> timedelta:
    """How long a rank waits in one collective ($TCNVAE_DIST_TIMEOUT_MIN, default 180 minutes)."""
    text = os.environ.get(TIMEOUT_ENV, str(DEFAULT_TIMEOUT_MIN))
    try:
        timeout = timedelta(minutes=float(text))
    except (ValueError, OverflowError):  # not a number, nan, inf, beyond timedelta's range
        timeout = None
    if timeout is None or timeout <= timedelta(0):
        raise DistributedError(f"{TIMEOUT_ENV}={text!r}: expected a positive number of minutes")
    return timeout


def env_world() -> World:
    """The world torchrun describes in the environment (rank 0 of 1 without torchrun)."""
    try:
        size = int(os.environ.get("WORLD_SIZE", "1"))
        return World(int(os.environ.get("RANK", "0")), size, int(os.environ.get("LOCAL_RANK", "0")))
    except ValueError as e:
        raise DistributedError(f"torchrun environment: {e}") from None


def init_from_env(device: torch.device) -> tuple[World, torch.device]:
    """Join torchrun's process group; on CUDA each process takes the GPU of its LOCAL_RANK."""
    world = env_world()
    if not world.distributed:
        return world, device
    timeout = group_timeout()
    if device.type == "cuda":
        if world.local_rank >= torch.cuda.device_count():
            raise DistributedError(f"LOCAL_RANK {world.local_rank} but only {torch.cuda.device_count()} "
                                   f"CUDA device(s): use --nproc-per-node <= {torch.cuda.device_count()}")
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if dist.is_initialized():  # a caller's own group keeps the timeout it was created with
        log.info("rank %d of %d (local rank %d), process group already initialised (backend %s), device %s",
                 world.rank, world.size, world.local_rank, dist.get_backend(), device)
        return world, device
    dist.init_process_group(backend=backend, device_id=device if device.type == "cuda" else None,
                            timeout=timeout)
    log.info("rank %d of %d (local rank %d), backend %s, device %s, collective timeout %s", world.rank,
             world.size, world.local_rank, backend, device, timeout)
    return world, device


def shutdown() -> None:
    """Leave the process group together: ranks other than 0 finish training long before rank 0 has
    fitted motifs and evaluated, and one that tore gloo down (and exited) alone was seen to abort
    ("terminate called without an active exception") while its peer still held the connection."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def broadcast(world: World, obj):
    """Rank 0's `obj` on every rank (a small picklable value: a decision, an error message)."""
    if not world.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def run_on_main(world: World, fn):
    """Run `fn` on rank 0; its result, or its TcnvaeError, reaches every rank.

    The other ranks would otherwise wait forever at the next collective when rank 0 fails."""
    result, error = None, None
    if world.main:
        try:
            result = fn()
        except TcnvaeError as e:
            error = e
    error_text = broadcast(world, None if error is None else str(error))
    if error is not None:
        raise error
    if error_text is not None:
        raise TcnvaeError(f"rank 0 failed: {error_text}")
    return result


def shard(indices, world: World):
    """This rank's part of one global batch (every world-th window, like DistributedSampler)."""
    return indices[world.rank::world.size]


def parameter_digest(model: torch.nn.Module) -> str:
    """sha256 over every parameter's bytes: equal on all ranks iff their weights are identical."""
    h = hashlib.sha256()
    for p in model.parameters():
        h.update(p.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()[:16]
