"""What assignment adds to the creation of a lead (:mod:`pheu.leads.services.steps`; registered in
``AssignmentConfig.ready``): real-time assignment, on when the settings say so (SPEC 5)."""

from __future__ import annotations

from functools import partial

from pheu.assignment.services import assign_new_lead, assign_unsaved_lead, new_assignment_row
from pheu.leads.services.steps import AfterInsert, NewLead


def assign_lead_in_real_time(new: NewLead) -> AfterInsert | None:
    """Phase ``OWNER``: decide the team and salesperson on the instance, so that the lead is inserted once
    with them, and its decision with it. Decided after the insert, in the database, when
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
    row = new_assignment_row(assignment)
    if row is not None:
        new.rows.append((row, "lead_id"))  # inserted with the lead
    return None
