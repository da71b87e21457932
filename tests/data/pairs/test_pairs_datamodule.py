"""The pairs data module: the MD5 split by source, grouped references, the batch dict and its
<s> ... </s> targets, unseen target tokens, maximum lengths, a shared vocabulary, prediction,
rebuilding from a state, and bad input."""

import pytest
import torch
from pairs_helpers import spell, words

from rnnkit.config.section import ConfigError, build_section
from rnnkit.data.pairs.batches import BOS_ID, EOS_ID, UNSEEN_TOKEN
from rnnkit.data.pairs.config import PairsConfig, defaults
from rnnkit.data.pairs.datamodule import PairsDataModule
from rnnkit.data.pairs.source import SOURCE
from rnnkit.data.source import PredictInputs
from rnnkit.data.text.datamodule import hash_fraction


def config(**data):
    return build_section(PairsConfig, data, "data.")


def ready(cfg, **options):
    dm = PairsDataModule(cfg, **options)
    dm.setup("fit")
    return dm


def batches(dm, split):
    return list(dm.loader(split))


def texts(dm, ids, side="target"):
    tokens = dm.vocabularies[side].tokens
    return " ".join(tokens[i] for i in ids)


def test_the_md5_split_keeps_every_target_of_a_source_together_and_is_stable(cmu_file):
    cfg = config(train=str(cmu_file), test_fraction=0.25, val_fraction=0.2)
    dm = ready(cfg)
    split_of = {}
    for split in ("train", "val", "test"):
        for batch in batches(dm, split):
            for row, length in zip(batch["source"], batch["source_lengths"], strict=True):
                word = texts(dm, row[:length].tolist(), "source").replace(" ", "")
                assert split_of.setdefault(word, split) == split, word
    u = {w: hash_fraction(w) for w in words(200)}
    assert {w for w, s in split_of.items() if s == "test"} == {w for w, x in u.items()
                                                               if x < 0.25}
    assert {w for w, s in split_of.items() if s == "train"} == \
        {w for w, x in u.items() if x >= 0.25 + 0.2 * 0.75}
    again = ready(cfg)
    assert [b["index"].tolist() for b in batches(again, "test")] == \
        [b["index"].tolist() for b in batches(dm, "test")]


def test_evaluation_has_one_example_per_source_with_all_its_targets(cmu_file):
    dm = ready(config(train=str(cmu_file), test_fraction=0.5, val_fraction=0.0))
    test = dm.splits["test"]
    train_words = {w for w in words(200) if hash_fraction(w) >= 0.5}
    assert len(test) == 200 - len(train_words)
    assert len(dm.splits["train"]) == sum(1 + (k % 5 == 0) for k, w in enumerate(words(200))
                                          if w in train_words)
    expected = {w: [spell(w)] + ([spell(w[::-1])] if k % 5 == 0 else [])
                for k, w in enumerate(words(200))}
    for batch in batches(dm, "test"):
        for row, length, refs in zip(batch["source"], batch["source_lengths"],
                                     batch["references"], strict=True):
            word = texts(dm, row[:length].tolist(), "source").replace(" ", "")
            want = [tuple(dm.vocabularies["target"].index.get(t, UNSEEN_TOKEN)
                          for t in pron.split()) for pron in expected[word]]
            assert refs == list(dict.fromkeys(want)), word  # a palindrome's twice: once
    for batch in batches(dm, "train"):  # one example per pair, every target a reference
        for row, length, target, refs in zip(batch["source"], batch["source_lengths"],
                                             batch["target"], batch["references"], strict=True):
            word = texts(dm, row[:length].tolist(), "source").replace(" ", "")
            ids = target.tolist()
            assert tuple(ids[1: ids.index(EOS_ID)]) in refs
            assert len(refs) == len(set(expected[word])), word


def test_a_target_is_bos_ids_eos_padded_and_the_batch_dict_has_its_keys(table_file):
    dm = ready(config(train=str(table_file), val_fraction=0.0, batch_size=16))
    batch = next(iter(dm.loader("train")))
    assert set(batch) == {"source", "source_lengths", "target", "references", "index"}
    assert batch["source"].dtype == batch["target"].dtype == torch.int64
    for i, refs in enumerate(batch["references"]):
        (ref,) = refs  # a table of distinct words: one target each
        row = batch["target"][i].tolist()
        assert row[: len(ref) + 2] == [BOS_ID, *ref, EOS_ID]
        assert set(row[len(ref) + 2:]) <= {0}
        length = int(batch["source_lengths"][i])
        assert batch["source"][i, length:].eq(0).all() and batch["source"][i, :length].gt(0).all()
    info = dm.describe()
    assert info.source == "pairs" and info.targets == "sequences"
    assert info.target_vocabulary[:4] == ("<pad>", "<unk>", "<s>", "</s>")
    assert info.vocabulary[:2] == ("<pad>", "<unk>") and "<s>" not in info.vocabulary
    assert "a" in info.vocabulary and "A1" in info.target_vocabulary  # chars, symbols
    assert info.num_train == 200 and info.max_length == 6
    assert info.state["longest_target"] == 6 and info.state["max_length_ratio"] == 1.0


