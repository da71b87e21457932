"""The corpus data module: splits, batches, the cache, evaluation from a state, bad input."""

import numpy as np
import pytest

from rnnkit.config.section import ConfigError, build_section
from rnnkit.data.corpus.config import CorpusConfig
from rnnkit.data.corpus.datamodule import CorpusDataModule
from rnnkit.data.text.readers import TextFileError
from rnnkit.data.text.vocab import UNK_ID

WORDS = "the cat sat on a mat and then it ran to the old red barn 猫 在 垫子 上".split()


def sample_text(chars: int = 3000, seed: int = 0) -> str:
    """Lines of random words, about ``chars`` characters."""
    rng = np.random.default_rng(seed)
    lines, total = [], 0
    while total < chars:
        line = " ".join(rng.choice(WORDS, size=int(rng.integers(3, 9)))) + "."
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def read(config, **options):
    dm = CorpusDataModule(config, seed=0, **options)
    dm.setup("fit")
    return dm


def decoded(dm, split):
    return dm.tokenizer.decode([dm.vocabulary.tokens[i] for i in dm.split_tokens(split)])


def cache_files(cache):
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in cache.glob("*.bin")}


@pytest.mark.parametrize("fraction", [0.1, 0.25])
def test_the_split_is_nanogpts_and_decodes_back(corpus_config, fraction):
    text = sample_text()
    n = len(text)
    dm = read(corpus_config(text, bptt=16, val_fraction=fraction))
    assert decoded(dm, "train") == text[: int(n * (1 - fraction))]
    assert decoded(dm, "val") == text[int(n * (1 - fraction)):]
    assert dm.notes[0].startswith(f"split at character {int(n * (1 - fraction)):,} of {n:,}:")
    assert dm.notes[1] == (f"vocabulary: {len(dm.vocabulary) - 2} char tokens in the "
                           f"{int(n * (1 - fraction)):,} training tokens "
                           f"({len(dm.vocabulary)} with <pad> and <unk>)")
    assert dm.resolved()["val_fraction"] == fraction and dm.has_validation()


