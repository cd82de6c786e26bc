from django.apps import AppConfig


class DeskConfig(AppConfig):
    """The editors' desk: the admin index for people with an editorial role."""

    name = "desk"
    verbose_name = "Desk"
