import os
import sys

from django.core.wsgi import get_wsgi_application

from newsroom.env import ConfigError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

try:
    application = get_wsgi_application()
except ConfigError as error:
    # One clear line for the operator rather than a traceback per worker.
    sys.stderr.write(f"newsroom: configuration error: {error}\n")
    sys.exit(1)
