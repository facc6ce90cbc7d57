"""The dispatcher's safety net: every minute, release expired leases and send what is due (idempotent)."""

from django.db import migrations

from inboxerr.schedules import DJANGO_Q_MIGRATION, schedules_operation


class Migration(migrations.Migration):
    dependencies = [("messaging", "0004_dispatcher_state"), DJANGO_Q_MIGRATION]

    operations = [
        schedules_operation(
            ("messaging: release expired leases, send due messages", "messaging.tasks.dispatch_tick", "I", 1)
        )
    ]
