"""Reading pairs: tables, aligned line files and pronouncing dictionaries, the format chosen by
auto, what the pairs source claims, and every bad input's message."""

import pytest
from pairs_helpers import spell, words

from rnnkit.data.pairs.config import claims
from rnnkit.data.pairs.readers import detect_format, read_pairs


def write(path, text, encoding="utf-8"):
    path.write_text(text, encoding=encoding)
    return path


def test_a_table_is_read_by_its_named_columns_in_any_order(tmp_path):
    path = write(tmp_path / "t.csv", 'id,TGT,src\n1,"b, c",a\n2,d,  e  \n\n')
    pairs = read_pairs(path)
    assert pairs.format == "table" and pairs.columns == ("src", "TGT")
    assert pairs.sources == ["a", "e"] and pairs.targets == ["b, c", "d"]
    assert pairs.where == [f"{path}:2", f"{path}:3"]


def test_a_table_without_named_columns_takes_the_first_two_or_the_named_ones(tmp_path):
    path = write(tmp_path / "t.tsv", "word\tpron\tnote\nab\tA B\tx\n")
    assert read_pairs(path).columns == ("word", "pron")
    pairs = read_pairs(path, source_col="note", target_col="word")
    assert (pairs.sources, pairs.targets) == (["x"], ["ab"])


def test_two_aligned_line_files_skip_lines_blank_in_both(tmp_path):
    src = write(tmp_path / "train.en", "a cat\n\nthe dog\n")
    tgt = write(tmp_path / "train.fr", "un chat\n\nle chien\n")
    pairs = read_pairs(src, target_path=tgt)
    assert pairs.format == "lines"
    assert pairs.sources == ["a cat", "the dog"] and pairs.targets == ["un chat", "le chien"]
    assert pairs.where[1] == f"{src}:3"


def test_a_cmudict_file_keeps_alternatives_as_targets_of_their_word_and_drops_comments(
        cmu_file):
    pairs = read_pairs(cmu_file)
    assert pairs.format == "dict"
    first = words(200)[0]  # k = 0: a comment and a second pronunciation
    assert pairs.sources[:2] == [first, first]
    assert pairs.targets[:2] == [spell(first), spell(first[::-1])]
    assert len(pairs) == 200 + 40
    assert not any("#" in t or "name" in t for t in pairs.targets)
    assert not any("(" in s for s in pairs.sources)


def test_auto_picks_the_format_by_suffix_target_file_and_header(tmp_path, cmu_file,
                                                               table_file):
    txt_table = write(tmp_path / "pairs.txt", "input\toutput\nab\tA B\n")
    prose = write(tmp_path / "prose.txt", "just some lines\nof text\n")
    assert detect_format(cmu_file) == "dict"
    assert detect_format(table_file) == "table"
    assert detect_format(txt_table) == "table"
    assert detect_format(prose, prose) == "lines"
    with pytest.raises(ValueError, match=r"prose.txt: cannot tell .* set data.format"):
        detect_format(prose)
    assert detect_format(prose, need_target=False) == "lines"  # sources to predict


def test_the_pairs_source_claims_dict_files_and_tables_naming_both_sides(tmp_path, cmu_file,
                                                                        table_file):
    labelled = write(tmp_path / "reviews.csv", "text,label\ngood,pos\nbad,neg\n")
    only_source = write(tmp_path / "s.tsv", "source\tnote\na\tb\n")
    assert claims(str(cmu_file)) and claims(str(table_file))
    assert not claims(str(labelled)) and not claims(str(only_source))


def test_sources_alone_are_read_for_prediction(tmp_path):
    table = write(tmp_path / "s.csv", "source\nabc\nde\n")
    bare = write(tmp_path / "w.dict", "abc\nde # comment\n")
    lines = write(tmp_path / "w.txt", "abc\n\nde\n")
    for path in (table, bare, lines):
        pairs = read_pairs(path, need_target=False)
        assert (pairs.sources, pairs.targets) == (["abc", "de"], None), path


@pytest.mark.parametrize(("name", "text", "message"), [
    ("short.tsv", "source\ttarget\nab\tA B\ncd\n",
     r"short.tsv:3: expected 2 fields as in the header .* found 1"),
    ("empty_source.csv", "source,target\nab,A B\n ,C D\n",
     r"empty_source.csv:3: an empty source \(column 'source'\)"),
    ("empty_target.csv", "src,tgt\nab,\n", r"empty_target.csv:2: an empty target \(column 'tgt'\)"),
    ("bare.dict", "ab A B\ncd\n", r"bare.dict:2: expected a word and its symbols .* found the "
     r"word 'cd' alone"),
    ("empty.tsv", "", r"empty.tsv: the file is empty"),
    ("blank.dict", "\n  \n", r"blank.dict: the file is empty"),
    ("comments.dict", "# only\n", r"comments.dict: no entries"),
    ("header.csv", "source,target\n", r"header.csv: a header but no pairs"),
])
def test_bad_files_name_file_line_and_what_was_expected(tmp_path, name, text, message):
    path = write(tmp_path / name, text)
    with pytest.raises(ValueError, match=message):
        read_pairs(path)


def test_an_unknown_column_lists_the_columns(tmp_path):
    path = write(tmp_path / "t.csv", "word,pron\nab,A B\n")
    with pytest.raises(ValueError, match=r"t.csv:1: no source column 'spelling' .* the header "
                       r"has 'word', 'pron'"):
        read_pairs(path, source_col="spelling")
    with pytest.raises(ValueError, match=r"no target column 'phones'"):
        read_pairs(path, target_col="phones")


def test_line_files_of_different_lengths_and_one_sided_blank_lines_are_errors(tmp_path):
    src = write(tmp_path / "a.txt", "x\ny\nz\n")
    tgt = write(tmp_path / "b.txt", "X\nY\n")
    with pytest.raises(ValueError, match=r"a.txt has 3 lines and .*b.txt 2: expected aligned"):
        read_pairs(src, target_path=tgt)
    write(tgt, "X\n\nZ\n")
    with pytest.raises(ValueError, match=r"b.txt:2: an empty target line, while .*a.txt:2 "
                       r"holds 'y'"):
        read_pairs(src, target_path=tgt)


def test_a_file_that_is_not_utf8_names_the_byte_and_line(tmp_path):
    path = tmp_path / "gbk.tsv"
    path.write_bytes("source\ttarget\n书\tshu1\n".encode("gbk"))
    with pytest.raises(ValueError, match=r"gbk.tsv: expected UTF-8 text, found the byte 0x.. "
                       r"at byte offset 14 \(line 2\)"):
        read_pairs(path)
