"""Language models end to end through the ``rnnkit`` command: train on one text, evaluate,
generate, and the bad inputs of both (one line, exit 2)."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path

import pytest

from rnnkit.cli import main

QUICK = ["--no-progress", "--set", "trainer.steps=150", "model.hidden_size=48",
         "model.num_layers=1", "data.bptt=24", "data.batch_size=8", "trainer.threads=1",
         "optim.lr=0.01"]
WORDS = ["the cat", "a dog", "my bird", "one fish"]
VERBS = ["sat on the mat", "ran to the park", "ate the bread", "slept all day"]


def little_text(lines: int, seed: int = 0) -> str:
    """Short sentences from a tiny grammar: far more predictable than their letters' counts say."""
    rng = random.Random(seed)
    return "".join(f"{rng.choice(WORDS)} {rng.choice(VERBS)}.\n" for _ in range(lines))


def unigram_entropy(text: str) -> float:
    """Nats per character of the text's own character frequencies."""
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log(c / n) for c in counts.values())


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("lm")
    text = little_text(400)
    path = root / "story.txt"
    path.write_text(text, encoding="utf-8")
    out = root / "run"
    assert main(["train", "--text", str(path), "--out", str(out), *QUICK]) == 0
    return out, text


def test_a_text_file_trains_a_language_model_that_learns_it(lm_run, capsys):
    out, text = lm_run
    metrics = json.loads((out / "test_metrics.json").read_text())
    assert metrics["task"] == "lm" and metrics["split"] == "val"
    assert metrics["unit"] == "character"
    # the validation text is the last 10% of the file
    assert abs(metrics["num_examples"] - 0.1 * len(text)) < 0.02 * len(text)
    assert metrics["test_loss"] < 0.5 * unigram_entropy(text)
    assert metrics["bits_per_character"] == pytest.approx(metrics["test_loss"] / math.log(2))
    assert metrics["perplexity"] == pytest.approx(math.exp(metrics["test_loss"]))
    samples = (out / "samples.txt").read_text(encoding="utf-8")
    assert samples.startswith("--- epoch 1, step ")
    assert (out / "plots" / "loss.png").is_file()


