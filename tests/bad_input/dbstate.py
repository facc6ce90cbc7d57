"""Row counts of every table: how the bad-input tests show that a refusal changed nothing else."""

from __future__ import annotations

from django.apps import apps


def row_counts() -> dict[str, int]:
    """Rows per model, every installed app's (ours, auth, tokens, the task queue), many-to-many tables included."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if not model._meta.proxy and model._meta.label not in BOOKKEEPING
    }


# Written by authentication itself, on any request made with a token: not what a request changes.
BOOKKEEPING = {"inboxerr.TokenUse"}


def changed_rows(before: dict[str, int]) -> dict[str, int]:
    """{model label: rows added (or, negative, removed)} since `before`, for the models that changed."""
    after = row_counts()
    return {label: after[label] - before.get(label, 0) for label in after if after[label] != before.get(label, 0)}
