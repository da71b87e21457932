"""The ``rnnkit`` command: train | evaluate | predict | generate | forecast | export | shapes.

``rnnkit train`` with no arguments is the main job: a 2-layer LSTM reads each bundled MNIST
sample image as 28 rows, trains for a few minutes on a laptop CPU, prints the test accuracy and
writes a run directory (config, checkpoints, metrics.csv, plots). ``rnnkit train --train FILE``
trains on your own data: sequences (.ts, CSV, NPZ) or text (a CSV/TSV with a text column, a
directory per class); classification for class labels, regression for numeric targets
(``--task`` chooses). ``rnnkit predict RUN --data FILE`` writes a CSV of predictions,
``--text TEXT`` prints the class of a text. ``rnnkit train --text FILE`` trains a language
model on one text and ``rnnkit generate RUN --prompt TEXT`` continues a prompt. ``rnnkit train
--task seq2seq --train PAIRS`` trains an encoder-decoder with attention (``predict --beam K``),
and ``rnnkit train --series FILE`` a forecaster (``rnnkit forecast RUN --data FILE``).

Errors print one line and exit with status 2 (set RNNKIT_DEBUG=1 for the traceback); Ctrl-C
exits with 130 and says how to resume. Heavy imports (torch, Lightning) happen inside the
commands, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from rnnkit import __version__

__all__ = ["main", "build_parser"]

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def _add_overrides(p: argparse.ArgumentParser, *, training: bool | None) -> None:
    """Config options; ``training`` True: train, False: evaluate, None: predict."""
    g = p.add_argument_group("config overrides")
    if training:
        g.add_argument(
            "--train", metavar="FILE",
            help="train on your own data: a .ts, .csv, .tsv or .npz file of labelled sequences "
            "(data.name=files), or text: a CSV/TSV with a text column, or a directory with one "
            "folder of .txt files per class (data.name=text); sets data.train",
        )
        g.add_argument(
            "--text", metavar="FILE", dest="text_file",
            help="train a language model on one UTF-8 text file (data.name=corpus, task lm; "
            "the last 10%% is validation unless --val FILE); sets data.train",
        )
        g.add_argument(
            "--series", metavar="FILE",
            help="forecast dated values: a CSV (date,value; wide or long) or .tsf file "
            "(data.name=series, task forecast unless --task); sets data.train",
        )
        g.add_argument("--task", metavar="NAME",
                       help="the task family: classify, regress, tag, lm, seq2seq or forecast "
                       "(default: from the data)")
        g.add_argument("--val", metavar="FILE",
                       help="data.val: a validation file instead of a split of the training data")
        g.add_argument(
            "--val-fraction", type=float, metavar="F",
            help="data.val_fraction: part of --train held out for validation (default: auto, "
            "10%% when that is at least 50 sequences, else none when --test is given)",
        )
    if training is not None:
        g.add_argument("--test", metavar="FILE", help="data.test: a test file for --train data")
    if training:
        g.add_argument("--epochs", type=int, metavar="N",
                       help="trainer.epochs: a budget in epochs instead of trainer.steps")
        g.add_argument("--out", metavar="DIR", help="run directory (default runs/NAME-TIMESTAMP)")
        g.add_argument("--seed", type=int, metavar="N", help="trainer.seed")
    g.add_argument(
        "--data-dir", metavar="DIR",
        help="data.source: a directory with the MNIST IDX files, 'full' or 'bundled'",
    )
    g.add_argument(
        "--set", dest="overrides", action="extend", nargs="+", default=[],
        metavar="KEY=VALUE", help="any config value, e.g. --set model.hidden_size=64 "
        "optim.lr=0.001 (values are YAML)",
    )
    g.add_argument("--no-progress", action="store_true",
                   help="no progress bar or progress lines")
    if training:
        g.add_argument("--verbose", action="store_true",
                       help="also print Lightning's model summary table")


def _add_decoding(p: argparse.ArgumentParser) -> None:
    """How a sequence-to-sequence run decodes (model.beam_size, model.nbest)."""
    g = p.add_argument_group("decoding (seq2seq runs)")
    g.add_argument("--beam", type=int, metavar="K",
                   help="beam search with K beams; 1 = greedy (default: the run's "
                   "model.beam_size)")
    if p.prog.endswith("predict"):
        g.add_argument("--nbest", type=int, metavar="N",
                       help="write the N best hypotheses of each example (N <= K)")


def build_parser(with_shapes: bool = False) -> argparse.ArgumentParser:
    """The argument parser; ``with_shapes`` adds the ``shapes`` options (imports torch)."""
    parser = argparse.ArgumentParser(
        prog="rnnkit",
        description="Recurrent neural networks on PyTorch: train, evaluate, predict, explain.",
    )
    parser.add_argument("--version", action="version", version=f"rnnkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser(
        "train", help="train a model (no arguments: row-MNIST LSTM on the bundled sample)",
        description="Train a sequence model and write a run directory. Without "
        "arguments: the main job, a row-MNIST LSTM on the bundled 10k/2k sample. With --train "
        "PATH: your own labelled sequences (.ts, CSV, NPZ) or texts (a CSV/TSV with a text "
        "column, a folder per class); classification for class labels, regression for numeric "
        "targets (--task chooses).",
    )
    p.add_argument("--config", metavar="FILE", help="YAML recipe, e.g. configs/mnist_rows_gru.yaml")
    p.add_argument(
        "--resume", metavar="RUN_DIR",
        help="continue an interrupted run from RUN_DIR/checkpoints/last.ckpt with its saved "
        "config (overrides may change e.g. --data-dir or --no-progress)",
    )
    _add_overrides(p, training=True)

    p = sub.add_parser(
        "evaluate", help="test a run's best checkpoint",
        description="Reproduce the test accuracy (regression: MAE and RMSE) of a run "
        "directory's best checkpoint (or a .ckpt file) on its data's test split; for a run on "
        "your own data without test data, on its validation split.",
    )
    p.add_argument("target", metavar="RUN_DIR_OR_CHECKPOINT")
    p.add_argument("--json", action="store_true", help="print all metrics as JSON")
    _add_decoding(p)
    _add_overrides(p, training=False)

    p = sub.add_parser(
        "predict", help="predict a data file (--data), texts (--text) or digit images",
        description="Predict with a trained run's best checkpoint. --data FILE (a run on "
        "sequence files or text; labels optional) gives one CSV row per example (index, id if "
        "the file has ids, predicted class, its probability and one probability per class, or "
        "the predicted value). --text TEXT (a text run) prints each text's class and its "
        "probability. A seq2seq run: --text TEXT prints each source's decoded output and its "
        "score, --data FILE writes a CSV of them (--beam K, --nbest N). An MNIST run: image "
        "FILEs, IDX, .npy arrays ((28, 28) or (N, 28, "
        "28)) or pictures such as PNG (28x28; dark digits on a light background are inverted "
        "automatically).",
    )
    p.add_argument("target", metavar="RUN_DIR_OR_CHECKPOINT")
    p.add_argument("files", metavar="FILE", nargs="*", help="image files (MNIST runs)")
    p.add_argument("--data", metavar="FILE", help="a file of sequences or texts to predict")
    p.add_argument("--text", metavar="TEXT", action="append", default=[],
                   help="a text to classify (text runs; give it several times for several)")
    p.add_argument("--output", metavar="CSV", help="write the predictions as CSV (--data: "
                   "default standard output); an existing file is kept unless --overwrite")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --output file")
    p.add_argument(
        "--invert", action=argparse.BooleanOptionalAction, default=None,
        help="invert the images (default: only those that look dark-on-light)",
    )
    _add_decoding(p)
    _add_overrides(p, training=None)

    p = sub.add_parser(
        "generate", help="generate text with a language model run (--prompt TEXT)",
        description="Generate text with a language-model run's best checkpoint (rnnkit train "
        "--text FILE). The prompt is read once to warm the model's state; then each new token "
        "is one step of the recurrent stack, streamed to standard output as it is made. A "
        "prompt with characters (or words) the training text never had is an error that "
        "names them.",
    )
    p.add_argument("target", metavar="RUN_DIR_OR_CHECKPOINT")
    p.add_argument("--prompt", default="", metavar="TEXT",
                   help="the text to continue (default: start from a line break)")
    p.add_argument("--length", type=int, default=500, metavar="N",
                   help="tokens to generate (characters for a character model; default 500)")
    p.add_argument("--temperature", type=float, default=0.8, metavar="T",
                   help="below 1 more conservative, above 1 more random; 0 = greedy "
                   "(default 0.8)")
    p.add_argument("--top-k", type=int, default=0, metavar="K",
                   help="sample among the K most probable tokens only (default 0: all)")
    p.add_argument("--top-p", type=float, default=1.0, metavar="P",
                   help="nucleus sampling: among the most probable tokens that hold "
                   "probability P, in (0, 1] (default 1: all)")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="random seed: the same seed gives the same text (default: random)")
    p.add_argument("--num-samples", type=int, default=1, metavar="M",
                   help="independent samples, one after another (default 1)")
    p.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[],
                   metavar="KEY=VALUE", help="e.g. --set trainer.threads=1")

    p = sub.add_parser(
        "forecast", help="forecast the steps after the end of a file with a forecast run",
        description="Forecast the --horizon steps after the end of every series of --data FILE "
        "(read as the run's training file was) with a forecast run's best checkpoint (rnnkit "
        "train --series FILE). --output CSV gets a date column and a forecast column (an id "
        "column for several series, q10/q50/q90... columns for a quantile model) and a PNG "
        "plot of the history and the forecast beside it (same name, .png); without --output "
        "the CSV goes to standard output. --horizon may not exceed the run's data.horizon.",
    )
    p.add_argument("target", metavar="RUN_DIR_OR_CHECKPOINT")
    p.add_argument("--data", metavar="FILE", required=True,
                   help="the series to continue (CSV or .tsf, as in training)")
    p.add_argument("--horizon", type=int, default=None, metavar="H",
                   help="steps to forecast (default and most: the run's data.horizon)")
    p.add_argument("--output", metavar="CSV", help="write the forecast as CSV and its plot "
                   "beside it; existing files are kept unless --overwrite")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --output file and its plot")
    p.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[],
                   metavar="KEY=VALUE", help="e.g. --set trainer.threads=1")

    p = sub.add_parser(
        "export", help="export a run's model to ONNX, checked in onnxruntime",
        description="Export a run's best checkpoint to ONNX with free batch and length axes "
        "and lengths as an input: --output FILE (default RUN/export/model.onnx) holds the main "
        "graph (seq2seq: the encoder), FILE.step.onnx the one-step graph of a language model or "
        "a seq2seq decoder, FILE.json what a prediction needs (vocabulary, class names, "
        "standardiser, the inputs and outputs). Each graph is checked in onnxruntime against "
        "PyTorch before the files appear. Needs pip install 'rnnkit[export]'.",
    )
    p.add_argument("target", metavar="RUN_DIR_OR_CHECKPOINT")
    p.add_argument("--format", default="onnx", metavar="FORMAT",
                   help="the file format (default and only one: onnx)")
    p.add_argument("--output", metavar="FILE", help="the main .onnx file; the others go beside "
                   "it. Existing files are kept unless rnnkit export wrote them or --overwrite")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing files at --output")

    p = sub.add_parser(
        "shapes", help="show the tensor shapes of a recurrent layer",
        description="Show every parameter, input, output and state shape of a recurrent layer.",
    )
    if with_shapes:
        from rnnkit import shapes

        shapes.add_arguments(p)
    return parser


def _overrides(args: argparse.Namespace) -> list[str | tuple[str, object]]:
    """The shortcut options as (key, value) pairs (paths are taken literally), then --set."""
    items: list[str | tuple[str, object]] = []
    if getattr(args, "epochs", None) is not None:
        items.append(("trainer.epochs", args.epochs))
    if getattr(args, "seed", None) is not None:
        items.append(("trainer.seed", args.seed))
    if getattr(args, "out", None) is not None:
        items.append(("out", args.out))
    if getattr(args, "task", None) is not None:
        items.append(("task", args.task))
    if getattr(args, "text_file", None) is not None:
        items += [("data.name", "corpus"), ("data.train", args.text_file)]
    if getattr(args, "series", None) is not None:
        items += [("data.name", "series"), ("data.train", args.series)]
        if getattr(args, "task", None) is None:
            items.append(("task", "forecast"))
    if getattr(args, "val", None) is not None:
        items.append(("data.val", args.val))
    if getattr(args, "train", None) is not None:
        from rnnkit.data.registry import detect_source

        items += [("data.name", detect_source(args.train, getattr(args, "task", None))),
                  ("data.train", args.train)]
    for flag, key in (("beam", "model.beam_size"), ("nbest", "model.nbest")):
        value = getattr(args, flag, None)
        if value is not None and value < 1:
            raise ValueError(f"--{flag} must be at least 1 (--beam 1 is greedy decoding), got "
                             f"{value}")
        if value is not None:
            items.append((key, value))
    if getattr(args, "test", None) is not None:
        items.append(("data.test", args.test))
    if getattr(args, "val_fraction", None) is not None:
        items.append(("data.val_fraction", args.val_fraction))
    if getattr(args, "data_dir", None) is not None:  # MNIST files: nothing is downloaded
        items += [("data.source", args.data_dir), ("data.download", False)]
    if getattr(args, "no_progress", False):
        items.append(("trainer.progress_bar", False))
    if getattr(args, "verbose", False):
        items.append(("trainer.verbose", True))
    return items + list(args.overrides)


def _figures(m: dict) -> str:
    """'test accuracy 97.50% on 40 test examples (test loss 0.1234)': the family's figures."""
    from rnnkit.families import get_family

    split = "validation" if m.get("split") == "val" else "test"
    return get_family(m["task"]).figures(m, split)


