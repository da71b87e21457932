"""The tagged data module: the MD5 split, vocabularies from training only, unseen tags, long
sentences, the batch dict and its features, prediction inputs, evaluation from a state, and
bad input."""

import random

import pytest
import torch

from rnnkit.config.section import ConfigError, build_section
from rnnkit.data.source import PredictInputs
from rnnkit.data.tagged import write_conll, write_slash
from rnnkit.data.tagged.batches import collate_tagged
from rnnkit.data.tagged.config import TaggedConfig
from rnnkit.data.tagged.datamodule import TaggedDataModule
from rnnkit.data.tagged.source import SOURCE
from rnnkit.data.text.datamodule import hash_fraction

NAMES = ["Peter", "Anna", "Li", "Maria"]
PLACES = ["Paris", "Berlin", "Beijing"]
WORDS = ["the", "man", "went", "to", "and", "saw", "a", "dog", "in"]
WORDS_CN = ["迈向", "充满", "希望", "的", "新", "世纪", "讲话", "中共中央"]


def ner_sentences(n: int, seed: int = 0) -> tuple[list[list[str]], list[list[str]]]:
    """Word sentences with BIO tags: names are B-PER, places B-LOC, the rest O."""
    rng = random.Random(seed)
    tokens, tags = [], []
    for _ in range(n):
        sentence, labels = [], []
        for _ in range(rng.randint(2, 7)):
            kind = rng.random()
            word, tag = (rng.choice(NAMES), "B-PER") if kind < 0.2 else \
                (rng.choice(PLACES), "B-LOC") if kind < 0.35 else (rng.choice(WORDS), "O")
            sentence.append(word)
            labels.append(tag)
        tokens.append(sentence)
        tags.append(labels)
    return tokens, tags


def segmented(n: int, seed: int = 0) -> tuple[list[list[str]], list[list[str]]]:
    """Chinese characters with BMES tags, from random words."""
    rng = random.Random(seed)
    tokens, tags = [], []
    for _ in range(n):
        chars, labels = [], []
        for word in rng.choices(WORDS_CN, k=rng.randint(1, 5)):
            chars += list(word)
            labels += ["s"] if len(word) == 1 else ["b", *"m" * (len(word) - 2), "e"]
        tokens.append(chars)
        tags.append(labels)
    return tokens, tags


def config(**data):
    return build_section(TaggedConfig, data, "data.")


def ready(cfg, **options):
    dm = TaggedDataModule(cfg, **options)
    dm.setup("fit")
    return dm


@pytest.fixture
def ner_file(tmp_path):
    path = tmp_path / "train.conll"
    write_conll(path, *ner_sentences(300))
    return path


def test_the_md5_split_is_stable_and_keeps_identical_sentences_together(tmp_path):
    tokens, tags = ner_sentences(80)
    path = tmp_path / "dup.conll"
    write_conll(path, tokens * 3, tags * 3)  # every sentence three times
    cfg = config(train=str(path), val_fraction=0.2, test_fraction=0.25)
    dm = ready(cfg)
    u = [hash_fraction(" ".join(t)) for t in tokens * 3]
    expected = {"test": sum(x < 0.25 for x in u), "train": sum(x >= 0.25 + 0.2 * 0.75 for x in u)}
    sizes = {split: len(dm.splits[split]) for split in ("train", "val", "test")}
    assert sizes["test"] == expected["test"] and sizes["train"] == expected["train"]
    assert all(size % 3 == 0 for size in sizes.values())  # a sentence's copies stay together
    again = ready(cfg, seed=5)
    for split in sizes:
        assert [x["tokens"].tolist() for x in again.splits[split].items] == \
            [x["tokens"].tolist() for x in dm.splits[split].items]
    assert f"split by the MD5 of each sentence: {sizes['train']} training, {sizes['val']} " \
        f"validation, {sizes['test']} test sentences of 240" in dm.notes


def test_vocabularies_come_from_the_training_part_only(tmp_path):
    tokens, tags = ner_sentences(200, seed=1)
    tokens = [s + [f"only{i}"] for i, s in enumerate(tokens)]  # a token of its own each
    tags = [t + ["O"] for t in tags]
    path = tmp_path / "t.conll"
    write_conll(path, tokens, tags)
    dm = ready(config(train=str(path), val_fraction=0.3))
    train = {t for s in tokens if hash_fraction(" ".join(s)) >= 0.3 for t in s}
    assert set(dm.vocabulary.tokens[2:]) == train
    val = dm.splits["val"]
    assert len(val) == 200 - len(dm.splits["train"]) and len(val) > 0
    assert all(x["tokens"][-1] == 1 for x in val.items)  # its own token: <unk>


