from rest_framework import viewsets

from inboxerr.api import OwnedQuerysetMixin
from inboxerr.pagination import IdCursorPagination
from messaging.models import Message
from messaging.serializers import MessageSerializer


class MessageViewSet(OwnedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Message.objects.all()
    serializer_class = MessageSerializer
    pagination_class = IdCursorPagination
    filterset_fields = ["status", "campaign"]
