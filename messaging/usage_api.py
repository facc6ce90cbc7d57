"""A user's own sending: how much of their quota is used, and bursts held for staff's review."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging import quotas
from messaging.models import SendingReview


class PeriodUsageSerializer(serializers.Serializer):
    used = serializers.IntegerField(help_text="SMS parts sent (or queued as single sends and batches) so far.")
    limit = serializers.IntegerField(allow_null=True, help_text="Null: unlimited.")
    left = serializers.IntegerField(allow_null=True)
    resets_at = serializers.DateTimeField()


class ReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = SendingReview
        fields = ["calling_code", "day", "status", "reason", "opened_at", "decided_at"]
        read_only_fields = fields


class UsageSerializer(serializers.Serializer):
    day = PeriodUsageSerializer()
    month = PeriodUsageSerializer()
    reviews = ReviewSerializer(many=True, help_text="Bursts held for staff's review: open ones and the last decided.")


class UsageView(APIView):
    @extend_schema(responses={200: UsageSerializer})
    def get(self, request):
        """Your SMS parts this day and month against your quota (set by staff; a send over it answers 429 with
        Retry-After, a campaign pauses until the reset), and any burst of sends held for review."""
        reviews = SendingReview.objects.filter(owner=request.user).order_by("-opened_at")[:10]
        return Response(UsageSerializer({**quotas.usage(request.user.pk), "reviews": reviews}).data)
