"""Training on the user's own sequence files: .ts, long CSV and NPZ, end to end.

The classify family (string labels) and the regress family (numeric targets) through the CLI
and train(); evaluate and predict from the checkpoint alone; variable lengths never let padding
in.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch

from rnnkit.cli import main
from rnnkit.config import ConfigError, load_config
from rnnkit.data.sequences import SequenceDataset, read_sequences
from rnnkit.data.sequences.ts import write_ts
from rnnkit.data.source import PredictInputs
from rnnkit.families.regress.task import RegressionTask
from rnnkit.runs import evaluate, load_run, predict, train

FAST = ["--no-progress", "--epochs", "2", "--set", "model.hidden_size=8", "model.num_layers=1",
        "data.batch_size=16", "trainer.log_every_n_steps=1", "optim.lr=0.02",
        "data.normalize=feature", "data.val_fraction=0.1"]
NAMES = ["down", "flat", "up"]


def _classes(n: int, seed: int) -> SequenceDataset:
    """Two features, lengths 3..14; the class is the sign of feature 0's slope."""
    rng = np.random.default_rng(seed)
    seqs, labels = [], []
    for i in range(n):
        k = i % 3
        length = int(rng.integers(3, 15))
        t = np.arange(length, dtype=np.float32)
        f0 = (k - 1) * 0.5 * t + rng.normal(0, 0.3, length)
        seqs.append(np.stack([f0, rng.normal(5, 2, length)], axis=1))
        labels.append(k)
    return SequenceDataset(seqs, np.array(labels), "classification", NAMES, ["slope", "noise"])


def _write_long_csv(path: Path, ds: SequenceDataset, labelled: bool = True) -> list[str]:
    ids = [f"case-{i:03d}" for i in range(len(ds))][::-1]  # not in sorted order
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "time", "slope", "noise"] + (["label"] if labelled else []))
        for i, (seq, k) in enumerate(zip(ds.sequences, ds.targets, strict=True)):
            for t, (a, b) in enumerate(seq):
                w.writerow([ids[i], t, f"{a:.6g}", f"{b:.6g}"]
                           + ([NAMES[k]] if labelled else []))
    return ids


