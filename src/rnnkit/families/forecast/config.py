"""The forecast family's ``model:`` section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnkit.config.section import ConfigError, Section, check_layer_dropout, option
from rnnkit.nn import LAYERS

__all__ = ["CONFIG", "ForecastModelConfig", "parse_quantiles"]

# the encoder-decoder hands the encoder's final state to the decoder: cells of the classic state
DECODER_CELLS = ("lstm", "gru", "rnn")


def parse_quantiles(text: str | None) -> tuple[float, ...]:
    """``"0.1,0.5,0.9"`` as sorted quantile levels in (0, 1), 0.5 added when missing; () for
    None or empty. Raises ConfigError for anything else."""
    if not text:
        return ()
    try:
        levels = sorted({float(part) for part in str(text).split(",") if part.strip()})
    except ValueError:
        raise ConfigError(f"model.quantiles must be levels such as 0.1,0.5,0.9; got "
                          f"{text!r}") from None
    if not levels or not all(0 < q < 1 for q in levels):
        raise ConfigError(f"model.quantiles must lie strictly between 0 and 1; got {text!r}")
    return tuple(sorted({*levels, 0.5}))


@dataclass(frozen=True)
class ForecastModelConfig(Section):
    """The forecaster (:class:`~rnnkit.families.forecast.model.Forecaster`): a recurrent
    encoder over the past window, then a direct multi-horizon head or a recurrent decoder over
    the horizon's known-future (calendar) features."""

    key: ClassVar[str] = "model"

    cell: str = option("lstm", "recurrent cell (any rnnkit.nn layer; decoder seq2seq: lstm, "
                       "gru or rnn)", choices=tuple(LAYERS))
    hidden_size: int = option(64, "H, features of the recurrent state", min=1)
    num_layers: int = option(1, "stacked recurrent layers", min=1)
    dropout: float = option(0.0, "dropout between recurrent layers (needs num_layers >= 2)",
                            min=0.0, max=0.99)
    decoder: str = option("direct", "direct: one head maps the encoder's summary and the "
                          "horizon's calendar features to all H steps at once; seq2seq: a "
                          "recurrent decoder, started from the encoder's state, steps through "
                          "the horizon", choices=("direct", "seq2seq"))
    head_hidden: int = option(0, "direct head: hidden units of a ReLU layer (0: linear)", min=0)
    head_dropout: float = option(0.0, "dropout before the head", min=0.0, max=0.99)
    loss: str = option("mse", "training loss on the scaled targets: mse, mae or huber (with "
                       "model.quantiles: the pinball loss of every quantile instead)",
                       choices=("mse", "mae", "huber"))
    huber_delta: float = option(1.0, "huber: where the loss turns from squared to linear",
                                min=0.0, min_exclusive=True)
    quantiles: str | None = option(None, "quantile levels to forecast for intervals, e.g. "
                                   "0.1,0.5,0.9 (0.5 is the point forecast; trained with the "
                                   "pinball loss)")
    residual: bool = option(True, "forecast the change from the last observed value (the "
                            "network corrects the naive forecast)")
    path: str = option("auto", "rnnkit.nn execution path", choices=("auto", "fast", "explicit"))

    def _check(self) -> None:
        parse_quantiles(self.quantiles)
        check_layer_dropout(self.dropout, self.num_layers, "model.head_dropout")
        if self.decoder == "seq2seq" and self.cell not in DECODER_CELLS:
            raise ConfigError(f"model.decoder=seq2seq starts the decoder from the encoder's "
                              f"state: model.cell must be {', '.join(DECODER_CELLS)}; got "
                              f"{self.cell}")

    def levels(self) -> tuple[float, ...]:
        """The quantile levels (() for a point forecast)."""
        return parse_quantiles(self.quantiles)


CONFIG = ForecastModelConfig
