"""Reading and writing tagged sentences: CoNLL columns, word/TAG lines, their detection, and
what the readers refuse."""

from pathlib import Path

import pytest

from rnnkit.data.registry import detect_source
from rnnkit.data.tagged import (
    detect_format,
    read_conll,
    read_slash,
    read_tagged,
    tag_scheme,
    write_conll,
    write_slash,
)
from rnnkit.data.tagged.config import claims

PKU = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "chinese" / \
    "pku98_seg.txt"
TOKENS = [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"], ["."]]
TAGS = [["B-ORG", "O", "B-MISC", "O"], ["B-PER", "I-PER"], ["O"]]


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.mark.parametrize("writer, reader, name", [(write_conll, read_conll, "s.conll"),
                                                  (write_slash, read_slash, "s.txt")])
def test_both_formats_round_trip(tmp_path, writer, reader, name):
    path = tmp_path / name
    writer(path, TOKENS, TAGS)
    read = reader(path)
    assert read.tokens == TOKENS and read.tags == TAGS
    lines = (1, 6, 9) if reader is read_conll else (1, 2, 3)
    assert read.where == [f"{path}:{n}" for n in lines]
    writer(tmp_path / "again", read.tokens, read.tags)
    assert (tmp_path / "again").read_bytes() == path.read_bytes()


def test_a_canonical_file_is_written_back_byte_for_byte(tmp_path):
    conll = write(tmp_path / "c.bio", "迈\tb\n向\te\n\n好\ts\n\n")
    slash = write(tmp_path / "s.txt", "迈/b 向/e\n好/s a/b/c\n")
    for path, reader, writer in ((conll, read_conll, write_conll),
                                 (slash, read_slash, write_slash)):
        read = reader(path)
        writer(tmp_path / "out", read.tokens, read.tags)
        assert (tmp_path / "out").read_bytes() == path.read_bytes()
    assert read_slash(slash).tokens[1] == ["好", "a/b"]  # split at the last /


def test_untagged_sentences_round_trip_and_writers_refuse_what_would_not(tmp_path):
    write_conll(tmp_path / "u.conll", TOKENS)
    write_slash(tmp_path / "u.txt", TOKENS)
    for read in (read_conll(tmp_path / "u.conll"), read_slash(tmp_path / "u.txt")):
        assert read.tokens == TOKENS and read.tags is None
    with pytest.raises(ValueError, match="holds whitespace"):
        write_conll(tmp_path / "x", [["New York"]], [["B-LOC"]])
    with pytest.raises(ValueError, match="holds '/'"):
        write_slash(tmp_path / "x", [["a"]], [["B/I"]])
    with pytest.raises(ValueError, match="2 tokens but 1 tags"):
        write_conll(tmp_path / "x", [["a", "b"]], [["O"]])


def test_docstart_and_comments_are_skipped(tmp_path):
    f = write(tmp_path / "d.conll", "-DOCSTART- -X- O O\n\n# a comment\nEU NNP B-NP B-ORG\n"
              "rejects VBZ B-VP O\n\n-DOCSTART- -X- O O\n\n# NN I-NP O\n\n")
    read = read_conll(f)  # "# NN I-NP O" is as wide as the token lines: the token "#"
    assert read.tokens == [["EU", "rejects"], ["#"]] and read.tags == [["B-ORG", "O"], ["O"]]
    assert read.where == [f"{f}:4", f"{f}:9"] and read.columns == 4
    conllu = write(tmp_path / "u.conll", "# sent_id = 1\n# text = EU rejects\nEU\tB-ORG\n"
                   "rejects\tO\n")
    assert read_conll(conllu).tokens == [["EU", "rejects"]]


def test_columns_are_chosen_and_tabs_keep_spaces_in_tokens(tmp_path):
    f = write(tmp_path / "c.conll", "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n")
    assert read_conll(f, tag_col=1).tags == [["NNP", "VBZ"]]
    assert read_conll(f, token_col=1, tag_col=2).tokens == [["NNP", "VBZ"]]
    tabs = write(tmp_path / "t.conll", "New York\tB-LOC\ncity\tO\n")
    assert read_conll(tabs).tokens == [["New York", "city"]]
    with pytest.raises(ValueError, match=r"c.conll:1: data.tag_col=4, but the lines have 4 "):
        read_conll(f, tag_col=4)


def test_a_line_of_other_width_names_file_line_and_the_first_line(tmp_path):
    f = write(tmp_path / "w.conll", "# a comment\nEU B-ORG\nrejects O\n\nGerman B-MISC x\n")
    with pytest.raises(ValueError, match=r"w.conll:5: expected 2 columns \(as on line 2\), "
                                         r"found 3"):
        read_conll(f)


def test_one_column_is_untagged_and_empty_files_are_refused(tmp_path):
    read = read_conll(write(tmp_path / "one.conll", "a\nb\n\nc\n"))
    assert read.tokens == [["a", "b"], ["c"]] and read.tags is None
    for name in ("e.conll", "e.txt"):
        with pytest.raises(ValueError, match=rf"{name}: no sentences"):
            read_tagged(write(tmp_path / name, "\n\n"), format="conll" if "conll" in name
                        else "slash")


def test_a_token_without_a_tag_names_file_line_and_token(tmp_path):
    f = write(tmp_path / "s.txt", "迈/b 向/e\n充/b 满 希/b\n")
    with pytest.raises(ValueError, match=r"s.txt:2: the token '满' has no /TAG"):
        read_slash(f)
    with pytest.raises(ValueError, match=r"s.txt:1: the token 'x/' has no /TAG"):
        read_slash(write(tmp_path / "s.txt", "x/ y/O\n"))
    plain = read_slash(write(tmp_path / "p.txt", "the cat sat\n\non the mat\n"))
    assert plain.tags is None and plain.tokens == [["the", "cat", "sat"], ["on", "the", "mat"]]


@pytest.mark.parametrize("name, text, fmt", [
    ("a.txt", "迈/b 向/e 充/b 满/e\n中/b 共/e\n", "slash"),
    ("b.txt", "EU\tB-ORG\nrejects\tO\n\nPeter\tB-PER\n", "conll"),
    ("c.txt", "EU B-ORG\nrejects O\n", "conll"),  # the whole file: one sentence
    ("d.bio", "anything at all\n", "conll"),  # by the suffix
    ("e.txt", "The cat sat on the mat.\nIt was happy there.\n", None),
    ("f.txt", "这本书很好看\n太差了\n", None),  # one column, no sentence breaks: plain lines
])
def test_format_detection(tmp_path, name, text, fmt):
    assert detect_format(write(tmp_path / name, text)) == fmt


def test_an_undetectable_file_says_to_set_the_format(tmp_path):
    f = write(tmp_path / "prose.txt", "The cat sat.\nIt was happy there.\n")
    with pytest.raises(ValueError, match="prose.txt: neither CoNLL columns .* set data.format"):
        read_tagged(f)


def test_claims_tagged_files_and_leaves_texts_to_the_text_source(tmp_path):
    slash = write(tmp_path / "seg.txt", "".join(f"迈/b 向/e 的/s 新/b {i}/e\n" for i in range(60)))
    conll = write(tmp_path / "ner.tsv", "".join(f"w{i}\tB-PER\nx\tO\n\n" for i in range(40)))
    words = write(tmp_path / "pos.txt", "The DT\ncat NN\n\nIt PRP\nsat VBD\n")
    suffix = write(tmp_path / "any.iob2", "EU B-ORG\n")
    reviews = write(tmp_path / "reviews.tsv", "text\tlabel\n" + "".join(
        f"a long review number {i} of this book\t{'pos' if i % 2 else 'neg'}\n"
        for i in range(60)))
    prose = write(tmp_path / "prose.txt", "It was the best of times, it was the worst.\n\n"
                  "It was the age of wisdom.\nAnd/or the age of foolishness.\n")
    lines = write(tmp_path / "pos_class.txt", "这本书很好看\n太差了\n很好\n")
    short = write(tmp_path / "t.tsv", "text\tlabel\nhello there\ta\n")
    assert [claims(str(p)) for p in (slash, conll, words, suffix)] == [True] * 4
    assert [claims(str(p)) for p in (reviews, prose, lines, short, tmp_path)] == [False] * 5
    assert [detect_source(str(p)) for p in (slash, conll, reviews, prose)] == \
        ["tagged", "tagged", "text", "text"]


def test_the_first_lines_of_peoples_daily_read_as_bmes(tmp_path):
    if not PKU.is_file():
        pytest.skip(f"{PKU} is not here (the shared data are beside the repository)")
    with open(PKU, encoding="utf-8") as f:
        head = write(tmp_path / "pku.txt", "".join(next(f) for _ in range(200)))
    assert detect_format(head) == "slash" and claims(str(head))
    read = read_tagged(head)
    assert len(read) == 200 and read.tokens[0][:4] == ["迈", "向", "充", "满"]
    assert {t for tags in read.tags for t in tags} == {"b", "m", "e", "s"}
    assert tag_scheme(t for tags in read.tags for t in tags) == "BMES"
    write_slash(tmp_path / "back.txt", read.tokens, read.tags)
    assert (tmp_path / "back.txt").read_text(encoding="utf-8").split() == \
        head.read_text(encoding="utf-8").split()
