import pytest

from tests.smtp import mailers_for, start_sink


@pytest.fixture(autouse=True)
def newsletter_settings(settings, tmp_path):
    """No throttling or back-off waits in tests unless a test asks for them."""
    settings.NEWSLETTER_JOURNAL_DIR = str(tmp_path / "journal")
    settings.NEWSLETTER_MAX_PER_SECOND = 0
    settings.NEWSLETTER_RETRY_SECONDS = 0
    settings.SITE_URL = "http://testserver"


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server (aiosmtpd) on 127.0.0.1; settings.MAILERS points at it."""
    sink, controller = start_sink()
    settings.MAILERS = mailers_for(controller.port)
    yield sink
    controller.stop()
