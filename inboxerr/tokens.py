"""API tokens (django-rest-knox): made at login, at most API_TOKENS_PER_USER live for a user (the oldest
dropped), ended by logging out, and all of a user's ended when their password changes or the account is
deactivated; each shows when it was last used."""

from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from knox.models import AuthToken

from inboxerr.models import TokenUse

# A token's last use is written at most this often (per process: the cache is local without Redis).
USE_RESOLUTION_SECONDS = 60


def live_tokens(*, user_id: int) -> QuerySet[AuthToken]:
    return AuthToken.objects.filter(user_id=user_id).filter(Q(expiry__isnull=True) | Q(expiry__gt=timezone.now()))


@transaction.atomic
def token_create(*, user_id: int) -> tuple[AuthToken, str]:
    """A new token (the plain text is in the answer only); past the cap, the user's oldest tokens end."""
    # The user's row, locked: two logins at once cannot both pass the cap.
    user = get_user_model().objects.select_for_update().get(pk=user_id)
    AuthToken.objects.filter(user_id=user_id, expiry__lte=timezone.now()).delete()
    keep = settings.API_TOKENS_PER_USER - 1
    oldest = live_tokens(user_id=user_id).order_by("-created").values_list("digest", flat=True)[keep:]
    AuthToken.objects.filter(digest__in=list(oldest)).delete()
    instance, token = AuthToken.objects.create(user)
    return instance, token


def token_end(*, token: AuthToken) -> None:
    token.delete()


def tokens_end(*, user_id: int) -> int:
    """End every token of the user (logout-all, a new password, a deactivated account); how many."""
    return AuthToken.objects.filter(user_id=user_id).delete()[1].get(AuthToken._meta.label, 0)


def note_use(token: AuthToken) -> None:
    """Record that `token` authenticated a request now, at most once a minute."""
    if cache.add(f"token-use:{token.digest[:32]}", 1, timeout=USE_RESOLUTION_SECONDS):
        # A token ended by another request since this one read it: nothing to note.
        with contextlib.suppress(IntegrityError), transaction.atomic():
            TokenUse.objects.update_or_create(token_id=token.digest, defaults={"last_used_at": timezone.now()})


# --- A changed password or a deactivated account ends the tokens ---------------------------------
# These are model signals because there is no one service a password changes through: the admin's
# forms, `manage.py changepassword`, `create_api_user --reset-password` and user code all save the user.


def remember_credentials(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """pre_save of the user: note whether this save changes the password or deactivates the account."""
    if instance.pk is None:
        return
    before = type(instance)._default_manager.filter(pk=instance.pk).values("password", "is_active").first()
    instance._ends_tokens = bool(before) and (
        (before["password"] != instance.password and not _rehash(instance, update_fields))
        or (before["is_active"] and not instance.is_active)
    )


def _rehash(instance: Any, update_fields: Any) -> bool:
    """The same password stored again under newer hasher settings: a login re-hashes it (check_password
    saves only the password, and has forgotten the raw one, which set_password keeps until the save)."""
    return update_fields is not None and set(update_fields) == {"password"} and instance._password is None


def end_tokens_after_credentials_change(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """post_save of the user: their tokens end, in the save's own transaction (rolled back with it; a token
    made later in that transaction, as `create_api_user --reset-password` makes one, is kept)."""
    if getattr(instance, "_ends_tokens", False):
        instance._ends_tokens = False
        tokens_end(user_id=instance.pk)
