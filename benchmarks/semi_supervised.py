"""Semi-supervised benchmark on UCI HAPT-6, official subject split: what unlabelled data adds.

Labels are kept for only a fraction (5 %, 10 %, 25 %) of the training windows, chosen by whole
labelled segments (seeded; per class, segments are drawn until the class reaches the fraction
of its windows, at least one segment each). For each fraction, in the same run:

- TCN-VAE, labelled windows only (normalizer fitted on them; as many optimizer steps as the
  semi-supervised run, so it is not short of compute);
- TCN-VAE, labelled windows + every other training window unlabelled (the dropped labels and
  HAPT's own unlabelled gaps): reconstruction + KL on all, classification on the labelled,
  and (with --pseudo-weight > 0) the EMA teacher's confident answers as pseudo-labels;
- MiniRocket (aeon, 10k kernels, ridge) fitted on exactly the same labelled windows.

All are scored on the official test subjects (never seen before the final evaluation). The
recipe is configs/hapt6.json (a refit, no validation subjects) with the budget below. On the
2-core shared machine full budgets take hours; every setting is a flag, and the table says
which budget produced it.

`--val-subjects N` chooses between variants without the test subjects: N of the 21 official
training subjects (seeded) are held out and scored instead of the test subjects; labels and
unlabelled windows come from the other training subjects only.

For every TCN-VAE run the table's notes also give a pseudo-label diagnostic: on the unlabelled
windows whose labels were hidden, the share where the final model's confidence reaches the
pseudo-label threshold and how often its answer is right there.

    python benchmarks/semi_supervised.py [--fractions 0.05,0.1,0.25] [--epochs 12] [--preset deep_bn_micro_lags]
        [--pseudo-weight 1.0] [--threshold auto|0.95] [--max-unlabelled 0] [--val-subjects 0] [--seed 0]
        [--runs runs/semi] [--no-append]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _minirocket import minirocket_predict  # noqa: E402
from _report import publish  # noqa: E402

from tcnvae.data.fetch import fetch  # noqa: E402
from tcnvae.data.normalize import Normalizer  # noqa: E402
from tcnvae.data.windows import WindowSet  # noqa: E402
from tcnvae.train.config import build_config  # noqa: E402
from tcnvae.train.loop import Trainer, predict  # noqa: E402
from tcnvae.train.losses import pseudo_threshold  # noqa: E402
from tcnvae.train.motif_traits import adjacent  # noqa: E402
from tcnvae.train.prepare import Prepared, prepare  # noqa: E402
from tcnvae.train.run import finish_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def segments(ws: WindowSet, stride: int) -> np.ndarray:
    """Segment id per window: a new segment where the label changes or windows stop overlapping."""
    adj = adjacent(ws.x, ws.subject, stride)
    new = np.ones(len(ws), dtype=bool)
    new[1:] = ~adj | (ws.y[1:] != ws.y[:-1])
    return np.cumsum(new) - 1


def pick_labelled(ws: WindowSet, seg: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """bool [N]: windows whose labels are kept — whole segments, per class, seeded."""
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(ws), dtype=bool)
    for c in np.unique(ws.y[ws.labelled]):
        ids = rng.permutation(np.unique(seg[ws.y == c]))
        goal, got = fraction * int((ws.y == c).sum()), 0
        for s in ids:
            if got >= goal:
                break
            members = seg == s
            keep |= members
            got += int(members.sum())
    return keep


def variant(data: Prepared, train: WindowSet, refit_normalizer: bool) -> Prepared:
    norm = Normalizer.fit(train.x, train.present) if refit_normalizer else data.normalizer
    return dataclasses.replace(data, train=train, normalizer=norm)


def confidence(model, data: Prepared, hidden: WindowSet, cfg) -> dict:
    """On the windows whose labels were hidden: the share the model is confident about (at 0.95
    and at the run's pseudo-label threshold) and its accuracy there — how much a pseudo-label
    teacher this good could teach, and how truthfully."""
    probs, _ = predict(model, data.normalizer.apply(hidden.x))
    conf, pred = probs.max(1), probs.argmax(1)
    out = {}
    for name, t in (("0.95", 0.95), ("run", pseudo_threshold(cfg.pseudo_threshold, cfg.label_smoothing, probs.shape[1]))):
        m = conf >= t
        out[name] = {"threshold": round(float(t), 3), "share": round(float(m.mean()), 3),
                     "accuracy": round(float((pred[m] == hidden.y[m]).mean()), 3) if m.any() else None}
    out["accuracy_all"] = round(float((pred == hidden.y).mean()), 3)
    return out


def run_tcnvae(cfg, data: Prepared, run_dir: Path, hidden: WindowSet) -> dict:
    t0 = time.perf_counter()
    run_dir.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(cfg, data, run_dir)
    trainer.fit()
    finish_run(cfg, data, run_dir, time.perf_counter() - t0)
    test = json.loads((run_dir / "eval_metrics.json").read_text())["test"]
    history = [json.loads(r) for r in (run_dir / "history.jsonl").read_text().splitlines() if r.strip()]
    return {"macro_f1": test["macro_f1"], "accuracy": test["accuracy"], "seconds": time.perf_counter() - t0,
            "per_class": {k: round(v["f1"], 3) for k, v in test["per_class"].items()},
            "pseudo_share": [round(r["pseudo_share"], 3) for r in history if "pseudo_share" in r],
            "hidden": confidence(trainer.ema, data, hidden, cfg)}


def hold_out_training_subjects(data: Prepared, n: int, seed: int) -> Prepared:
    """n official training subjects become the scored set (their labelled windows); the others
    train, with a normalizer refitted on them — the test subjects are not touched."""
    subjects = np.array(data.train.subjects())
    held = set(np.random.default_rng(seed).choice(subjects, n, replace=False).tolist())
    mask = np.isin(data.train.subject, list(held))
    train = data.train.select(~mask)
    return dataclasses.replace(data, train=train, test=data.train.select(mask & data.train.labelled),
                               normalizer=Normalizer.fit(train.x, train.present),
                               subjects={**data.subjects, "train": sorted(set(train.subject.tolist())),
                                         "test": sorted(held)})


def run_minirocket(data: Prepared, seed: int) -> dict:
    """In a spawned process of its own: after aeon/numba ran in this process, later torch training
    steps ran ~7x slower on the shared machine."""
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pred, _ = pool.submit(minirocket_predict, data.normalizer, data.train.x, data.train.y, data.test.x,
                              seed).result()
    return {"macro_f1": float(f1_score(data.test.y, pred, average="macro")),
            "accuracy": float((pred == data.test.y).mean()), "seconds": time.perf_counter() - t0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="from_path", type=Path, default=ROOT.parent / "shared" / "data" / "uci-hapt.zip")
    ap.add_argument("--fractions", default="0.05,0.1,0.25")
    ap.add_argument("--epochs", type=int, default=12, help="epochs of the semi-supervised run (configs/hapt6.json: 12)")
    ap.add_argument("--preset", default=None, help="model preset (default: configs/hapt6.json's)")
    ap.add_argument("--pseudo-weight", type=float, default=1.0, help="0: reconstruction/KL only from unlabelled")
    ap.add_argument("--threshold", default="auto", help="pseudo-label confidence: auto (0.95 of the "
                    "label-smoothing ceiling, the default) or a number (0.95: the absolute threshold of before)")
    ap.add_argument("--val-subjects", type=int, default=0, help="score on N held-out TRAINING subjects instead "
                    "of the test subjects (for choosing variants)")
    ap.add_argument("--max-unlabelled", type=int, default=0, help="cap on unlabelled windows (0: all)")
    ap.add_argument("--max-sup-epochs", type=int, default=400, help="cap on the labels-only run's epochs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "semi")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (2 threads ran 7x slower per step "
                    "than 1 on the oversubscribed shared machine)")
    ap.add_argument("--order", default="semi,sup,minirocket", help="order of the variants in each row")
    ap.add_argument("--skip", default="", help="comma list of variants to skip: sup,semi,minirocket")
    ap.add_argument("--no-append", action="store_true")
    ap.add_argument("--publish", type=Path, default=None,
                    help="only publish the table of a finished run's RUNS/results.jsonl (same other flags)")
    args = ap.parse_args()
    if args.publish is not None:
        return publish_results(args)
    torch.set_num_threads(args.threads)
    fetch("uci-hapt", from_path=args.from_path)
    flags = {"epochs": args.epochs, "seed": args.seed, "unlabelled": True, "pseudo_weight": args.pseudo_weight,
             "pseudo_threshold": None if args.threshold == "auto" else float(args.threshold)}
    if args.preset:
        flags["preset"] = args.preset
    base = build_config(ROOT / "configs" / "hapt6.json", **flags)
    data = prepare(base)  # all training windows, HAPT's unlabelled gaps included (y = -1)
    if args.val_subjects:
        data = hold_out_training_subjects(data, args.val_subjects, args.seed)
    labelled_all = data.train.select(data.train.labelled)
    seg = segments(labelled_all, base.stride)
    skip = set(args.skip.split(","))
    rows, notes = [], []
    for frac in (float(f) for f in args.fractions.split(",")):
        keep = pick_labelled(labelled_all, seg, frac, args.seed)
        lab = labelled_all.select(keep)
        notes.append(f"- {frac:.0%}: {len(lab):,} labelled windows from {len(np.unique(seg[keep]))} segments "
                     f"of {len(np.unique(seg))}; per class {lab.class_counts()}")
        rest = np.flatnonzero(~data.train.labelled)  # HAPT's own unlabelled gaps
        hidden = labelled_all.select(~keep)
        unl = WindowSet(np.concatenate([hidden.x, data.train.x[rest]]), np.full(len(hidden) + len(rest), -1),
                        np.concatenate([hidden.subject, data.train.subject[rest]]),
                        np.concatenate([hidden.domain, data.train.domain[rest]]), data.train.present, lab.label_names)
        if args.max_unlabelled and len(unl) > args.max_unlabelled:
            unl = unl.select(np.sort(np.random.default_rng(args.seed).choice(len(unl), args.max_unlabelled, replace=False)))
        semi = WindowSet(np.concatenate([lab.x, unl.x]), np.concatenate([lab.y, unl.y]),
                         np.concatenate([lab.subject, unl.subject]), np.concatenate([lab.domain, unl.domain]),
                         data.train.present, lab.label_names)
        sup_data = variant(data, lab, refit_normalizer=True)
        semi_data = variant(data, semi, refit_normalizer=False)
        sup_epochs = min(args.max_sup_epochs, math.ceil(args.epochs * len(semi) / len(lab)))
        row = {"fraction": frac, "n_labelled": len(lab), "n_unlabelled": len(unl), "sup_epochs": sup_epochs,
               "note": notes[-1]}
        tag = f"{frac:g}-seed{args.seed}"
        sup_cfg = dataclasses.replace(base, epochs=sup_epochs, unlabelled=False, pseudo_weight=0.0)
        jobs = {"minirocket": lambda: run_minirocket(sup_data, args.seed),
                "semi": lambda: run_tcnvae(base, semi_data, args.runs / f"semi-{tag}", hidden),
                "sup": lambda: run_tcnvae(sup_cfg, sup_data, args.runs / f"sup-{tag}", hidden)}
        for key in (k for k in args.order.split(",") if k not in skip):
            row[key] = jobs[key]()
            print(json.dumps(row, default=str), flush=True)
            args.runs.mkdir(parents=True, exist_ok=True)
            with open(args.runs / "results.jsonl", "a") as f:  # partial results survive an interruption
                f.write(json.dumps(row, default=str) + "\n")
        rows.append(row)
    publish(title(args), table(rows, base, args) + "\n\n" + "\n".join(notes), append=not args.no_append)
    return 0


def title(args) -> str:
    where = (f"{args.val_subjects} held-out TRAINING subjects (variant choice, no test subject)" if args.val_subjects
             else "official subject split")
    return f"Semi-supervised: UCI HAPT-6 with {args.fractions.replace(',', ' / ')} of the training labels ({where})"


def publish_results(args) -> int:
    """The table of an earlier run's results.jsonl: the last line of each fraction holds its row."""
    rows: dict[float, dict] = {}
    for line in args.publish.read_text().splitlines():
        row = json.loads(line)
        rows[row["fraction"]] = row
    cfg = build_config(ROOT / "configs" / "hapt6.json", unlabelled=True, pseudo_weight=args.pseudo_weight,
                       pseudo_threshold=None if args.threshold == "auto" else float(args.threshold),
                       **({"preset": args.preset} if args.preset else {}))
    publish(title(args), table(list(rows.values()), cfg, args) + "\n\n" + "\n".join(r.get("note", "") for r in rows.values()),
            append=not args.no_append)
    return 0


def table(rows: list[dict], cfg, args) -> str:
    def cell(r: dict, key: str) -> str:
        return f"{r[key]['macro_f1']:.3f} ({r[key]['seconds'] / 60:.0f} min)" if key in r else "not run"

    threshold = pseudo_threshold(cfg.pseudo_threshold, cfg.label_smoothing, len(cfg.classes))
    scored = (f"{args.val_subjects} held-out training subjects" if args.val_subjects else "the 9 official test subjects")
    lines = [f"Budget: preset `{cfg.preset}`, {args.epochs} epochs for the semi-supervised run (the labels-only "
             f"run: the same number of optimizer steps, at most {args.max_sup_epochs} epochs), pseudo-label "
             f"weight {args.pseudo_weight:g} (threshold {args.threshold}: {threshold:.3f}), labelled share per batch "
             f"{cfg.labelled_share:g}, unlabelled windows {'all' if not args.max_unlabelled else f'at most {args.max_unlabelled:,}'}, "
             f"seed {args.seed}. Macro-F1 on {scored} (fit time).", "",
             "| labels | labelled / unlabelled windows | TCN-VAE, labels only | TCN-VAE + unlabelled | MiniRocket, same labels |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['fraction']:.0%} | {r['n_labelled']:,} / {r['n_unlabelled']:,} | {cell(r, 'sup')} | "
                     f"{cell(r, 'semi')} | {cell(r, 'minirocket')} |")
    for r in rows:
        for key in ("sup", "semi"):
            if key in r:
                lines.append(f"\n- {r['fraction']:.0%} {key} per-class F1: "
                             + ", ".join(f"{k} {v}" for k, v in r[key]["per_class"].items()))
                if "hidden" in r[key]:
                    h = r[key]["hidden"]
                    lines.append(f"  pseudo-label diagnostic on the hidden-label windows: final model right on "
                                 f"{h['accuracy_all']:.3f}; confidence ≥ {h['0.95']['threshold']}: "
                                 f"{h['0.95']['share']:.0%} of windows ({h['0.95']['accuracy']} right), ≥ "
                                 f"{h['run']['threshold']}: {h['run']['share']:.0%} ({h['run']['accuracy']} right)"
                                 + (f"; pseudo_share per epoch {r[key]['pseudo_share']}" if r[key]["pseudo_share"] else ""))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
