from rest_framework import viewsets

from imports.models import ImportJob
from imports.serializers import ImportJobSerializer
from inboxerr.api import OwnedQuerysetMixin


class ImportJobViewSet(OwnedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = ImportJob.objects.all()
    serializer_class = ImportJobSerializer
    filterset_fields = ["status"]
