"""The campaign clock: every minute, start due campaigns and requeue lost work (idempotent)."""

from django.db import migrations

from inboxerr.schedules import DJANGO_Q_MIGRATION, schedules_operation


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0002_fanout_and_autostart"), DJANGO_Q_MIGRATION]

    operations = [
        schedules_operation(("campaigns: start due campaigns, requeue lost fan-outs", "campaigns.tasks.tick", "I", 1))
    ]
