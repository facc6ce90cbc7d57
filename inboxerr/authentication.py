"""The API's token authentication. A module of its own: DRF imports it from settings while it loads its
views, so it must import no DRF view itself."""

from __future__ import annotations

from typing import Any

from knox.auth import TokenAuthentication
from knox.models import AuthToken

from inboxerr import tokens


class ApiTokenAuthentication(TokenAuthentication):
    """knox's token check, noting when each token was last used."""

    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        user, auth_token = super().authenticate_credentials(token)
        tokens.note_use(auth_token)
        return user, auth_token
