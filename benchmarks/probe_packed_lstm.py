"""A forward+backward step of the segmentation tagger with and without lengths, on torch's
fused LSTM (packed sequences) and on rnnkit's explicit path, one thread.

    .venv/bin/python benchmarks/probe_packed_lstm.py

Batch 64 x 110 characters (lengths drawn in 20..110), character and bigram embeddings 100 + 50,
a BiLSTM of 128, a CRF; each path's best of 3 steps, the two paths alternating twice.
"""

import time

import torch

from rnnkit.models.tagger import SequenceTagger

torch.set_num_threads(1)
torch.manual_seed(0)
N, L = 64, 110
model = SequenceTagger(4, vocab_size=4566, embedding_dim=100, num_bigrams=50000, bigram_dim=50,
                       hidden_size=128, crf=True, tag_names=list("bmes"))
x = torch.randint(2, 4566, (N, L))
bigrams = torch.randint(2, 50000, (N, L))
y = torch.randint(0, 4, (N, L))
ragged = torch.randint(20, L + 1, (N,)).index_fill_(0, torch.tensor([0]), L)
for name, lengths in (("with lengths", ragged), ("without lengths", None)):
    for path in ("fast", "explicit", "fast", "explicit"):
        model.rnn.path = path
        times = []
        for _ in range(3):
            start = time.perf_counter()
            emissions = model(x, lengths, bigrams=bigrams)
            model.zero_grad()
            model.loss(emissions, y, lengths).backward()
            times.append(time.perf_counter() - start)
        print(f"{name:16s} {path:8s} {min(times):.3f} s per forward+backward")
