"""The tag family: many-to-many, a label for every step (segmentation, POS, named entities,
per-step labels of numeric series)."""
