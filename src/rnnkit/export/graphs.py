"""What each family exports: the graphs of a trained model, as plain ``nn.Module`` wrappers.

A :class:`Graph` is one module to trace, with example inputs and the names and dynamic axes of
its inputs and outputs. :func:`family_graphs` gives a run's graphs:

* ``classify``: ``x, lengths -> logits, probabilities``;
* ``regress``: ``x, lengths -> prediction`` (in the targets' units);
* ``tag``: ``x, lengths [, chars, bigrams] -> emissions, tags`` (tags: Viterbi with a CRF);
* ``lm``: ``tokens, lengths, h [, c] -> logits, h_next [, c_next]`` and a one-step graph
  ``token, h [, c] -> logits, h_next [, c_next]`` for streaming;
* ``seq2seq``: an encoder ``source, lengths -> memory, keys, mask, h [, c] [, feed]`` and a
  decoder step ``token, h [, c] [, feed], memory, keys, mask -> logits [, weights], h_next
  [, c_next] [, feed_next]``: the loop of greedy or beam search runs outside, in the caller;
* ``forecast``: ``past, lengths [, future], loc, scale -> forecast`` (in the data's units).

The recurrent layers inside run one ``Scan`` per layer and direction (see
:mod:`rnnkit.nn.export_scan`), so batch and length stay free; padded steps never reach an
output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from rnnkit.data.info import DataInfo
from rnnkit.models.crf import CRF
from rnnkit.models.tagger import SequenceTagger
from rnnkit.nn.export_scan import exporting, scan_steps
from rnnkit.nn.masks import length_mask

__all__ = ["Graph", "family_graphs", "viterbi"]

EXAMPLE_BATCH, EXAMPLE_LENGTH = 3, 7  # traced with these; checked with other sizes


@dataclass
class Graph:
    """One exported graph.

    Attributes:
        name: ``model`` for the main graph, ``step``/``encoder``... for the others.
        module: what is traced; ``forward`` takes ``inputs`` in order.
        inputs: example input tensors by name (the graph's input names, in order).
        outputs: the output names, in order.
        axes: per input, its dynamic dimensions by index -> axis name (``batch``, ``length``,
            ``source_length``); one name is one size everywhere.
        about: one line per input and output for the metadata: shape and meaning.
    """

    name: str
    module: nn.Module
    inputs: dict[str, Tensor]
    outputs: list[str]
    axes: dict[str, dict[int, str]]
    about: dict[str, str] = field(default_factory=dict)


def _lengths(batch: int, length: int) -> Tensor:
    """Lengths ``(N,)`` from ``length`` down to about half: the first row is full."""
    return torch.tensor([length - (k * length) // (2 * batch) for k in range(batch)])


def example_inputs(graph: Graph, batch: int, length: int, seed: int = 0) -> dict[str, Tensor]:
    """Inputs like ``graph.inputs`` with ``batch`` rows and ``length`` steps on every
    ``length``-like axis: token ids in the examples' range, lengths from full to half,
    masks that match them, values drawn at random."""
    generator = torch.Generator().manual_seed(seed)
    made: dict[str, Tensor] = {}
    for name, example in graph.inputs.items():
        shape = list(example.shape)
        for dim, axis in graph.axes.get(name, {}).items():
            shape[dim] = batch if axis == "batch" else length
        if name == "lengths":
            made[name] = _lengths(batch, length)
        elif example.dtype == torch.bool:  # a source mask, from the same lengths
            made[name] = length_mask(_lengths(batch, length), length)
        elif example.is_floating_point():
            made[name] = torch.randn(shape, generator=generator, dtype=example.dtype)
        else:
            high = max(int(example.max()) + 1, 2)
            made[name] = torch.randint(1, high, shape, generator=generator, dtype=example.dtype)
    return made


def _state_names(layer: nn.Module) -> tuple[str, ...]:
    return tuple(layer.specs[0].state_names)


def _zero_states(layer: nn.Module, batch: int) -> dict[str, Tensor]:
    count = layer.num_layers * layer.num_directions
    return {name: torch.zeros(count, batch, size)
            for name, size in zip(_state_names(layer), layer.state_sizes, strict=True)}


def _as_tuple(state: Tensor | tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    return (state,) if isinstance(state, Tensor) else tuple(state)


def _as_state(states: tuple[Tensor, ...]) -> Tensor | tuple[Tensor, ...]:
    return states[0] if len(states) == 1 else states


# -- classification, regression, tagging -----------------------------------------------------

class ClassifyGraph(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        logits = self.model(x, lengths)  # (N, C)
        return logits, logits.softmax(dim=-1)


class RegressGraph(nn.Module):
    """The regression task's own forward: predictions in the targets' units."""

    def __init__(self, task: nn.Module) -> None:
        super().__init__()
        self.task = task

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        return self.task(x, lengths)  # (N,)


def viterbi(crf: CRF, emissions: Tensor, mask: Tensor) -> Tensor:
    """:meth:`CRF.decode` as two scans (forward scores, then the way back), so the exported
    graph takes any length; ``emissions (N, L, T)``, ``mask (N, L)`` -> tags ``(N, L)``.
    Outside ``torch.export`` it is :meth:`CRF.decode` (what the exported graph is checked
    against)."""
    if not exporting():
        return crf.decode(emissions, mask)
    emissions, start, end, transitions = crf._scores(emissions, mask)
    n, length, num_tags = emissions.shape
    stay = torch.arange(num_tags).expand(n, num_tags)  # (N, T)
    first = torch.arange(length).view(length, 1, 1) == 0  # (L, 1, 1)
    # Both scans run over all L steps (onnxruntime cannot scan zero steps): step 0 starts.

    def forward_step(carry: list[Tensor], inputs: list[Tensor], constants: list[Tensor]):
        (score,), (emission, valid, start_here), (moves, keep, begin) = carry, inputs, constants
        best, before = (score.unsqueeze(2) + moves).max(dim=1)  # (N, T)
        best = torch.where(start_here, begin.expand_as(best), best)
        score = torch.where(valid | start_here, best + emission, score)
        return [score], [torch.where(valid & ~start_here, before, keep)]

    (score,), (pointers,) = scan_steps(
        forward_step, [torch.zeros(n, num_tags, dtype=emissions.dtype)],
        [emissions.transpose(0, 1), mask.transpose(0, 1).unsqueeze(-1), first],
        [transitions, stay, start])  # pointers (L, N, T); step 0's are `stay`
    last = (score + end).argmax(dim=1)  # (N,) the tag of each row's last valid step

    def back_step(carry: list[Tensor], inputs: list[Tensor], constants: list[Tensor]):
        (tag,), (before,) = carry, inputs
        return [before.gather(1, tag.unsqueeze(1)).squeeze(1)], [tag.clone()]

    _, (path,) = scan_steps(back_step, [last], [pointers.flip(0)])  # (L, N), last step first
    return path.flip(0).transpose(0, 1).masked_fill(~mask, 0)  # (N, L)


class TagGraph(nn.Module):
    def __init__(self, model: SequenceTagger, extra: tuple[str, ...]) -> None:
        super().__init__()
        self.model, self.extra = model, extra

    def forward(self, x: Tensor, lengths: Tensor, *extra: Tensor) -> tuple[Tensor, Tensor]:
        emissions = self.model(x, lengths, **dict(zip(self.extra, extra, strict=True)))
        mask = length_mask(lengths, emissions.shape[1])  # (N, L)
        if self.model.crf is None:
            tags = emissions.argmax(dim=-1).masked_fill(~mask, 0)
        else:
            tags = viterbi(self.model.crf, emissions, mask)
        return emissions, tags


# -- language model -----------------------------------------------------------------------------

class LanguageModelGraph(nn.Module):
    """The whole sequence (``step=False``) or one token (``step=True``)."""

    def __init__(self, model: nn.Module, step: bool) -> None:
        super().__init__()
        self.model, self.step = model, step

    def forward(self, tokens: Tensor, *rest: Tensor) -> tuple[Tensor, ...]:
        if self.step:
            out, state = self.model.rnn.step(self.model.embed(tokens), _as_state(rest))
        else:
            lengths, states = rest[0], rest[1:]
            out, state = self.model.rnn(self.model.embed(tokens), _as_state(states),
                                        lengths=lengths)
        return (self.model._logits(out), *_as_tuple(state))


# -- sequence to sequence ---------------------------------------------------------------------

class EncoderGraph(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, source: Tensor, lengths: Tensor) -> tuple[Tensor, ...]:
        state = self.model.encode(source, lengths)
        rnn = state.rnn
        if rnn is None:  # bridge: zeros
            rnn = tuple(_zero_states(self.model.decoder, source.shape[0]).values())
            rnn = tuple(s.to(state.memory) for s in rnn)
        feed = () if state.feed is None else (state.feed,)
        return (state.memory, state.keys, state.mask, *_as_tuple(rnn), *feed)


class DecoderStepGraph(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.num_states = len(_state_names(model.decoder))

    def forward(self, token: Tensor, *rest: Tensor) -> tuple[Tensor, ...]:
        from rnnkit.models.seq2seq import DecoderState

        k = self.num_states
        states, rest = rest[:k], rest[k:]
        feed, rest = (rest[0], rest[1:]) if self.model.input_feeding else (None, rest)
        memory, keys, mask = rest
        state = DecoderState(_as_state(states), feed, memory, keys, mask)
        logits, new = self.model.step(token, state)
        weights = () if new.weights is None else (new.weights,)
        feed_next = () if new.feed is None else (new.feed,)
        return (logits, *weights, *_as_tuple(new.rnn), *feed_next)


# -- forecasting --------------------------------------------------------------------------------

class ForecastGraph(nn.Module):
    """The forecast task's own forward (forecasts in the data's units) on the batch's tensors."""

    def __init__(self, task: nn.Module) -> None:
        super().__init__()
        self.task = task

    def forward(self, past: Tensor, lengths: Tensor, *rest: Tensor) -> Tensor:
        model = self.task.model
        if model.future_size:
            future, loc, scale = rest
        else:
            loc, scale = rest
            future = past.new_zeros(past.shape[0], model.horizon, 0)
        return self.task({"past": past, "length": lengths, "future": future, "loc": loc,
                          "scale": scale})  # (N, H, Q)


