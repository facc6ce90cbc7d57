"""Sample values for the template preview, from an import's first contact (registered in CampaignsConfig.ready:
templates may not read imports themselves)."""

from __future__ import annotations

from django.db.models import QuerySet

from imports.models import Contact, ImportJob, contact_values
from templates.sample_sources import SampleSource

# The select lists the newest; an owner with more imports than this previews with a recent one.
MAX_CHOICES = 50


def _choosable(owner_id: int) -> QuerySet[ImportJob]:
    # The imports a campaign of this owner may send to: their own, read to the end.
    return ImportJob.objects.filter(owner_id=owner_id, status=ImportJob.Status.SUCCESS)


def import_choices(owner_id: int) -> list[tuple[int, str]]:
    jobs = _choosable(owner_id).order_by("-id").values_list("id", "original_filename", "imported_rows")
    return [
        (pk, f"{filename} ({rows:,} contact{'' if rows == 1 else 's'}, #{pk})")
        for pk, filename, rows in jobs[:MAX_CHOICES]
    ]


def first_contact_values(owner_id: int, import_id: int) -> dict[str, str] | None:
    """What the first contact of the import would be sent with, as the fan-out renders it."""
    if not _choosable(owner_id).filter(pk=import_id).exists():
        return None
    contact = (
        Contact.objects.filter(import_job_id=import_id).order_by("id").values_list("variables", "phone", "name").first()
    )
    if contact is None:
        return None
    variables, phone, name = contact
    return contact_values(variables, phone=phone, name=name)


source = SampleSource(choices=import_choices, values=first_contact_values)
