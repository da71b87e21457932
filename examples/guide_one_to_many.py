"""One-to-many: a language model that reads a prompt, then writes one token per step.

    python examples/guide_one_to_many.py

What ``rnnkit train --text FILE`` builds is :class:`rnnkit.models.language_model.LanguageModel`:
an embedding, a recurrent stack, a projection to the vocabulary. Training reads whole windows
at once; generation (``rnnkit generate``) reads the prompt once, then feeds each new token
back in, one step at a time, carrying the state. Letters: N batch, L steps, V vocabulary,
H hidden units.

    tokens   (N, L)               int64 ids
    logits   (N, L, V)            at step t: scores of the token at step t + 1
    state    (h, c), each (num_layers, N, H)
    step     (N,) ids -> logits (N, V), the next state
"""

from __future__ import annotations

import argparse

import torch

from rnnkit.models.language_model import LanguageModel


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vocab", type=int, default=20, help="V")
    parser.add_argument("--hidden-size", type=int, default=8, help="H")
    parser.add_argument("--new-tokens", type=int, default=6)
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    model = LanguageModel(args.vocab, cell="lstm", embedding_dim=8,
                          hidden_size=args.hidden_size, num_layers=2).eval()
    prompt = torch.randint(0, args.vocab, (1, 4))  # (N, L)
    logits, (h, c) = model(prompt)  # (N, L, V), each state (num_layers, N, H)
    print(f"LanguageModel({args.vocab}, cell='lstm', hidden_size={args.hidden_size}, "
          "num_layers=2)")
    print(f"  prompt  {tuple(prompt.shape)} (N, L)")
    print(f"  logits  {tuple(logits.shape)} (N, L, V)   state h, c {tuple(h.shape)} "
          "(num_layers, N, H)")

    state, stepped = None, []
    for t in range(prompt.shape[1]):  # the same prompt, one token at a time
        step_logits, state = model.step(prompt[:, t], state)  # (N, V)
        stepped.append(step_logits)
    print(f"  step    {tuple(prompt[:, 0].shape)} (N,) -> {tuple(stepped[0].shape)} (N, V)")
    print("  one step at a time == the whole prompt at once:",
          torch.allclose(torch.stack(stepped, 1), logits, atol=1e-5))

    token, state, new = logits[:, -1].argmax(-1), (h, c), []  # greedy: the likeliest next token
    for _ in range(args.new_tokens):
        new.append(token)
        step_logits, state = model.step(token, state)  # (N, V)
        token = step_logits.argmax(-1)  # (N,)
    print(f"  generated {tuple(torch.stack(new, 1).shape)} (N, new tokens), the state carried "
          "from step to step")


if __name__ == "__main__":
    main()
