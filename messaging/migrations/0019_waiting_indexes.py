# Its indexes built concurrently by hand: the messages table may hold millions of rows.

from django.db import migrations, models
from django.db.models import Q

from inboxerr.index_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # built CONCURRENTLY: sends and receipts go on meanwhile

    dependencies = [
        ("messaging", "0018_quotas_quiet_hours_reviews"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="message",
            index=models.Index(
                fields=["campaign", "waiting"],
                condition=Q(status="QUEUED") & ~Q(waiting=""),
                name="message_waiting_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="message",
            index=models.Index(
                fields=["owner", "waiting"],
                condition=Q(status="QUEUED") & ~Q(waiting=""),
                name="message_owner_waiting_idx",
            ),
        ),
    ]
