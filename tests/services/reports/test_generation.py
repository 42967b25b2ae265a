"""Background generation: claim with a lease, nothing stays running after its process
died, a failure is shown with its reason and can be retried, two workers never both
generate one report."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from socstat.models import Report, ReportStatus, Source, Subscription, User, utcnow
from socstat.services.authz import PermissionDenied
from socstat.services.reports.generation import (
    INTERRUPTED,
    LEASE,
    MAX_ATTEMPTS,
    ReportError,
    claim,
    create_report,
    process_pending,
    report_dir,
    retry_report,
)

DAY = date(2026, 11, 9)


@pytest.fixture
def ann(session: Session, make_user) -> User:  # type: ignore[no-untyped-def]
    user = make_user("ann@example.org")
    for index in range(2):
        source = Source(external_id=str(100 + index), name=f"Клуб {index}")
        session.add(source)
        session.flush()
        session.add(Subscription(user_id=user.id, source_id=source.id, tags="клиент А"))
    session.commit()
    return user


def _report(session: Session, user: User, **kw) -> int:  # type: ignore[no-untyped-def]
    info = create_report(session, actor=user, kind="custom", start=DAY, end=DAY, **kw)
    session.commit()
    return info.id


def _get(session: Session, report_id: int) -> Report:
    session.expire_all()
    report = session.get(Report, report_id)
    assert report is not None
    return report


def test_created_pending_then_generated_with_files(session: Session, ann: User) -> None:
    report_id = _report(session, ann, formats=["xlsx", "csv"])
    assert _get(session, report_id).status == ReportStatus.PENDING
    assert process_pending() == [report_id]
    report = _get(session, report_id)
    assert report.status == ReportStatus.DONE and report.progress == 100
    assert [f["format"] for f in report.files] == ["xlsx", "csv"]
    names = sorted(p.name for p in report_dir(report_id).iterdir())
    assert names == sorted(f["name"] for f in report.files)
    assert report.size_bytes == sum(f["size"] for f in report.files) > 0
    assert report.generated_at is not None and report.lease_until is None
    assert process_pending() == []  # nothing left


def test_bad_requests_are_refused_with_a_reason(session: Session, ann: User, make_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ReportError, match="позже"):
        create_report(session, actor=ann, kind="custom", start=DAY, end=DAY - timedelta(days=1))
    with pytest.raises(ReportError, match="формат"):
        create_report(session, actor=ann, kind="daily", formats=["docx"])
    with pytest.raises(ReportError, match="обе даты"):
        create_report(session, actor=ann, kind="custom", start=DAY)
    other = Source(external_id="999", name="Чужой")
    session.add(other)
    session.commit()
    with pytest.raises(PermissionDenied):
        create_report(session, actor=ann, kind="daily", source_ids=[other.id])
    empty = make_user("empty@example.org")
    with pytest.raises(ReportError, match="нет ни одного источника"):
        create_report(session, actor=empty, kind="daily")


def test_a_dead_workers_report_is_taken_over(session: Session, ann: User) -> None:
    report_id = _report(session, ann)
    past = utcnow() - LEASE - timedelta(minutes=1)
    assert claim(session, now=past, worker="dead:1") == report_id
    session.commit()
    assert _get(session, report_id).status == ReportStatus.RUNNING
    assert claim(session, now=utcnow() - LEASE, worker="other:2") is None  # lease still held
    assert process_pending() == [report_id]
    report = _get(session, report_id)
    assert report.status == ReportStatus.DONE and report.attempts == 2


def test_repeatedly_dying_report_fails_with_the_reason(session: Session, ann: User) -> None:
    report_id = _report(session, ann)
    moment = utcnow() - (LEASE + timedelta(minutes=1)) * (MAX_ATTEMPTS + 1)
    for attempt in range(MAX_ATTEMPTS):
        assert claim(session, now=moment, worker=f"dead:{attempt}") == report_id
        session.commit()
        moment += LEASE + timedelta(minutes=1)
    assert process_pending() == []
    report = _get(session, report_id)
    assert report.status == ReportStatus.FAILED
    assert report.error == INTERRUPTED.format(n=MAX_ATTEMPTS)
    info = retry_report(session, actor=ann, report_id=report_id)
    session.commit()
    assert info.status == ReportStatus.PENDING and info.error == ""
    assert process_pending() == [report_id]
    assert _get(session, report_id).status == ReportStatus.DONE


def test_failure_is_shown_and_retry_works(session: Session, ann: User) -> None:
    source_id = session.exec(select(Subscription.source_id)).first()
    report_id = _report(session, ann, source_ids=[source_id])
    sub = session.exec(select(Subscription).where(Subscription.source_id == source_id)).one()
    session.delete(sub)  # the owner no longer tracks the source: generation must refuse
    session.commit()
    process_pending()
    report = _get(session, report_id)
    assert report.status == ReportStatus.FAILED and "Нет доступа к источнику" in report.error
    assert report.files == []
    session.add(Subscription(user_id=ann.id, source_id=source_id))
    session.commit()
    retry_report(session, actor=ann, report_id=report_id)
    session.commit()
    process_pending()
    assert _get(session, report_id).status == ReportStatus.DONE


def test_two_workers_generate_each_report_once(session: Session, ann: User) -> None:
    ids = [_report(session, ann, tags=["клиент А"]) for _ in range(4)]
    done: list[list[int]] = []
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        barrier.wait()
        done.append(process_pending(worker=name))

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(i for part in done for i in part) == ids
    for report_id in ids:
        report = _get(session, report_id)
        assert report.status == ReportStatus.DONE and report.attempts == 1


def test_a_directors_report_has_a_rollup_per_analyst(session: Session, make_user) -> None:  # type: ignore[no-untyped-def]
    import io
    import zipfile

    from openpyxl import load_workbook

    from socstat.models import Role, Team, TeamMember
    from socstat.services.reports.builder import ReportRequest, build_request_data
    from socstat.services.reports.csv_export import ROLLUP_FILE
    from socstat.services.reports.data import ROLLUP_TITLE, SHEET_SUMMARY
    from socstat.services.reports.generation import make_scope, render

    dina = make_user("dina@example.org", role=Role.DIRECTOR)
    team = Team(name="SMM", director_id=dina.id)
    session.add(team)
    session.flush()
    for index, email in enumerate(("ann@example.org", "carl@example.org")):
        user = make_user(email, name=email[:4].title())
        session.add(TeamMember(team_id=team.id, user_id=user.id))
        for n in range(index + 1):
            source = Source(external_id=f"{index}{n}", name=f"Клуб {email} {n}")
            session.add(source)
            session.flush()
            session.add(Subscription(user_id=user.id, source_id=source.id))
    session.commit()
    request = ReportRequest(kind="custom", start=DAY, end=DAY, scope=make_scope(team_id=team.id))
    data = build_request_data(session, actor=dina, request=request)
    assert [(r.name, r.sources) for r in data.rollup] == [("Ann@", 1), ("Carl", 2)]
    book = load_workbook(io.BytesIO(render(data, "xlsx")))
    values = [r[0] for r in book[SHEET_SUMMARY].iter_rows(values_only=True)]
    assert ROLLUP_TITLE in values and "Carl" in values
    names = zipfile.ZipFile(io.BytesIO(render(data, "csv"))).namelist()
    assert ROLLUP_FILE in names
    ann = session.exec(select(User).where(User.email == "ann@example.org")).one()
    own = build_request_data(
        session, actor=ann, request=ReportRequest("custom", DAY, DAY, make_scope())
    )
    assert own.rollup == []
