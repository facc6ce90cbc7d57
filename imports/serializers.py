from rest_framework import serializers

from imports.models import ImportJob


class ImportJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportJob
        fields = [
            "id",
            "status",
            "original_filename",
            "size_bytes",
            "sha256",
            "encoding",
            "delimiter",
            "default_region",
            "column_mapping",
            "total_rows",
            "imported_rows",
            "invalid_rows",
            "duplicate_rows",
            "failure_reason",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
