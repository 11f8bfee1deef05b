"""Build the tabular accuracy benchmark: train every architecture of a network space once with the
`trained` oracle, plus its zero-cost scores and layer table.

Resumable: each architecture is appended to OUT.csv (flushed and fsynced) as soon as it finishes,
and a rerun skips the ones already there, so an interruption loses at most one training run.
Architectures run in a seeded random order (a partial table is a uniform sample), and each one's
training seed comes from its hash, so results do not depend on order or on interruptions.
When every architecture is done it writes OUT.layers.npz; OUT.json records the provenance.

    python scripts/build_nas_table.py --space mbv2-tab --seed 0 --out archgym/data/nas/mbv2-tab.csv
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

QUANT_BITS = ((4, 4), (4, 8), (8, 4), (8, 8))  # (weight, activation) bits of the post-training-quantised accuracies
RESULTS = ("accuracy", *(f"accuracy_w{w}a{a}" for w, a in QUANT_BITS), "train_loss", "train_time_s", "params", "macs",
           "naswot", "synflow")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--space", default="mbv2-tab", help="network space name")
    p.add_argument("--seed", type=int, default=0, help="run seed (order and per-architecture training seeds)")
    p.add_argument("--out", default="archgym/data/nas/mbv2-tab.csv", help="output CSV (resumed if it exists)")
    p.add_argument("--limit", type=int, default=None, help="stop after this many architectures in total")
    p.add_argument("--epochs", type=int, default=None, help="override the training budget's epochs")
    p.add_argument("--repeats", type=int, default=24,
                   help="architectures retrained with 2 more seeds at the end, to measure seed noise")
    args = p.parse_args(argv)

    import torch
    torch.set_num_threads(1)
    from archgym.nas.oracles import TrainedOracle, ZeroCostOracle
    from archgym.nas.spaces import get_space
    from archgym.nas.tables import write_layers
    from archgym.nas.train import Budget

    space = get_space(args.space)
    budget = Budget() if args.epochs is None else Budget(epochs=args.epochs)
    oracle = TrainedOracle(space, budget=budget, seed=args.seed, quant_bits=QUANT_BITS)
    zero = {m: ZeroCostOracle(space, m, seed=args.seed) for m in ("naswot", "synflow")}
    out = Path(args.out)
    meta_path = out.with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    setting = {"space": space.name, "family": space.family, "seed": args.seed, **oracle.setting}
    if meta and any(meta.get(k) != v for k, v in setting.items()):
        print(f"{meta_path} was built with a different setting; use another --out", file=sys.stderr)
        return 2
    meta.update(setting)
    session = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "wall_time_s": 0.0, "cpu_time_s": 0.0,
               "architectures": 0, "repeats": 0}
    meta.setdefault("sessions", []).append(session)
    start, cpu_start = time.time(), time.process_time()

    def save():
        session["wall_time_s"] = round(time.time() - start, 1)
        session["cpu_time_s"] = round(time.process_time() - cpu_start, 1)
        _save_meta(meta_path, meta)

    names = list(space.space.names)
    order = np.random.default_rng(args.seed).permutation(space.space.size)
    archs = [space.space.from_indices(i) for i in space.space.enumerate_indices()[order]]
    total = len(archs) if args.limit is None else min(args.limit, len(archs))
    accuracy = {}
    if out.exists():
        with out.open(newline="") as f:
            accuracy = {row["hash"]: float(row["accuracy"]) for row in csv.DictReader(f)}
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with out.open("a", newline="") as f:
            writer = csv.writer(f)
            if not accuracy:
                writer.writerow(["hash", *names, *RESULTS])
            for arch in archs[:total]:
                key = space.hash(arch)
                if key in accuracy:
                    continue
                r = oracle.train(arch)
                r = {**r, **{m: z.query(arch) for m, z in zero.items()}}
                writer.writerow([key, *(arch[n] for n in names), *(_fmt(r[c]) for c in RESULTS)])
                f.flush()
                os.fsync(f.fileno())
                accuracy[key] = r["accuracy"]
                session["architectures"] += 1
                meta["architectures"] = len(accuracy)
                if session["architectures"] % 25 == 0:
                    rate = (time.time() - start) / session["architectures"]
                    print(f"{len(accuracy)}/{total} done, {rate:.2f} s/arch, "
                          f"~{rate * (total - len(accuracy)) / 60:.0f} min left", flush=True)
                    save()
        if len(accuracy) == len(archs):
            # seed noise: retrain the first `repeats` architectures with two more seeds
            extra = [TrainedOracle(space, budget=budget, seed=args.seed + k) for k in (1, 2)]
            repeats = meta.setdefault("repeats", {})
            for arch in archs[:args.repeats]:
                key = space.hash(arch)
                if key not in repeats:
                    repeats[key] = [accuracy[key]] + [o.query(arch) for o in extra]
                    session["repeats"] += 1
                    save()
            std = [float(np.std(v)) for v in repeats.values()]
            meta["seed_noise_std"] = round(float(np.mean(std)), 4) if std else None
    finally:
        save()
    if len(accuracy) == len(archs):
        layers = out.with_suffix(".layers.npz")
        write_layers(layers, {space.hash(a): space.layer_table(a) for a in archs})
        print(f"complete: {len(accuracy)} architectures; layer tables in {layers}")
    return 0


def _save_meta(path: Path, meta: dict) -> None:
    import torch
    meta.update({
        "command": "python scripts/build_nas_table.py " + " ".join(sys.argv[1:]),
        "threads": 1, "torch": torch.__version__, "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "wall_time_s": round(sum(s["wall_time_s"] for s in meta["sessions"]), 1),
        "cpu_time_s": round(sum(s.get("cpu_time_s", 0.0) for s in meta["sessions"]), 1),
    })
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=1) + "\n")
    tmp.replace(path)


def _fmt(v) -> str:
    return str(v) if isinstance(v, (int, np.integer)) else f"{float(v):.6g}"


if __name__ == "__main__":
    sys.exit(main())
