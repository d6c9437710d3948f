"""Writes of leads and opportunities, one module per area; the record writes are re-exported here.

- ``records``: create and update records, stages, the domain preview;
- further modules (conversion, merge, outcome, saved filters) are imported from their own module;
- ``steps``: the seam through which scoring and assignment take part in these writes.
"""

from pheu.leads.models import EDITABLE_FIELDS
from pheu.leads.services.records import (
    PREVIEW_SAMPLE_SIZE,
    STAGE_FIELDS,
    DomainPreview,
    LeadSample,
    create_lead,
    create_stage,
    preview_domain,
    stages_for,
    update_lead,
    update_stage,
)

__all__ = [
    "EDITABLE_FIELDS",
    "PREVIEW_SAMPLE_SIZE",
    "STAGE_FIELDS",
    "DomainPreview",
    "LeadSample",
    "create_lead",
    "create_stage",
    "preview_domain",
    "stages_for",
    "update_lead",
    "update_stage",
]
