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