# -- the graphs of each family ------------------------------------------------------------------

def _sequence_input(info: DataInfo, batch: int, length: int) -> tuple[Tensor, str]:
    if info.tokens:
        return torch.randint(1, len(info.vocabulary), (batch, length)), \
            "(N, L) int64 token ids (0 = padding), the vocabulary's ids"
    return torch.randn(batch, length, info.input_size), \
        f"(N, L, {info.input_size}) float32 features, preprocessed as the metadata says"


LENGTHS = "(N,) int64 valid steps of each row, 1..L; padded steps never change an output"
SEQ_AXES = {"x": {0: "batch", 1: "length"}, "lengths": {0: "batch"}}


def family_graphs(family: str, task: nn.Module, info: DataInfo) -> list[Graph]:
    """The graphs a ``family`` run exports (the first is the main one); ``task`` is the
    family's LightningModule, in evaluation mode."""
    model = task.model
    n, length = EXAMPLE_BATCH, EXAMPLE_LENGTH
    lengths = _lengths(n, length)
    if family in ("classify", "regress"):
        x, about = _sequence_input(info, n, length)
        if family == "classify":
            module: nn.Module = ClassifyGraph(model)
            outputs = {"logits": "(N, C) class scores, C = len(class_names)",
                       "probabilities": "(N, C) softmax of the logits"}
        else:
            module = RegressGraph(task)
            outputs = {"prediction": "(N,) float32 predicted target, in the targets' units"}
        return [Graph("model", module, {"x": x, "lengths": lengths}, list(outputs), SEQ_AXES,
                      {"x": about, "lengths": LENGTHS, **outputs})]
    if family == "tag":
        x, about = _sequence_input(info, n, length)
        inputs, axes = {"x": x, "lengths": lengths}, dict(SEQ_AXES)
        features = {k: len(v) for k, v in info.features.items()
                    if getattr(model.features, k, None) is not None}
        if "chars" in features:
            inputs["chars"] = torch.randint(1, features["chars"], (n, length, 5))
            axes["chars"] = {0: "batch", 1: "length", 2: "word_length"}
        if "bigrams" in features:
            inputs["bigrams"] = torch.randint(1, features["bigrams"], (n, length))
            axes["bigrams"] = {0: "batch", 1: "length"}
        extra = tuple(k for k in ("chars", "bigrams") if k in inputs)
        about = {"x": about, "lengths": LENGTHS,
                 "chars": "(N, L, W) int64 character ids of each token (0 = padding)",
                 "bigrams": "(N, L) int64 character-bigram ids",
                 "emissions": "(N, L, T) tag scores per step, T = len(class_names)",
                 "tags": "(N, L) int64 best tags (Viterbi with a CRF), 0 on padding"}
        return [Graph("model", TagGraph(model, extra), inputs, ["emissions", "tags"], axes,
                      {k: v for k, v in about.items() if k in (*inputs, "emissions", "tags")})]
    if family == "lm":
        return _language_model_graphs(model, info, n, length, lengths)
    if family == "seq2seq":
        return _seq2seq_graphs(model, info, n, length, lengths)
    if family == "forecast":
        past = torch.randn(n, length, info.input_size)
        inputs = {"past": past, "lengths": lengths}
        axes = {"past": {0: "batch", 1: "length"}, "lengths": {0: "batch"}}
        if model.future_size:
            inputs["future"] = torch.randn(n, model.horizon, model.future_size)
            axes["future"] = {0: "batch"}
        inputs |= {"loc": torch.randn(n), "scale": torch.rand(n) + 0.5}
        axes |= {"loc": {0: "batch"}, "scale": {0: "batch"}}
        about = {"past": f"(N, L, {info.input_size}) the history, standardised: (value - loc) "
                         "/ scale, then the calendar features",
                 "lengths": LENGTHS,
                 "future": f"(N, {model.horizon}, {model.future_size}) known future features",
                 "loc": "(N,) each window's location", "scale": "(N,) each window's scale",
                 "forecast": f"(N, {model.horizon}, Q) forecasts in the data's units, one "
                             "column per quantile (Q = 1: the point forecast)"}
        return [Graph("model", ForecastGraph(task), inputs, ["forecast"], axes,
                      {k: v for k, v in about.items() if k in (*inputs, "forecast")})]
    raise ValueError(f"no export for the {family!r} family")


