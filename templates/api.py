from rest_framework import viewsets

from inboxerr.api import OwnedQuerysetMixin
from templates.models import MessageTemplate
from templates.serializers import MessageTemplateSerializer


class MessageTemplateViewSet(OwnedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = MessageTemplate.objects.all()
    serializer_class = MessageTemplateSerializer
    filterset_fields = ["is_active"]