def test_a_tag_unseen_in_training_is_minus_one_and_counted(tmp_path, ner_file):
    test = tmp_path / "test.conll"
    write_conll(test, [["Peter", "met", "EU", "people"], ["EU", "EU"]],
                [["B-PER", "O", "B-MISC", "B-X"], ["B-MISC", "O"]])
    dm = ready(config(train=str(ner_file), test=str(test)))
    assert "test: tags the training data never had (B-MISC, B-X) on 3 tokens: scored as " \
        "errors" in dm.notes
    assert dm.tags == ["O", "B-LOC", "B-PER"]
    split, loader, n = dm.report_split()
    tags = torch.cat([b["tags"].flatten() for b in loader])
    assert split == "test" and n == 2 and (tags == -1).sum() == 3 and (tags == -100).sum() == 2


def test_long_sentences_are_cut_keeping_every_tag(tmp_path):
    path = tmp_path / "long.txt"
    write_slash(path, [list("迈向充满希望的新世纪"), list("讲话")],
                [list("bebesbebee"), list("be")])
    dm = ready(config(train=str(path), max_length=4, val_fraction=0.0))
    assert "train: 1 sentence longer than 4 tokens (data.max_length) cut into 3 pieces, " \
        "every token keeping its tag" in dm.notes
    items = dm.splits["train"].items
    assert sorted(len(x["tokens"]) for x in items) == [2, 3, 3, 4]
    assert sum(len(x["tags"]) for x in items) == 12 and dm.describe().max_length == 4


def test_batches_are_padded_dicts(ner_file):
    dm = ready(config(train=str(ner_file), val_fraction=0.0, batch_size=8, bucket=False))
    batch = next(iter(dm.train_dataloader()))
    assert list(batch) == ["tokens", "lengths", "tags", "chars"]
    n, length = batch["tokens"].shape
    assert n == 8 and batch["tags"].shape == (n, length) and batch["lengths"].shape == (n,)
    pad = torch.arange(length)[None, :] >= batch["lengths"][:, None]  # (N, L)
    assert pad.any() and (batch["tags"][pad] == -100).all() and (batch["tokens"][pad] == 0).all()
    assert (batch["tags"][~pad] >= 0).all() and (batch["tokens"][~pad] > 0).all()
    assert batch["chars"].shape[:2] == (n, length) and (batch["chars"][pad] == 0).all()
    assert all(v.dtype == torch.int64 for v in batch.values())


def test_char_and_bigram_features_hold_the_characters_and_pairs(tmp_path):
    path = tmp_path / "f.conll"
    write_conll(path, [["Ab", "c"], ["Ab", "c"], ["c"]], [["B", "I"], ["B", "I"], ["O"]])
    dm = ready(config(train=str(path), val_fraction=0.0, char_features=True,
                      bigram_features=True, lowercase=True))
    assert dm.resolved()["char_features"] and dm.resolved()["bigram_features"]
    batch = collate_tagged(dm.splits["train"].items)  # the sentences in file order
    chars, pairs = dm.chars.tokens, dm.bigrams.tokens
    assert [[chars[i] for i in word] for word in batch["chars"][0].tolist()] == \
        [["A", "b"], ["c", "<pad>"]]  # the case kept
    assert [pairs[i] for i in batch["bigrams"][0].tolist()] == ["abc", "c</s>"]  # twice seen
    assert [pairs[i] for i in batch["bigrams"][2].tolist()] == ["c</s>", "<pad>"]
    info = dm.describe()
    assert info.features == {"chars": tuple(chars), "bigrams": tuple(pairs)}


def test_auto_features_follow_the_token_length(tmp_path, ner_file):
    path = tmp_path / "seg.txt"
    write_slash(path, *segmented(100))
    chars = ready(config(train=str(path)))
    assert chars.resolved()["bigram_features"] and not chars.resolved()["char_features"]
    assert chars.notes[-2].startswith("features: the bigram of each token and the next (")
    assert chars.notes[-2].endswith(", as the tokens are characters (1.00 characters on "
                                    "average; data.char_features and data.bigram_features "
                                    "auto)")
    assert "tags: b, m, e, s (BMES word segmentation: begin, middle, end, single)" in chars.notes
    words = ready(config(train=str(ner_file)))
    assert words.resolved()["char_features"] and not words.resolved()["bigram_features"]
    assert list(words.describe().features) == ["chars"]


def test_describe_and_its_state(ner_file):
    dm = ready(config(train=str(ner_file)))
    info = dm.describe()
    assert info.source == "tagged" and info.step_labels and info.targets == "tags"
    assert info.class_names == ("O", "B-LOC", "B-PER") and info.vocabulary[:2] == \
        ("<pad>", "<unk>")
    assert info.num_train == len(dm.splits["train"]) and info.max_length == 7
    state = info.state
    assert state["format"] == "conll" and state["tag_scheme"] == "BIO"
    assert state["char_features"] and not state["bigram_features"]
    assert len(state["train_sha256"]) == 64 and state["val_fraction"] == 50 / 300  # auto
    assert type(info).from_dict(info.to_dict()) == info


