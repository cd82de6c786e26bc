"""What every admin form of the project shares."""

import datetime


class KeepsUnchangedTimes:
    """A ModelForm mixin: a time nobody touched keeps its stored precision.

    Django's date-time widgets show whole seconds, so a form posted back unchanged
    would write the shown value and trim the microseconds stored by `timezone.now()`:
    an unchanged save must change nothing. A time that was edited is saved as typed.
    """

    def _post_clean(self):
        for name in self.fields:
            # Not get_initial_for_field(): it drops the microseconds for the widget.
            stored = self.initial.get(name)
            submitted = self.cleaned_data.get(name)
            if (
                isinstance(stored, datetime.datetime)
                and isinstance(submitted, datetime.datetime)
                and stored != submitted
                and stored.replace(microsecond=0) == submitted
            ):
                self.cleaned_data[name] = stored
        super()._post_clean()