def _cmd_train(args: argparse.Namespace) -> int:
    from rnnkit.config import load_config

    if args.resume:
        if args.config:
            raise ValueError("--resume uses the run's saved config; leave out --config")
        if args.out:
            raise ValueError("--resume continues in RUN_DIR; leave out --out")
        from rnnkit.runs.resume import resume_config

        config = resume_config(args.resume, _overrides(args))
    else:
        if args.data_dir and args.train:
            raise ValueError("--data-dir says where MNIST lives; with --train FILE the data are "
                             "your own: leave out --data-dir")
        if args.text_file and args.train:
            raise ValueError("--text FILE trains a language model on one text and --train FILE "
                             "a model of labelled data: give one")
        if args.text_file and args.data_dir:
            raise ValueError("--data-dir says where MNIST lives; with --text FILE the data are "
                             "your text: leave out --data-dir")
        if args.series and (args.train or args.text_file or args.data_dir):
            raise ValueError("--series FILE trains a forecaster on dated values: leave out "
                             "--train, --text and --data-dir")
        if args.test and not (args.train or args.text_file) and not args.config:
            raise ValueError("--test FILE goes with your own training data (--train FILE); the "
                             "main job's MNIST data have their own test split")
        if args.val and not (args.train or args.text_file) and not args.config:
            raise ValueError("--val FILE goes with your own training data (--train FILE or "
                             "--text FILE)")
        config = load_config(args.config, _overrides(args))  # config errors before Lightning
        config.data.check_files()  # missing data files too
    from rnnkit.runs.train import train

    result = train(config, resume=bool(args.resume), announce=print)
    if not result.primary:  # another process of a multi-process run: the first reports
        return 0
    m = result.metrics
    print(f"{_figures(m)}; best epoch {m['epoch']} of {result.config.trainer.epochs}, "
          f"after {result.seconds:.0f} s")
    print(f"run directory: {result.run_dir}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from rnnkit.runs.evaluate import evaluate

    result = evaluate(args.target, _overrides(args))
    for note in result.notes:
        print(f"rnnkit evaluate: {note}", file=sys.stderr)
    m = result.metrics
    if args.json:
        print(json.dumps(m, indent=2))
        return 0
    print(f"{_figures(m)}; {result.checkpoint}, epoch {m['epoch']}")
    per_class = m.get("per_class_accuracy") or {}
    if per_class:
        print("per class: " + "  ".join(f"{k}: {100 * v:.2f}%" for k, v in per_class.items()))
    per_tag = m.get("per_tag") or {}
    if per_tag:
        print("per tag (F1, support): " + "  ".join(
            f"{k}: {100 * v['f1']:.2f}% ({v['support']})" for k, v in per_tag.items()))
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    if args.output and os.path.isdir(args.output):
        raise ValueError(f"--output {args.output} is a directory; give the path of a CSV file")
    folder = os.path.dirname(os.path.abspath(args.output)) if args.output else ""
    if args.output and not os.path.isdir(folder):
        raise ValueError(f"--output {args.output}: the folder {folder} does not exist")
    if args.output and os.path.exists(args.output) and not args.overwrite:
        raise ValueError(f"--output {args.output} exists; rnnkit never writes over a file "
                         "unless asked: choose another name or add --overwrite")
    if args.output and args.data and os.path.exists(args.output) \
            and os.path.exists(args.data) and os.path.samefile(args.output, args.data):
        raise ValueError(f"--output {args.output} is the --data file; choose another name")

    given = [name for name, value in (("--data", args.data), ("--text", args.text),
                                      ("image files", args.files)) if value]
    if len(given) != 1:
        raise ValueError("predict needs one of --data FILE (sequence files or text), --text TEXT "
                         "(text) or image files (MNIST), "
                         + ("not several" if given else "found none"))
    if args.invert is not None and not args.files:
        raise ValueError("--invert is for image files")
    from rnnkit.data.source import PredictInputs
    from rnnkit.runs.predict import predict

    inputs = PredictInputs(files=args.files, data=args.data, texts=args.text, invert=args.invert)
    result = predict(args.target, inputs, overrides=_overrides(args))
    for note in result.notes:
        print(f"rnnkit predict: {note}", file=sys.stderr)
    if result.text is not None:  # the inputs' own layout (tagged sentences)
        if not args.output:
            print(result.text, end="")
            return 0
        from rnnkit.atomic import write_text_atomic

        write_text_atomic(args.output, result.text)
        print(f"{len(result)} predictions written to {args.output}")
        return 0
    if args.data is not None and not args.output:
        print(result.to_csv(), end="")
        return 0
    if args.data is None:
        key = next((k for k in ("text", "source") if k in result.columns),
                   next(iter(result.columns)))
        scores = result.columns.get("probability", result.columns.get("score"))
        for where, name, p in zip(result.columns[key], result.columns["predicted"],
                                  scores or [None] * len(result), strict=True):
            shown = f"{name:.6g}" if isinstance(name, float) else name
            print(f"{where}\t{shown}" + ("" if p is None else f"\t{p:.4f}"))
    if args.output:
        result.to_csv(args.output)
        if args.data is not None:
            print(f"{len(result)} predictions written to {args.output}")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from rnnkit.families.lm.sample import Sampling, seeded_generator

    if args.length < 1:
        raise ValueError(f"--length is the number of tokens to generate: at least 1, got "
                         f"{args.length}")
    if args.num_samples < 1:
        raise ValueError(f"--num-samples must be at least 1, got {args.num_samples}")
    sampling = Sampling(args.temperature, args.top_k, args.top_p)  # checked before loading
    from rnnkit.runs.generate import load_sampler
    from rnnkit.runs.trainer import cpu_threads

    sampler, config = load_sampler(args.target, args.overrides)
    generator = seeded_generator(args.seed)
    prompt = sampler.prompt_text(sampler.encode_prompt(args.prompt)) if args.prompt else ""
    with cpu_threads(config):
        for i in range(args.num_samples):
            if args.num_samples > 1:
                print(f"{chr(10) if i else ''}--- sample {i + 1} of {args.num_samples} ---")
            sys.stdout.write(prompt)
            for piece in sampler.stream(args.prompt, args.length, sampling, generator):
                sys.stdout.write(piece)
                sys.stdout.flush()
            sys.stdout.write("\n")
    sys.stdout.flush()
    return 0


def _cmd_forecast(args: argparse.Namespace) -> int:
    if args.horizon is not None and args.horizon < 1:
        raise ValueError(f"--horizon is the number of steps to forecast: at least 1, got "
                         f"{args.horizon}")
    if args.output:
        from rnnkit.runs.forecast import plot_path

        if os.path.isdir(args.output):
            raise ValueError(f"--output {args.output} is a directory; give the path of a CSV "
                             "file")
        folder = os.path.dirname(os.path.abspath(args.output))
        if not os.path.isdir(folder):
            raise ValueError(f"--output {args.output}: the folder {folder} does not exist")
        if str(plot_path(args.output)) == os.path.normpath(args.output):
            raise ValueError(f"--output {args.output}: the plot is written beside the CSV as "
                             "a .png; give a CSV name such as forecast.csv")
        for path in (args.output, str(plot_path(args.output))):
            if os.path.exists(path) and not args.overwrite:
                raise ValueError(f"{path} exists; rnnkit never writes over a file unless "
                                 "asked: choose another --output or add --overwrite")
            if os.path.exists(path) and os.path.exists(args.data) \
                    and os.path.samefile(path, args.data):
                raise ValueError(f"--output {args.output} would replace the --data file; "
                                 "choose another name")
    from rnnkit.runs.forecast import forecast, write_forecast

    result = forecast(args.target, args.data, args.horizon, args.overrides)
    for note in result.notes:
        print(f"rnnkit forecast: {note}", file=sys.stderr)
    if not args.output:
        print(result.to_csv(), end="")
        return 0
    csv_path, png_path = write_forecast(result, args.output)
    steps = len(result.dates[0])
    what = f"{len(result.series)} series" if len(result.series) > 1 else result.target
    print(f"forecast of {what}, {steps} steps ({result.columns['date'][0]} to "
          f"{result.columns['date'][steps - 1]}), written to {csv_path}; plot {png_path}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from rnnkit.runs.export import export_run

    result = export_run(args.target, args.output, args.format, args.overwrite)
    others = ", ".join(str(f.name) for f in result.files[1:])
    print(f"exported the {result.family} model of {result.checkpoint} to {result.files[0]}"
          + (f" (with {others})" if others else "") + f" and {result.metadata.name}; "
          f"onnxruntime matches PyTorch within {result.difference:.1g} on a batch of another "
          "size and length")
    return 0


def _cmd_shapes(args: argparse.Namespace) -> int:
    from rnnkit import shapes

    return int(shapes.run(args))


COMMANDS = {
    "train": _cmd_train,
    "evaluate": _cmd_evaluate,
    "predict": _cmd_predict,
    "generate": _cmd_generate,
    "forecast": _cmd_forecast,
    "export": _cmd_export,
    "shapes": _cmd_shapes,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rnnkit`` command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(with_shapes=command == "shapes")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")  # plots go to files; never open a window
    debug = os.environ.get("RNNKIT_DEBUG", "") not in ("", "0")

    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("rnnkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:
        # Look the error types up without importing Lightning just to handle an error.
        callbacks = sys.modules.get("rnnkit.runs.callbacks")
        run = sys.modules.get("rnnkit.runs.interrupt")
        if run is not None and isinstance(err, run.RunInterrupted):
            print(f"rnnkit: {err}", file=sys.stderr)
            return EXIT_INTERRUPTED
        expected: tuple[type[BaseException], ...] = (ValueError, OSError)
        if callbacks is not None:
            expected += (callbacks.NonFiniteLossError,)
        if debug or not isinstance(err, expected):
            raise
        if isinstance(err, OSError) and err.filename and err.strerror:
            message = f"cannot use {err.filename}: {err.strerror}"
        else:
            message = " ".join(str(err).split()) or type(err).__name__
        print(f"rnnkit {args.command}: error: {message}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
