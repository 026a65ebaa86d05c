"""Words shown to people for stored codes (statuses, timeline events).

The values are lazy strings: each is translated when it is shown, in the
language of the request.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.models import ComplaintStatus, EventKind

STATUS_LABELS = {
    ComplaintStatus.SUBMITTED: _l("Submitted"),
    ComplaintStatus.ACKNOWLEDGED: _l("Acknowledged"),
    ComplaintStatus.IN_PROGRESS: _l("In progress"),
    ComplaintStatus.RESOLVED: _l("Resolved"),
    ComplaintStatus.CLOSED: _l("Closed"),
    ComplaintStatus.REJECTED: _l("Rejected"),
    ComplaintStatus.DUPLICATE: _l("Duplicate"),
}

EVENT_LABELS = {
    EventKind.CREATED: _l("Complaint filed"),
    EventKind.IMPORTED: _l("Imported from earlier records"),
    EventKind.STATUS_CHANGE: _l("Status changed"),
    EventKind.COMMENT: _l("Update from the council"),
    EventKind.ASSIGNMENT: _l("Assigned to a department"),
    EventKind.MERGE: _l("Merged with another complaint"),
    EventKind.SUPPORT: _l("Reported again by another resident"),
}


def status_label(status: str | None) -> str:
    """Return the words for a status code, or the code itself if unknown."""
    if status is None:
        return ""
    return str(STATUS_LABELS.get(status, status))


def event_label(kind: str) -> str:
    """Return the words for a timeline event kind."""
    return str(EVENT_LABELS.get(kind, kind))
