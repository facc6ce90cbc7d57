from __future__ import annotations

from rest_framework import serializers
from rest_framework.reverse import reverse

from imports.csvfile import DELIMITERS
from imports.models import Contact, ImportJob
from imports.phones import is_region


class ImportJobSerializer(serializers.ModelSerializer):
    line_types = serializers.DictField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="The contacts imported by line type (mobile, fixed_line, toll_free, premium_rate, ...), counted "
        "as batches are written; they add up to imported_rows. Empty for an import made before line types were "
        "recorded.",
    )
    errors_url = serializers.SerializerMethodField()
    contacts_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "status",
            "original_filename",
            "size_bytes",
            "sha256",
            "file_format",
            "sheet",
            "encoding",
            "delimiter",
            "header_row",
            "default_region",
            "column_mapping",
            "total_rows",
            "imported_rows",
            "invalid_rows",
            "duplicate_rows",
            "line_types",
            "failure_reason",
            "errors_url",
            "contacts_url",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_errors_url(self, job) -> str:
        return reverse("import-errors", args=[job.pk], request=self.context.get("request"))

    def get_contacts_url(self, job) -> str:
        return reverse("import-contacts", args=[job.pk], request=self.context.get("request"))


DELIMITER_ALIASES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


class ImportOptionsSerializer(serializers.Serializer):
    """How to read a file: given beside an upload, or to manage.py import_csv."""

    phone_column = serializers.CharField(required=False, allow_blank=True, max_length=200)
    name_column = serializers.CharField(required=False, allow_blank=True, max_length=200)
    default_region = serializers.CharField(
        required=False, allow_blank=True, help_text="ISO 3166 alpha-2 region for national numbers, e.g. GB."
    )
    delimiter = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="One of , ; | or tab; sniffed if absent."
    )
    sheet = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="For an .xlsx workbook: the sheet's name or its number from 1. Empty: the first sheet.",
    )

    def validate_default_region(self, value: str) -> str:
        value = value.strip().upper()
        if value and not is_region(value):
            raise serializers.ValidationError(f"{value!r} is not an ISO 3166 alpha-2 region code known for phones.")
        return value

    def validate_delimiter(self, value: str) -> str:
        value = DELIMITER_ALIASES.get(value.lower(), value)
        if value and value not in DELIMITERS:
            raise serializers.ValidationError("Use one of , ; | or tab.")
        return value


class ImportUploadSerializer(ImportOptionsSerializer):
    """An upload, the file streamed to disk by CSVUploadHandler, or a file already uploaded for a preview; and
    the options to read it with. As multipart form fields, or JSON for a preview."""

    file = serializers.FileField(
        required=False,
        help_text="A .csv file (sent as text/csv, text/plain, application/vnd.ms-excel, application/csv, "
        "text/x-csv or application/octet-stream) or an .xlsx workbook (sent as its own type or "
        "application/octet-stream).",
    )
    preview = serializers.UUIDField(
        required=False,
        help_text="Instead of a file: the id POST /api/v1/imports/preview answered, to use the file uploaded "
        "then (kept an hour), with the options given here over the preview's.",
    )

    def validate(self, attrs: dict) -> dict:
        if attrs.get("file") and attrs.get("preview"):
            raise serializers.ValidationError({"preview": ["Give a file or a preview, not both."]})
        if not attrs.get("file") and not attrs.get("preview"):
            raise serializers.ValidationError({"file": ["No file was submitted."]})
        return attrs


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField()
    message = serializers.CharField()


class PreviewContactSerializer(serializers.Serializer):
    phone = serializers.CharField()
    phone_column = serializers.CharField(help_text="The column the number was taken from.")
    name = serializers.CharField()
    variables = serializers.DictField(child=serializers.CharField())
    line_type = serializers.CharField()


class PreviewRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row number as a spreadsheet shows it.")
    contact = PreviewContactSerializer(allow_null=True, help_text="What the row becomes, or null for a row error.")
    error = RowErrorSerializer(allow_null=True)


class ImportPreviewSerializer(serializers.Serializer):
    """What an import would make of a file; read-only, nothing is imported."""

    id = serializers.UUIDField(help_text="Give it as `preview` to POST /api/v1/imports/ to import this file.")
    original_filename = serializers.CharField()
    size_bytes = serializers.IntegerField()
    file_format = serializers.ChoiceField(choices=ImportJob.Format.choices)
    options = ImportOptionsSerializer(help_text="The options the file was read with.")
    expires_at = serializers.DateTimeField(help_text="Until when the file is kept for an import.")
    failure_reason = serializers.CharField(
        help_text="Why an import with these options would fail as a whole; empty when it would not."
    )
    encoding = serializers.CharField(required=False)
    delimiter = serializers.CharField(required=False)
    sheet = serializers.CharField(required=False)
    header_row = serializers.IntegerField(required=False, help_text="The line that holds the header.")
    header = serializers.ListField(child=serializers.CharField(), required=False)
    column_mapping = serializers.JSONField(
        required=False,
        help_text="phone: the phone columns in the order tried; name: the name's columns; variables: header to "
        "{{ key }}; ignored: columns empty in every row checked.",
    )
    empty_columns_checked_rows = serializers.IntegerField(
        required=False, help_text="How many rows were looked at to call a column empty; the import looks at all."
    )
    rows = PreviewRowSerializer(many=True, help_text="The first 20 data rows as they would be imported.")
    rows_estimate = serializers.IntegerField(
        required=False, allow_null=True, help_text="About how many data rows the file holds; null if unknown."
    )


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "phone", "phone_column", "name", "variables", "row_number", "line_type"]
        read_only_fields = fields
        extra_kwargs = {
            "line_type": {
                "help_text": "The kind of line, read from the number (phonenumbers); numbers North America shares "
                "between fixed lines and mobiles count as mobile. `unknown`: imported before line types were "
                "recorded."
            }
        }
