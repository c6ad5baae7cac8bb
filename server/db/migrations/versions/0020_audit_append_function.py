"""Audit append in one round trip on PostgreSQL: ``madoguchi_audit_append``.

Appending to a municipality's audit chain took four statements under the chain's lock (advisory
lock, read of the chain's end, insert, move of the head), each a round trip to the database —
and the lock is held until the commit, so on a busy machine every round trip lengthened the
per-municipality serial section (the portal's submission, concurrent searches' audit events).

The function does the same four steps inside the database. The caller sends the rows with their
hashes already computed (the chain's canonical JSON stays in Python, :mod:`server.domain.audit`)
for the chain end it expects; if the chain's end is another one (another process appended), the
function inserts nothing and answers the real end, still holding the lock, and the caller sends
again. It runs as the caller (SECURITY INVOKER): row-level security and the app role's
privileges apply unchanged. SQLite keeps the statements of before (no round trips there).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_FUNCTION = """
CREATE FUNCTION madoguchi_audit_append(
    p_lg_code text, p_expected_seq bigint, p_expected_hash text, p_rows jsonb
) RETURNS TABLE (head_seq bigint, head_hash text, appended boolean)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
DECLARE
    h_seq bigint;
    h_hash text;
    last_row jsonb;
BEGIN
    -- The same lock as the statements of before: appends of one municipality are serial.
    PERFORM pg_advisory_xact_lock(hashtext('audit:' || p_lg_code));
    SELECT e.seq, e.row_hash INTO h_seq, h_hash
        FROM audit_events e WHERE e.lg_code = p_lg_code ORDER BY e.seq DESC LIMIT 1;
    IF h_seq IS NULL THEN
        h_seq := 0;
        h_hash := repeat('0', 64);
    END IF;
    IF p_rows IS NULL OR jsonb_array_length(p_rows) = 0
       OR h_seq IS DISTINCT FROM p_expected_seq OR h_hash IS DISTINCT FROM p_expected_hash
       OR (p_rows -> 0 ->> 'seq')::bigint <> h_seq + 1 OR (p_rows -> 0 ->> 'prev_hash') <> h_hash THEN
        RETURN QUERY SELECT h_seq, h_hash, false;
        RETURN;
    END IF;
    INSERT INTO audit_events (
        id, lg_code, seq, occurred_at, user_id, username, terminal_id, client_ip, action,
        object_type, object_id, outcome, my_number_shown, details, prev_hash, row_hash
    )
    SELECT r.id, p_lg_code, r.seq, r.occurred_at, r.user_id, r.username, r.terminal_id, r.client_ip,
           r.action, r.object_type, r.object_id, r.outcome, r.my_number_shown, r.details,
           r.prev_hash, r.row_hash
    FROM jsonb_populate_recordset(NULL::audit_events, p_rows) AS r;
    last_row := p_rows -> -1;
    INSERT INTO audit_heads (lg_code, seq, row_hash, updated_at)
    VALUES (p_lg_code, (last_row ->> 'seq')::bigint, last_row ->> 'row_hash',
            (last_row ->> 'occurred_at')::timestamptz)
    ON CONFLICT (lg_code) DO UPDATE
        SET seq = excluded.seq, row_hash = excluded.row_hash, updated_at = excluded.updated_at;
    RETURN QUERY SELECT (last_row ->> 'seq')::bigint, last_row ->> 'row_hash', true;
END $$
"""


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return  # SQLite appends with plain statements (server/domain/audit/service.py)
    op.execute(_FUNCTION)


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION madoguchi_audit_append(text, bigint, text, jsonb)")
