"""Token login and the current user."""

from __future__ import annotations

from django.contrib.auth import authenticate, get_user_model
from drf_spectacular.utils import extend_schema
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView


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
    """Exchange a username and password for an API token."""

    # No session authentication here, so no CSRF token is needed to log in.
    authentication_classes = [TokenAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=CredentialsSerializer, responses={201: TokenSerializer})
    def post(self, request):
        credentials = CredentialsSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        user = authenticate(request=request._request, **credentials.validated_data)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid username or password.")
        instance, token = AuthToken.objects.create(user=user)
        body = TokenSerializer({"token": token, "expiry": instance.expiry, "user": user}).data
        return Response(body, status=status.HTTP_201_CREATED)


class MeView(APIView):
    """The authenticated user. Read-only: nobody changes their own rights through the API."""

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)
