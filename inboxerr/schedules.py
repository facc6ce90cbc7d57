"""django-q2 schedules as data migrations: each app declares its own, created idempotently."""

from __future__ import annotations

from django.db import migrations

# The django_q migration the Schedule table is known from.
DJANGO_Q_MIGRATION = ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")


def schedules_operation(*schedules: tuple[str, str, str, int | None]) -> migrations.RunPython:
    """A RunPython creating (or updating) each (name, func, schedule_type, minutes), and deleting them on reverse."""

    def create(apps, schema_editor):
        Schedule = apps.get_model("django_q", "Schedule")
        for name, func, schedule_type, minutes in schedules:
            Schedule.objects.update_or_create(
                name=name, defaults={"func": func, "schedule_type": schedule_type, "minutes": minutes, "repeats": -1}
            )

    def remove(apps, schema_editor):
        apps.get_model("django_q", "Schedule").objects.filter(name__in=[s[0] for s in schedules]).delete()

    return migrations.RunPython(create, remove)
