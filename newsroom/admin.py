"""The admin's site-wide parts: the publication's name, times in the newsroom's zone, and
the user admin with the project's rule that an unchanged save changes nothing."""

from datetime import datetime

from django.conf import settings
from django.contrib import admin
from django.contrib.admin import options, widgets
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.db import models
from django.utils import timezone

from newsroom.forms import KeepsUnchangedTimes

User = get_user_model()


def zone_abbreviation(value=None):
    """The zone's abbreviation at `value` (now when None): "BST" in July, "GMT" in January."""
    if value is None:
        value = timezone.now()
    elif timezone.is_naive(value):  # a form's value: already in the newsroom's zone
        value = value.replace(tzinfo=timezone.get_current_timezone())
    return timezone.localtime(value).strftime("%Z")


class ZonedSplitDateTime(widgets.AdminSplitDateTime):
    """The admin's date and time inputs, the time labelled with the newsroom's zone.

    Values are read and shown in settings.TIME_ZONE (Django converts to UTC for the
    database); the label says which zone, with the abbreviation in force on that date.
    """

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        moment = value if isinstance(value, datetime) else None
        abbreviation = zone_abbreviation(moment)
        zone = (
            abbreviation
            if abbreviation == settings.TIME_ZONE
            else f"{abbreviation}, {settings.TIME_ZONE}"
        )
        context["time_label"] = f"Time ({zone}):"
        return context


# Every date-and-time field of every ModelAdmin, the newsletter's included: the admin
# copies these defaults into each ModelAdmin's formfield_overrides.
options.FORMFIELD_FOR_DBFIELD_DEFAULTS[models.DateTimeField] = {
    "form_class": options.forms.SplitDateTimeField,
    "widget": ZonedSplitDateTime,
}

admin.site.site_header = settings.SITE_NAME
admin.site.site_title = f"{settings.SITE_NAME} admin"
admin.site.index_title = "Desk"


class UserChangeForm(KeepsUnchangedTimes, DjangoUserChangeForm):
    pass


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
