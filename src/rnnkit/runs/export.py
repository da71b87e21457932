"""``rnnkit export``: a run's best checkpoint as ONNX files that onnxruntime runs alone.

Every graph of the run's family (:func:`rnnkit.export.graphs.family_graphs`) is traced, checked
in onnxruntime against PyTorch on other batch and length sizes than the traced ones, and only
then moved into place: ``model.onnx`` (the main graph; ``--output`` names it), the others
beside it (``model.step.onnx``; seq2seq: ``model.onnx`` is the encoder, ``model.step.onnx`` the
decoder step), and ``model.json``: what a prediction needs (the family, the inputs and outputs
of each graph with their shapes, the vocabulary, class names, the standardiser, the data
section of the config). The same JSON is in each file's ``metadata_props["rnnkit"]``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnkit import __version__
from rnnkit.runs.rundir import RunError
from rnnkit.runs.trainer import CHECKPOINT_DIR

__all__ = ["EXPORT_FORMATS", "ExportResult", "export_run", "export_paths"]

EXPORT_FORMATS = ("onnx",)
CHECKS = ((5, 11), (1, 1))  # batch, length: other than the traced (3, 7), and the smallest
MARK = "rnnkit_export"  # in the JSON: rnnkit wrote these files, so it may replace them


@dataclass
class ExportResult:
    """What :func:`export_run` wrote."""

    family: str
    files: list[Path]  # the ONNX files, the main one first
    metadata: Path
    difference: float  # the largest onnxruntime - PyTorch difference in the checks
    checkpoint: Path


def export_paths(main: Path, names: list[str]) -> tuple[list[Path], Path]:
    """The files of graphs ``names`` (the first is ``main``) and the JSON beside them."""
    files = [main] + [main.with_name(f"{main.stem}.{name}{main.suffix}") for name in names[1:]]
    return files, main.with_suffix(".json")


def _default_output(target: Path, checkpoint: Path) -> Path:
    """``RUN/export/model.onnx`` for a run (or a checkpoint in its ``checkpoints/``), else
    ``NAME.onnx`` beside a checkpoint ``NAME.ckpt`` of its own."""
    if target.is_dir():
        return target / "export" / "model.onnx"
    if checkpoint.parent.name == CHECKPOINT_DIR:
        return checkpoint.parent.parent / "export" / "model.onnx"
    return checkpoint.with_suffix(".onnx")


def _check_output(main: Path, default: bool) -> None:
    """What can be said of the main file's path before the model is loaded."""
    if main.is_dir():
        raise RunError(f"--output {main} is a directory; give a file name such as "
                       f"{main / 'model.onnx'}")
    if main.suffix != ".onnx":
        raise RunError(f"--output {main}: the ONNX file's name must end in .onnx")
    if not main.parent.is_dir() and not default:
        raise RunError(f"--output {main}: the folder {main.parent} does not exist")


def _check_destination(files: list[Path], metadata: Path, overwrite: bool) -> list[Path]:
    """Raise unless every file may be written; returns the files of an earlier export at the
    same place that this one does not write (to remove, so no stale graph stays beside)."""
    earlier = _earlier_export(metadata)
    for path in (*files, metadata):
        if path.is_dir():
            raise RunError(f"{path} is a directory; rnnkit export writes a file there: choose "
                           "another --output")
        if path.exists() and not overwrite and path.name not in earlier:
            raise RunError(f"{path} exists and was not written by rnnkit export; rnnkit never "
                           "writes over a file unless asked: choose another --output or add "
                           "--overwrite")
    names = {path.name for path in (*files, metadata)}
    return [metadata.parent / name for name in sorted(earlier - names)
            if (metadata.parent / name).is_file()]


def _earlier_export(metadata: Path) -> set[str]:
    """The files an earlier rnnkit export listed in ``metadata`` (empty if none wrote it)."""
    try:
        earlier = json.loads(metadata.read_text(encoding="utf-8"))
        if not earlier.get(MARK):
            return set()
        return {metadata.name, *(str(g["file"]) for g in earlier["graphs"].values())}
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return set()


