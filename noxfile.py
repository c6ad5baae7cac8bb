"""Nox sessions. Run inside the project's .venv (``./quickstart test`` calls them with --no-venv).

nox --no-venv -s lint typecheck data_schemas migrations tests_sqlite tests_postgres ui
"""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "none"
nox.options.reuse_existing_virtualenvs = True


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy: strict on shared/, the project's settings elsewhere."""
    session.run("mypy")


@nox.session
def data_schemas(session: nox.Session) -> None:
    """Every file in form_templates/ and device_profiles/ validates against its schema."""
    session.run("python", "-m", "shared.schemas.check", "form_templates", "device_profiles")


@nox.session
def migrations(session: nox.Session) -> None:
    """The Alembic migrations produce exactly the tables the ORM models describe."""
    session.run("python", "-m", "server", "db", "check")


@nox.session
def tests_sqlite(session: nox.Session) -> None:
    """All tests that need neither PostgreSQL nor Qt widgets, on SQLite."""
    session.run("pytest", "-q", "-m", "not postgres and not ui", *session.posargs)


@nox.session
def tests_postgres(session: nox.Session) -> None:
    """The PostgreSQL tests (RLS, same code on PostgreSQL). Fails, never skips, when PG is down."""
    env = {"MADOGUCHI_REQUIRE_PG": "1"}
    env["MADOGUCHI_TEST_PG_URL"] = os.environ.get(
        "MADOGUCHI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    session.run("pytest", "-q", "-m", "postgres", *session.posargs, env=env)


@nox.session
def ui(session: nox.Session) -> None:
    """Qt widget tests offscreen (pytest-qt)."""
    session.run("pytest", "-q", "-m", "ui", *session.posargs, env={"QT_QPA_PLATFORM": "offscreen"})
