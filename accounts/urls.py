from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.two_factor_settings, name="settings"),
    path("verify/", views.verify, name="verify"),
    path("app/", views.add_app, name="app"),
    path("recovery-codes/", views.recovery_codes, name="recovery-codes"),
    path("remove/", views.remove_device, name="remove-device"),
]
