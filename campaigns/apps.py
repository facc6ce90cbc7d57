from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        # Campaigns hear of the other apps' events here, and tell them what they must respect:
        # imports and messaging never import campaigns.
        from campaigns import receivers
        from campaigns.message_sync import stopped_campaign_messages
        from imports.signals import import_finished
        from messaging.dispatcher.claims import hold_back_from_claims

        import_finished.connect(receivers.import_finished, dispatch_uid="campaigns.import_finished")
        hold_back_from_claims(stopped_campaign_messages())
