"""The recipe suite: one training recipe, every real dataset, subject-wise k-fold CV, several seeds.

For each dataset and seed, the subjects are shuffled into k folds (`tcnvae.train.cv`); on every
fold the TCN-VAE trains on the other subjects and MiniRocket is fitted on exactly the windows the
TCN-VAE trained on (training + its validation subjects), both scored on the fold's test subjects.
The table gives mean ± sd over all folds × seeds and the paired per-fold difference. This suite,
never a test split, is what chooses the default recipe.

    python benchmarks/recipe_suite.py --datasets watch,hapt6,hapt12 --folds 5 --seeds 0,1,2 \
        [--config FILE] [--set epochs=12 --set mixup=0.2 ...] [--runs runs/suite] [--no-append]

Datasets: `watch` (seglearn's Apple-Watch set, embedded), `hapt6` / `hapt12` (UCI HAPT from
`--from`). aeon's BasicMotions carries no subject ids, so it cannot be split by subject.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _minirocket import in_fresh_process, minirocket_fold  # noqa: E402
from _report import publish  # noqa: E402

from tcnvae.cli.common import average_offsets  # noqa: E402
from tcnvae.data.fetch import fetch  # noqa: E402
from tcnvae.model.presets import preset_has_batch_norm  # noqa: E402
from tcnvae.train.config import TrainConfig  # noqa: E402
from tcnvae.train.cv import (adapted_fold_scores, averaged_fold_scores, fold_test_windows, subject_folds,  # noqa: E402
                             train_fold)
from tcnvae.train.loop import selection_score  # noqa: E402

HAPT6 = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING")
DATASETS = {"watch": {"data": ("watch",)},
            "hapt6": {"data": ("uci-hapt",), "classes": HAPT6},
            "hapt12": {"data": ("uci-hapt",)}}


def parse_sets(pairs: list[str]) -> dict:
    """`key=value` overrides of TrainConfig; values are read as JSON where they parse."""
    out = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def base_config(path: Path | None, sets: dict) -> TrainConfig:
    doc = json.loads(path.read_text()) if path else {}
    doc.update(sets)
    for k, v in doc.items():
        if isinstance(v, list):
            doc[k] = tuple(v)
    return TrainConfig(**doc)


SCORES = ("accuracy", "macro_f1", "n_windows")


def minirocket_cached(cfg: TrainConfig, fold, run_dir: Path, data_dir: Path, seed: int, shifted: dict,
                      reuse: Path | None) -> dict:
    """MiniRocket's fold scores, kept in the fold's run folder: a resumed suite does not refit them
    (on ~23k HAPT windows one fit takes 10-35 min here). `reuse`: the same fold's folder of an earlier
    suite run (another recipe, same dataset, seed and split), whose MiniRocket saw the very same
    windows: MiniRocket does not depend on the TCN-VAE's recipe."""
    path = run_dir / "minirocket.json"
    for candidate in (path, reuse / "minirocket.json" if reuse else None):
        if candidate is None or not candidate.is_file():
            continue
        cached = json.loads(candidate.read_text())
        if cached.get("test_subjects", list(fold.test_subjects)) != list(fold.test_subjects):
            raise SystemExit(f"{candidate}: MiniRocket scored test subjects {cached['test_subjects']}, "
                             f"fold {fold.index} holds out {list(fold.test_subjects)}")
        if "averaged" in cached or not shifted:
            return cached
    mr = {k: v for k, v in in_fresh_process(minirocket_fold, cfg, fold, data_dir, seed, shifted).items()
          if k != "labels"}
    mr["test_subjects"] = list(fold.test_subjects)
    tmp = path.with_name(".minirocket.json.tmp")
    tmp.write_text(json.dumps(mr))
    tmp.replace(path)
    return mr


def patience_stop(history: Path, patience: int) -> int | None:
    """The epoch at which early stopping with `patience` would have ended the run logged in
    `history` (None: it would not have, in the epochs logged)."""
    best, bad = -float("inf"), 0
    for line in history.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        score = selection_score(row)  # what the Trainer's early stopping compares
        best, bad = (score, 0) if score > best else (best, bad + 1)
        if bad >= patience:
            return row["epoch"]
    return None


