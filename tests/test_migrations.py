"""The Alembic migrations make exactly the schema of backend/models.py, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine

from backend import models as m
from backend.db import BASELINE, current_revision, make_engine, make_sessionmaker, upgrade
from tests.conftest import _postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_databases(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[Engine, Engine]]:
    """Two empty databases of one kind: one for the migrations, one for create_all."""
    if request.param == "sqlite":
        engines = (make_engine(f"sqlite:///{tmp_path / 'a.db'}"), make_engine(f"sqlite:///{tmp_path / 'b.db'}"))
        yield engines
        for e in engines:
            e.dispose()
        return
    made = [_postgres_url(), _postgres_url()]
    engines = (make_engine(made[0][2]), make_engine(made[1][2]))
    yield engines
    for e in engines:
        e.dispose()
    for admin, name, _ in made:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def schema(engine: Engine) -> dict[str, Any]:
    """Tables with their columns, keys and indexes, as the database itself reports them."""
    found = inspect(engine)
    out = {}
    for table in sorted(set(found.get_table_names()) - {"alembic_version"}):
        out[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)],
            "primary_key": found.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in found.get_foreign_keys(table)
            ),
            "unique": sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in found.get_indexes(table)
            ),
        }
    return out


def test_migrations_make_the_schema_create_all_made(empty_databases: tuple[Engine, Engine]) -> None:
    migrated, created = empty_databases
    upgrade(migrated)
    m.Base.metadata.create_all(created)
    assert schema(migrated) == schema(created)
    assert len(schema(migrated)) == len(m.Base.metadata.tables)


def test_migrated_schema_matches_the_models(empty_databases: tuple[Engine, Engine]) -> None:
    migrated, _ = empty_databases
    upgrade(migrated)
    with migrated.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), m.Base.metadata)
    assert diff == []


def test_a_database_made_before_migrations_is_adopted_with_its_rows(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, BASELINE)  # the schema the set-up's create_all made before migrations, without their table
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(
            text("INSERT INTO areas (code, name, district, streets) VALUES ('A01', '城东区一网格', '城东区', '[]')")
        )
    upgrade(engine)
    assert current_revision(engine) is not None and current_revision(engine) >= BASELINE
    with make_sessionmaker(engine)() as s:
        assert s.scalars(select(m.Area.name)).all() == ["城东区一网格"]
    upgrade(engine)  # at head already: nothing to do
    engine.dispose()


def test_the_set_up_migrates_seeds_and_makes_demo_logins_only_outside_production(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    from backend.contact_centre import AgentStore

    url = f"sqlite:///{tmp_path / 'setup.db'}"
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        "P95598_DB_URL": url,
        "P95598_MODE": "",
        "P95598_DEMO_AGENTS": "1",
        "P95598_DEMO_PASSWORD": "set-up-test-pass",
    }
    run = lambda *args, **more: subprocess.run(
        [sys.executable, "-m", "backend", *args], env={**env, **more}, capture_output=True, text=True, timeout=120
    )
    refused = run("migrate", P95598_MODE="production")
    assert refused.returncode != 0 and "P95598_DEMO_AGENTS=0" in refused.stderr
    assert not (tmp_path / "setup.db").exists()
    done = run("seed", "--if-empty", "--customers", "40")
    assert done.returncode == 0, done.stderr[-800:]
    engine = make_engine(url)
    agents = AgentStore(make_sessionmaker(engine))
    assert current_revision(engine) is not None
    assert agents.authenticate("1001", "set-up-test-pass") is not None and agents.agent_count() == 4
    quality = agents.authenticate("9101", "set-up-test-pass")  # 质检员: the inspection queue, no cases
    assert quality is not None and quality.role == "quality"
    assert run("seed", "--if-empty").returncode == 0 and agents.agent_count() == 4  # idempotent
    engine.dispose()
