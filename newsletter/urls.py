from django.urls import path

from newsletter import views
from newsletter.bounces import webhooks

app_name = "newsletter"

urlpatterns = [
    path("", views.signup, name="signup"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # Bounce and complaint notifications from sending providers (README, "Bounces and
    # complaints"); each answers 404 until its secret is set.
    path("webhooks/ses/", webhooks.ses, name="webhook-ses"),
    path("webhooks/postmark/", webhooks.postmark, name="webhook-postmark"),
    path("webhooks/mailgun/", webhooks.mailgun, name="webhook-mailgun"),
    path("webhooks/sendgrid/", webhooks.sendgrid, name="webhook-sendgrid"),
]
