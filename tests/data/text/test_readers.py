"""Reading labelled texts: tables, class files, class folders, and what they refuse."""

import pytest

from rnnkit.data.registry import detect_source
from rnnkit.data.text.readers import (
    TextFileError,
    find_columns,
    looks_like_text_table,
    read_class_dirs,
    read_class_files,
    read_text,
)


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_tsv_with_text_and_label_header(tmp_path):
    f = write(tmp_path / "a.tsv", "text\tlabel\n这本书很好看\tpos\n太差了\tneg\n")
    ex = read_text(f)
    assert ex.texts == ["这本书很好看", "太差了"] and ex.labels == ["pos", "neg"]
    assert ex.where == [f"{f}:2", f"{f}:3"]


def test_columns_found_without_names(tmp_path):
    rows = "".join(f"{'a long review number ' * 3}{i},{'good' if i % 2 else 'bad'}\n"
                   for i in range(12))
    f = write(tmp_path / "b.csv", "col1,col2\n" + rows)
    ex = read_text(f)
    assert ex.labels[:2] == ["bad", "good"] and ex.texts[0].startswith("a long review")


def test_named_columns_and_quoted_commas(tmp_path):
    f = write(tmp_path / "c.csv", 'id,body,stars\n1,"nice, really",5\n2,"meh",1\n')
    ex = read_text(f, text_col="body", label_col="stars")
    assert ex.texts == ["nice, really", "meh"] and ex.labels == ["5", "1"]


def test_empty_texts_are_skipped_and_counted(tmp_path):
    f = write(tmp_path / "d.tsv", "text\tlabel\nfine\ta\n\tb\n   \ta\nok\tb\n")
    ex = read_text(f)
    assert ex.texts == ["fine", "ok"] and ex.skipped_empty == 2


def test_not_utf8_names_file_and_byte_offset(tmp_path):
    f = write(tmp_path / "gbk.tsv", "text\tlabel\n这本书很好看\tpos\n", encoding="gbk")
    with pytest.raises(TextFileError, match=r"gbk.tsv: expected UTF-8 .* byte offset 1[0-9] "
                                             r"\(line 2\)"):
        read_text(f)


def test_missing_label_column(tmp_path):
    f = write(tmp_path / "e.csv", "text\n" + "".join(f"text {i}\n" for i in range(5)))
    with pytest.raises(TextFileError, match="no label column"):
        read_text(f)
    assert read_text(f, need_label=False).labels is None


def test_unknown_named_column(tmp_path):
    f = write(tmp_path / "f.tsv", "text\tlabel\na\tb\n")
    with pytest.raises(TextFileError, match="no label column 'sentiment'; the header has"):
        read_text(f, label_col="sentiment")


def test_a_distinct_column_is_not_taken_for_labels(tmp_path):
    rows = "".join(f"review {i} text,2024-01-{i + 1:02d}\n" for i in range(20))
    f = write(tmp_path / "g.csv", "text,date\n" + rows)
    with pytest.raises(TextFileError, match="'date' holds mostly distinct strings"):
        read_text(f)


def test_short_row(tmp_path):
    f = write(tmp_path / "h.tsv", "text\tlabel\nok\ta\nalone\n")
    with pytest.raises(TextFileError, match=r"line 3: 1 fields, expected 2 as in the header"):
        read_text(f)


def test_an_unquoted_separator_in_a_text_is_an_error_not_a_misread(tmp_path):
    f = write(tmp_path / "q.csv", "text,label\n\"well, fine\",pos\nwell, ok then,pos\n")
    with pytest.raises(TextFileError, match=r"line 3: 3 fields, expected 2 .* must be quoted"):
        read_text(f)


def test_a_very_long_text_is_one_field(tmp_path):
    f = write(tmp_path / "long.csv", "text,label\n" + "好" * 200_000 + ",pos\n短,neg\n")
    assert len(read_text(f).texts[0]) == 200_000


def test_predict_files_need_no_label_column_even_when_one_is_named(tmp_path):
    f = write(tmp_path / "p.tsv", "text\nhello\n")
    assert read_text(f, label_col="stars", need_label=False).labels is None


def test_class_files(tmp_path):
    pos = write(tmp_path / "pos.txt", "好\n\n很好\n")
    neg = write(tmp_path / "neg.txt", "差\n")
    ex = read_class_files([f"positive={pos}", str(neg)])
    assert ex.texts == ["好", "很好", "差"]
    assert ex.labels == ["positive", "positive", "neg"] and ex.skipped_empty == 1
    with pytest.raises(TextFileError, match="names the class 'pos' twice"):
        read_class_files([str(pos), f"pos={neg}"])


def test_class_dirs(tmp_path):
    for label, texts in (("neg", ["bad", ""]), ("pos", ["good", "great"])):
        (tmp_path / label).mkdir()
        for i, t in enumerate(texts):
            write(tmp_path / label / f"{i}.txt", t)
    write(tmp_path / "pos" / ".hidden", "skip me")
    ex = read_class_dirs(tmp_path)
    assert ex.labels == ["neg", "pos", "pos"] and ex.texts == ["bad", "good", "great"]
    assert ex.skipped_empty == 1


def test_txt_file_has_no_labels(tmp_path):
    f = write(tmp_path / "lines.txt", "one\ntwo\n")
    assert read_text(f, need_label=False).texts == ["one", "two"]
    with pytest.raises(TextFileError, match="without labels"):
        read_text(f)


def test_train_detects_text_or_sequences(tmp_path):
    text = write(tmp_path / "t.tsv", "text\tlabel\nhello there\ta\n")
    wide = write(tmp_path / "w.csv", "label,x1,x2,x3\na,1,2,3\nb,2,3,4\n")
    long = write(tmp_path / "l.csv", "id,time,value,label\ns1,0,1.0,a\ns1,1,2.0,a\n")
    unnamed = write(tmp_path / "u.csv", "a,b\nthe first review,1\nanother review,0\n")
    assert [detect_source(str(p)) for p in (text, wide, long, unnamed, tmp_path)] == \
        ["text", "files", "files", "text", "text"]
    assert not looks_like_text_table(wide)


def test_find_columns_prefers_names():
    header = ["id", "sentence", "polarity"]
    rows = [["1", "x y", "0"], ["2", "z", "1"]]
    assert find_columns(header, rows, "f") == (1, 2)