def _language_model_graphs(model: nn.Module, info: DataInfo, n: int, length: int,
                           lengths: Tensor) -> list[Graph]:
    states = _zero_states(model.rnn, n)
    state_axes = {name: {1: "batch"} for name in states}
    nexts = [f"{name}_next" for name in states]
    about = {"tokens": "(N, L) int64 token ids", "lengths": LENGTHS,
             "token": "(N,) int64 the last token of each stream",
             "logits": "scores of the next token, V = len(vocabulary): (N, L, V) in the "
                       "sequence graph, (N, V) in the step graph"}
    for name in states:
        about[name] = f"(num_layers, N, {model.rnn.state_sizes[0]}) the state {name} (zeros " \
                      "to start)"
        about[f"{name}_next"] = f"the state {name} after the last valid step"
    tokens = torch.randint(1, len(info.vocabulary), (n, length))
    sequence = Graph("model", LanguageModelGraph(model, step=False),
                     {"tokens": tokens, "lengths": lengths, **states}, ["logits", *nexts],
                     {"tokens": {0: "batch", 1: "length"}, "lengths": {0: "batch"},
                      **state_axes}, about)
    step = Graph("step", LanguageModelGraph(model, step=True),
                 {"token": tokens[:, 0], **states}, ["logits", *nexts],
                 {"token": {0: "batch"}, **state_axes}, about)
    return [sequence, step]


