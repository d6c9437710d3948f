"""The name the import writer (``pheu/imports/services.py``) still uses for
:func:`pheu.scoring.services.prediction.refresh_samples`; the predictive model is
:mod:`pheu.scoring.services.prediction`. Nothing else imports this module: drop it once that import is
changed."""

from pheu.scoring.services.prediction import refresh_samples

__all__ = ["refresh_samples"]
