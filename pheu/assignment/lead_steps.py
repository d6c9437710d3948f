"""What assignment adds to the creation of a lead (:mod:`pheu.leads.services.steps`; registered in
``AssignmentConfig.ready``): real-time assignment, on when the settings say so (SPEC 5)."""

from __future__ import annotations

from functools import partial

from pheu.assignment.services import assign_new_lead, assign_unsaved_lead, record_new_assignment
from pheu.leads.services.steps import AfterInsert, NewLead


def assign_lead_in_real_time(new: NewLead) -> AfterInsert | None:
    """Phase ``OWNER``: decide the team and salesperson on the instance, so that the lead is inserted once
    with them, and record the decision once it has its id. Decided after the insert, in the database, when
    its facts are not complete on the instance (page views wait for it: the rules may read them) or when its
    team merges duplicates on assignment (the merge needs the stored lead)."""
    if not new.settings.realtime_assignment:
        return None
    lead = new.lead
    if not new.facts_complete:
        return partial(assign_new_lead, lead=lead, tags=None)
    assignment = assign_unsaved_lead(lead=lead, tags=new.tags)
    if assignment.after_insert:
        return partial(assign_new_lead, lead=lead, tags=new.tags)
    if assignment.decision is None:
        return None
    return partial(record_new_assignment, lead, assignment)
