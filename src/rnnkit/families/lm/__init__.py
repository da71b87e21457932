"""The lm family: one-to-many, a language model trained on one long text, and generation."""