def test_train_prints_nats_and_bits_then_the_run_directory(tmp_path, capsys):
    path = tmp_path / "t.txt"
    path.write_text(little_text(200, seed=3), encoding="utf-8")
    assert main(["train", "--text", str(path), "--out", str(tmp_path / "r"), *QUICK,
                 "trainer.steps=10"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"run directory: {tmp_path / 'r'}"
    assert "validation loss " in lines[-2] and " nats, " in lines[-2]
    assert " bits per character, perplexity " in lines[-2]


def test_evaluate_reproduces_the_validation_loss(lm_run, capsys):
    out, _ = lm_run
    saved = json.loads((out / "test_metrics.json").read_text())
    capsys.readouterr()
    assert main(["evaluate", str(out), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["test_loss"] == pytest.approx(saved["test_loss"], rel=1e-5)


def generate(out: Path, capsys, *args: str) -> str:
    capsys.readouterr()
    assert main(["generate", str(out), *args]) == 0
    return capsys.readouterr().out


def test_generate_continues_the_prompt_and_a_seed_repeats_it(lm_run, capsys):
    out, _ = lm_run
    first = generate(out, capsys, "--prompt", "the cat", "--length", "40", "--seed", "5")
    again = generate(out, capsys, "--prompt", "the cat", "--length", "40", "--seed", "5")
    other = generate(out, capsys, "--prompt", "the cat", "--length", "40", "--seed", "6",
                     "--temperature", "1.5")
    assert first == again and first != other
    assert first.startswith("the cat") and len(first) == len("the cat") + 40 + 1


def test_greedy_generation_repeats_what_the_text_says(lm_run, capsys):
    out, _ = lm_run
    text = generate(out, capsys, "--prompt", "the cat sa", "--length", "12",
                    "--temperature", "0")
    assert text.startswith("the cat sat on the mat")


def test_several_samples_are_numbered(lm_run, capsys):
    out, _ = lm_run
    text = generate(out, capsys, "--length", "10", "--num-samples", "2", "--seed", "1")
    assert "--- sample 1 of 2 ---" in text and "--- sample 2 of 2 ---" in text


@pytest.mark.parametrize("args, message", [
    (["--length", "0"], "--length is the number of tokens to generate: at least 1, got 0"),
    (["--length", "-3"], "at least 1, got -3"),
    (["--temperature", "-1"], "temperature must be >= 0"),
    (["--top-p", "0"], "top_p must be a number in (0, 1]"),
    (["--top-p", "1.5"], "top_p must be a number in (0, 1]"),
    (["--top-k", "-2"], "top_k must be an int >= 0"),
    (["--prompt", "the cat Ж"], "the prompt holds characters the model never saw in training"),
])
def test_generate_bad_options_get_one_line(lm_run, capsys, args, message):
    out, _ = lm_run
    capsys.readouterr()
    assert main(["generate", str(out), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_generate_refuses_a_model_that_is_not_a_language_model(text_classifier_run, capsys):
    assert main(["generate", str(text_classifier_run), "--prompt", "a"]) == 2
    err = capsys.readouterr().err
    assert "holds a classify model; generate needs a lm model" in err


@pytest.fixture(scope="module")
def text_classifier_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("classify")
    rows = "".join(f"{'good fine' if i % 2 else 'bad poor'} {i}\t{i % 2}\n" for i in range(40))
    train = root / "train.tsv"
    train.write_text("text\tlabel\n" + rows, encoding="utf-8")
    out = root / "run"
    assert main(["train", "--train", str(train), "--out", str(out), "--no-progress", "--set",
                 "trainer.steps=2", "model.hidden_size=8", "model.embedding_dim=8",
                 "trainer.threads=1"]) == 0
    return out


@pytest.mark.parametrize("content, message", [
    (b"", "the text is empty"),
    (b"abc \xff\xfe def\n" * 10, "expected UTF-8 text, found the byte 0xff"),
    (b"too short\n", "one training window needs"),
])
def test_bad_text_files_get_one_line_and_no_run_directory(tmp_path, capsys, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    out = tmp_path / "run"
    assert main(["train", "--text", str(path), "--out", str(out), *QUICK]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_a_text_cannot_train_a_classifier(tmp_path, capsys):
    path = tmp_path / "t.txt"
    path.write_text(little_text(100), encoding="utf-8")
    assert main(["train", "--text", str(path), "--task", "classify", "--out",
                 str(tmp_path / "r"), *QUICK]) == 2
    err = capsys.readouterr().err
    assert "error:" in err


def test_predict_points_a_language_model_to_generate(lm_run, capsys):
    out, _ = lm_run
    assert main(["predict", str(out), "--text", "the cat"]) == 2
    assert "use rnnkit generate RUN --prompt TEXT" in capsys.readouterr().err


def test_a_validation_file_replaces_the_split(tmp_path, capsys):
    train, val = tmp_path / "train.txt", tmp_path / "val.txt"
    train.write_text(little_text(200, seed=1), encoding="utf-8")
    val.write_text(little_text(30, seed=2), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "--text", str(train), "--val", str(val), "--out", str(out), *QUICK,
                 "trainer.steps=5"]) == 0
    metrics = json.loads((out / "test_metrics.json").read_text())
    assert metrics["split"] == "val" and metrics["num_examples"] < len(val.read_text())
    assert metrics["num_examples"] > 0.8 * len(val.read_text())


@pytest.mark.parametrize("tokenizer", ["word", "subword"])
def test_word_and_subword_models_train_and_generate_text(tmp_path, capsys, tokenizer):
    path = tmp_path / "t.txt"
    path.write_text(little_text(300, seed=4), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "--text", str(path), "--out", str(out), *QUICK, "trainer.steps=40",
                 f"data.tokenizer={tokenizer}", "data.subword_vocab=60", "data.bptt=8"]) == 0
    metrics = json.loads((out / "test_metrics.json").read_text())
    assert metrics["unit"] == "token" and "bits_per_token" in metrics
    text = generate(out, capsys, "--prompt", "the cat", "--length", "20", "--seed", "0")
    assert text.startswith("the cat") and len(text.split()) > 5
    assert "<pad>" not in text and "<unk>" not in text


def test_an_interrupted_language_model_resumes_to_the_same_weights(tmp_path):
    import lightning.pytorch as pl
    import torch

    from rnnkit.config import load_config
    from rnnkit.runs import read_checkpoint, resume_config, train
    from rnnkit.runs.interrupt import RunInterrupted

    class Interrupt(pl.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if trainer.current_epoch == 1 and batch_idx == 2:
                raise KeyboardInterrupt

    path = tmp_path / "t.txt"
    path.write_text(little_text(200, seed=5), encoding="utf-8")
    overrides = ["data.name=corpus", f"data.train={path}", "task=lm", "trainer.epochs=2",
                 "trainer.check_every=1", "model.hidden_size=16", "model.num_layers=2",
                 "model.dropout=0.2", "data.bptt=16", "data.batch_size=4",
                 "trainer.threads=1", "trainer.progress_bar=false"]
    straight = train(load_config(None, [*overrides, f"out={tmp_path / 'a'}"]))
    with pytest.raises(RunInterrupted):
        train(load_config(None, [*overrides, f"out={tmp_path / 'b'}"]), callbacks=[Interrupt()])
    resumed = train(resume_config(tmp_path / "b"), resume=True)
    a = read_checkpoint(straight.run_dir / "checkpoints/last.ckpt")
    b = read_checkpoint(resumed.run_dir / "checkpoints/last.ckpt")
    assert a["global_step"] == b["global_step"]
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), key
    assert resumed.metrics["test_loss"] == straight.metrics["test_loss"]
