"""Sequence tagging end to end through the ``rnnkit`` command: CoNLL and word/TAG files, the
figures, predictions written back in the input's layout, and bad inputs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from rnnkit.cli import main

QUICK = ["--no-progress", "--set", "trainer.steps=120", "model.hidden_size=24",
         "model.embedding_dim=16", "trainer.threads=1", "optim.lr=0.01"]
PEOPLE, PLACES = ["john", "mary", "li"], ["paris", "rome", "new york"]
FILLER = ["went", "to", "saw", "met", "in", "the", "city", "today"]


def sentences(n: int, seed: int) -> list[list[tuple[str, str]]]:
    """Sentences of names (B-PER), places (B-LOC I-LOC) and filler words (O)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        sentence = []
        for _ in range(rng.randint(3, 8)):
            kind = rng.random()
            if kind < 0.2:
                sentence.append((rng.choice(PEOPLE), "B-PER"))
            elif kind < 0.4:
                words = rng.choice(PLACES).split()
                sentence += [(w, "B-LOC" if i == 0 else "I-LOC") for i, w in enumerate(words)]
            else:
                sentence.append((rng.choice(FILLER), "O"))
        out.append(sentence)
    return out


def write_conll(path: Path, data: list[list[tuple[str, str]]]) -> Path:
    path.write_text("-DOCSTART- O\n\n" + "".join(
        "".join(f"{w}\t{t}\n" for w, t in s) + "\n" for s in data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ner_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("ner")
    train = write_conll(root / "a.conll", sentences(150, 0))
    test = write_conll(root / "b.conll", sentences(40, 1))
    out = root / "run"
    assert main(["train", "--train", str(train), "--test", str(test), "--out", str(out),
                 *QUICK]) == 0
    return out, test


def test_a_conll_file_trains_with_plain_train_and_test(ner_run):
    out, _ = ner_run
    metrics = json.loads((out / "test_metrics.json").read_text())
    assert metrics["task"] == "tag" and metrics["scheme"] == "BIO"
    assert metrics["test_acc"] > 0.95 and metrics["test_f1"] > 0.9
    assert set(metrics["per_tag"]) == {"PER", "LOC"}
    assert (out / "plots" / "confusion_matrix.png").is_file()


def test_train_prints_accuracy_and_span_f1_then_the_run_directory(tmp_path, capsys):
    train = write_conll(tmp_path / "a.conll", sentences(60, 2))
    test = write_conll(tmp_path / "b.conll", sentences(20, 3))
    assert main(["train", "--train", str(train), "--test", str(test), "--out",
                 str(tmp_path / "r"), *QUICK, "trainer.steps=5"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"run directory: {tmp_path / 'r'}"
    assert lines[-2].startswith("test accuracy ") and ", span F1 " in lines[-2]


def test_predict_writes_conll_back_with_the_predicted_tags(ner_run, tmp_path, capsys):
    out, test = ner_run
    target = tmp_path / "predicted.conll"
    assert main(["predict", str(out), "--data", str(test), "--output", str(target)]) == 0
    from rnnkit.data.tagged import read_conll

    gold, predicted = read_conll(test), read_conll(target)
    assert predicted.tokens == gold.tokens
    right = sum(g == p for gs, ps in zip(gold.tags, predicted.tags, strict=True)
                for g, p in zip(gs, ps, strict=True))
    assert right / sum(map(len, gold.tags)) > 0.95


def test_predict_tags_a_raw_sentence(ner_run, capsys):
    out, _ = ner_run
    capsys.readouterr()
    assert main(["predict", str(out), "--text", "mary went to new york"]) == 0
    assert capsys.readouterr().out == "mary/B-PER went/O to/O new/B-LOC york/I-LOC\n"


WORDS = ["我们", "喜欢", "北京", "天安门", "的", "人", "很", "好", "学生", "老师"]


def segmented(n: int, seed: int) -> str:
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 7))]
        tags = []
        for w in words:
            tags += ["s"] if len(w) == 1 else ["b"] + ["m"] * (len(w) - 2) + ["e"]
        chars = "".join(words)
        lines.append(" ".join(f"{c}/{t}" for c, t in zip(chars, tags, strict=True)))
    return "".join(f"{line}\n" for line in lines)


def test_a_segmentation_model_prints_the_words_of_a_sentence(tmp_path, capsys):
    train = tmp_path / "seg.txt"
    train.write_text(segmented(300, 0), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "--train", str(train), "--out", str(out), *QUICK,
                 "trainer.steps=150"]) == 0
    metrics = json.loads((out / "test_metrics.json").read_text())
    assert metrics["scheme"] == "BMES" and metrics["test_f1"] > 0.9
    capsys.readouterr()
    assert main(["predict", str(out), "--text", "我们喜欢北京天安门"]) == 0
    assert capsys.readouterr().out == "我们 喜欢 北京 天安门\n"


@pytest.mark.parametrize("content, message", [
    ("", "no sentences"),
    ("a\tB\tx\nb\tO\n\n", "expected 3 columns"),
])
def test_bad_tagged_files_get_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "bad.conll"
    path.write_text(content, encoding="utf-8")
    assert main(["train", "--train", str(path), "--out", str(tmp_path / "r"), *QUICK]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_a_test_tag_never_seen_in_training_is_counted_not_a_crash(tmp_path, capsys):
    train = write_conll(tmp_path / "a.conll", sentences(60, 5))
    test_sentences = sentences(20, 6)
    test_sentences[0] = [("acme", "B-ORG"), *test_sentences[0]]
    test = write_conll(tmp_path / "b.conll", test_sentences)
    out = tmp_path / "r"
    assert main(["train", "--train", str(train), "--test", str(test), "--out", str(out),
                 *QUICK, "trainer.steps=5"]) == 0
    assert "test: tags the training data never had (B-ORG) on 1 token: scored as errors" in \
        capsys.readouterr().out
    metrics = json.loads((out / "test_metrics.json").read_text())
    total = sum(len(s) for s in test_sentences)
    assert metrics["test_acc"] <= (total - 1) / total  # the unseen tag is always an error
