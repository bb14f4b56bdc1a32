"""Queue database schema (SQLAlchemy Core): one definition for SQLite and PostgreSQL.

`SCHEMA_VERSION` is stored in `schema_version`; the `migrate` command (forms_app.storage.migrations)
creates missing tables and applies numbered upgrades so an existing queue survives an
upgrade of the app.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

# 2: ix_failed_at; 3: reviewers.session_key, outbox.request_id; 4: rate_counters,
# requests.idempotency_key; 5: votes (migrations)
SCHEMA_VERSION = 5

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)

# Support IDs are stored only as HMAC-SHA256(pepper, normalized ID), hex.
support_ids = Table(
    "support_ids",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("id_hash", String(64), nullable=False, unique=True),
    Column("holder_kind", String(16), nullable=False),  # customer | partner
    Column("product", String(32), nullable=False),  # product id from content/site.yml
    Column("expires_on", Date, nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("label", String(200), nullable=False, default=""),  # holder name, for staff
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Statuses: received, in_review, accepted, declined, duplicate, published.
requests = Table(
    "requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("receipt", String(32), nullable=False, unique=True),
    Column("form", String(16), nullable=False),  # feedback | docs
    Column("status", String(16), nullable=False, default="received"),
    Column("product", String(32)),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),  # main free text, for search
    Column("fields", JSON, nullable=False),  # every field of the form, as typed
    Column("support_id_hash", String(64), nullable=False),
    Column("contact_email", String(254)),
    Column("client_addr", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(64)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("duplicate_of", Integer, ForeignKey("requests.id")),
    Column("published_faq_id", String(80)),
    # Version 4: HMAC of the form instance (its CSRF token) and what was typed; a double
    # submit of the same form finds the first request by it (forms_app.public.queue).
    Column("idempotency_key", String(64)),
)
Index("ix_requests_idempotency", requests.c.idempotency_key, unique=True)
Index("ix_requests_status_created", requests.c.status, requests.c.created_at)
Index("ix_requests_form", requests.c.form)

# Append-only for facts: rows are never deleted and action, statuses, time and actor never
# change; retention only blanks personal data in `comment` (forms_app.review.retention).
request_history = Table(
    "request_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("requests.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),  # "system", "requester" or a reviewer
    Column("action", String(32), nullable=False),  # submitted, status, claim, release, ...
    Column("from_status", String(16)),
    Column("to_status", String(16)),
    Column("comment", Text, nullable=False, default=""),
)
Index("ix_history_request", request_history.c.request_id)

# Version 4: fixed-window counters of every limit kept in the queue database (wrong support
# IDs, reviewer logins) when Redis is not configured (forms_app.ratelimit.counters.SqlCounter).
rate_counters = Table(
    "rate_counters",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
Index("ix_rate_counters_expires", rate_counters.c.expires_at)

# Failed support-ID attempts of schema versions 1-3 (no longer written since version 4,
# which counts them in rate_counters); kept so older databases upgrade step by step.
failed_attempts = Table(
    "failed_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scope", String(8), nullable=False),
    Column("key", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
Index(
    "ix_failed_scope_key_at", failed_attempts.c.scope, failed_attempts.c.key, failed_attempts.c.at
)
# Version 2: pruning old attempts by time alone.
Index("ix_failed_at", failed_attempts.c.at)

reviewers = Table(
    "reviewers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Version 3: random key every review session cookie must carry; replaced on logout and
    # password change, so a copied cookie dies with them (forms_app.review.auth).
    Column("session_key", String(64), nullable=False, default=""),
)

# Notifications to reviewers: written in the submit transaction, delivered by a worker.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(16), nullable=False),  # email | webhook
    # Version 3: the request it is about (retention drops a purged request's rows).
    Column("request_id", Integer),
    Column("payload", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("sent_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_outbox_pending", outbox.c.sent_at, outbox.c.next_attempt_at)

# Version 5: "役に立ちましたか?" votes (forms_app.votes), one row per browser and question:
# a browser voting again replaces its row. `voter` is HMAC(SECRET_KEY, the random id in
# the browser's signed cookie), so the table alone cannot be matched to a cookie; no
# address or other request data is kept. Retention blanks `voter` (the vote still counts,
# the browser can no longer change it) of votes last changed before the cutoff.
votes = Table(
    "votes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("question_id", String(80), nullable=False),
    Column("voter", String(64)),
    Column("helpful", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("voter IS NULL OR length(voter) = 64", name="ck_votes_voter"),
)
Index("ix_votes_question_voter", votes.c.question_id, votes.c.voter, unique=True)
Index("ix_votes_updated", votes.c.updated_at)
