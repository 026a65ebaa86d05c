"""ORM models: the system of record in PostgreSQL + PostGIS.

Geometries are stored in EPSG:4326 (``geo.crs.STORAGE_CRS``) with GiST indexes.
Ward sets are versioned: a re-import adds a new ``WardSet`` and marks it
current, and a complaint keeps pointing at the ward it was filed under.
"""

from __future__ import annotations

import enum
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class ComplaintStatus(enum.StrEnum):
    """Where a complaint is in its life."""

    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


OPEN_STATUSES = frozenset({
    ComplaintStatus.SUBMITTED, ComplaintStatus.ACKNOWLEDGED,
    ComplaintStatus.IN_PROGRESS,
})
CLOSED_STATUSES = frozenset(ComplaintStatus) - OPEN_STATUSES


class Channel(enum.StrEnum):
    """How a complaint reached us."""

    WEB = "web"
    OPEN311 = "open311"
    SMS = "sms"
    PHONE = "phone"
    IMPORT = "import"


class EventKind(enum.StrEnum):
    """What a complaint event records."""

    CREATED = "created"
    IMPORTED = "imported"
    STATUS_CHANGE = "status_change"
    COMMENT = "comment"
    ASSIGNMENT = "assignment"
    MERGE = "merge"
    SUPPORT = "support"


class StaffRole(enum.StrEnum):
    OPERATOR = "operator"
    ENGINEER = "engineer"
    DEPARTMENT = "department"
    PLANNER = "planner"
    ADMIN = "admin"


def _in_check(column: str, values: type[enum.StrEnum]) -> str:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({allowed})"


class Base(DeclarativeBase):
    pass


class WardSet(Base):
    """One import of ward boundaries; exactly one set is current."""

    __tablename__ = "ward_set"
    __table_args__ = (
        Index("ward_set_one_current", "is_current", unique=True,
              postgresql_where=text("is_current")),
    )

    ward_set_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    source: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Ward(Base):
    __tablename__ = "ward"
    __table_args__ = (
        UniqueConstraint("ward_set_id", "ward_code"),
        CheckConstraint("ST_IsValid(geom)", name="ward_geom_valid"),
        CheckConstraint("NOT ST_IsEmpty(geom)", name="ward_geom_not_empty"),
        Index("ward_geom_gist", "geom", postgresql_using="gist"),
    )

    ward_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ward_set_id: Mapped[int] = mapped_column(ForeignKey("ward_set.ward_set_id"))
    ward_code: Mapped[str] = mapped_column(Text)
    ward_name: Mapped[str] = mapped_column(Text)
    geom = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False
    )
    area_m2: Mapped[float] = mapped_column(Float)
    population: Mapped[int | None] = mapped_column(BigInteger)

    ward_set: Mapped[WardSet] = relationship()


class WardPart(Base):
    """Wards cut into small pieces (``ST_Subdivide``) for fast point lookups."""

    __tablename__ = "ward_part"
    __table_args__ = (
        Index("ward_part_geom_gist", "geom", postgresql_using="gist"),
    )

    ward_part_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ward_id: Mapped[int] = mapped_column(
        ForeignKey("ward.ward_id", ondelete="CASCADE"), index=True
    )
    ward_set_id: Mapped[int] = mapped_column(ForeignKey("ward_set.ward_set_id"))
    ward_code: Mapped[str] = mapped_column(Text)
    geom = mapped_column(
        Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False
    )


class Department(Base):
    __tablename__ = "department"

    department_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)


class Category(Base):
    __tablename__ = "category"
    __table_args__ = (
        CheckConstraint("sla_hours > 0", name="category_sla_positive"),
    )

    category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    group_slug: Mapped[str] = mapped_column(Text)
    group_name: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    default_department_id: Mapped[int] = mapped_column(
        ForeignKey("department.department_id")
    )
    sla_hours: Mapped[int] = mapped_column(Integer)
    attributes: Mapped[list] = mapped_column(JSONB, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    default_department: Mapped[Department] = relationship()


class RoutingRule(Base):
    """A ward-specific override of a category's department and SLA."""

    __tablename__ = "routing_rule"
    __table_args__ = (
        UniqueConstraint("category_id", "ward_code"),
        CheckConstraint("sla_hours IS NULL OR sla_hours > 0",
                        name="routing_rule_sla_positive"),
    )

    routing_rule_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.category_id"))
    ward_code: Mapped[str] = mapped_column(Text)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("department.department_id")
    )
    sla_hours: Mapped[int | None] = mapped_column(Integer)


