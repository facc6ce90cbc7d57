"""The import watchdog and the daily clean-up, as django-q2 schedules (idempotent)."""

from django.db import migrations

from inboxerr.schedules import DJANGO_Q_MIGRATION, schedules_operation


class Migration(migrations.Migration):
    dependencies = [("imports", "0002_import_options_and_heartbeat"), DJANGO_Q_MIGRATION]

    operations = [
        schedules_operation(
            ("imports: requeue stalled imports", "imports.tasks.requeue_stalled_imports", "I", 5),
            ("imports: clean up files and expired jobs", "imports.tasks.cleanup_imports", "D", None),
        )
    ]
