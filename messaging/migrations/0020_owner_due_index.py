# Its indexes built and dropped concurrently by hand: the messages table may hold millions of rows.

from django.db import migrations, models
from django.db.models import Q

from inboxerr.index_operations import AddIndexConcurrently, RemoveIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CONCURRENTLY: sends and receipts go on meanwhile

    dependencies = [
        ("messaging", "0019_waiting_indexes"),
    ]

    operations = [
        # Claims now share a batch between owners, each owner's oldest first: by owner, then due time.
        AddIndexConcurrently(
            model_name="message",
            index=models.Index(
                fields=["owner", "next_attempt_at"],
                condition=Q(status="QUEUED", held=False),
                name="message_owner_due_idx",
            ),
        ),
        RemoveIndexConcurrently(model_name="message", name="message_due_idx"),
    ]