def test_batches_are_windows_of_the_stream(corpus_config):
    dm = read(corpus_config(sample_text(), bptt=16, random_offset=False))
    train = dm.split_tokens("train")
    n = dm.resolved()["batch_size"]
    assert n == len(train) // (16 * 20) and dm.notes[-1] == \
        f"batch size {n}: {n} parallel streams of {len(train) // n:,} tokens each"
    loader = dm.train_dataloader()
    x, y = next(iter(loader))
    assert x.shape == y.shape == (n, 16) and len(loader) == (len(train) // n - 1) // 16
    s = len(train) // n
    np.testing.assert_array_equal(x[1].numpy(), train[s : s + 16])
    np.testing.assert_array_equal(y[1].numpy(), train[s + 1 : s + 17])
    info = dm.describe()
    assert info.stream and info.targets == "next_tokens" and info.source == "corpus"
    assert info.max_length == 16 and info.num_train == len(train)
    assert info.vocabulary == tuple(dm.vocabulary.tokens) and info.vocabulary[:2] == \
        ("<pad>", "<unk>")
    assert info.state["tokenizer"]["keep_whitespace"] is True


def test_the_cache_is_reused_and_a_changed_text_gets_new_files(corpus_config, corpus_cache):
    text = sample_text()
    config = corpus_config(text, bptt=16)
    first = read(config)
    written = cache_files(corpus_cache)
    assert len(written) == 2  # train and validation
    again = read(config)
    assert cache_files(corpus_cache) == written  # not rewritten
    np.testing.assert_array_equal(again.split_tokens("val"), first.split_tokens("val"))
    changed = corpus_config(text.replace("cat", "dog"), bptt=16)
    read(changed)
    assert len(cache_files(corpus_cache)) == 4 and written.items() <= \
        cache_files(corpus_cache).items()


def test_a_stream_of_ids_is_uint16_in_the_cache(corpus_config, corpus_cache):
    dm = read(corpus_config(sample_text(), bptt=16))
    assert dm.split_tokens("train").dtype == np.uint16
    assert {p.suffix for p in corpus_cache.iterdir()} == {".bin", ".json"}  # nothing half-written


def test_word_and_subword_streams(corpus_config, mixed_text):
    text = mixed_text + sample_text()  # every byte in the training part: no <unk>
    dm = read(corpus_config(text, bptt=8, tokenizer="subword", subword_vocab=300))
    assert decoded(dm, "train") + decoded(dm, "val") == text  # byte-level: exact
    assert len(dm.split_tokens("train")) < len(text) * 0.9
    dm = read(corpus_config(text, bptt=8, tokenizer="word", val_fraction=0.0))
    assert "\n" in dm.vocabulary.index and "cat" in dm.vocabulary.index
    words = decoded(dm, "train")
    assert words == dm.tokenizer.decode(dm.tokenizer(text)) and words.count("\n") == \
        text.count("\n")


def test_unknown_characters_in_the_validation_file(corpus_config, tmp_path):
    val = tmp_path / "val.txt"
    val.write_text("the cat ★ sat on the ☆ mat ✓", encoding="utf-8")
    dm = read(corpus_config(sample_text(), bptt=16, val=str(val)))
    tokens = dm.split_tokens("val")
    assert int((tokens == UNK_ID).sum()) == 3
    assert dm.notes[-1] == f"validation: 3 of {len(tokens)} tokens are not in the vocabulary " \
        "(read as <unk>)"
    assert dm.resolved()["val_fraction"] == 0.0
    assert decoded(dm, "val") == "the cat \ufffd sat on the \ufffd mat \ufffd"


def test_evaluate_rebuilds_the_validation_part_from_the_state(corpus_config, corpus_cache,
                                                               tmp_path):
    text = sample_text()
    config = corpus_config(text, bptt=16)
    trained = read(config)
    state = trained.describe().state
    for p in corpus_cache.iterdir():
        p.unlink()  # rebuilt, not found
    dm = CorpusDataModule(config, purpose="evaluate", state=state)
    dm.setup("test")
    np.testing.assert_array_equal(dm.split_tokens("val"), trained.split_tokens("val"))
    assert dm.vocabulary.tokens == trained.vocabulary.tokens
    split, loader, targets = dm.report_split()
    assert split == "val" and targets == sum(y.numel() for _, y in loader) > 0
    (tmp_path / "train.txt").write_text(text + "more\n", encoding="utf-8")  # changed
    dm = CorpusDataModule(config, purpose="evaluate", state=state)
    with pytest.raises(ValueError, match="validation part cannot be rebuilt; restore it or "
                       "pass --test FILE"):
        dm.setup("test")


def test_a_test_file_is_what_is_reported(corpus_config, tmp_path):
    test = tmp_path / "test.txt"
    test.write_text("the red cat sat\n", encoding="utf-8")
    dm = read(corpus_config(sample_text(), bptt=16, val_fraction=0.0, test=str(test)))
    assert not dm.has_validation() and dm.val_dataloader() == []
    assert dm.notes[0] == "no validation: data.val_fraction is 0 and there is no data.val"
    split, loader, targets = dm.report_split()  # 16 tokens: one stream, one window of 15
    assert split == "test" and targets == 15 and len(loader) == 1
    evaluated = CorpusDataModule(dm.config, purpose="evaluate", state=dm.data_state())
    evaluated.setup("test")
    assert evaluated.report_split()[2] == 15


def test_no_validation_and_no_test_is_nothing_to_report(corpus_config):
    dm = read(corpus_config(sample_text(), bptt=16, val_fraction=0.0))
    with pytest.raises(ValueError, match="nothing to report a figure on"):
        dm.report_split()


def test_texts_that_cannot_be_read(corpus_config, tmp_path):
    with pytest.raises(TextFileError, match="train.txt: the text is empty"):
        read(corpus_config(""))
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"abc\n\xff\n")
    with pytest.raises(TextFileError, match=r"bad.txt: expected UTF-8 text, found the byte "
                       r"0xff at byte offset 4 \(line 2\)"):
        read(corpus_config(train=str(bad), val_fraction=0.0))
    with pytest.raises(ValueError, match=r"train.txt: the training part holds 57 tokens; one "
                       r"training window needs data.bptt \+ 1 = 129 \(use a longer text or a "
                       r"smaller --set data.bptt=...\)"):
        read(corpus_config("x" * 57, val_fraction=0.0))
    with pytest.raises(ValueError, match=r"data.batch_size=9 .* so at most 8 "):
        read(corpus_config("x" * 100, val_fraction=0.0, bptt=11, batch_size=9))
    short = tmp_path / "short.txt"
    short.write_text("x", encoding="utf-8")
    with pytest.raises(ValueError, match="short.txt: the validation part holds 1 token; it "
                       "needs at least 2"):
        read(corpus_config(sample_text(), bptt=16, val=str(short)))