def export_run(target: str | os.PathLike, output: str | os.PathLike | None = None,
               fmt: str = "onnx", overwrite: bool = False) -> ExportResult:
    """Export the best checkpoint of a run directory (or a ``.ckpt`` file) to ``output``
    (default ``RUN/export/model.onnx``); see the module docstring. Nothing is left half
    written: the files appear together, after every check passed."""
    if fmt not in EXPORT_FORMATS:
        raise RunError(f"unknown export format {fmt!r}; rnnkit exports {', '.join(EXPORT_FORMATS)}")
    from rnnkit.export.onnx_file import check_graph, require_onnx, write_onnx

    require_onnx()
    if output is not None:  # checked before the model is loaded
        main = Path(output)
        _check_output(main, default=False)
    from rnnkit.export.graphs import family_graphs
    from rnnkit.runs.evaluate import load_run

    target = Path(target)
    run = load_run(target, command="export")
    if output is None:
        main = _default_output(target, run.path)
        _check_output(main, default=True)
    graphs = family_graphs(run.family.name, run.task.eval(), run.info)
    files, metadata_path = export_paths(main, [g.name for g in graphs])
    stale = _check_destination(files, metadata_path, overwrite)
    metadata = _metadata(run, graphs, files)
    made_folder = not main.parent.exists()
    main.parent.mkdir(exist_ok=True)  # only the default export/ folder is made
    staging = Path(tempfile.mkdtemp(prefix=".rnnkit-export-", dir=main.parent))
    try:
        staged = [staging / f.name for f in files]
        difference = 0.0
        for graph, path in zip(graphs, staged, strict=True):
            write_onnx(graph, path, metadata)
            for batch, length in CHECKS:
                difference = max(difference, check_graph(graph, path, batch, length))
        (staging / metadata_path.name).write_text(json.dumps(metadata, indent=2) + "\n",
                                                  encoding="utf-8")
        # The JSON last: until it is replaced, an interrupted move leaves the old JSON, which
        # lists the files as rnnkit's, so the next export may replace them.
        for path, final in zip((*staged, staging / metadata_path.name),
                               (*files, metadata_path), strict=True):
            os.replace(path, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if made_folder:
            shutil.rmtree(main.parent, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    for path in stale:  # an earlier export's graphs this one does not have
        path.unlink(missing_ok=True)
    return ExportResult(run.family.name, files, metadata_path, difference, run.path)


def _preprocessing(family: str, data: Any, model: Any) -> str:
    """How raw inputs become the graphs' inputs (and, for seq2seq, how to decode), in words."""
    if data.name == "mnist":
        from rnnkit.data.mnist import MNIST_MEAN, MNIST_STD

        scaled = "pixels / 255" + (f", then (p - {MNIST_MEAN}) / {MNIST_STD}"
                                   if data.normalize in ("feature", True) else "")
        layout = {"rows": "x (N, 28, 28): row t of the image is step t",
                  "pixels": "x (N, 784, 1): the pixels in reading order",
                  "permuted": f"x (N, 784, 1): the pixels in the order of rnnkit.data.mnist."
                              f"pixel_permutation({data.perm_seed})"}[data.view]
        return f"{scaled}; {layout}"
    if family == "forecast":
        return ("past: the target of each window scaled as (value - loc) / scale, loc and scale "
                "of its series from info.state.series (data.scaling); then each covariate "
                "scaled likewise (info.state.series[...].cov) and the calendar features "
                "info.state.calendar; the forecast comes back in the data's units")
    if family == "seq2seq":
        return ("source: token ids of info.vocabulary (0 padding, 1 unknown); decoding: start "
                "with token 2 (<s>), stop at 3 (</s>), never choose 0 or 2, at most "
                f"ceil({model.max_length_ratio} x source length + {model.max_length_extra}) "
                "tokens; target ids name info.target_vocabulary")
    normalize = getattr(data, "normalize", None)
    if normalize == "sequence" or (normalize == "auto" and family == "classify"):
        return ("each sequence z-normalised on its own, per feature (mean 0, std 1 over its "
                "valid steps), as data.normalize says (auto: sequence for classification)")
    if family in ("lm", "tag") or getattr(data, "name", "") in ("text", "pairs", "tagged"):
        return ("token ids of info.vocabulary (0 padding, 1 unknown), tokenised as in "
                "training (the data section)")
    return ("features standardised with info.state's standardizer (the training split's mean "
            "and std per feature) where it has one, as data.normalize says")


def _metadata(run: Any, graphs: list, files: list[Path]) -> dict[str, Any]:
    return {
        MARK: 1,
        "rnnkit_version": __version__,
        "family": run.family.name,
        "checkpoint": str(run.path),
        "graphs": {
            graph.name: {
                "file": path.name,
                "inputs": {k: graph.about.get(k, "") for k in graph.inputs},
                "outputs": {k: graph.about.get(k, "") for k in graph.outputs},
            }
            for graph, path in zip(graphs, files, strict=True)
        },
        "preprocessing": _preprocessing(run.family.name, run.config.data, run.config.model),
        "info": run.info.to_dict(),
        "data": run.config.data.to_dict(),
        "model": run.config.model.to_dict(),
    }
