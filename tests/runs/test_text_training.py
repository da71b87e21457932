"""Text classification end to end through the ``rnnkit`` command: train, evaluate, predict, and
the text source's bad inputs (one line, exit 2)."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest
import torch

from rnnkit.cli import main
from rnnkit.runs import load_run, read_checkpoint

POS = ["好看", "很好", "喜欢", "推荐", "精彩", "不错"]
NEG = ["难看", "很差", "失望", "无聊", "糟糕", "垃圾"]
QUICK = ["--no-progress", "--set", "trainer.steps=60", "model.hidden_size=16",
         "model.embedding_dim=16", "data.min_count=1", "trainer.threads=1"]


def reviews(n: int, seed: int) -> list[tuple[str, str]]:
    """Short Chinese 'reviews' whose class shows in every word they use."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        words = POS if label == "pos" else NEG
        rows.append(("这本书" + "".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
                     + "。" * rng.randint(0, 3), label))
    return rows


def write_tsv(path: Path, rows: list[tuple[str, str]], header: str = "text\tlabel") -> Path:
    path.write_text(header + "\n" + "".join(f"{t}\t{lab}\n" for t, lab in rows),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("text")
    train = write_tsv(root / "train.tsv", reviews(200, 0))
    test = write_tsv(root / "test.tsv", reviews(60, 1))
    out = root / "run"
    assert main(["train", "--train", str(train), "--test", str(test), "--out", str(out),
                 *QUICK]) == 0
    return out, test


def test_a_tsv_with_text_and_label_trains_and_is_learnt(text_run):
    out, _ = text_run
    metrics = json.loads((out / "test_metrics.json").read_text())
    assert metrics["task"] == "classify" and metrics["split"] == "test"
    assert metrics["num_examples"] == 60 and metrics["test_acc"] > 0.9
    config = (out / "config.yaml").read_text(encoding="utf-8")
    assert "name: text" in config and "# vocabulary:" in config


def test_the_checkpoint_holds_family_tokenizer_and_vocabulary(text_run):
    ckpt = read_checkpoint(text_run[0] / "checkpoints" / "best.ckpt")  # weights_only=True
    hp = ckpt["hyper_parameters"]
    assert hp["family"] == "classify" and hp["info"]["class_names"] == ["neg", "pos"]
    vocab = hp["info"]["vocabulary"]
    assert vocab[:2] == ["<pad>", "<unk>"] and "好" in vocab
    assert hp["info"]["state"]["tokenizer"]["kind"] == "char"


def test_evaluate_reproduces_the_test_accuracy(text_run, capsys):
    out, _ = text_run
    accuracy = json.loads((out / "test_metrics.json").read_text())["test_acc"]
    assert main(["evaluate", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["test_acc"] == pytest.approx(accuracy, abs=1e-7)


def test_predict_text_prints_class_and_probability(text_run, capsys):
    assert main(["predict", str(text_run[0]), "--text", "这本书很好看", "--text",
                 "这本书很差，失望"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    (t1, c1, p1), (t2, c2, p2) = (line.split("\t") for line in lines)
    assert (t1, c1, t2, c2) == ("这本书很好看", "pos", "这本书很差，失望", "neg")
    assert 0.5 < float(p1) <= 1 and 0.5 < float(p2) <= 1


def test_predict_data_writes_a_csv_with_the_labels_it_holds(text_run, tmp_path, capsys):
    out, test = text_run
    target = tmp_path / "pred.csv"
    assert main(["predict", str(out), "--data", str(test), "--output", str(target)]) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["index", "text", "predicted", "probability", "prob_neg",
                             "prob_pos", "label"]
    assert len(rows) == 60
    assert sum(r["predicted"] == r["label"] for r in rows) / 60 > 0.9
    assert all(abs(float(r["prob_neg"]) + float(r["prob_pos"]) - 1) < 1e-5 for r in rows)


def test_unknown_tokens_still_predict_and_are_counted(text_run, capsys):
    assert main(["predict", str(text_run[0]), "--text", "qqq", "--text", "好q"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.strip().splitlines()) == 2
    assert "4 of 5 tokens are not in the vocabulary" in captured.err
    assert "1 text held only unknown tokens" in captured.err


def test_a_padded_text_predicts_as_it_does_alone(text_run):
    run = load_run(text_run[0])
    ids = torch.tensor([[5, 6, 7, 0, 0, 0], [5, 6, 7, 8, 9, 10]])
    both = run.task(ids, torch.tensor([3, 6]))
    alone = run.task(ids[:1, :3], torch.tensor([3]))
    torch.testing.assert_close(both[:1], alone)


def test_class_files_and_a_test_fraction_split_by_text(tmp_path, capsys):
    rows = reviews(240, 2)
    pos = tmp_path / "pos.txt"
    neg = tmp_path / "neg.txt"
    pos.write_text("\n".join(t for t, lab in rows if lab == "pos") * 2, encoding="utf-8")
    neg.write_text("\n".join(t for t, lab in rows if lab == "neg"), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "--set", "data.name=text",
                 f"data.class_files=[good={pos}, bad={neg}]", "data.test_fraction=0.25",
                 "data.dedupe=true", "--out", str(out), *QUICK]) == 0
    m = json.loads((out / "test_metrics.json").read_text())
    assert m["class_names"] == ["bad", "good"] and m["split"] == "test"
    assert m["test_acc"] > 0.85
    assert "repeated texts dropped" in (out / "config.yaml").read_text(encoding="utf-8")


def test_numeric_targets_regress(tmp_path):
    rng = random.Random(3)
    rows = []
    for _ in range(160):
        k = rng.randint(0, 4)
        rows.append(("好" * k + "书" * rng.randint(1, 3), f"{k + 0.5 * rng.random():.3f}"))
    train = write_tsv(tmp_path / "r.tsv", rows, header="review\tscore")
    out = tmp_path / "run"
    assert main(["train", "--train", str(train), "--val-fraction", "0.3", "--out", str(out),
                 *QUICK, "trainer.steps=150"]) == 0
    m = json.loads((out / "test_metrics.json").read_text())
    assert m["task"] == "regress" and m["split"] == "val"
    assert m["test_mae"] < 0.8  # predicting the mean gives about 1.2


def test_pretrained_vectors_initialise_the_embedding(tmp_path, capsys):
    train = write_tsv(tmp_path / "t.tsv", reviews(80, 4))
    vectors = tmp_path / "vec.txt"
    vectors.write_text("2 3\n好 0.5 -1 2\n差 1 1 1\n", encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "--train", str(train), "--val-fraction", "0.25", "--out", str(out),
                 *QUICK, "trainer.steps=1", f"model.embeddings={vectors}",
                 "model.freeze_embeddings=true"]) == 0
    printed = capsys.readouterr().out
    assert "embeddings: 2 of the" in printed and "(kept fixed)" in printed
    run = load_run(out)
    weight = run.task.model.encoder.embedding.weight
    vocab = list(run.info.vocabulary)
    assert weight.shape[1] == 3
    torch.testing.assert_close(weight[vocab.index("好")], torch.tensor([0.5, -1.0, 2.0]))


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("make, args, message", [
    (lambda d: write_bytes(d / "g.tsv", "text\tlabel\n好\ta\n".encode("gbk")), [],
     r"g.tsv: expected UTF-8 text, found the byte 0x.. at byte offset 11"),
    (lambda d: write_tsv(d / "one.tsv", reviews(40, 0) + [("孤单", "lonely")]), [],
     r"the class 'lonely' has a single example \(.*one.tsv:42\)"),
    (lambda d: write_tsv(d / "n.tsv", [(f"text {i}", "") for i in range(3)],
                         header="text\tempty"), [], r"line 2: the label \('empty'\) is empty"),
    (lambda d: write_tsv(d / "ok.tsv", reviews(40, 0)), ["--set", "data.max_vocab=-1"],
     r"data.max_vocab must be >= 0"),
    (lambda d: write_tsv(d / "ok.tsv", reviews(40, 0)), ["--set", "data.view=rows"],
     r"unknown config key 'data.view'; valid keys in section 'data': name, train, "),
    (lambda d: write_tsv(d / "ok.tsv", reviews(40, 0)), ["--task", "regress"],
     r"ok.tsv:2: the label '\w+' is not a number; regression \(task regress\) needs"),
])
def test_bad_text_input_is_one_line(tmp_path, capsys, make, args, message):
    path = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["train", "--train", str(path), "--out", str(tmp_path / "run"), *QUICK,
                 *args])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert __import__("re").search(message, err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_evaluate_elsewhere_a_run_on_relative_class_files(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rows = reviews(120, 5)
    Path("pos.txt").write_text("\n".join(t for t, lab in rows if lab == "pos"), encoding="utf-8")
    Path("neg.txt").write_text("\n".join(t for t, lab in rows if lab == "neg"), encoding="utf-8")
    assert main(["train", "--set", "data.name=text", "data.class_files=[pos.txt, neg.txt]",
                 "data.test_fraction=0.3", "--out", "run", *QUICK]) == 0
    accuracy = json.loads(Path("run/test_metrics.json").read_text())["test_acc"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "run"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["test_acc"] == pytest.approx(accuracy, abs=1e-7)


def test_a_run_with_a_validation_file_evaluates_on_it(tmp_path, capsys):
    train = write_tsv(tmp_path / "t.tsv", reviews(80, 6))
    val = write_tsv(tmp_path / "v.tsv", reviews(30, 7))
    out = tmp_path / "run"
    assert main(["train", "--train", str(train), "--set", f"data.val={val}", "--out", str(out),
                 *QUICK]) == 0
    m = json.loads((out / "test_metrics.json").read_text())
    assert m["split"] == "val" and m["num_examples"] == 30
    capsys.readouterr()
    assert main(["evaluate", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["num_examples"] == 30


def test_predict_shows_labels_it_does_not_know_and_refuses_an_empty_file(text_run, tmp_path,
                                                                         capsys):
    other = write_tsv(tmp_path / "o.tsv", [("这本书很好看", "maybe")])
    assert main(["predict", str(text_run[0]), "--data", str(other)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["label"] == "maybe" and rows[0]["predicted"] == "pos"
    empty = write_tsv(tmp_path / "e.tsv", [])
    assert main(["predict", str(text_run[0]), "--data", str(empty)]) == 2
    assert "no texts to predict" in capsys.readouterr().err


def test_a_text_model_refuses_image_files_and_an_mnist_model_refuses_text(text_run, tmp_path,
                                                                           capsys):
    assert main(["predict", str(text_run[0]), str(tmp_path / "digit.png")]) == 2
    assert "this model reads texts" in capsys.readouterr().err


def test_a_finished_text_run_resumes_to_the_same_figures(text_run, tmp_path):
    import shutil

    from rnnkit.runs import resume_config, train

    copy = tmp_path / "copy"
    shutil.copytree(text_run[0], copy)
    before = json.loads((copy / "test_metrics.json").read_text())
    result = train(resume_config(copy), resume=True)
    assert result.metrics["test_acc"] == pytest.approx(before["test_acc"], abs=1e-7)
