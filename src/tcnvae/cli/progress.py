"""Training progress for the CLI: a tqdm bar on a terminal, plain lines every 30 s otherwise.

tqdm switches itself off when stdout is not a terminal (a log file, CI); without this a
training run would print nothing for minutes between epoch lines.
"""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

from tcnvae.progress import PROGRESS_EVERY_S, eta_text, seconds_since_start


class TrainProgress:
    """`on_step` callback for `train_run`: bar or periodic lines (epoch, %, windows/s, ETA)."""

    def __init__(self, batch_size: int, every: float = PROGRESS_EVERY_S, stream=None) -> None:
        self.batch_size, self.every = batch_size, every
        self.stream = stream or sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.bar = tqdm(total=None, unit="batch", dynamic_ncols=True, file=self.stream) if self.tty else None
        self.t0 = self.last = time.perf_counter()
        self.steps_done = 0

    def write(self, line: str) -> None:
        if self.bar is not None:
            tqdm.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def on_step(self, m: dict) -> None:
        # The trainer's budget for this stage: a refit trains for the selected epochs, not the config's.
        epochs = m["epochs"]
        self.steps_done += 1
        if self.steps_done == 1:  # start-up cost: imports, data loading (or the window cache), model build
            self.write(f"first training step {seconds_since_start():.1f} s after the command started")
            self.t0 = self.last = time.perf_counter()
        if self.bar is not None:
            if self.bar.total != m["steps"]:
                self.bar.reset(total=m["steps"])
            self.bar.set_description(f"epoch {m['epoch']}/{epochs}")
            self.bar.set_postfix(loss=f"{m['loss']:.3f}", ce=f"{m['ce']:.3f}", refresh=False)
            self.bar.update(1)
            return
        now = time.perf_counter()
        if now - self.last < self.every:
            return
        self.last = now
        steps = m["steps"]
        rate = self.steps_done / max(now - self.t0, 1e-9)  # steps/s over this command
        epoch_left = (steps - m["step"]) / rate
        run_left = ((epochs - m["epoch"]) * steps + steps - m["step"]) / rate
        self.write(f"epoch {m['epoch']}/{epochs}  {100.0 * m['step'] / steps:3.0f}%  step {m['step']}/{steps}"
                   f"  {rate * self.batch_size:,.0f} windows/s  loss {m['loss']:.3f}"
                   f"  ETA epoch {eta_text(epoch_left)}, run {eta_text(run_left)} (at most; early stopping may end it sooner)")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
