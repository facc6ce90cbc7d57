"""The import admin's upload form and its one-line read-out of a job's progress."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from imports import services
from imports.models import ImportJob
from imports.serializers import ImportUploadSerializer
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
        if self.errors:
            return self.cleaned_data
        serializer = ImportUploadSerializer(data=self.cleaned_data)
        if serializer.is_valid():
            return serializer.validated_data
        for name, messages in serializer.errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        return self.cleaned_data


def import_from_form(*, owner_id: int, handler: CSVUploadHandler, form: ImportUploadForm) -> ImportJob | None:
    """The API's upload steps: raise the handler's refusal, else create the job and claim its file.

    Returns None when the options are invalid; the form holds the errors.
    """
    handler.raise_refusal()
    if not form.is_valid():
        return None
    options = dict(form.cleaned_data)
    job = services.import_create(owner_id=owner_id, upload=options.pop("file"), **options)
    handler.claim()
    return job


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
