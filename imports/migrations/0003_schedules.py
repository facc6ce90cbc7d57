"""The import watchdog and the daily clean-up, as django-q2 schedules (idempotent)."""

from django.db import migrations

SCHEDULES = [
    # name, func, schedule_type, minutes
    ("imports: requeue stalled imports", "imports.tasks.requeue_stalled_imports", "I", 5),
    ("imports: clean up files and expired jobs", "imports.tasks.cleanup_imports", "D", None),
]


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, schedule_type, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": schedule_type, "minutes": minutes, "repeats": -1}
        )


def remove(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[name for name, *_ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0002_import_options_and_heartbeat"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]
