from rest_framework import viewsets

from campaigns.models import Campaign
from campaigns.serializers import CampaignSerializer
from inboxerr.api import OwnedQuerysetMixin


class CampaignViewSet(OwnedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Campaign.objects.all()
    serializer_class = CampaignSerializer
    filterset_fields = ["status"]