def test_predict_raw_text_as_characters_or_words(tmp_path, ner_file):
    seg = tmp_path / "seg.txt"
    write_slash(seg, *segmented(60))
    state = ready(config(train=str(seg))).describe().state
    dm = SOURCE.datamodule(config(train=str(seg)), seed=0, family="tag", purpose="predict",
                           state=state, predict=PredictInputs(texts=["迈向 新世纪", "好"]))
    dm.setup("predict")
    data = dm.predict_data()
    assert data.keys == {"tokens": [["迈", "向", "新", "世", "纪"], ["好"]]}
    assert dm.predict_format == "text" and data.labels == {}
    assert "1 of 6 tokens are not in the vocabulary (read as <unk>); 1 sentence held only " \
        "unknown tokens" in data.notes
    batch = next(iter(data.loader))
    assert "tags" not in batch and batch["lengths"].tolist() == [5, 1] and "bigrams" in batch

    words = ready(config(train=str(ner_file))).describe().state
    dm = TaggedDataModule(config(train=str(ner_file)), purpose="predict", state=words,
                          predict=PredictInputs(texts=["Peter went to  Paris"]))
    dm.setup("predict")
    assert dm.predict_data().keys == {"tokens": [["Peter", "went", "to", "Paris"]]}


def test_predict_a_file_in_either_format_keeps_its_tags(tmp_path):
    seg = tmp_path / "seg.txt"
    write_slash(seg, *segmented(60))
    state = ready(config(train=str(seg))).describe().state
    plain = tmp_path / "plain.txt"
    plain.write_text("迈向新世纪\n\n讲话 的\n", encoding="utf-8")
    tagged = tmp_path / "gold.conll"
    write_conll(tagged, [["迈", "向"]], [["b", "e"]])
    for path, fmt, tokens, labels in ((plain, "slash", [list("迈向新世纪"), list("讲话的")], {}),
                                      (tagged, "conll", [["迈", "向"]], {"tags": [["b", "e"]]})):
        dm = TaggedDataModule(config(train=str(seg)), purpose="predict", state=state,
                              predict=PredictInputs(data=str(path)))
        dm.setup("predict")
        data = dm.predict_data()
        assert dm.predict_format == fmt and data.labels == labels
        assert data.keys == {"index": list(range(len(tokens))), "tokens": tokens}


def test_evaluate_rebuilds_the_validation_split_from_the_state(ner_file):
    cfg = config(train=str(ner_file))
    trained = ready(cfg)
    state = trained.describe().state
    saved = config(**{**cfg.to_dict(), **trained.resolved()})  # what the run's config holds
    dm = SOURCE.datamodule(saved, seed=0, family="tag", purpose="evaluate", state=state)
    dm.setup("test")
    split, loader, n = dm.report_split()
    assert split == "val" and n == len(trained.splits["val"])
    assert [x["tokens"].tolist() for x in dm.splits["val"].items] == \
        [x["tokens"].tolist() for x in trained.splits["val"].items]
    assert dm.vocabulary.tokens == trained.vocabulary.tokens
    ner_file.write_text(ner_file.read_text() + "extra\tO\n\n")
    with pytest.raises(ValueError, match="is not the training data the run was trained on"):
        SOURCE.datamodule(saved, seed=0, family="tag", purpose="evaluate",
                          state=state).setup("test")


def test_no_test_and_no_validation_has_nothing_to_report(ner_file):
    dm = ready(config(train=str(ner_file), val_fraction=0.0))
    assert not dm.has_validation()
    with pytest.raises(ValueError, match="nothing to report a figure on"):
        dm.report_split()


@pytest.mark.parametrize("make, data, message", [
    (lambda d: write_conll(d / "u.conll", [["a", "b"]]), {},
     r"u.conll: no tags; training needs a tag on every token"),
    (lambda d: (d / "e.conll").write_text("\n"), {}, r"e.conll: no sentences"),
    (lambda d: (d / "w.conll").write_text("a O\nb O x\n"), {},
     r"w.conll:2: expected 2 columns \(as on line 1\), found 3"),
])
def test_bad_files_are_one_line_errors(tmp_path, make, data, message):
    make(tmp_path)
    name = next(p for p in tmp_path.iterdir() if p.suffix == ".conll")
    with pytest.raises(ValueError, match=message):
        ready(config(train=str(name), **data))


@pytest.mark.parametrize("data, message", [
    ({"train": "x.conll", "tokenizer": "word"}, r"unknown config key 'data.tokenizer'"),
    ({}, "data.name=tagged needs the training sentences"),
    ({"train": "x.conll", "char_features": "yes"}, "data.char_features must be true, false or "
                                                   "auto; got 'yes'"),
    ({"train": "x.conll", "format": "csv"}, "data.format must be one of auto, conll, slash"),
    ({"train": "x.conll", "tag_col": 0}, "data.token_col and data.tag_col are both 0"),
])
def test_bad_config_is_refused(data, message):
    with pytest.raises(ConfigError, match=message):
        config(**data)


def test_a_family_other_than_tag_is_refused(ner_file):
    with pytest.raises(ValueError, match="it trains the tag family"):
        SOURCE.datamodule(config(train=str(ner_file)), seed=0, family="classify")
