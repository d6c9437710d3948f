"""The WSGI application (gunicorn ``pheu.wsgi:application``)."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pheu.settings")
application = get_wsgi_application()

# Load the URLs and views now rather than on the first request, then move everything loaded so far (it lives
# as long as the process) out of the garbage collector's sight: a full collection no longer walks Django's
# ~140,000 objects, which paused a web process for ~45 ms now and then (a slow answer at the tail).
get_resolver().url_patterns  # noqa: B018  (the property imports the URLconf and the views)
gc.freeze()
