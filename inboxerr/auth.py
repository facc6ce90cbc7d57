"""Token login, logout and the user's tokens; the current user."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.models import AuthToken
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inboxerr import tokens
from inboxerr.authentication import ApiTokenAuthentication
from inboxerr.throttling import ScopedClientThrottle


def user_id(request: Request) -> int:
    """The requesting user's id: the views that ask have refused anonymous requests already."""
    assert request.user.pk is not None
    return int(request.user.pk)


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "is_staff", "date_joined"]
        read_only_fields = fields


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Shown once; send it as `Authorization: Token <token>`.")
    expiry = serializers.DateTimeField(allow_null=True)
    user = UserSerializer()


class TokenCreateView(APIView):
    """Exchange a username and password for an API token. A user holds at most API_TOKENS_PER_USER live
    tokens: past that, logging in ends their oldest."""

    # No session authentication here, so no CSRF token is needed to log in.
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [ScopedClientThrottle]
    throttle_scope = "auth"

    @extend_schema(request=CredentialsSerializer, responses={201: TokenSerializer})
    def post(self, request: Request) -> Response:
        credentials = CredentialsSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        user = authenticate(request=request._request, **credentials.validated_data)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid username or password.")
        instance, token = tokens.token_create(user_id=user.pk)
        body = TokenSerializer({"token": token, "expiry": instance.expiry, "user": user}).data
        return Response(body, status=status.HTTP_201_CREATED)


class LogoutView(APIView):
    """End the token this request is made with."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        tokens.token_end(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    """End every token of the user, this one included (a lost laptop, a leaked script)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        tokens.tokens_end(user_id=user_id(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiTokenSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="token_key", help_text="The token's first characters, to tell it apart.")
    created_at = serializers.DateTimeField(source="created")
    expires_at = serializers.DateTimeField(source="expiry", allow_null=True)
    last_used_at = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField(help_text="This request is made with it.")

    class Meta:
        model = AuthToken
        fields = ["key", "created_at", "expires_at", "last_used_at", "current"]
        read_only_fields = fields

    def get_last_used_at(self, token: AuthToken) -> Any:
        use = getattr(token, "use", None)
        return serializers.DateTimeField().to_representation(use.last_used_at) if use else None

    def get_current(self, token: AuthToken) -> bool:
        request = self.context.get("request")
        return bool(request is not None and getattr(request.auth, "digest", None) == token.digest)


@extend_schema(responses=ApiTokenSerializer)
class TokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet[AuthToken]):
    """Your live API tokens, newest first, with when each was last used; DELETE ends one."""

    serializer_class = ApiTokenSerializer
    lookup_field = "token_key"
    lookup_value_regex = "[^/]+"
    pagination_class = None  # at most API_TOKENS_PER_USER

    def get_queryset(self) -> QuerySet[AuthToken]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return AuthToken.objects.none()
        return tokens.live_tokens(user_id=user_id(self.request)).select_related("use").order_by("-created")

    @extend_schema(responses={204: None, 404: OpenApiResponse(description="No token of yours has this key.")})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # A key is shared by two tokens only by a near-impossible chance; then both end.
        ended = self.get_queryset().filter(token_key=kwargs["token_key"])
        if not ended.exists():
            raise exceptions.NotFound("No token of yours has this key.")
        ended.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The authenticated user. Read-only: nobody changes their own rights through the API."""

    @extend_schema(responses=UserSerializer)
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)
