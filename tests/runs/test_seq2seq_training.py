"""Sequence to sequence end to end through the ``rnnkit`` command: the contract command on a
two-column TSV, the figures, the attention picture, predict with beams and n-best, evaluate,
and bad input."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from rnnkit.cli import main

QUICK = ["--no-progress", "--set", "trainer.steps=160", "model.hidden_size=48",
         "model.embedding_dim=24", "trainer.threads=1", "optim.lr=0.01"]


def reversals(n: int, seed: int) -> list[tuple[str, str]]:
    """Words of letters a-f and their letters reversed, spaced: ``abc -> c b a``."""
    rng = random.Random(seed)
    words = {"".join(rng.choice("abcdef") for _ in range(rng.randint(2, 5))) for _ in range(n)}
    return [(w, " ".join(reversed(w))) for w in sorted(words)]


def write_tsv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("source\ttarget\n" + "".join(f"{s}\t{t}\n" for s, t in rows),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reverse_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("reverse")
    train = write_tsv(root / "a.tsv", reversals(900, 0))
    test = write_tsv(root / "b.tsv", reversals(80, 1))
    out = root / "run"
    assert main(["train", "--task", "seq2seq", "--train", str(train), "--test", str(test),
                 "--out", str(out), *QUICK]) == 0
    return out, test


def test_the_contract_command_learns_to_reverse(reverse_run):
    out, _ = reverse_run
    metrics = json.loads((out / "test_metrics.json").read_text())
    assert metrics["task"] == "seq2seq" and metrics["decoding"]["beam_size"] == 5
    assert metrics["test_exact_match"] > 0.8
    assert metrics["test_token_error_rate"] < 0.1
    assert metrics["nbest_accuracy"] >= metrics["test_exact_match"]
    assert metrics["bleu"] > 50 and metrics["chrf"] > 50
    assert (out / "plots" / "attention.png").stat().st_size > 1000
    assert (out / "plots" / "loss.png").is_file()


def test_train_prints_exact_match_and_error_rate_then_the_run_directory(tmp_path, capsys):
    train = write_tsv(tmp_path / "a.tsv", reversals(200, 2))
    test = write_tsv(tmp_path / "b.tsv", reversals(20, 3))
    assert main(["train", "--task", "seq2seq", "--train", str(train), "--test", str(test),
                 "--out", str(tmp_path / "r"), *QUICK, "trainer.steps=3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"run directory: {tmp_path / 'r'}"
    assert lines[-2].startswith("test exact match ") and "(error rate " in lines[-2]
    assert "token error rate" in lines[-2]


def test_predict_texts_with_beams_and_a_file_with_nbest(reverse_run, tmp_path, capsys):
    out, test = reverse_run
    assert main(["predict", str(out), "--text", "abcd", "--text", "fed", "--beam", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[:2] for line in lines] == [["abcd", "d c b a"], ["fed", "d e f"]]
    target = tmp_path / "p.csv"
    assert main(["predict", str(out), "--data", str(test), "--nbest", "2",
                 "--output", str(target)]) == 0
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert list(rows[0]) == ["index", "source", "predicted", "score", "predicted_2", "score_2",
                             "target"]
    assert len(rows) == len(reversals(80, 1))
    right = sum(r["predicted"] == r["target"] for r in rows)
    assert right >= 0.8 * len(rows)
    assert all(float(r["score"]) >= float(r["score_2"]) for r in rows)


def test_evaluate_reproduces_the_figures_and_greedy_is_one_beam(reverse_run, capsys):
    out, _ = reverse_run
    saved = json.loads((out / "test_metrics.json").read_text())
    assert main(["evaluate", str(out), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["test_exact_match"] == pytest.approx(saved["test_exact_match"])
    assert again["test_token_error_rate"] == pytest.approx(saved["test_token_error_rate"])
    assert main(["evaluate", str(out), "--beam", "1"]) == 0
    assert f", beam 1 on {len(reversals(80, 1))} test examples" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--beam", "0"], "--beam must be at least 1"),
    (["--beam", "2", "--nbest", "3"], "model.nbest=3 hypotheses need a beam"),
    (["--set", "model.hidden_size=4"], "cannot override model.hidden_size"),
])
def test_bad_decoding_options(reverse_run, capsys, argv, message):
    out, _ = reverse_run
    assert main(["predict", str(out), "--text", "abc", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_bad_pairs_fail_before_anything_is_written(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("source\ttarget\nabc\tc b a\nxyz\t\n", encoding="utf-8")
    assert main(["train", "--task", "seq2seq", "--train", str(bad), "--out",
                 str(tmp_path / "r"), *QUICK]) == 2
    err = capsys.readouterr().err.strip()
    assert "bad.tsv:3: an empty target" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()
