"""The note that names a tag set and its scheme (:mod:`rnnkit.models.tag_schemes`)."""

from __future__ import annotations

from rnnkit.models.tag_schemes import tag_scheme

__all__ = ["tags_note"]

_DESCRIPTION = {"BIO": "BIO chunks: B- begins, I- continues, O outside",
                "BIOES": "BIOES chunks: B- begins, I- continues, E- ends, S- single, O outside",
                "BMES": "BMES word segmentation: begin, middle, end, single",
                "other": "no chunk scheme: scored token by token"}


def tags_note(tags: list[str], shown: int = 12) -> str:
    """``tags: b, m, e, s (BMES word segmentation: ...)``: the tags (the first ``shown``) and
    their scheme, for a run's notes."""
    scheme = tag_scheme(tags)
    listed = ", ".join(tags[:shown]) + (f", ... ({len(tags)} in all)" if len(tags) > shown
                                        else "")
    return f"tags: {listed} ({_DESCRIPTION[scheme]})"