def _regression(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One feature, lengths 4..20 padded with 1e3; the target is 10 + 3 * mean of valid steps."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(4, 21, n)
    x = np.full((n, 20, 1), 1e3, dtype=np.float32)
    y = np.empty(n, dtype=np.float32)
    for i, k in enumerate(lengths):
        x[i, :k, 0] = rng.normal(0, 1, k)
        y[i] = 10 + 3 * x[i, :k, 0].mean()
    return x, lengths, y


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("files")
    write_ts(_classes(120, 0), root / "train.ts")
    write_ts(_classes(30, 1), root / "test.ts")
    _write_long_csv(root / "train.csv", _classes(90, 2))
    _write_long_csv(root / "new.csv", _classes(12, 3), labelled=False)
    for name, n, seed in (("reg_train.npz", 150, 4), ("reg_test.npz", 40, 5)):
        x, lengths, y = _regression(n, seed)
        ids = np.array([f"r{seed}-{i}" for i in range(n)])
        np.savez(root / name, X=x, lengths=lengths, y=y, ids=ids)
    return {p.name: p for p in root.iterdir()}


@pytest.fixture(scope="module")
def ts_run(files, tmp_path_factory):
    out = tmp_path_factory.mktemp("ts") / "run"
    argv = ["train", "--train", str(files["train.ts"]), "--test", str(files["test.ts"]),
            "--out", str(out), *FAST, "model.cell=gru", "model.bidirectional=true"]
    assert main(argv) == 0
    return out


def test_ts_classification_cli_train_evaluate_predict(ts_run, files, capsys, tmp_path):
    metrics = json.loads((ts_run / "test_metrics.json").read_text())
    assert (metrics["task"], metrics["split"], metrics["num_examples"]) == \
        ("classify", "test", 30)
    assert metrics["class_names"] == NAMES
    assert metrics["test_acc"] > 0.5  # learnt: chance is 1/3
    assert (ts_run / "plots/confusion_matrix.png").is_file()

    assert main(["evaluate", str(ts_run)]) == 0
    printed = capsys.readouterr().out
    assert f"test accuracy {100 * metrics['test_acc']:.2f}% on 30 test examples" in printed

    out_csv = tmp_path / "pred.csv"
    assert main(["predict", str(ts_run), "--data", str(files["test.ts"]),
                 "--output", str(out_csv)]) == 0
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 30
    assert list(rows[0]) == ["index", "predicted", "probability", "prob_down", "prob_flat",
                             "prob_up", "label"]
    assert [r["label"] for r in rows] == [NAMES[i % 3] for i in range(30)]
    assert {r["predicted"] for r in rows} <= set(NAMES)
    probs = np.array([[float(r[f"prob_{n}"]) for n in NAMES] for r in rows])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose([float(r["probability"]) for r in rows], probs.max(axis=1),
                               atol=1e-6)
    accuracy = np.mean([r["predicted"] == r["label"] for r in rows])
    assert accuracy == pytest.approx(metrics["test_acc"], abs=1e-6)


def test_checkpoint_holds_the_family_and_the_standardizer_as_plain_lists(ts_run, files):
    ckpt = torch.load(ts_run / "checkpoints/best.ckpt", weights_only=True)
    hparams = ckpt["hyper_parameters"]
    assert hparams["family"] == "classify" and hparams["config"]["task"] == "classify"
    info = hparams["info"]
    assert (info["source"], info["input_size"], info["class_names"]) == ("files", 2, NAMES)
    assert info["num_train"] == 108 and info["max_length"] == 14  # 120 less 10 % validation
    state = info["state"]
    assert state["task"] == "classification" and state["class_names"] == NAMES
    mean, std = state["standardizer"]["mean"], state["standardizer"]["std"]
    assert type(mean) is list and type(std) is list and len(mean) == 2
    # train-split statistics: 120 cases, 10 % held out for validation
    full = read_sequences(files["train.ts"])
    steps = np.concatenate(full.sequences)
    assert abs(mean[1] - steps[:, 1].mean()) < 0.3 and mean[1] != pytest.approx(
        steps[:, 1].mean(), abs=1e-9)


def test_variable_length_batches_equal_one_sequence_at_a_time(ts_run, files):
    run = load_run(ts_run)
    task = run.task
    assert task.model.rnn.bidirectional
    ds = read_sequences(files["test.ts"], class_names=NAMES)
    std = run.info.state["standardizer"]
    seqs = [(np.asarray(s) - std["mean"]) / std["std"] for s in ds.sequences]
    assert len({len(s) for s in seqs}) > 5
    x = np.full((len(seqs), max(map(len, seqs)), 2), 1e3, dtype=np.float32)  # junk padding
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s
    lengths = torch.tensor([len(s) for s in seqs])
    with torch.inference_mode():
        batched = task(torch.from_numpy(x), lengths)  # (N, C)
        alone = torch.cat([task(torch.tensor(s[None], dtype=torch.float32)) for s in seqs])
    torch.testing.assert_close(batched, alone, atol=1e-5, rtol=1e-5)


def test_long_csv_string_labels_ids_and_the_validation_split(files, tmp_path, capsys):
    config = load_config(overrides=[
        ("data.name", "files"), ("data.train", str(files["train.csv"])), ("out", str(tmp_path)),
        "data.val_fraction=0.2", "data.batch_size=16", "model.hidden_size=8",
        "model.num_layers=1", "trainer.epochs=2", "trainer.progress_bar=false",
    ])
    result = train(config)
    m = result.metrics
    assert (m["task"], m["split"], m["num_examples"]) == ("classify", "val", 18)
    assert Path(load_config(tmp_path / "config.yaml").data.train).is_absolute()
    again = evaluate(tmp_path)  # the same validation split, rebuilt from the seed
    assert again.metrics["test_acc"] == pytest.approx(m["test_acc"], abs=1e-7)
    assert again.metrics["split"] == "val"

    assert main(["predict", str(tmp_path), "--data", str(files["new.csv"])]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert [r["id"] for r in rows] == [f"case-{i:03d}" for i in range(12)][::-1]
    assert [r["index"] for r in rows] == [str(i) for i in range(12)]
    assert "label" not in rows[0] and {r["predicted"] for r in rows} <= set(NAMES)


def test_npz_regression_and_predictions_before_and_after_reloading(files, tmp_path, capsys):
    captured = {}

    class Capture(pl.Callback):
        def on_fit_end(self, trainer, pl_module):
            captured["task"], captured["dm"] = pl_module, trainer.datamodule
            captured["weights"] = {k: v.clone() for k, v in pl_module.state_dict().items()}

    out = tmp_path / "run"
    config = load_config(overrides=[
        ("data.name", "files"), ("data.train", str(files["reg_train.npz"])),
        ("data.test", str(files["reg_test.npz"])), ("out", str(out)), "data.batch_size=16",
        "data.val_fraction=0.2", "data.normalize=feature",
        "model.hidden_size=8", "model.num_layers=1", "optim.lr=0.05", "trainer.epochs=3",
        "trainer.progress_bar=false",
    ])
    result = train(config, callbacks=[Capture()])
    m = result.metrics
    assert m["task"] == "regress" and m["split"] == "test" and m["num_examples"] == 40
    assert np.isfinite(m["test_loss"])
    # learnt: well below the error of always predicting the training targets' mean
    _, _, y_train = _regression(150, 4)
    _, _, y_test = _regression(40, 5)
    baseline = np.abs(y_test - y_train.mean()).mean()
    assert m["test_mae"] < 0.5 * baseline, (m["test_mae"], baseline)  # 0.22 vs 0.87
    assert load_config(out / "config.yaml").trainer.monitor == "val_loss"
    assert (out / "plots/mae.png").is_file() and not (out / "plots/confusion_matrix.png").exists()

    # before: the in-memory model at the end of fit (= last.ckpt) and the data module's scaler
    task, dm = captured["task"], captured["dm"]
    assert isinstance(task, RegressionTask)
    task.load_state_dict(captured["weights"])  # testing loaded best.ckpt into it since
    ds = dm.standardizer.apply(read_sequences(files["reg_test.npz"]))
    x, lengths = ds.padded()
    task.eval()
    with torch.inference_mode():
        before = task(torch.from_numpy(x), torch.from_numpy(lengths))
    after = predict(out / "checkpoints/last.ckpt", PredictInputs(data=str(files["reg_test.npz"])))
    assert list(after.columns) == ["index", "id", "predicted", "target"]
    torch.testing.assert_close(torch.tensor(after.columns["predicted"]), before, atol=1e-5,
                               rtol=1e-6)
    assert after.columns["id"] == [f"r5-{i}" for i in range(40)]

    assert main(["evaluate", str(out)]) == 0
    assert f"test MAE {m['test_mae']:.4g}, RMSE {m['test_rmse']:.4g}" in capsys.readouterr().out
    assert main(["predict", str(out), "--data", str(files["reg_test.npz"]),
                 "--output", str(tmp_path / "p.csv")]) == 0
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert list(rows[0]) == ["index", "id", "predicted", "target"]
    errors = np.array([float(r["predicted"]) - float(r["target"]) for r in rows])
    assert np.abs(errors).mean() == pytest.approx(m["test_mae"], rel=1e-4)
    assert np.sqrt((errors**2).mean()) == pytest.approx(m["test_rmse"], rel=1e-4)


def test_predictions_ignore_padding_values(files, tmp_path):
    """predict pads each batch with zeros; the file's sequences padded with 1e3 agree."""
    out = tmp_path / "run"
    config = load_config(overrides=[
        ("data.name", "files"), ("data.train", str(files["reg_train.npz"])), ("out", str(out)),
        "model.hidden_size=4", "model.num_layers=1", "trainer.epochs=1",
        "trainer.progress_bar=false", "model.summary=mean", "data.normalize=feature",
    ])
    train(config)
    zero_padded = predict(out, PredictInputs(data=str(files["reg_test.npz"])))
    run = load_run(out)
    std = run.info.state["standardizer"]
    raw = np.load(files["reg_test.npz"])  # padded with 1e3 in the file
    x = (raw["X"] - std["mean"][0]) / std["std"][0]
    with torch.inference_mode():
        junk = run.task(torch.tensor(x, dtype=torch.float32), torch.from_numpy(raw["lengths"]))
    torch.testing.assert_close(torch.tensor(zero_padded.columns["predicted"]), junk, atol=1e-5,
                               rtol=1e-5)


def test_malformed_training_file_is_one_line_with_file_and_line(files, tmp_path, capsys):
    bad = tmp_path / "bad.ts"
    lines = files["train.ts"].read_text().splitlines()
    at = lines.index("@data") + 4  # 0-based index of the 4th case
    lines[at] = lines[at].replace(",", ",x", 1)
    bad.write_text("\n".join(lines) + "\n")
    assert main(["train", "--train", str(bad), "--out", str(tmp_path / "r"), *FAST]) == 2
    err = capsys.readouterr().err
    assert f"{bad}, line {at + 1}:" in err and "not a number" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--train", "no/such.ts"], "data.train: no such file: no/such.ts"),
        (["--train", "{ts}", "--test", "missing.ts"], "data.test: no such file: missing.ts"),
        (["--train", "{ts}", "--set", "data.id_col=id"], "data.id_col apply to CSV files"),
        (["--train", "{ts}", "--val-fraction", "0"], "nothing to report a figure on"),
        (["--train", "{ts}", "--set", "data.format=xls"], "data.format must be one of"),
        (["--test", "a.ts"], "--test FILE goes with your own training data"),
        (["--train", "{ts}", "--task", "regress"], "declares a classification file, not "
                                                    "regression"),
    ],
)
def test_bad_file_settings_fail_early(files, args, message, capsys):
    args = [a.replace("{ts}", str(files["train.ts"])) for a in args]
    assert main(["train", *args, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_read_options_follow_the_file_format():
    c = load_config(overrides=[("data.name", "files"), ("data.train", "x.csv"),
                               "data.header=false", "data.label_col=none"])
    assert c.data.read_options("x.csv") == {"format": "csv-wide", "header": False,
                                            "label_col": None}
    c = load_config(overrides=[("data.name", "files"), ("data.train", "x.csv"),
                               "data.feature_cols=[a, b]", "task=regress"])
    assert c.data.read_options("x.csv") == {"feature_cols": ["a", "b"]}  # task: the family's
    with pytest.raises(ConfigError, match="cannot tell the format"):
        c.data.read_options("x.parquet")
