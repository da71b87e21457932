"""The seq2seq family: an input sequence to an output sequence of another length (translation,
grapheme-to-phoneme), an encoder-decoder with attention, greedy and beam-search decoding."""
