"""The registry finds the pairs source: first among the file sources, and always for the
seq2seq task."""

from rnnkit.data.registry import detect_source, get_source


def test_pairs_files_and_the_seq2seq_task_go_to_the_pairs_source(tmp_path, cmu_file,
                                                                 table_file):
    labelled = tmp_path / "reviews.csv"
    labelled.write_text("text,label\ngood,pos\nbad,neg\n", encoding="utf-8")
    assert detect_source(str(table_file)) == detect_source(str(cmu_file)) == "pairs"
    assert detect_source(str(labelled)) == "text"
    assert detect_source(str(labelled), task="seq2seq") == "pairs"
    assert detect_source(str(table_file), task="classify") == "pairs"  # claimed by its header
    assert get_source("pairs").name == "pairs"
