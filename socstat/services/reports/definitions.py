"""The «Определения» sheet: every metric's formula and version, the period, the time zone,
the scope and filters, the generation time and the completeness notes.

The formulas are those of ``services/analytics`` (docs/metrics.md); ``METRICS_VERSION``
changes whenever one of them does, so two reports say whether they are comparable.
"""

from __future__ import annotations

from datetime import datetime

from socstat.services.reports.data import Definition

METRICS_VERSION = "1"
SECTION_METRIC = "Показатель"
SECTION_REPORT = "Отчёт"
SECTION_NOTE = "Полнота данных"

METRICS: tuple[tuple[str, str], ...] = (
    ("Посты / Видео / Клипы", "число публикаций этого типа, вышедших в дни периода"),
    ("Публикаций", "посты + видео + клипы (лист «По дням»: одного типа за день)"),
    (
        "Лайки / Репосты / Комментарии / Просмотры",
        "сумма по публикациям периода, для которых VK дал значение; публикации без значения "
        "перечислены в примечаниях и в столбце «Просмотры неизвестны»; пустая ячейка — "
        "значение неизвестно (не ноль)",
    ),
    ("Реакции", "лайки + репосты + комментарии"),
    (
        "ERpost",
        "реакции публикации / подписчики сообщества в день публикации; средний ERpost — "
        "среднее по публикациям, для которых известны подписчики и все реакции",
    ),
    (
        "ERview",
        "реакции публикации / её просмотры; средний ERview — среднее по публикациям с "
        "известными просмотрами > 0",
    ),
    (
        "ERday",
        "реакции сообщества за день / подписчики в этот день; средний ERday — среднее по "
        "дням собранной истории, где подписчики известны",
    ),
    (
        "Подписчики",
        "последний снимок счётчика подписчиков в периоде (сумма по источникам); изменение — "
        "разница с последним снимком предыдущего периода",
    ),
    (
        "Изменение",
        "(значение − значение предыдущего периода) / значение предыдущего периода; "
        "предыдущий период той же длины идёт сразу перед отчётным",
    ),
)


def definitions(
    *,
    period_label: str,
    previous_label: str,
    timezone: str,
    scope_label: str,
    filters: list[str],
    generated_at: datetime,
    notes: list[str],
) -> list[Definition]:
    rows = [
        Definition(SECTION_METRIC, name, f"{formula} (версия {METRICS_VERSION})")
        for name, formula in METRICS
    ]
    rows += [
        Definition(SECTION_REPORT, "Период", period_label),
        Definition(SECTION_REPORT, "Предыдущий период", previous_label),
        Definition(SECTION_REPORT, "Часовой пояс", f"дни считаются по {timezone}"),
        Definition(SECTION_REPORT, "Охват", scope_label),
        *(Definition(SECTION_REPORT, "Фильтр", line) for line in filters),
        Definition(SECTION_REPORT, "Сформирован", f"{generated_at:%d.%m.%Y %H:%M} ({timezone})"),
        Definition(SECTION_REPORT, "Версия формул", METRICS_VERSION),
    ]
    rows += [Definition(SECTION_NOTE, "Примечание", note) for note in notes] or [
        Definition(SECTION_NOTE, "Примечание", "все показатели известны полностью")
    ]
    return rows