def _seq2seq_graphs(model: nn.Module, info: DataInfo, n: int, length: int,
                    lengths: Tensor) -> list[Graph]:
    source = torch.randint(1, len(info.vocabulary), (n, length))
    encoder = EncoderGraph(model).eval()
    with torch.no_grad():
        encoded = encoder(source, lengths)
    states = dict(zip(_state_names(model.decoder), encoded[3:3 + len(_state_names(
        model.decoder))], strict=True))
    feed = {"feed": encoded[-1]} if model.input_feeding else {}
    memory = {"memory": encoded[0], "keys": encoded[1], "mask": encoded[2]}
    encoder_outputs = ["memory", "keys", "mask", *states, *feed]
    source_axes = {0: "batch", 1: "source_length"}
    about = {
        "source": "(N, S) int64 source token ids (0 = padding)", "lengths": LENGTHS,
        "memory": f"(N, S, {model.memory_size}) the encoder's outputs",
        "keys": "(N, S, K) the memory's share of the attention scores",
        "mask": "(N, S) bool, True on real source steps",
        "token": "(N,) int64 the previous output token (<s> = 2 first)",
        "logits": "(N, V_t) scores of the next target token, V_t = len(target_vocabulary)",
        "weights": "(N, S) where this step attended",
        "feed": f"(N, {model.decoder_hidden_size}) the previous attentional output",
        "feed_next": "the attentional output of this step",
    }
    for name in states:
        about[name] = f"(num_layers, N, H) the decoder state {name}"
        about[f"{name}_next"] = f"the decoder state {name} after this step"
    step_inputs = {"token": torch.randint(1, len(info.target_vocabulary), (n,)), **states,
                   **feed, **memory}
    step_axes = {"token": {0: "batch"}, **{name: {1: "batch"} for name in states},
                 **{name: {0: "batch"} for name in feed}, "memory": source_axes,
                 "keys": source_axes, "mask": source_axes}
    step_outputs = ["logits", *(["weights"] if model.attention is not None else []),
                    *(f"{name}_next" for name in states), *(["feed_next"] if feed else [])]
    return [
        Graph("encoder", encoder, {"source": source, "lengths": lengths}, encoder_outputs,
              {"source": source_axes, "lengths": {0: "batch"}}, about),
        Graph("step", DecoderStepGraph(model), step_inputs, step_outputs, step_axes, about),
    ]
