"""One long UTF-8 text as a token stream, for language models: the ``corpus`` source.

The text is tokenised once into a memory-mapped file of ids (``encode``), read in windows of
``data.bptt`` tokens by many parallel streams (``stream``), so a text of gigabytes trains in
constant memory.
"""
