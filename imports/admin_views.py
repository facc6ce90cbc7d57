"""The import admin's upload form and its one-line read-out of a job's progress."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from rest_framework import serializers

from imports import preview
from imports.models import ImportJob, ImportPreview
from imports.serializers import ImportOptionsSerializer, ImportUploadSerializer
from imports.upload import XLSX_TYPE, CSVUploadHandler

DELIMITER_CHOICES = [
    ("", "Detect from the file"),
    (",", "Comma  ,"),
    (";", "Semicolon  ;"),
    ("tab", "Tab"),
    ("|", "Pipe  |"),
]


class ImportUploadForm(forms.Form):
    """The API's upload fields; the options are checked by the API's own serializer."""

    # The file comes last: the options arrive before it in the body, so a refused file
    # still leaves them to show again.
    default_region = forms.CharField(
        required=False,
        help_text=f"ISO 3166 region for national numbers, e.g. GB. Empty: {settings.PHONE_DEFAULT_REGION}.",
    )
    phone_column = forms.CharField(required=False, help_text="The phone column's header. Empty: found by name.")
    name_column = forms.CharField(required=False, help_text="The name column's header. Empty: found by name.")
    delimiter = forms.ChoiceField(choices=DELIMITER_CHOICES, required=False, help_text="For a CSV.")
    sheet = forms.CharField(required=False, help_text="For an Excel workbook: the sheet's name. Empty: the first.")
    file = forms.FileField(
        widget=forms.FileInput(attrs={"accept": f".csv,.xlsx,text/csv,{XLSX_TYPE}"}),
        help_text=f"A .csv file or an Excel workbook (.xlsx) of at most {filesizeformat(settings.IMPORT_MAX_BYTES)}.",
    )

    def clean(self):
        return checked_by(self, ImportUploadSerializer)


def checked_by(form: forms.Form, serializer_class: type[serializers.Serializer]) -> dict:
    """The form's data as the API's serializer validates it; its errors go on the form's fields."""
    if form.errors:
        return form.cleaned_data
    serializer = serializer_class(data=form.cleaned_data)
    if serializer.is_valid():
        return dict(serializer.validated_data)
    for name, messages in serializer.errors.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
    return form.cleaned_data


def preview_from_form(*, owner_id: int, handler: CSVUploadHandler, form: ImportUploadForm) -> ImportPreview | None:
    """The API's preview steps: raise the handler's refusal, else keep the file as a preview and claim it.

    Returns None when the options are invalid; the form holds the errors.
    """
    handler.raise_refusal()
    if not form.is_valid():
        return None
    options = dict(form.cleaned_data)
    kept, _ = preview.preview_create(owner_id=owner_id, upload=options.pop("file"), **options)
    handler.claim()
    return kept


class PreviewColumnsForm(forms.Form):
    """What staff may change on a preview before importing: the columns, the region, and how the file is read."""

    phone_column = forms.ChoiceField(required=False, help_text="Automatic: every phone column, mobiles first.")
    name_column = forms.ChoiceField(required=False, help_text="Automatic: a full-name column, or first and last.")
    default_region = forms.CharField(
        required=False,
        help_text=f"ISO 3166 region for national numbers, e.g. GB. Empty: {settings.PHONE_DEFAULT_REGION}.",
    )
    delimiter = forms.ChoiceField(choices=DELIMITER_CHOICES, required=False)
    sheet = forms.CharField(required=False, help_text="The sheet's name or number. Empty: the first.")

    def __init__(self, *args, answer: dict, **kwargs):
        super().__init__(*args, **kwargs)
        headers = [(h, h) for h in answer.get("header", []) if h]
        mapping = answer.get("column_mapping") or {}
        automatic_phone = ", then ".join(mapping.get("phone", [])) if not answer["options"]["phone_column"] else ""
        automatic_name = " + ".join(mapping.get("name", [])) if not answer["options"]["name_column"] else ""
        phone, name = self.fields["phone_column"], self.fields["name_column"]
        assert isinstance(phone, forms.ChoiceField)
        assert isinstance(name, forms.ChoiceField)
        phone.choices = [("", _automatic(automatic_phone)), *headers]
        name.choices = [("", _automatic(automatic_name)), *headers]
        del self.fields["sheet" if answer["file_format"] == ImportJob.Format.CSV else "delimiter"]

    def clean(self):
        return checked_by(self, ImportOptionsSerializer)


def _automatic(found: str) -> str:
    return f"Automatic ({found})" if found else "Automatic"


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def progress_line(job: ImportJob) -> str:
    """'12,000 rows read: 11,500 imported, 300 invalid, 200 duplicates'."""
    if job.status == ImportJob.Status.PROCESSING and job.started_at is None:
        return "Waiting for a worker to start reading the file."
    return (
        f"{_count(job.total_rows, 'row')} read: {job.imported_rows:,} imported, "
        f"{job.invalid_rows:,} invalid, {_count(job.duplicate_rows, 'duplicate')}"
    )
