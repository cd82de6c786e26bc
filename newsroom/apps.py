from django.apps import AppConfig
from django.db.models.signals import post_migrate


class NewsroomConfig(AppConfig):
    name = "newsroom"
    verbose_name = "Newsroom"

    def ready(self):
        from newsroom.roles import sync_groups_after_migrate

        post_migrate.connect(sync_groups_after_migrate, dispatch_uid="newsroom-sync-groups")
