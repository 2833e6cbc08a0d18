"""The training loop: AdamW, warm-up + cosine LR, gradient clipping, EMA weights, DANN,
early stopping on validation macro-F1, best checkpoint, resumable and deterministic.

Any device (`--device`), optional autocast (`--precision`), and data-parallel under torchrun
(train/distributed.py): each rank trains on its shard of every global batch (train/batches.py),
gradients are averaged by DistributedDataParallel, rank 0 validates, decides and writes.

Unlabelled windows (y = -1) train reconstruction, KL and the domain head; when both kinds are
present each batch holds at least `labelled_share` labelled windows (cycled), so the activity
head sees a steady stream of labels however few there are. Validation selects on macro-F1 over
the labelled validation windows, or, without any (a motif-only model), on the validation loss.
With `pseudo_weight` > 0 the EMA model's confident predictions on clean unlabelled windows
also train the activity head on their augmented copies (self-training).

Refit (no validation subjects, `val_subjects=0`): the whole epoch budget runs and the last EMA
weights are the model; the budget is chosen beforehand on validation subjects.

Determinism: every epoch reseeds numpy and torch from (seed, epoch), so a resumed run draws
the same batches, augmentations and dropout masks as an uninterrupted one.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from sklearn.metrics import f1_score

from tcnvae.data.splits import domain_index
from tcnvae.model.checkpoint import save_model
from tcnvae.model.device import autocast, grad_scaler, to_device
from tcnvae.model.grl import dann_strength
from tcnvae.model.presets import preset_config
from tcnvae.model.vae import TCNVAE
from tcnvae.train.augment import augment
from tcnvae.train.batches import global_batches, mixed_batches  # noqa: F401  (mixed_batches: public here)
from tcnvae.train.config import ConfigError, TrainConfig
from tcnvae.train.distributed import SINGLE, World, barrier, broadcast, parameter_digest
from tcnvae.train.losses import (active_units, beta_at, kl_free_bits, pseudo_label_loss, pseudo_threshold,
                                 total_loss)
from tcnvae.train.mixup import mix_batch
from tcnvae.train.prepare import Prepared

log = logging.getLogger(__name__)
sync_log = logging.getLogger(__name__ + ".sync")  # per-rank weight digests (--sync-check), shown on every rank
STATE_FILE = "state.pt"
BEST_FILE = "model.safetensors"
HISTORY_FILE = "history.jsonl"
CHUNK_BATCHES = 16  # batches moved to an accelerator per pinned copy: few large transfers, not many small


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def predict(model: TCNVAE, x_norm: np.ndarray, batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """(class probabilities (N, K), latent means (N, D)) for normalized windows."""
    model.eval()
    device = model_device(model)
    probs, mus = [], []
    for i in range(0, len(x_norm), batch):
        mu, _ = model.encode(to_device(torch.from_numpy(np.ascontiguousarray(x_norm[i:i + batch])), device))
        mu = mu.float()
        logits = model.activity_head(mu) if model.activity_head is not None else mu[:, :0]
        probs.append(torch.softmax(logits, dim=1).cpu().numpy())
        mus.append(mu.cpu().numpy())
    k, d = model.config.n_classes, model.config.latent_dim
    return (np.concatenate(probs) if probs else np.zeros((0, k)), np.concatenate(mus) if mus else np.zeros((0, d)))


class Trainer:
    def __init__(self, cfg: TrainConfig, data: Prepared, run_dir: Path,
                 on_step: Callable[[dict], None] | None = None, device: torch.device | str = "cpu",
                 precision: str = "fp32", world: World = SINGLE, sync_check: bool = False) -> None:
        self.cfg, self.data, self.run_dir = cfg, data, Path(run_dir)
        self.on_step = on_step or (lambda _m: None)
        self.device, self.precision, self.world = torch.device(device), precision, world
        self.sync_check = sync_check
        if cfg.batch_size % world.size:
            raise ConfigError(f"batch_size {cfg.batch_size} must divide by the {world.size} torchrun processes "
                              "(it is the effective batch, split across them)")
        torch.manual_seed(cfg.seed)
        self.model = TCNVAE(preset_config(cfg.preset, n_classes=len(data.label_names),
                                          n_domains=len(data.domain_names), label_names=data.label_names,
                                          domain_names=data.domain_names)).to(self.device)
        self.ema = copy.deepcopy(self.model).eval()
        self.net = self._wrap(self.model)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.scaler = grad_scaler(self.device, precision)
        self.steps_per_epoch = max(1, math.ceil(len(data.train) / cfg.batch_size))
        total, warm = cfg.epochs * self.steps_per_epoch, max(1, int(cfg.warmup_frac * cfg.epochs * self.steps_per_epoch))
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (
            1 + math.cos(math.pi * min(1.0, max(0, s - warm) / max(1, total - warm)))))
        self.x_val = data.normalizer.apply(data.val.x)
        self.refit = len(data.val) == 0
        self.domains = domain_index(data.train.domain)[0] if len(data.domain_names) > 1 else None
        self.class_weight = self._class_weight().to(self.device) if cfg.class_weights else None
        # Pseudo-labels need both an activity head and unlabelled windows to learn from.
        self.pseudo = (cfg.pseudo_weight > 0 and len(data.label_names) > 0
                       and bool((~data.train.labelled).any()))
        self.threshold = pseudo_threshold(cfg.pseudo_threshold, cfg.label_smoothing, len(data.label_names))
        self.epoch, self.best_f1, self.bad_epochs = 0, -math.inf, 0

    def _wrap(self, model: TCNVAE) -> torch.nn.Module:
        """DistributedDataParallel under torchrun; the bare model otherwise.

        BatchNorm: on CUDA the layers become SyncBatchNorm (statistics over the whole global
        batch, as one process would see it). gloo has no SyncBatchNorm (PyTorch runs it on
        accelerators only), so on CPU each rank normalises over its own shard (32+ windows at
        the default batch) and DDP broadcasts rank 0's running statistics before every step,
        which keeps the buffers, and with them EMA and checkpoints, identical on all ranks."""
        if not self.world.distributed:
            return model
        if self.device.type == "cuda":
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
            self.model = model
        ids = [self.device.index] if self.device.type == "cuda" else None
        # A single-domain run computes domain logits that no loss uses: DDP must not wait for their gradients.
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids, broadcast_buffers=True,
                                                         find_unused_parameters=len(self.data.domain_names) <= 1)

    def _class_weight(self) -> torch.Tensor:
        y = self.data.train.y
        counts = np.bincount(y[y >= 0], minlength=len(self.data.label_names)).astype(np.float64)
        w = counts.sum() / np.maximum(counts, 1) / len(counts)
        return torch.tensor(np.sqrt(w), dtype=torch.float32)  # sqrt: tempered, rare transitions still learnable

    def _batches(self, epoch: int):
        """(x, y, domain) CPU tensors of this rank's shard of each global batch of the epoch."""
        rng = np.random.default_rng([self.cfg.seed, epoch])
        # One process: one stream for order and augmentation (as before DDP). Several: the order
        # is shared, each rank augments its own shard with its own stream.
        aug_rng = np.random.default_rng([self.cfg.seed, epoch, self.world.rank]) if self.world.distributed else rng
        torch.manual_seed(self.cfg.seed * 100_003 + epoch + 7_919 * self.world.rank)
        groups = global_batches(self.data.train.labelled, self.cfg.batch_size, self.steps_per_epoch,
                                self.cfg.labelled_share, rng, self.world)
        std = self.data.normalizer.std
        for idx in groups:
            x = clean = self.data.train.x[idx]
            if self.cfg.augment:
                x = augment(x, aug_rng, self.cfg.aug_scale, self.cfg.aug_jitter, self.cfg.aug_rotate_deg, std,
                            warp=self.cfg.aug_time_warp)
            d = torch.from_numpy(self.domains[idx]) if self.domains is not None else None
            teacher_x = torch.from_numpy(self.data.normalizer.apply(clean)) if self.pseudo else None
            yield torch.from_numpy(self.data.normalizer.apply(x)), torch.from_numpy(self.data.train.y[idx]), d, teacher_x

    def _pseudo_term(self, logits: torch.Tensor, teacher_x: torch.Tensor, unl: torch.Tensor, parts: dict) -> torch.Tensor:
        """Self-training on unlabelled windows: the EMA teacher's confident answers on the clean
        window are targets for the student on its augmented copy (mean teacher / FixMatch style)."""
        with torch.no_grad():
            probs = torch.softmax(self.ema.activity_head(self.ema.encode(teacher_x[unl])[0]), dim=1)
        term, share = pseudo_label_loss(logits[unl], probs, self.threshold)
        parts.update({"pseudo": term.detach(), "pseudo_share": share})
        return self.cfg.pseudo_weight * term

    def _device_batches(self, epoch: int):
        """`_batches` on the training device, copied CHUNK_BATCHES at a time through pinned memory."""
        if self.device.type == "cpu":
            yield from self._batches(epoch)
            return
        pending: list = []
        for b in self._batches(epoch):
            pending.append(b)
            if len(pending) == CHUNK_BATCHES:
                yield from self._move(pending)
                pending = []
        yield from self._move(pending)

    def _move(self, batches: list):
        if not batches:
            return
        sizes = [len(b[1]) for b in batches]

        def moved(j: int) -> list:
            if batches[0][j] is None:
                return [None] * len(batches)
            return list(to_device(torch.cat([b[j] for b in batches]), self.device).split(sizes))
        yield from zip(*(moved(j) for j in range(4)))

    def _update_ema(self, step: int) -> None:
        # Warm-up (as timm's ModelEmaV3): early on the average must not be dominated by the init.
        decay = min(self.cfg.ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, p in zip(self.ema.parameters(), self.model.parameters()):
                pe.mul_(decay).add_(p.detach(), alpha=1 - decay)
            for be, b in zip(self.ema.buffers(), self.model.buffers()):
                be.copy_(b)  # BatchNorm running statistics follow the live model, as in timm

    def _step(self, x: torch.Tensor, y: torch.Tensor, d: torch.Tensor | None, teacher_x: torch.Tensor | None,
              weights: dict) -> dict:
        mix = None
        if self.cfg.mixup > 0:
            x, mix = mix_batch(x, self.cfg.mixup)
        with autocast(self.device, self.precision):
            out = self.net(x, recon_count=max(1, int(len(x) * self.cfg.recon_fraction)))
        out = {k: v.float() for k, v in out.items()}  # losses in fp32 whatever the forward ran in
        loss, parts = total_loss(out, x[:out["recon"].shape[0]], y, d, weights, self.cfg.label_smoothing,
                                 self.class_weight, self.cfg.free_bits, mix)
        unl, lab = y < 0, y >= 0
        if teacher_x is not None and bool(unl.any()):
            loss = loss + self._pseudo_term(out["logits"], teacher_x, unl, parts)
        if self.world.distributed:
            # A shard without labels leaves the activity head out of the graph; DDP reduces every
            # parameter's gradient on every rank, so it gets an explicit zero rather than none.
            loss = loss + 0.0 * out["logits"].sum()
        self.opt.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.opt)
        else:
            loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        if self.scaler is not None:
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            self.opt.step()
        parts["grad_norm"] = grad_norm
        if bool(lab.any()):  # augmented batches, labelled windows
            parts["train_accuracy"] = (out["logits"][lab].argmax(1) == y[lab]).float().mean()
        keys = list(parts)
        values = torch.stack([torch.as_tensor(parts[k], dtype=torch.float32, device=self.device)
                              for k in keys]).tolist()  # one device sync per step, not one per number
        return dict(zip(keys, values))

    def _train_epoch(self, epoch: int) -> dict:
        self.net.train()
        sums: dict[str, float] = {}
        n = 0
        for step, (x, y, d, teacher_x) in enumerate(self._device_batches(epoch)):
            progress = (epoch * self.steps_per_epoch + step) / (self.cfg.epochs * self.steps_per_epoch)
            self.model.grl.strength = dann_strength(progress)
            weights = {"recon": self.cfg.recon_weight, "cls": self.cfg.cls_weight, "domain": self.cfg.domain_weight,
                       "beta": beta_at(epoch + step / self.steps_per_epoch, self.cfg.beta, self.cfg.beta_warmup_epochs)}
            parts = self._step(x, y, d, teacher_x, weights)
            self.sched.step()
            self._update_ema(epoch * self.steps_per_epoch + step)
            if self.sync_check:
                sync_log.info("rank %d epoch %d step %d params %s", self.world.rank, epoch + 1, step + 1,
                         parameter_digest(self.model))
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v
            n += 1
            if self.world.main:
                self.on_step({"epoch": epoch + 1, "epochs": self.cfg.epochs, "step": step + 1,
                              "steps": self.steps_per_epoch, **parts})
        return {k: v / max(n, 1) for k, v in sums.items()}

    def _validate(self) -> dict:
        if self.refit or not self.world.main:
            return {}
        probs, mu = predict(self.ema, self.x_val)
        lab = self.data.val.labelled
        row = {"active_units": active_units(torch.from_numpy(mu)) if len(mu) > 1 else 0}
        if probs.shape[1] and lab.any():
            pred, y = probs[lab].argmax(1), self.data.val.y[lab]
            row.update({"val_macro_f1": float(f1_score(y, pred, average="macro")),
                        "val_accuracy": float((pred == y).mean())})
        else:  # nothing labelled to score: select on the VAE's own validation loss
            row["val_loss"] = self._val_loss()
        return row

    @torch.no_grad()
    def _val_loss(self, batch: int = 512) -> float:
        """Reconstruction MSE + beta * KL (per window, free bits) of the EMA model on validation windows."""
        self.ema.eval()
        total = 0.0
        for i in range(0, len(self.x_val), batch):
            x = to_device(torch.from_numpy(np.ascontiguousarray(self.x_val[i:i + batch])), self.device)
            mu, logvar = self.ema.encode(x)
            recon = float(((self.ema.decode(mu, x.shape[1]) - x) ** 2).mean())
            total += len(x) * (recon + self.cfg.beta * float(kl_free_bits(mu, logvar, self.cfg.free_bits)))
        return total / max(len(self.x_val), 1)

    def _save_state(self) -> None:
        state = {"model": self.model.state_dict(), "ema": self.ema.state_dict(), "opt": self.opt.state_dict(),
                 "sched": self.sched.state_dict(), "epoch": self.epoch, "best_f1": self.best_f1,
                 "bad_epochs": self.bad_epochs}
        if self.scaler is not None:
            state["scaler"] = self.scaler.state_dict()
        tmp = self.run_dir / f".{STATE_FILE}.tmp"
        torch.save(state, tmp)
        tmp.replace(self.run_dir / STATE_FILE)

    def load_state(self) -> bool:
        path = self.run_dir / STATE_FILE
        # Rank 0 reads the run folder and sends the state: other nodes need no shared filesystem.
        state = torch.load(path, map_location="cpu", weights_only=True) if self.world.main and path.is_file() else None
        state = broadcast(self.world, state)  # tensors and numbers only
        if state is None:
            return False
        self.model.load_state_dict(state["model"])
        self.ema.load_state_dict(state["ema"])
        self.opt.load_state_dict(state["opt"])
        self.sched.load_state_dict(state["sched"])
        if self.scaler is not None and "scaler" in state:
            self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.best_f1, self.bad_epochs = state["epoch"], state["best_f1"], state["bad_epochs"]
        history = self.run_dir / HISTORY_FILE
        if self.world.main and history.is_file():  # drop rows of an epoch that finished after the last saved state
            rows = [r for r in history.read_text().splitlines() if r.strip() and json.loads(r)["epoch"] <= self.epoch]
            history.write_text("".join(r + "\n" for r in rows))
        log.info("resumed at epoch %d (best validation macro-F1 %.4f)", self.epoch, self.best_f1)
        return True

    def fit(self, on_epoch: Callable[[dict], None] | None = None, stop_after: int | None = None) -> float:
        """Train until the epoch budget or early stopping; returns the best validation macro-F1
        (minus the validation loss when no validation window is labelled).

        `stop_after` ends this call after that many epochs (as an interruption would); the run
        continues with `load_state()` + `fit()` exactly as if it had not stopped."""
        done = 0
        log.info("training: %d windows, %d steps per epoch, epochs %d..%d, device %s, precision %s%s",
                 len(self.data.train), self.steps_per_epoch, self.epoch + 1, self.cfg.epochs, self.device,
                 self.precision, f", {self.world.size} processes" if self.world.distributed else "")
        while self.epoch < self.cfg.epochs and self.bad_epochs < self.cfg.patience:
            if stop_after is not None and done >= stop_after:
                break
            done += 1
            t0 = time.perf_counter()
            row = {"epoch": self.epoch + 1, **self._train_epoch(self.epoch), **self._validate(),
                   "lr": self.sched.get_last_lr()[0]}
            row["seconds"] = round(time.perf_counter() - t0, 2)
            self.epoch += 1
            if self.world.main:
                self._record(row)
            # Rank 0 decided (best, patience) and wrote the checkpoint: every rank follows it.
            self.best_f1, self.bad_epochs = broadcast(self.world, (self.best_f1, self.bad_epochs))
            barrier(self.world)
            if self.world.main:
                (on_epoch or (lambda _r: None))(row)
        return self.best_f1

    def _record(self, row: dict) -> None:
        """Rank 0: checkpoint selection, history row, resumable state."""
        if self.refit:  # nothing to select on: the latest weights are the model
            row["best"] = True
            save_model(self.run_dir / BEST_FILE, self.ema, {"epoch": self.epoch, "refit": True})
        elif (score := selection_score(row)) > self.best_f1:
            self.best_f1, self.bad_epochs, row["best"] = score, 0, True
            key = "val_macro_f1" if "val_macro_f1" in row else "val_loss"
            save_model(self.run_dir / BEST_FILE, self.ema, {"epoch": self.epoch, key: row[key]})
        else:
            self.bad_epochs, row["best"] = self.bad_epochs + 1, False
        with open(self.run_dir / HISTORY_FILE, "a") as f:
            f.write(json.dumps(row) + "\n")
        self._save_state()


def selection_score(row: dict) -> float:
    """What early stopping maximizes: validation macro-F1, else minus the validation loss."""
    return row["val_macro_f1"] if "val_macro_f1" in row else -row["val_loss"]
