"""The user admin, with the project's rule that an unchanged save changes nothing."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm

from newsroom.forms import KeepsUnchangedTimes

User = get_user_model()


class UserChangeForm(KeepsUnchangedTimes, DjangoUserChangeForm):
    pass


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