class StaffUser(Base):
    __tablename__ = "staff_user"
    __table_args__ = (
        CheckConstraint(_in_check("role", StaffRole), name="staff_user_role"),
    )

    staff_user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(Text, unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    ward_code: Mapped[str | None] = mapped_column(Text)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.department_id")
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Complaint(Base):
    __tablename__ = "complaint"
    __table_args__ = (
        CheckConstraint(_in_check("status", ComplaintStatus),
                        name="complaint_status_known"),
        CheckConstraint(_in_check("channel", Channel),
                        name="complaint_channel_known"),
        CheckConstraint("source_status IS NULL OR "
                        + _in_check("source_status", ComplaintStatus),
                        name="complaint_source_status_known"),
        CheckConstraint("n_supporters >= 0", name="complaint_supporters"),
        Index("complaint_geom_gist", "geom", postgresql_using="gist"),
        Index("complaint_created_at", "created_at"),
        Index("complaint_ward_status", "ward_id", "status"),
        Index("complaint_department_status", "department_id", "status"),
        Index("complaint_category_created", "category_id", "created_at"),
        # The public map's usual question: open complaints in a box.
        Index("complaint_open_geom_gist", "geom", postgresql_using="gist",
              postgresql_where=text(
                  "status IN ('submitted', 'acknowledged', 'in_progress')"
                  " AND NOT location_pending")),
    )

    complaint_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tracking_id: Mapped[str] = mapped_column(String(14), unique=True)
    external_id: Mapped[str | None] = mapped_column(Text, unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.category_id"))
    source_category: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.ward_id"))
    department_id: Mapped[int] = mapped_column(
        ForeignKey("department.department_id")
    )
    status: Mapped[str] = mapped_column(Text, default=ComplaintStatus.SUBMITTED)
    channel: Mapped[str] = mapped_column(Text)
    reporter_name: Mapped[str | None] = mapped_column(Text)
    reporter_email: Mapped[str | None] = mapped_column(Text)
    reporter_phone: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duplicate_of: Mapped[int | None] = mapped_column(
        ForeignKey("complaint.complaint_id")
    )
    n_supporters: Mapped[int] = mapped_column(Integer, default=0)
    # Filed without a map (address or landmark text and a ward): the point is
    # a stand-in inside the ward until an operator places the pin.
    location_pending: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false"))
    attributes: Mapped[dict] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb"))
    reporter_locale: Mapped[str | None] = mapped_column(Text)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.api_key_id"))
    # For imported complaints: status and closing time in the source, from
    # which their public timeline starts (see migration 0004).
    source_status: Mapped[str | None] = mapped_column(Text)
    source_closed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True))

    category: Mapped[Category] = relationship()
    ward: Mapped[Ward] = relationship()
    department: Mapped[Department] = relationship()


class ComplaintEvent(Base):
    """Append-only history of a complaint; the public timeline comes from it."""

    __tablename__ = "complaint_event"
    __table_args__ = (
        CheckConstraint(_in_check("kind", EventKind), name="event_kind_known"),
        CheckConstraint("status IS NULL OR " + _in_check("status", ComplaintStatus),
                        name="event_status_known"),
        Index("complaint_event_complaint", "complaint_id", "created_at"),
    )

    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.complaint_id")
    )
    kind: Mapped[str] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.staff_user_id")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Photo(Base):
    """A photo of a complaint: resized, re-encoded, metadata stripped."""

    __tablename__ = "photo"
    __table_args__ = (
        UniqueConstraint("complaint_id", "position"),
        CheckConstraint("position BETWEEN 1 AND 3", name="photo_position"),
    )

    photo_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.complaint_id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(Text, unique=True)
    content_type: Mapped[str] = mapped_column(Text)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    n_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now())


class Supporter(Base):
    """Someone who reported the same problem again; gets its updates."""

    __tablename__ = "supporter"

    supporter_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.complaint_id"), index=True)
    name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now())


class ApiKey(Base):
    """An Open311 client allowed to file complaints; only a hash is kept."""

    __tablename__ = "api_key"

    api_key_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IdempotencyKey(Base):
    """A submission key already used, and the complaint or support it made."""

    __tablename__ = "idempotency_key"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.complaint_id"))
    action: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now())


class RateLimitWindow(Base):
    """Submissions counted per client address and fixed time window."""

    __tablename__ = "rate_limit_window"

    bucket: Mapped[str] = mapped_column(Text, primary_key=True)
    window_start: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), primary_key=True)
    n_hits: Mapped[int] = mapped_column(Integer)