def test_target_tokens_unseen_in_training_are_minus_one_in_references_with_a_note(
        tmp_path, table_file):
    test = tmp_path / "test.tsv"
    test.write_text("source\ttarget\nab\tA1 ZZ9 B1\nab\tA1 B1\n", encoding="utf-8")
    dm = ready(config(train=str(table_file), test=str(test)))
    (batch,) = batches(dm, "test")
    a, b = (dm.vocabularies["target"].index[t] for t in ("A1", "B1"))
    assert batch["references"] == [[(a, UNSEEN_TOKEN, b), (a, b)]]
    assert batch["target"][0].tolist() == [BOS_ID, a, 1, b, EOS_ID]  # <unk> when teacher-forced
    assert any("test: 1 target token in 1 reference the training targets never had" in n
               for n in dm.notes)


def test_pairs_over_the_maximum_lengths_are_left_out_and_counted(tmp_path):
    path = tmp_path / "t.tsv"
    rows = [f"{w}\t{spell(w)}" for w in words(60)] + ["abcdefghab\tA1", "ab\tA1 B1 C1 D1 E1 F1 G1"]
    path.write_text("source\ttarget\n" + "\n".join(rows) + "\n", encoding="utf-8")
    dm = ready(config(train=str(path), val_fraction=0.0, max_source_length=6,
                      max_target_length=6))
    assert len(dm.splits["train"]) == 60
    assert any("train: 2 of 62 pairs left out, 1 with a source longer than 6 tokens "
               "(data.max_source_length) and 1 with a target longer than 6" in n
               for n in dm.notes)
    with pytest.raises(ValueError, match=r"no pair left for training: all 62 are longer than "
                       r"data.max_source_length=1"):
        ready(config(train=str(path), val_fraction=0.0, max_source_length=1))


def test_a_shared_vocabulary_gives_both_sides_the_same_ids(tmp_path):
    src, tgt = tmp_path / "train.src", tmp_path / "train.tgt"
    src.write_text("the cat sat\nthe dog ran\n", encoding="utf-8")
    tgt.write_text("le chat the\nle chien\n", encoding="utf-8")
    dm = ready(config(train=str(src), train_target=str(tgt), shared_vocabulary=True,
                      val_fraction=0.0))
    info = dm.describe()
    assert info.vocabulary == info.target_vocabulary
    assert info.vocabulary[:4] == ("<pad>", "<unk>", "<s>", "</s>")
    assert info.vocabulary[4] == "the"  # three times, both sides counted
    batch = next(iter(dm.loader("train")))
    the = info.vocabulary.index("the")
    first = batch["index"].tolist().index(0)
    assert batch["source"][first, 0] == the and batch["target"][first, 3] == the
    assert info.state["source_tokenizer"]["kind"] == "word"  # sentences: words


def test_a_state_rebuilds_identical_ids_for_evaluation_and_prediction(tmp_path, cmu_file):
    cfg = config(train=str(cmu_file), test_fraction=0.2, val_fraction=0.1, lowercase=True)
    dm = ready(cfg)
    state = dm.describe().to_dict()["state"]
    evaluated = PairsDataModule(cfg, purpose="evaluate", state=state)
    evaluated.setup("test")
    for split in ("train", "val", "test"):
        before, after = dm.splits[split], evaluated.splits[split]
        assert [x.tolist() for x in before.sources] == [x.tolist() for x in after.sources]
        assert before.references == after.references
    assert evaluated.describe().state == state
    word = words(200)[3]
    predicted = SOURCE.datamodule(cfg, seed=0, family="seq2seq", purpose="predict",
                                  state=state, predict=PredictInputs(texts=[word.upper()]))
    predicted.setup("predict")
    (batch,) = predicted.predict_data().loader
    assert texts(predicted, batch["source"][0].tolist(), "source") == " ".join(word)


def test_prediction_groups_a_file_by_source_and_notes_unknown_and_long_sources(tmp_path,
                                                                              cmu_file):
    cfg = config(train=str(cmu_file), val_fraction=0.0, max_source_length=6)
    state = ready(cfg).describe().state
    data = tmp_path / "new.dict"
    data.write_text("ab A1 B1\nab(2) B1 A1\nxyzabcdefg X1\n", encoding="utf-8")
    dm = PairsDataModule(cfg, purpose="predict", state=state, predict=PredictInputs(data=str(data)))
    dm.setup("predict")
    pd = dm.predict_data()
    assert pd.keys == {"index": [0, 1], "source": ["ab", "xyzabcdefg"]}
    assert pd.labels == {"target": ["A1 B1 | B1 A1", "X1"]}
    (batch,) = pd.loader
    assert batch["references"][1] == [(UNSEEN_TOKEN,)]
    assert batch["source"].shape == (2, 10) and batch["source"][1, :3].eq(1).all()  # x y z
    assert any("3 of 12 source tokens are not in the source vocabulary" in n for n in pd.notes)
    assert any("1 of 2 sources longer than 6 tokens" in n for n in pd.notes)
    texts_dm = PairsDataModule(cfg, purpose="predict", state=state,
                               predict=PredictInputs(texts=["ab", "ab"]))
    texts_dm.setup("predict")
    pd = texts_dm.predict_data()
    assert pd.keys == {"index": [0, 1], "source": ["ab", "ab"]} and not pd.labels
    assert set(next(iter(pd.loader))) == {"source", "source_lengths", "index"}


