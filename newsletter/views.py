from django.http import Http404
from django.shortcuts import render


def signup(request):
    return render(request, "newsletter/signup.html")


def confirm(request, token):
    raise Http404


def unsubscribe(request, token):
    raise Http404
