"""``rnnkit export RUN`` for every family: the files, their metadata, onnxruntime against
PyTorch on the run's own data, the step graphs against the whole-sequence graph, and bad input.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.cli import main
from rnnkit.data.registry import get_source
from rnnkit.families.base import unpack_batch
from rnnkit.runs.evaluate import evaluate, load_run

pytest.importorskip("onnxruntime")
from rnnkit.export.onnx_file import run_onnx  # noqa: E402

QUICK = ["--no-progress", "--set", "trainer.threads=1", "model.hidden_size=8"]
pytestmark = pytest.mark.usefixtures("one_thread")


def train(argv: list[str]) -> None:
    assert main(["train", *argv]) == 0


def export(run: Path, *extra: str) -> dict:
    assert main(["export", str(run), *extra]) == 0
    return json.loads((run / "export" / "model.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mnist_run(tiny_mnist: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export_mnist") / "run"
    train(["--data-dir", str(tiny_mnist), "--out", str(out), "--epochs", "2", *QUICK,
           "data.batch_size=20", "data.val_size=20", "optim.lr=0.05"])
    return out


def test_the_main_job_model_reproduces_evaluate_in_onnxruntime(mnist_run, capsys) -> None:
    metadata = export(mnist_run)
    printed = capsys.readouterr().out
    assert printed.startswith("exported the classify model of ") and "onnxruntime matches" in \
        printed
    assert metadata["family"] == "classify" and metadata["rnnkit_export"] == 1
    assert metadata["info"]["class_names"] == [str(k) for k in range(10)]
    assert set(metadata["graphs"]["model"]["inputs"]) == {"x", "lengths"}
    run = load_run(mnist_run)
    dm = get_source(run.config.data.name).datamodule(
        run.config.data, seed=run.config.trainer.seed, family="classify", purpose="evaluate",
        state=run.info.state)
    dm.setup("test")
    _, loader, count = dm.report_split()
    right = 0
    for batch in loader:
        x, lengths, y = unpack_batch(batch)
        lengths = torch.full((len(x),), x.shape[1]) if lengths is None else lengths
        logits, probabilities = run_onnx(mnist_run / "export" / "model.onnx",
                                         {"x": x.numpy(), "lengths": lengths.numpy()})
        assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
        right += int((logits.argmax(axis=1) == y.numpy()).sum())
    assert right / count == pytest.approx(evaluate(mnist_run).metrics["test_acc"], abs=1e-6)


def test_export_again_replaces_its_own_files_but_no_one_elses(mnist_run, tmp_path,
                                                               capsys) -> None:
    export(mnist_run)
    assert main(["export", str(mnist_run)]) == 0  # its own files: replaced
    mine = tmp_path / "mine.onnx"
    mine.write_text("precious", encoding="utf-8")
    assert main(["export", str(mnist_run), "--output", str(mine)]) == 2
    assert "exists and was not written by rnnkit export" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8") == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.onnx"]  # no staging left


def test_a_failed_check_leaves_nothing_behind(mnist_run, tmp_path, monkeypatch,
                                              capsys) -> None:
    from rnnkit.export import onnx_file

    def fails(*args, **kwargs):
        raise ValueError("the exported model graph differs from PyTorch by 0.5")

    monkeypatch.setattr(onnx_file, "check_graph", fails)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "checkpoints").symlink_to(mnist_run / "checkpoints")
    assert main(["export", str(fresh)]) == 2
    assert "differs from PyTorch by 0.5" in capsys.readouterr().err
    assert not (fresh / "export").exists()  # neither the folder it made nor a staged file
    assert main(["export", str(mnist_run), "--output", str(tmp_path / "m.onnx")]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--format", "tflite"], "unknown export format 'tflite'; rnnkit exports onnx"),
    (["--output", "/nonexistent/folder/m.onnx"], "the folder /nonexistent/folder does not exist"),
    (["--output", "model.txt"], "the ONNX file's name must end in .onnx"),
])
def test_bad_export_options_get_one_line(mnist_run, capsys, argv, message) -> None:
    assert main(["export", str(mnist_run), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_a_missing_or_corrupt_checkpoint_gets_one_line(tmp_path, capsys) -> None:
    assert main(["export", str(tmp_path / "nowhere")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    bad = tmp_path / "run" / "checkpoints"
    bad.mkdir(parents=True)
    (bad / "best.ckpt").write_bytes(b"not a checkpoint")
    assert main(["export", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "best.ckpt" in err
    assert not (tmp_path / "run" / "export").exists()


def test_a_regression_run_predicts_in_the_targets_units(tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 9, 2)).astype(np.float32)
    y = (50 + 10 * x[:, :, 0].mean(axis=1)).astype(np.float32)
    np.savez(tmp_path / "train.npz", X=x, y=y)
    out = tmp_path / "run"
    train(["--train", str(tmp_path / "train.npz"), "--task", "regress", "--out", str(out),
           *QUICK, "trainer.steps=30"])
    export(out)
    run = load_run(out)
    data = {"x": x[:4], "lengths": np.array([9, 7, 5, 3])}
    (prediction,) = run_onnx(out / "export" / "model.onnx", data)
    with torch.no_grad():
        expected = run.task(torch.from_numpy(data["x"]), torch.from_numpy(data["lengths"]))
    assert np.abs(prediction - expected.numpy()).max() < 1e-4
    assert abs(float(prediction.mean()) - 50) < 30  # in the targets' units, not standardised


def words(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice("abcdef") for _ in range(rng.randint(2, 6))) for _ in range(n)]


def test_the_language_model_step_graph_equals_the_sequence_graph(tmp_path) -> None:
    text = tmp_path / "story.txt"
    text.write_text("\n".join(" ".join(words(8, k)) for k in range(200)), encoding="utf-8")
    out = tmp_path / "run"
    train(["--text", str(text), "--out", str(out), *QUICK, "trainer.steps=20",
           "model.cell=gru", "model.num_layers=2"])
    metadata = export(out)
    assert set(metadata["graphs"]) == {"model", "step"}
    assert metadata["graphs"]["step"]["file"] == "model.step.onnx"
    vocabulary = len(metadata["info"]["vocabulary"])
    tokens = np.random.default_rng(0).integers(1, vocabulary, size=(2, 12))
    h = np.zeros((2, 2, 8), dtype=np.float32)
    logits, h_sequence = run_onnx(out / "export" / "model.onnx",
                                  {"tokens": tokens, "lengths": np.array([12, 12]), "h": h})
    # a shorter row ends its state at its own last token
    _, h_short = run_onnx(out / "export" / "model.onnx",
                          {"tokens": tokens, "lengths": np.array([12, 7]), "h": h})
    _, h_seven = run_onnx(out / "export" / "model.onnx",
                          {"tokens": tokens[:, :7], "lengths": np.array([7, 7]), "h": h})
    assert np.abs(h_short[:, 1] - h_seven[:, 1]).max() < 1e-6
    assert np.abs(h_short[:, 0] - h_sequence[:, 0]).max() < 1e-6
    for t in range(12):
        step_logits, h = run_onnx(out / "export" / "model.step.onnx",
                                  {"token": tokens[:, t], "h": h})
        assert np.abs(step_logits - logits[:, t]).max() < 1e-5
    assert np.abs(h - h_sequence).max() < 1e-5
    with torch.no_grad():
        expected, _ = load_run(out).task.model(torch.from_numpy(tokens))
    assert np.abs(logits - expected.numpy()).max() < 1e-5


def test_seq2seq_greedy_decoding_in_onnxruntime_equals_pytorch(tmp_path) -> None:
    rows = [(w, " ".join(reversed(w))) for w in sorted(set(words(300, 0)))]
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("source\ttarget\n" + "".join(f"{s}\t{t}\n" for s, t in rows),
                     encoding="utf-8")
    out = tmp_path / "run"
    train(["--task", "seq2seq", "--train", str(pairs), "--out", str(out), *QUICK,
           "trainer.steps=30", "model.embedding_dim=8", "model.input_feeding=true"])
    metadata = export(out)
    assert set(metadata["graphs"]) == {"encoder", "step"}
    assert metadata["graphs"]["encoder"]["file"] == "model.onnx"
    run = load_run(out)
    source = torch.randint(4, len(run.info.vocabulary), (3, 6))
    lengths = torch.tensor([6, 4, 2])
    source[1, 4:] = 0
    source[2, 2:] = 0
    encoded = run_onnx(out / "export" / "model.onnx",
                       {"source": source.numpy(), "lengths": lengths.numpy()})
    names = list(metadata["graphs"]["encoder"]["outputs"])
    carried = dict(zip(names, encoded, strict=True))
    state = run.task.model.encode(source, lengths)
    token = np.full(3, 2)
    with torch.no_grad():
        tokens = torch.full((3,), 2)
        for _ in range(5):
            inputs = {"token": token, **carried}
            logits, weights, h, c, feed = run_onnx(out / "export" / "model.step.onnx", inputs)
            expected, state = run.task.model.step(tokens, state)
            assert np.abs(logits - expected.numpy()).max() < 1e-4
            assert np.abs(weights - state.weights.numpy()).max() < 1e-5
            token, tokens = logits.argmax(axis=1), expected.argmax(dim=1)
            assert (token == tokens.numpy()).all()
            carried |= {"h": h, "c": c, "feed": feed}


def test_a_crf_tagger_exports_viterbi_decoding(tmp_path) -> None:
    rng = random.Random(0)
    lines = []
    for _ in range(120):
        for word in words(rng.randint(2, 7), rng.randint(0, 10**6)):
            lines.append(f"{word}\t{'B-X' if word[0] in 'ab' else 'O'}")
        lines.append("")
    data = tmp_path / "train.conll"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    train(["--train", str(data), "--out", str(out), *QUICK, "trainer.steps=30",
           "model.crf=true"])
    metadata = export(out)
    run = load_run(out)
    inputs = {"x": torch.randint(2, len(run.info.vocabulary), (4, 9)),
              "lengths": torch.tensor([9, 6, 2, 1])}
    for name in metadata["graphs"]["model"]["inputs"]:
        if name == "chars":
            inputs[name] = torch.randint(2, len(run.info.features["chars"]), (4, 9, 3))
        elif name == "bigrams":
            inputs[name] = torch.randint(2, len(run.info.features["bigrams"]), (4, 9))
    emissions, tags = run_onnx(out / "export" / "model.onnx",
                               {k: v.numpy() for k, v in inputs.items()})
    extra = {k: v for k, v in inputs.items() if k in ("chars", "bigrams")}
    with torch.no_grad():
        expected = run.task.model(inputs["x"], inputs["lengths"], **extra)
        decoded = run.task.model.decode(expected, inputs["lengths"])
    assert np.abs(emissions - expected.numpy()).max() < 1e-5
    assert (tags == decoded.numpy()).all()


def test_a_forecaster_exports_its_forecasts_in_the_datas_units(tmp_path) -> None:
    lines = ["date,value"] + [f"{2000 + k // 12}-{k % 12 + 1:02d}-01,"
                              f"{10 + 3 * math.sin(2 * math.pi * k / 12):.6f}"
                              for k in range(120)]
    series = tmp_path / "sine.csv"
    series.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    train(["--series", str(series), "--out", str(out), *QUICK, "trainer.steps=30",
           "data.horizon=6"])
    metadata = export(out)
    graph = metadata["graphs"]["model"]
    assert list(graph["outputs"]) == ["forecast"]
    run = load_run(out)
    features = run.info.input_size
    inputs = {"past": torch.randn(3, 24, features), "lengths": torch.tensor([24, 20, 13])}
    if "future" in graph["inputs"]:
        inputs["future"] = torch.randn(3, 6, run.task.model.future_size)
    inputs |= {"loc": torch.tensor([10.0, 11.0, 9.0]), "scale": torch.tensor([2.0, 1.5, 3.0])}
    (forecast,) = run_onnx(out / "export" / "model.onnx",
                           {k: v.numpy() for k, v in inputs.items()})
    future = inputs.get("future", torch.zeros(3, 6, 0))
    with torch.no_grad():
        expected = run.task({"past": inputs["past"], "length": inputs["lengths"],
                             "future": future, "loc": inputs["loc"],
                             "scale": inputs["scale"]})
    assert forecast.shape == (3, 6, 1)
    assert np.abs(forecast - expected.numpy()).max() < 1e-4


def test_the_readme_example_runs_with_onnxruntime_alone(mnist_run, tiny_mnist, tmp_path) -> None:
    import re
    import subprocess
    import sys

    from rnnkit.data.mnist import load_mnist

    export(mnist_run)
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    code = re.search(r"<!-- README-ONNX-EXAMPLE -->\n```python\n(.*?)```", readme, re.S)[1]
    images, labels = load_mnist(str(tiny_mnist), "test")
    np.save(tmp_path / "digit.npy", images[3])
    code = re.sub(r'folder = ".*?"', f'folder = "{mnist_run / "export"}"', code)
    code += "\nimport sys\nassert 'torch' not in sys.modules, 'the example imported torch'\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("pixels / 255, then (p - 0.1307) / 0.3081; x (N, 28, 28)")
    name, probability = lines[1].split()
    assert name in [str(k) for k in range(10)] and 0.1 <= float(probability) <= 1.0