def test_automatic_choices_batch_size_val_fraction_and_tokenizers(table_file):
    dm = ready(config(train=str(table_file)))
    train = len(dm.splits["train"])
    # 10% of 200 sources is under 50 and there is no test split: 25% held out
    assert dm.resolved() == {"batch_size": train // 4, "val_fraction": 0.25,
                             "source_tokenizer": "char", "target_tokenizer": "word"}
    assert len(dm.splits["val"]) + train == 200 and 130 < train < 170


def test_the_source_trains_seq2seq_only_and_config_errors(tmp_path, table_file):
    cfg = config(train=str(table_file))
    with pytest.raises(ValueError, match=r"trains the seq2seq family .* not classify"):
        SOURCE.datamodule(cfg, seed=0, family="classify")
    assert defaults("seq2seq")["model"]["attention"] == "general" and defaults("tag") == {}
    with pytest.raises(ConfigError, match=r"data.test_target holds the target lines of "
                       r"data.test, which is not given"):
        config(train=str(table_file), test_target="x")
    with pytest.raises(ConfigError, match=r"data.format=lines: data.train needs its target"):
        config(train=str(table_file), format="lines")
    with pytest.raises(ConfigError, match=r"data.val_target: no such file"):
        config(train=str(table_file), val=str(table_file), val_target="nope").check_files()


def test_aligned_line_files_for_every_split_and_evaluation_on_a_test_file(tmp_path):
    def lines(name, rows):
        path = tmp_path / name
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        return str(path)

    vocabulary = words(80)
    files = {}
    for split, part in (("train", vocabulary[:60]), ("val", vocabulary[60:70]),
                        ("test", vocabulary[70:])):
        files[split] = lines(f"{split}.src", [" ".join(part[k:k + 3]) for k in range(len(part))])
        files[f"{split}_target"] = lines(f"{split}.tgt", [" ".join(reversed(part[k:k + 3]))
                                                          for k in range(len(part))])
    cfg = config(**files)
    dm = ready(cfg)
    assert {k: len(v) for k, v in dm.splits.items()} == {"train": 60, "val": 10, "test": 10}
    assert dm.resolved()["source_tokenizer"] == "word" and dm.resolved()["val_fraction"] == 0.0
    state = dm.describe().state
    assert {"train_sha256", "train_target_sha256", "val_sha256", "val_target_sha256",
            "test_sha256", "test_target_sha256"} <= set(state)
    evaluated = PairsDataModule(cfg, purpose="evaluate", state=state)
    evaluated.setup("test")
    assert set(evaluated.splits) == {"test"}  # the test file alone is read
    name, loader, count = evaluated.report_split()
    assert (name, count) == ("test", 10)
    assert [b["references"] for b in loader] == [b["references"] for b in dm.loader("test")]
    changed = tmp_path / "test.tgt"
    changed.write_text(changed.read_text(encoding="utf-8").replace("a", "b", 1), encoding="utf-8")
    again = PairsDataModule(cfg, purpose="train", state=state)
    again.setup("fit")
    with pytest.raises(ValueError, match=r"test.tgt changed since the run started"):
        again.check_resume(state)


def test_subwords_on_both_sides_with_a_shared_vocabulary_share_one_bpe(tmp_path):
    path = tmp_path / "t.csv"
    rows = [f"{w} {v},{v} {w}" for w, v in zip(words(100), words(100, seed=1), strict=True)]
    path.write_text("src,tgt\n" + "\n".join(rows) + "\n", encoding="utf-8")
    dm = ready(config(train=str(path), source_tokenizer="subword", target_tokenizer="subword",
                      shared_vocabulary=True, target_vocab_size=60, val_fraction=0.0))
    state = dm.describe().state
    assert state["source_tokenizer"] == state["target_tokenizer"]
    assert state["source_tokenizer"]["kind"] == "subword"
    assert 4 < len(state["target_vocabulary"]) <= 64
    restored = PairsDataModule(config(train=str(path)), purpose="train", state=state)
    restored.setup("fit")
    assert [x.tolist() for x in restored.splits["train"].sources] == \
        [x.tolist() for x in dm.splits["train"].sources]


@pytest.mark.parametrize("tokenizer", ["auto", "word"])
def test_a_dict_files_pronunciations_are_the_symbols_between_spaces(tmp_path, tokenizer):
    path = tmp_path / "p.dict"
    path.write_text("ab A-1 B.2\nba B.2 A-1\n", encoding="utf-8")
    dm = ready(config(train=str(path), target_tokenizer=tokenizer, val_fraction=0.0))
    assert dm.describe().target_vocabulary == ("<pad>", "<unk>", "<s>", "</s>", "A-1", "B.2")
    assert dm.describe().vocabulary == ("<pad>", "<unk>", "a", "b")  # the words' characters
