"""Backups of the whole database, restore into an empty one, verification and pruning.

A backup is one tar file holding ``manifest.json`` and the database: PostgreSQL as a
``pg_dump`` custom-format archive, SQLite as a copy made with its online backup API. The
manifest records the time, the dialect, the schema revision, the size and SHA-256 of the
database file and the row count of every table, taken from the same snapshot as the copy
(PostgreSQL: an exported snapshot that ``pg_dump --snapshot`` reuses). ``verify_backup``
restores into a scratch database and compares those counts; ``restore_backup`` refuses a
database that already holds tables unless forced, then migrates to head.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, make_url

from socstat.models.base import utcnow
from socstat.settings import get_settings

MANIFEST = "manifest.json"
PG_ARCHIVE = "database.dump"
SQLITE_FILE = "database.sqlite"
FORMAT_VERSION = 1
_CHUNK = 1 << 20


class BackupError(RuntimeError):
    """A backup, restore or verification that cannot be done; the message says why."""


@dataclass(frozen=True)
class BackupManifest:
    created_at: str
    dialect: str
    schema_revision: str
    database_file: str
    size_bytes: int
    sha256: str
    row_counts: dict[str, int]
    format_version: int = FORMAT_VERSION

    @classmethod
    def from_json(cls, raw: bytes) -> BackupManifest:
        try:
            data = json.loads(raw)
            return cls(**data)
        except (ValueError, TypeError) as exc:
            raise BackupError(f"повреждённый {MANIFEST}: {exc}") from exc


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: BackupManifest
    pruned: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class VerifyResult:
    path: Path
    ok: bool
    mismatches: dict[str, tuple[int, int]]  # table → (in manifest, restored)
    tables: int
    rows: int


# --- making a backup -----------------------------------------------------------------


def default_backup_dir() -> Path:
    settings = get_settings()
    return settings.backup_dir or settings.data_dir / "backups"


def create_backup(*, database_url: str | None = None, out: Path | None = None) -> BackupResult:
    """Write a backup of the database to ``out`` (a file, or a folder to name one in)."""
    url = make_url(database_url or get_settings().effective_database_url)
    target = _target_path(out)
    with tempfile.TemporaryDirectory(prefix="socstat-backup-") as tmp:
        work = Path(tmp)
        if url.get_backend_name() == "postgresql":
            db_file, counts, revision = _dump_postgres(url, work / PG_ARCHIVE)
        else:
            db_file, counts, revision = _copy_sqlite(url, work / SQLITE_FILE)
        manifest = BackupManifest(
            created_at=utcnow().isoformat(),
            dialect=url.get_backend_name(),
            schema_revision=revision,
            database_file=db_file.name,
            size_bytes=db_file.stat().st_size,
            sha256=_sha256(db_file),
            row_counts=counts,
        )
        (work / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2), encoding="utf-8")
        partial = target.with_name(target.name + ".part")
        with tarfile.open(partial, "w") as archive:
            archive.add(work / MANIFEST, arcname=MANIFEST)
            archive.add(db_file, arcname=db_file.name)
        os.chmod(partial, 0o600)
        partial.replace(target)
    return BackupResult(path=target, manifest=manifest)


def _target_path(out: Path | None) -> Path:
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    name = f"socstat-{stamp}.tar"
    if out is None:
        folder = default_backup_dir()
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name
    if out.is_dir():
        return out / name
    if not out.parent.is_dir():
        raise BackupError(f"папка {out.parent} не существует")
    return out


def _dump_postgres(url: URL, archive: Path) -> tuple[Path, dict[str, int], str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            # One snapshot for the counts and for pg_dump, so the manifest matches the dump.
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts = _row_counts(conn)
            revision = _schema_revision(conn)
            _run(
                [
                    _pg_tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={archive}",
                ],
                url,
            )
            conn.rollback()
    finally:
        engine.dispose()
    return archive, counts, revision


def _copy_sqlite(url: URL, copy: Path) -> tuple[Path, dict[str, int], str]:
    source_path = url.database or ""
    if not source_path or source_path == ":memory:" or not Path(source_path).exists():
        raise BackupError(f"файл базы SQLite не найден: {source_path or '(не задан)'}")
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    engine = create_engine(f"sqlite:///{copy}")
    try:
        with engine.connect() as conn:
            return copy, _row_counts(conn), _schema_revision(conn)
    finally:
        engine.dispose()


# --- restoring -----------------------------------------------------------------------


def read_manifest(path: Path) -> BackupManifest:
    with _open_archive(path) as archive:
        return _manifest_of(archive)


def restore_backup(path: Path, *, database_url: str | None = None, force: bool = False) -> str:
    """Restore ``path`` into the database, then migrate it to head; returns its revision."""
    from socstat.migrations import upgrade_database

    url = make_url(database_url or get_settings().effective_database_url)
    with tempfile.TemporaryDirectory(prefix="socstat-restore-") as tmp:
        manifest, db_file = _extract(path, Path(tmp))
        if manifest.dialect != url.get_backend_name():
            raise BackupError(
                f"копия сделана из {manifest.dialect}, а база назначения — {url.get_backend_name()}"
            )
        tables = _existing_tables(url)
        if tables and not force:
            raise BackupError(
                f"база назначения не пуста ({len(tables)} таблиц); "
                "восстановление поверх неё — только с --force"
            )
        if manifest.dialect == "postgresql":
            _restore_postgres(url, db_file, clean=bool(tables))
        else:
            _restore_sqlite(url, db_file)
    rendered = url.render_as_string(hide_password=False)
    upgrade_database(rendered)
    return manifest.schema_revision


def verify_backup(path: Path, *, database_url: str | None = None) -> VerifyResult:
    """Restore into a scratch database beside the configured one and compare row counts."""
    url = make_url(database_url or get_settings().effective_database_url)
    manifest = read_manifest(path)
    if manifest.dialect != url.get_backend_name():
        raise BackupError(
            f"копия сделана из {manifest.dialect}; для проверки нужна база того же вида"
        )
    with _scratch_database(url) as scratch:
        with tempfile.TemporaryDirectory(prefix="socstat-verify-") as tmp:
            _, db_file = _extract(path, Path(tmp))
            if manifest.dialect == "postgresql":
                _restore_postgres(scratch, db_file, clean=False)
            else:
                _restore_sqlite(scratch, db_file)
        engine = create_engine(scratch)
        try:
            with engine.connect() as conn:
                restored = _row_counts(conn)
        finally:
            engine.dispose()
    names = set(manifest.row_counts) | set(restored)
    mismatches = {
        name: (manifest.row_counts.get(name, -1), restored.get(name, -1))
        for name in sorted(names)
        if manifest.row_counts.get(name) != restored.get(name)
    }
    return VerifyResult(
        path=path,
        ok=not mismatches,
        mismatches=mismatches,
        tables=len(restored),
        rows=sum(restored.values()),
    )


def _extract(path: Path, into: Path) -> tuple[BackupManifest, Path]:
    with _open_archive(path) as archive:
        manifest = _manifest_of(archive)
        member = _member(archive, manifest.database_file)
        source = archive.extractfile(member)
        if source is None:
            raise BackupError(f"в копии нет файла {manifest.database_file}")
        db_file = into / Path(manifest.database_file).name
        with source, db_file.open("wb") as target:
            shutil.copyfileobj(source, target, _CHUNK)
    if _sha256(db_file) != manifest.sha256:
        raise BackupError("контрольная сумма не совпадает: копия повреждена")
    return manifest, db_file


@contextmanager
def _open_archive(path: Path) -> Iterator[tarfile.TarFile]:
    if not path.is_file():
        raise BackupError(f"файл {path} не найден")
    try:
        with tarfile.open(path, "r") as archive:
            yield archive
    except tarfile.TarError as exc:
        raise BackupError(f"{path} — не резервная копия socstat ({exc})") from exc


def _manifest_of(archive: tarfile.TarFile) -> BackupManifest:
    source = archive.extractfile(_member(archive, MANIFEST))
    if source is None:
        raise BackupError(f"в копии нет {MANIFEST}")
    with source:
        manifest = BackupManifest.from_json(source.read())
    if manifest.format_version > FORMAT_VERSION:
        raise BackupError("копия сделана более новой версией socstat")
    return manifest


def _member(archive: tarfile.TarFile, name: str) -> tarfile.TarInfo:
    try:
        member = archive.getmember(name)
    except KeyError as exc:
        raise BackupError(f"в копии нет файла {name}") from exc
    if not member.isfile():
        raise BackupError(f"{name} в копии — не файл")
    return member


def _restore_postgres(url: URL, archive: Path, *, clean: bool) -> None:
    command = [
        _pg_tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        f"--dbname={url.database}",
    ]
    if clean:
        command += ["--clean", "--if-exists"]
    _run([*command, str(archive)], url)


def _restore_sqlite(url: URL, copy: Path) -> None:
    target_path = url.database or ""
    if not target_path or target_path == ":memory:":
        raise BackupError("для SQLite укажите файл базы назначения")
    Path(target_path).parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(copy)
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _existing_tables(url: URL) -> list[str]:
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return []
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return inspect(conn).get_table_names()
    finally:
        engine.dispose()


@contextmanager
def _scratch_database(url: URL) -> Iterator[URL]:
    if url.get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory(prefix="socstat-verify-db-") as tmp:
            yield url.set(database=str(Path(tmp) / "verify.sqlite"))
        return
    name = f"socstat_verify_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# --- pruning -------------------------------------------------------------------------


def prune_backups(
    folder: Path, *, keep_daily: int, keep_weekly: int, keep_monthly: int
) -> list[Path]:
    """Delete backups outside the retention: the newest of each of the last N days, ISO
    weeks and months are kept. Returns what was deleted."""
    backups = sorted(_backups_in(folder), key=lambda item: item[0], reverse=True)
    keep: set[Path] = set()
    for count, bucket in (
        (keep_daily, lambda d: d.isoformat()),
        (keep_weekly, lambda d: "{}-{:02d}".format(*d.isocalendar()[:2])),
        (keep_monthly, lambda d: f"{d.year}-{d.month:02d}"),
    ):
        seen: list[str] = []
        for moment, path in backups:
            key = bucket(moment.date())
            if key in seen:
                continue
            if len(seen) >= count:
                break
            seen.append(key)
            keep.add(path)
    removed = [path for _, path in backups if path not in keep]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def latest_backup(folder: Path | None = None) -> tuple[datetime, Path] | None:
    backups = _backups_in(folder or default_backup_dir())
    return max(backups, key=lambda item: item[0]) if backups else None


def _backups_in(folder: Path) -> list[tuple[datetime, Path]]:
    found = []
    if not folder.is_dir():
        return found
    for path in folder.glob("socstat-*.tar"):
        try:
            moment = datetime.strptime(path.stem.removeprefix("socstat-"), "%Y%m%d-%H%M%S")
        except ValueError:
            continue
        found.append((moment, path))
    return found


def run_scheduled_backup(*, today: date | None = None) -> BackupResult:
    """The daily job: back up into the backup folder, then prune by the retention settings."""
    settings = get_settings()
    result = create_backup()
    pruned = prune_backups(
        result.path.parent,
        keep_daily=settings.backup_keep_daily,
        keep_weekly=settings.backup_keep_weekly,
        keep_monthly=settings.backup_keep_monthly,
    )
    return BackupResult(path=result.path, manifest=result.manifest, pruned=pruned)


# --- helpers -------------------------------------------------------------------------


def _row_counts(conn: Connection) -> dict[str, int]:
    names = sorted(inspect(conn).get_table_names())
    preparer = conn.dialect.identifier_preparer
    return {
        name: int(conn.execute(text(f"SELECT count(*) FROM {preparer.quote(name)}")).scalar_one())
        for name in names
    }


def _schema_revision(conn: Connection) -> str:
    if "alembic_version" not in inspect(conn).get_table_names():
        return ""
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"не найдена программа {name}: установите клиент PostgreSQL той же основной "
            "версии, что и сервер (Debian: apt-get install postgresql-client)"
        )
    return found


def _run(command: list[str], url: URL) -> None:
    """Run a libpq tool with the connection in the environment (never the password in argv)."""
    env = dict(os.environ)
    for variable, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            env[variable] = str(value)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        last = detail[-1] if detail else "ошибка"
        tool = Path(command[0]).name
        raise BackupError(last if last.startswith(f"{tool}:") else f"{tool}: {last}")
