"""NER ablation: short equal-wall-clock training runs with one ingredient removed at a time.

Every variant trains with ``python -m kgpipe.pipeline.commands.ner train`` for the same time budget, all
variants in parallel (so they share the machine equally), then each best checkpoint (picked on the
dev slice of the training files) is scored on MSRA test and e-commerce dev, with its speed.

    python bench/ner_ablation.py --budget 480 --out runs/ablation
    # self-training rows need pseudo-labels from earlier models (`kgpipe ner label`):
    python bench/ner_ablation.py --variants plus_self_training --pseudo runs/pseudo.bio
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys

DATA = "../shared/data"
BASE = ["--train", f"msra={DATA}/msra/train.txt", "--train", f"ecommerce={DATA}/ecommerce/train.bieos",
        "--label-map", "HP=BRAND", "--label-map", "HC=PRODUCT", "--repeat", "ecommerce=3",
        "--dev-size", "1500", "--gazetteer-folds", "0", "--num-layers", "0", "--hidden-size", "192",
        "--lstm-units", "128"]
# Skip-gram pre-training of the token/bigram tables on the training text + raw news + CLUENER text.
PRETRAIN = ["--unlabelled", f"{DATA}/news/thucnews_1000.tsv", "--unlabelled", f"{DATA}/cluener/train.json",
            "--pretrain-epochs", "5"]
AUX = ["--aux-train", f"cluener={DATA}/cluener/train.json"]  # auxiliary head, dropped at export
WORD_VECTORS = ["--word-vectors-dim", "50"]
# Research-use word lists: measured, never shipped (they would be copied into the model directory).
DICS = ["--lexicon-words", "BRAND=" + ",".join(sorted(glob.glob(f"{DATA}/ecommerce/dics/brand*.dic"))),
        "--lexicon-words", "PRODUCT=" + ",".join(sorted(glob.glob(f"{DATA}/ecommerce/dics/product*.dic")))]
VARIANTS = {
    "full": PRETRAIN + AUX,  # ablation row 2 (a teacher of the shipped model)
    "no_aux_cluener": PRETRAIN,
    "no_pretraining_no_aux": [],
    "plus_word_vectors": PRETRAIN + AUX + WORD_VECTORS,
    "plus_bigrams_120k": PRETRAIN + AUX + ["--bigram-max-size", "120000"],
    "no_lexicon": PRETRAIN + AUX + ["--no-jieba-lexicon"],
    "ecommerce_word_lists": DICS,
    "albert_1_layer": PRETRAIN + AUX + ["--num-layers", "1"],
    # + pseudo-labelled raw text for the msra head (--pseudo FILE): the shipped recipe (row 4)
    "plus_self_training": PRETRAIN + AUX + WORD_VECTORS + ["--extra-train", "msra={pseudo}"],
    "plus_mention_replacement": PRETRAIN + AUX + WORD_VECTORS + [
        "--extra-train", "msra={pseudo}", "--augment", "msra=0.5", "--augment", "ecommerce=0.5"],
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=480.0, help="training seconds per variant")
    parser.add_argument("--out", default="runs/ablation")
    parser.add_argument("--variants", default=",".join(v for v in VARIANTS if "{pseudo}" not in
                                                          " ".join(VARIANTS[v])))
    parser.add_argument("--pseudo", default=None, help="pseudo-labelled column file "
                        "(`kgpipe ner label`) for the self-training variant")
    args = parser.parse_args(argv)
    names = args.variants.split(",")
    for name in names:  # check every variant before starting any run
        if name not in VARIANTS:
            parser.error(f"unknown variant {name}; choose from {', '.join(VARIANTS)}")
        if args.pseudo is None and any("{pseudo}" in flag for flag in VARIANTS[name]):
            parser.error(f"variant {name} needs --pseudo")
    env = {**os.environ, "PYTHONPATH": "."}
    procs = {}
    for name in names:
        out = f"{args.out}/{name}"
        os.makedirs(out, exist_ok=True)
        flags = [flag.format(pseudo=args.pseudo) for flag in VARIANTS[name]]
        cmd = [sys.executable, "-m", "kgpipe.pipeline.commands.ner", "train", *BASE, *flags,
               "--out", out, "--name", f"ablation-{name}", "--time-budget", str(args.budget),
               "--eval-every", str(args.budget / 3), "--patience", "100"]
        procs[name] = subprocess.Popen(cmd, env=env, stdout=open(f"{out}/stdout.log", "w"),
                                       stderr=subprocess.STDOUT)
    for proc in procs.values():
        proc.wait()
    rows = {}
    for name in names:
        model = f"{args.out}/{name}/best"
        row = {}
        for key, data, extra in (("msra_test", f"{DATA}/msra/test.txt", []),
                                 ("ecommerce_dev", f"{DATA}/ecommerce/dev.bieos",
                                  ["--label-map", "HP=BRAND", "--label-map", "HC=PRODUCT"])):
            result = subprocess.run([sys.executable, "-m", "kgpipe.pipeline.commands.ner", "eval", "--model",
                                     model, "--data", data, "--json", *extra], env=env,
                                    capture_output=True, text=True, check=True)
            scores = json.loads(result.stdout[result.stdout.index("{"):])
            row[key] = {"f1": scores["micro"]["f1"], "chars_per_second": scores["chars_per_second"],
                        "per_type": {k: v["f1"] for k, v in scores["per_type"].items()}}
        with open(f"{args.out}/{name}/progress.json") as f:
            progress = json.load(f)
        row["dev_slice_f1"] = progress["best"]
        row["steps"] = progress.get("best_step")
        rows[name] = row
        print(f"| {name} | {row['dev_slice_f1']:.4f} | {row['msra_test']['f1']:.4f} | "
              f"{row['ecommerce_dev']['f1']:.4f} | {row['msra_test']['chars_per_second']:,} | "
              f"{row['steps']} |", flush=True)
    with open(f"{args.out}/results.json", "w") as f:
        json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
