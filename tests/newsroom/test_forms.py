from datetime import UTC, datetime, timedelta

import pytest
from django import forms
from django.contrib.admin.widgets import AdminSplitDateTime
from django.utils import timezone

from articles.models import Note
from newsroom.forms import KeepsUnchangedTimes
from tests.factories import NoteFactory

pytestmark = pytest.mark.django_db


class NoteForm(KeepsUnchangedTimes, forms.ModelForm):
    class Meta:
        model = Note
        fields = ["kind", "text", "created_at"]
        field_classes = {"created_at": forms.SplitDateTimeField}
        widgets = {"created_at": AdminSplitDateTime}


def posted(note, *, at=None):
    local = timezone.localtime(at or note.created_at)
    return {
        "kind": note.kind,
        "text": note.text,
        "created_at_0": local.strftime("%Y-%m-%d"),
        "created_at_1": local.strftime("%H:%M:%S"),
    }


def test_an_untouched_time_keeps_its_microseconds():
    note = NoteFactory(created_at=timezone.now().replace(microsecond=123456))
    form = NoteForm(posted(note), instance=note)
    assert form.is_valid(), form.errors
    assert form.save().created_at.microsecond == 123456


def test_an_edited_time_is_saved_as_typed():
    note = NoteFactory(created_at=timezone.now().replace(microsecond=123456))
    typed = (note.created_at - timedelta(hours=2)).replace(microsecond=0)
    form = NoteForm(posted(note, at=typed), instance=note)
    assert form.is_valid(), form.errors
    assert form.save().created_at == typed


def test_a_time_a_second_later_is_an_edit_too():
    note = NoteFactory(created_at=datetime(2026, 3, 1, 9, 0, 0, 500000, tzinfo=UTC))
    form = NoteForm(posted(note, at=note.created_at + timedelta(seconds=1)), instance=note)
    assert form.is_valid(), form.errors
    assert form.save().created_at == datetime(2026, 3, 1, 9, 0, 1, tzinfo=UTC)