def shadow_dir_of(run_dir: Path, patience: int) -> Path:
    """Where the copy of a fold's run at its patience-`patience` stop lives: beside the run."""
    return run_dir.with_name(f"{run_dir.name}-patience{patience}")


def shadow_snapshot(run_dir: Path, shadow_dir: Path, patience: int) -> Callable[[dict], None]:
    """An on_epoch hook: copy the run folder at the epoch where `patience` would have stopped it.

    Every epoch reseeds from (seed, epoch), so a run with a longer patience is, up to that epoch,
    bit for bit the run with the shorter one; the copy, resumed with the shorter patience, stops at
    once and is scored. One training gives both recipes' rows."""
    def on_epoch(row: dict) -> None:
        if shadow_dir.exists() or patience_stop(run_dir / "history.jsonl", patience) != row["epoch"]:
            return
        tmp = shadow_dir.with_name(f".{shadow_dir.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(run_dir, tmp)
        config = json.loads((tmp / "train_config.json").read_text())
        (tmp / "train_config.json").write_text(json.dumps({**config, "patience": patience}, indent=2))
        tmp.replace(shadow_dir)
    return on_epoch


def shadow_scores(cfg: TrainConfig, fold, run_dir: Path, data_dir: Path, patience: int, ours: dict) -> dict:
    """The fold's TCN-VAE scores had early stopping used `patience` (< the recipe's)."""
    stop = patience_stop(run_dir / "history.jsonl", patience)
    if stop is None:  # it would not have stopped: the same run, the same checkpoint
        return {**{k: ours[k] for k in SCORES}, "stopped": None, "best_epoch": ours["best_epoch"]}
    shadow_dir = shadow_dir_of(run_dir, patience)
    if not shadow_dir.is_dir():
        raise SystemExit(f"fold {fold.index}: patience {patience} would have stopped {run_dir} at epoch {stop}, "
                         f"before this suite watched it (a run trained elsewhere?); {shadow_dir} is missing")
    shadow = train_fold(dataclasses.replace(cfg, patience=patience), fold, shadow_dir, data_dir)
    return {**{k: shadow[k] for k in SCORES}, "stopped": stop, "best_epoch": shadow["best_epoch"]}


def run_fold(cfg: TrainConfig, fold, run_dir: Path, data_dir: Path, seed: int, offsets: list[int],
             minirocket: str | Path, shadow_patience: int | None = None) -> dict:
    """One fold's row. `minirocket`: "fit" (or reuse this fold's cache), "skip", or an earlier suite
    run's fold folder to take MiniRocket's scores from. `shadow_patience`: also score the same run
    as early stopping with that patience would have left it."""
    hook = shadow_snapshot(run_dir, shadow_dir_of(run_dir, shadow_patience), shadow_patience) if shadow_patience else None
    ours = train_fold(cfg, fold, run_dir, data_dir, on_epoch=hook)
    labels = tuple(json.loads((run_dir / "model_config.json").read_text())["label_names"])
    test, shifted = fold_test_windows(cfg, fold, labels, offsets, data_dir)
    adapted = ({k: v for k, v in adapted_fold_scores(run_dir, test, cfg.data, data_dir).items() if k in SCORES}
               if preset_has_batch_norm(cfg.preset) else None)  # AdaBN needs BatchNorm
    history = (run_dir / "history.jsonl").read_text().splitlines()
    row = {"fold": fold.index, "seed": seed, "test_subjects": list(fold.test_subjects),
           "tcnvae": {k: ours[k] for k in SCORES},
           # Where early stopping ended the run and which epoch it kept: what a patience variant changes.
           "epochs": {"trained": sum(1 for line in history if line.strip()), "best": ours["best_epoch"]}}
    mr = None
    if minirocket != "skip":
        mr = minirocket_cached(cfg, fold, run_dir, data_dir, seed, shifted,
                               minirocket if isinstance(minirocket, Path) else None)
        if mr["n_windows"] != ours["n_windows"]:
            raise SystemExit(f"fold {fold.index}: MiniRocket scored {mr['n_windows']} windows, the TCN-VAE "
                             f"{ours['n_windows']}")
        row.update(minirocket={k: mr[k] for k in SCORES}, minirocket_fit_s=mr["fit_s"])
    if adapted is not None:
        row["tcnvae_adabn"] = adapted
    if shadow_patience:
        row["tcnvae_shadow"] = {**shadow_scores(cfg, fold, run_dir, data_dir, shadow_patience, ours),
                                "patience": shadow_patience}
    selection = json.loads((run_dir / "eval_metrics.json").read_text()).get("selection")
    if selection is not None:  # --set refit=true: the early-stopped model of the same run, before its refit
        row["tcnvae_selection"] = {**selection["test"], "best_epoch": selection["best_epoch"]}
    if offsets:
        if len(test) != ours["n_windows"]:
            raise SystemExit(f"fold {fold.index}: {len(test)} evaluation windows, the run scored {ours['n_windows']}")
        row.update(offsets=offsets, tcnvae_averaged={k: v for k, v in averaged_fold_scores(run_dir, test, shifted).items()
                                                     if k in SCORES})
        if mr is not None:
            row["minirocket_averaged"] = {k: mr["averaged"][k] for k in SCORES}
    return row


def _ms(values: list[float]) -> str:
    a = np.asarray(values)
    return f"{a.mean():.3f} ± {a.std(ddof=1) if len(a) > 1 else 0.0:.3f}"


def _bold(text: str, bold: bool) -> str:
    return f"**{text}**" if bold else text


def table(results: dict[str, list[dict]], k: int, seeds: list[int]) -> str:
    """One row per dataset (one pass), then where the rows carry them: both methods averaged over
    shifted windows (`tcnvae_averaged`: probabilities; `minirocket_averaged`: a vote), and the
    TCN-VAE adapted to each test subject without labels (`tcnvae_adabn`)."""
    lines = ["| dataset | folds scored | TCN-VAE macro-F1 | MiniRocket macro-F1 | paired Δ (ours − MR) | folds won | "
             "TCN-VAE acc | MiniRocket acc |", "|---|---|---|---|---|---|---|---|"]
    for name, rows in results.items():
        kinds = [("tcnvae", "minirocket", name, rows)]
        averaged = [r for r in rows if "tcnvae_averaged" in r]
        if averaged:
            kinds.append(("tcnvae_averaged", "minirocket_averaged",
                          f"{name}, both averaged over ±{', ±'.join(str(d) for d in averaged[0]['offsets'] if d > 0)}",
                          averaged))
        selected = [r for r in rows if "tcnvae_selection" in r]
        if selected:
            kinds.append(("tcnvae_selection", "minirocket", f"{name}, TCN-VAE early-stopped, before the refit "
                          "(same runs)", selected))
        shadowed = [r for r in rows if "tcnvae_shadow" in r]
        if shadowed:
            kinds.append(("tcnvae_shadow", "minirocket", f"{name}, TCN-VAE as patience "
                          f"{shadowed[0]['tcnvae_shadow']['patience']} would have stopped it (same runs)", shadowed))
        adapted = [r for r in rows if "tcnvae_adabn" in r]
        if adapted:
            kinds.append(("tcnvae_adabn", "minirocket", f"{name}, TCN-VAE with AdaBN per test subject (MiniRocket "
                          "one pass)", adapted))
        for a, b, label, use in kinds:
            if not all(b in r for r in use):  # --minirocket skip: the TCN-VAE's columns only
                lines.append(f"| {label} | {len(use)} ({k}-fold × {len(seeds)} seeds) | "
                             f"**{_ms([r[a]['macro_f1'] for r in use])}** | not fitted | — | — | "
                             f"{_ms([r[a]['accuracy'] for r in use])} | not fitted |")
                continue
            ours, mr = [r[a]["macro_f1"] for r in use], [r[b]["macro_f1"] for r in use]
            diff = [x - y for x, y in zip(ours, mr)]
            ahead = sum(diff) >= 0  # the higher mean is the bold one
            lines.append(f"| {label} | {len(use)} ({k}-fold × {len(seeds)} seeds) | {_bold(_ms(ours), ahead)} | "
                         f"{_bold(_ms(mr), not ahead)} | {_ms(diff)} | "
                         f"{sum(d > 0 for d in diff)} of {len(diff)} | {_ms([r[a]['accuracy'] for r in use])} | "
                         f"{_ms([r[b]['accuracy'] for r in use])} |")
    return "\n".join(lines)


def publish_table(args, results: dict[str, list[dict]], seeds: list[int], sets: dict, base: TrainConfig,
                  tail: str) -> None:
    """The suite's table, its recipe line (+ `tail`), appended to BENCHMARKS.md unless --no-append."""
    recipe = ", ".join(f"{k}={v}" for k, v in sets.items()) or "defaults"
    body = (table(results, args.folds, seeds) + f"\n\nRecipe: `{base.preset}`, {recipe} "
            f"(config {args.config or 'none'}){tail}")
    publish(f"Recipe suite: subject-wise {args.folds}-fold CV × {len(seeds)} seeds vs MiniRocket", body,
            append=not args.no_append)


def publish_log(args, names: list[str], seeds: list[int], sets: dict, base: TrainConfig) -> int:
    """The table of the fold rows in a run's printed output, saying how many folds it holds."""
    if len(names) != 1:
        raise SystemExit("--publish takes the log of one dataset's run: pass that one name to --datasets")
    by_fold = {key: row for log in args.publish for key, row in logged_rows(log, names[0]).items()}
    rows = [by_fold[key] for key in sorted(by_fold)]
    expected = args.folds * len(seeds)
    versus = versus_baseline(rows, logged_rows(args.baseline, names[0])) if args.baseline else ""
    publish_table(args, {names[0]: rows}, seeds, sets, base,
                  f". {len(rows)} of {expected} folds in {'this log' if len(args.publish) == 1 else 'these logs'}"
                  f"{' (the others ran elsewhere or not at all: say which)' if len(rows) < expected else ''}; per fold:\n\n"
                  + "\n".join(f"- fold {r['fold']} (seed {r['seed']}, test {', '.join(r['test_subjects'])}, "
                               f"{r['tcnvae']['n_windows']} windows): TCN-VAE {r['tcnvae']['macro_f1']:.3f}, "
                               + (f"MiniRocket {r['minirocket']['macro_f1']:.3f} (fit {r['minirocket_fit_s']:.0f} s)"
                                  if "minirocket" in r else "MiniRocket not fitted")
                               + (f"; before the refit {r['tcnvae_selection']['macro_f1']:.3f} (epoch "
                                  f"{r['tcnvae_selection']['best_epoch']})" if "tcnvae_selection" in r else "")
                               + (f"; AdaBN {r['tcnvae_adabn']['macro_f1']:.3f}" if "tcnvae_adabn" in r else "")
                               + (f"; averaged {r['tcnvae_averaged']['macro_f1']:.3f}" if "tcnvae_averaged" in r else "")
                               + (f" vs MiniRocket {r['minirocket_averaged']['macro_f1']:.3f}"
                                  if "minirocket_averaged" in r else "")
                               + (f"; epochs trained {r['epochs']['trained']}, best {r['epochs']['best']}"
                                  if "epochs" in r else "")
                               + (f"; patience {r['tcnvae_shadow']['patience']}: {r['tcnvae_shadow']['macro_f1']:.3f} "
                                  f"(stopped {r['tcnvae_shadow']['stopped'] or 'never'}, best "
                                  f"{r['tcnvae_shadow']['best_epoch']})" if "tcnvae_shadow" in r else "")
                               for r in rows) + versus + versus_shadow(rows))
    return 0


def logged_rows(log: Path, dataset: str) -> dict[tuple[int, int], dict]:
    """{(seed, fold): row} of the fold rows a suite run printed for `dataset`; a resumed run prints a
    reused fold again, and its last row counts. Rows of another dataset stop it: they would pair
    with this one's by (seed, fold)."""
    if not log.is_file():
        raise SystemExit(f"{log}: no such log")
    by_fold = {}
    for number, line in enumerate(log.read_text().splitlines(), 1):
        if line.startswith('{"fold"'):
            row = json.loads(line)
            if row.get("dataset", dataset) != dataset:  # rows printed before the field was added hold none
                raise SystemExit(f"{log}:{number}: a {row['dataset']} fold row, not {dataset}: publish one "
                                 "dataset's logs at a time")
            by_fold[(row["seed"], row["fold"])] = row
    return by_fold


def versus_shadow(rows: list[dict]) -> str:
    """The recipe against its own runs stopped at the shorter patience, paired by fold."""
    pairs = [r for r in rows if "tcnvae_shadow" in r]
    if not pairs:
        return ""
    diff = [r["tcnvae"]["macro_f1"] - r["tcnvae_shadow"]["macro_f1"] for r in pairs]
    return (f"\n\nThis recipe minus the same runs stopped at patience {pairs[0]['tcnvae_shadow']['patience']} "
            f"(TCN-VAE one pass, {len(pairs)} folds): {_paired(diff)}.")


def versus_baseline(rows: list[dict], baseline: dict[tuple[int, int], dict]) -> str:
    """The variant against another recipe's run of the same folds (its printed log), paired by seed
    and fold: the TCN-VAE's macro-F1 difference. Choosing between recipes needs this pairing, as the
    fold-to-fold spread is larger than most recipe effects."""
    pairs = [(r, baseline[(r["seed"], r["fold"])]) for r in rows if (r["seed"], r["fold"]) in baseline]
    if not pairs:
        raise SystemExit("--baseline: its log holds none of these (seed, fold) rows")
    diff = [r["tcnvae"]["macro_f1"] - b["tcnvae"]["macro_f1"] for r, b in pairs]
    per_fold = ", ".join(f"fold {r['fold']} seed {r['seed']} {d:+.3f}" for (r, _), d in zip(pairs, diff))
    return (f"\n\nAgainst the baseline recipe's log (TCN-VAE one pass, paired by seed and fold, {len(pairs)} "
            f"of {len(rows)} folds): {_paired(diff)} ({per_fold}).")


def _paired(diff: list[float]) -> str:
    """Mean ± sd of paired differences and how many folds moved either way (ties within ±0.0005)."""
    return (f"Δ {_ms(diff)}; better on {sum(d > 0.0005 for d in diff)}, equal (±0.0005) on "
            f"{sum(abs(d) <= 0.0005 for d in diff)}, worse on {sum(d < -0.0005 for d in diff)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="watch,hapt6,hapt12")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--config", type=Path, default=None, help="a training config (default: `tcnvae train`'s)")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="TrainConfig override key=value")
    ap.add_argument("--from", dest="from_path", type=Path, default=ROOT.parent / "shared" / "data" / "uci-hapt.zip")
    ap.add_argument("--runs", type=Path, default=None, help="run folders (default: a temporary folder); a "
                    "finished fold's TCN-VAE and MiniRocket scores found there are reused")
    ap.add_argument("--only-folds", default=None, metavar="I,J",
                    help="run just these folds (1-based) of each seed's split, e.g. to share the folds out "
                         "over several processes; publish their printed logs together with --publish")
    ap.add_argument("--average-shifts", default="25,50", metavar="D,D|none",
                    help="also score both methods averaged over each test window shifted by ±D samples "
                         "(`tcnvae evaluate --average-shifts`; default 25,50; none: one pass only)")
    ap.add_argument("--minirocket", default="fit", metavar="fit|skip|RUNS",
                    help="fit MiniRocket per fold (default); skip it (a variant compared with the default "
                         "recipe's rows); or reuse the MiniRocket scores kept in an earlier suite run's "
                         "--runs folder (same datasets, seeds, folds): they do not depend on the recipe")
    ap.add_argument("--no-append", action="store_true")
    ap.add_argument("--publish", type=Path, nargs="+", default=None, metavar="LOG",
                    help="only publish the table of the fold rows one or more runs printed (one dataset; "
                         "e.g. runs of --only-folds, or one stopped before its last fold): same "
                         "--datasets/--folds/--seeds/--set flags")
    ap.add_argument("--baseline", type=Path, default=None, metavar="LOG",
                    help="with --publish: another recipe's printed log of the same folds, to add the "
                         "paired per-fold difference of the TCN-VAE (this log's recipe minus that one)")
    ap.add_argument("--shadow-patience", type=int, default=None, metavar="P",
                    help="with a recipe whose patience is longer than P: also score each fold's run as early "
                         "stopping with patience P would have left it (a copy of the run at that epoch), "
                         "so one training gives both recipes' rows")
    args = ap.parse_args()
    if args.baseline is not None and args.publish is None:
        ap.error("--baseline compares published rows: use it with --publish LOG [LOG ...]")
    seeds = [int(s) for s in args.seeds.split(",")]
    names = args.datasets.split(",")
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        ap.error(f"unknown dataset(s) {', '.join(unknown)}; choose from {', '.join(DATASETS)}")
    only = {int(i) for i in args.only_folds.split(",")} if args.only_folds else set()
    if only - set(range(1, args.folds + 1)):
        ap.error(f"--only-folds {args.only_folds}: folds are numbered 1 to {args.folds}")
    offsets = average_offsets(args.average_shifts)
    reuse = None if args.minirocket in ("fit", "skip") else Path(args.minirocket)
    if reuse is not None and not reuse.is_dir():
        ap.error(f"--minirocket {args.minirocket}: not fit, skip or a suite's --runs folder")
    sets = parse_sets(args.sets)
    base = base_config(args.config, sets)
    if args.shadow_patience is not None and not 0 < args.shadow_patience < base.patience:
        ap.error(f"--shadow-patience {args.shadow_patience}: give a patience from 1 to the recipe's "
                 f"{base.patience - 1} (e.g. --shadow-patience 8 at the default patience 30)")
    if args.shadow_patience is not None and base.refit:
        ap.error("--shadow-patience and refit=true cannot be combined: the refit's budget comes from the patience")
    if args.publish is not None:
        return publish_log(args, names, seeds, sets, base)
    data_dir = Path(tempfile.mkdtemp(prefix="tcnvae-suite-data-"))
    runs = args.runs or Path(tempfile.mkdtemp(prefix="tcnvae-suite-runs-"))
    if any(DATASETS[n]["data"] == ("uci-hapt",) for n in names):
        fetch("uci-hapt", from_path=args.from_path, data_dir=data_dir)
    results: dict[str, list[dict]] = {}
    t0 = time.perf_counter()
    for name in names:
        results[name] = []
        for seed in seeds:
            cfg = dataclasses.replace(base, seed=seed, **DATASETS[name])
            for fold in subject_folds(cfg.data, args.folds, seed, cfg.stride, data_dir):
                if only and fold.index not in only:
                    continue
                where = Path(name) / f"seed-{seed}" / f"fold-{fold.index}"
                row = run_fold(cfg, fold, runs / where, data_dir, seed, offsets,
                               reuse / where if reuse else args.minirocket, args.shadow_patience)
                row["dataset"] = name  # hapt6 and hapt12 folds share (seed, fold) and test subjects
                results[name].append(row)
                print(json.dumps(row), flush=True)
    summary = runs / (f"suite-folds-{args.only_folds}.json" if only else "suite.json")  # one per process
    summary.write_text(json.dumps({"config": dataclasses.asdict(base), "results": results}, indent=2, default=str))
    publish_table(args, results, seeds, sets, base, f"; {time.perf_counter() - t0:.0f} s in all. Per-fold rows in "
                  f"{summary}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