def test_config_checks():
    with pytest.raises(ConfigError, match="unknown config key 'data.bogus'; valid keys"):
        build_section(CorpusConfig, {"train": "a.txt", "bogus": 1}, "data.")
    with pytest.raises(ConfigError, match=r"needs a text file: data.train \(rnnkit train "
                       r"--text FILE\)"):
        CorpusConfig()
    with pytest.raises(ConfigError, match="data.val is the validation file"):
        CorpusConfig(train="a.txt", val="b.txt", val_fraction=0.3)
    assert CorpusConfig(train="a.txt", val="b.txt").val_fraction == 0.1  # the default: unused
    with pytest.raises(ConfigError, match="data.bptt must be >= 2"):
        build_section(CorpusConfig, {"train": "a.txt", "bptt": 1}, "data.")
    with pytest.raises(ConfigError, match="data.train: no such file: a.txt"):
        CorpusConfig(train="a.txt").check_files()


def test_resume_checks_the_files_and_predict_is_refused(corpus_config):
    dm = read(corpus_config(sample_text(), bptt=16))
    dm.check_resume(dm.data_state())
    with pytest.raises(ValueError, match="train.txt changed since the run started"):
        dm.check_resume({**dm.data_state(), "train_sha256": "0" * 64})
    predict = CorpusDataModule(dm.config, purpose="predict", state=dm.data_state())
    predict.setup("predict")
    with pytest.raises(ValueError, match="use rnnkit generate RUN --prompt TEXT"):
        predict.predict_data()


def test_the_source_is_registered_and_never_detected(corpus_config, tmp_path):
    from rnnkit.data.registry import detect_source, get_source, source_config

    config = corpus_config(sample_text(), bptt=16)
    assert source_config("corpus").CONFIG is CorpusConfig
    assert detect_source(config.train) != "corpus"  # chosen by --text FILE, not by detection
    dm = get_source("corpus").datamodule(config, seed=0, family="lm")
    dm.setup("fit")
    state = dm.data_state()
    (tmp_path / "train.txt").unlink()
    with pytest.raises(ConfigError, match="pass a test file with --test FILE"):
        get_source("corpus").datamodule(config, seed=0, family="lm", purpose="evaluate",
                                        state=state)


def test_a_long_pass_is_cut_into_equal_epochs(corpus_config):
    text = sample_text(6000)
    whole = read(corpus_config(text, bptt=8, batch_size=4))
    dm = read(corpus_config(text, bptt=8, batch_size=4, epoch_batches=40))
    pass_length = len(whole.train_dataloader())
    chunks = -(-pass_length // 40)
    assert pass_length > 80 and whole.resolved()["epoch_batches"] == pass_length
    assert dm.resolved()["epoch_batches"] == 40
    length = pass_length // chunks
    left = pass_length - chunks * length
    dropped = f" (its last {'batch' if left == 1 else f'{left} batches'} dropped)" if left else ""
    assert dm.notes[-1] == (f"an epoch is {length:,} of the {pass_length:,} batches of a pass "
                            f"over the text (data.epoch_batches); {chunks} epochs make one "
                            f"pass{dropped}")
    unchunked, chunked = whole.train_dataloader(), dm.train_dataloader()
    for p in range(2):
        unchunked.sampler.set_epoch(p)
        expected = [x.numpy() for x, _ in unchunked][: chunks * length]
        found = []
        for epoch in range(p * chunks, (p + 1) * chunks):
            chunked.sampler.set_epoch(epoch)
            assert len(chunked) == length
            found += [x.numpy() for x, _ in chunked]
        assert len(found) == len(expected)
        for a, b in zip(found, expected, strict=True):
            np.testing.assert_array_equal(a, b)
    assert len(dm.val_dataloader()) == len(whole.val_dataloader())  # the whole validation part
    assert "epoch_batches" not in dm.data_state()


def test_auto_epochs_are_a_whole_pass_up_to_2000_batches(corpus_config):
    small = read(corpus_config(sample_text(), bptt=16))
    assert small.resolved()["epoch_batches"] == len(small.train_dataloader())
    assert not any(note.startswith("an epoch is") for note in small.notes)
    big = read(corpus_config(sample_text(5000), bptt=2, batch_size=1, val_fraction=0.0))
    pass_length = big.split_tokens("train").size // 2 - 1
    assert pass_length > 2000 and big.resolved()["epoch_batches"] == 1000
    chunks = -(-pass_length // 1000)
    assert len(big.train_dataloader()) == pass_length // chunks
    assert big.notes[-1].startswith(f"an epoch is {pass_length // chunks:,} of the "
                                    f"{pass_length:,} batches")
