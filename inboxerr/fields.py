"""Serializer fields the apps share."""

from __future__ import annotations

from rest_framework import serializers


class VariablesField(serializers.DictField):
    """Merge-field values by name. Names come from the client too: whatever the body's format (DRF builds
    dicts from form fields named `variables.<name>` as well), a name PostgreSQL cannot store (one holding
    NUL) is a 400 naming it, not a database error."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        for name in value:
            if "\x00" in name:
                raise serializers.ValidationError(f"The variable name {name!r} holds a NUL character.")
        return value


class OptionalBooleanField(serializers.BooleanField):
    """A boolean that a form body may leave out, meaning what leaving it out of JSON means: not given.

    DRF reads a boolean missing from a form as false (an HTML form leaves an unticked box out), so a
    template created or replaced through a form body came out inactive without anyone saying so."""

    default_empty_html = serializers.empty
