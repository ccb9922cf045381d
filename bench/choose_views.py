"""Augmentation strengths chosen on the validation split, never on the test set (issue 32).

Pretrains one method once per candidate setting of its views (a candidate is a name and
the ``train`` arguments that differ from the recipe; the first is the recipe as it is),
each through the pipeline's own stage with ``--data.test_on val``: ``evaluate``'s kNN and
linear probe (the split's labels) then score the validation split carved from training.
The candidate with the best ``--by`` on validation is chosen; only then are the recipe's
and the chosen checkpoints scored on the test set (``train predict``, ``evaluate
--splits``: the probes of every label split beside them), to report what the choice did.
Writes ``choice.json`` and ``choice.md`` under ``--out``; finished runs are kept.

    uv run python bench/choose_views.py --project jets --method simclr --split n1000-seed0 \\
        --steps 500 --out bench/out/choose-jets \\
        --candidate recipe \\
        --candidate soft0.03 --data.train_transform.init_args.soft_strength 0.03
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from budget_curve import run, stage  # the pipeline's stage at a manifest and split, kept when done

from ssl_core.evaluate.report import number

KEYS = ("knn_top1", "linear_top1", "roc_auc", "rejection_eff30")


def candidates(argv: list[str]) -> list[tuple[str, list[str]]]:
    """``--candidate NAME [ARGS ...]`` groups, in order."""
    out: list[tuple[str, list[str]]] = []
    for arg in argv:
        if arg == "--candidate":
            out.append(("", []))
        elif out and not out[-1][0]:
            out[-1] = (arg, [])
        elif out:
            out[-1][1].append(arg)
        else:
            sys.exit(f"{arg!r} before the first --candidate")
    if not out or any(not name for name, _ in out):
        sys.exit("give at least one --candidate NAME [TRAIN ARGS ...]")
    return out


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--candidate") if "--candidate" in argv else len(argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", required=True)
    parser.add_argument("--method", default="simclr")
    parser.add_argument("--split", required=True, help="split name, e.g. n1000-seed0")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument(
        "--by", default="linear_top1", choices=KEYS, help="metric chosen on (validation)"
    )
    parser.add_argument("--manifest", type=Path, help="default: projects/<project>/data/*/")
    parser.add_argument("--splits", type=Path, help="default: projects/<project>/splits")
    parser.add_argument("--budget", default="cpu", choices=("cpu", "full"))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv[:cut])
    tried = candidates(argv[cut:])
    p, splits = args.project, args.splits or Path(f"projects/{args.project}/splits")

    rows = []
    for name, extra in tried:  # pretrain, then score the validation split
        val_run = ["--steps", str(args.steps), "--", "--data.test_on", "val", *extra]
        val = stage(args, args.method, args.out / name, val_run)
        rows.append({"name": name, "args": extra, "val": {k: val.get(k) for k in KEYS}})
    best = max(rows, key=lambda r: r["val"][args.by] or float("-inf"))

    recipe = rows[0]
    for r in {id(x): x for x in (recipe, best)}.values():  # then, and only then, the test set
        out = args.out / f"{r['name']}-test"
        if not (out / "metrics.json").is_file():
            config = json.loads((args.out / r["name"] / "embeddings" / "meta.json").read_text())
            predict = [sys.executable, "-m", "ssl_core.cli", "--project", p, "predict"]
            predict += ["--config", str(args.out / r["name"] / "embeddings" / config["config"])]
            predict += ["--data.test_on", "test", "--trainer.default_root_dir", str(out)]
            predict += ["--trainer.logger", "false"]
            predict += ["--ckpt_path", str(args.out / r["name"] / "checkpoints" / "last.ckpt")]
            run(predict)
            evaluate = [sys.executable, "-c", "from ssl_core.evaluate import main; main()"]
            run([*evaluate, str(out), "--splits", str(splits), "--no-umap"])
        test = json.loads((out / "metrics.json").read_text())
        r["test"] = {k: test.get(k) for k in KEYS}
        r["test_split_probes"] = test.get("split_probes")
    (args.out / "choice.json").write_text(json.dumps({"by": args.by, "rows": rows}, indent=1))

    head = ["candidate", "train args", *(f"val {k}" for k in KEYS), *(f"test {k}" for k in KEYS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        mark = " (chosen)" if r is best else ""
        cells = [r["name"] + mark, " ".join(r["args"]) or "the recipe"]
        cells += [number(r["val"][k], 1 if k.startswith("rej") else 4) for k in KEYS]
        test = r.get("test", {})
        cells += [number(test.get(k), 1 if k.startswith("rej") else 4) for k in KEYS]
        lines.append("| " + " | ".join(cells) + " |")
    (args.out / "choice.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
