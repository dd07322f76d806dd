"""Marks a report's words for the `lps_reports` catalog: column labels, titles and the names of
the figures stay TranslationStrings until a screen (or a staff export) translates them; the API
and `lps report` give them in English."""
from dataclasses import replace

from pyramid.i18n import TranslationString

DOMAIN = "lps_reports"


def dgettext(domain, message, mapping=None) -> TranslationString:
    """Written out with its domain, as lps_core.screens.shared.dgettext, so the catalog extractor
    files the text in lps_reports only. `mapping` fills its ${names}, translated or not (english)."""
    return TranslationString(message, domain=domain, mapping=mapping)


def english(text) -> str:
    """A text as the API and `lps report` give it: untranslated, its ${names} filled."""
    return text.interpolate() if isinstance(text, TranslationString) else text


def translated(report, translate):
    """The report with every label passed through `translate` (a request's localizer), and the
    words among its cells and chart categories (an RFM quadrant's name, say)."""
    from lps_core.exports import Column, Table
    from lps_core.reports.report import Chart, Figure

    def columns(items):
        return [Column(column.key, translate(column.label), column.kind) for column in items]

    def words(value):
        return translate(value) if isinstance(value, TranslationString) else value

    def rows(items):
        return [{key: words(value) for key, value in row.items()} for row in items]

    tables = [Table(translate(table.title), columns(table.columns), rows(table.rows), table.totals,
                    translate(table.totals_label), table.notes) for table in report.tables]
    figures = [Figure(figure.key, translate(figure.label), figure.kind, figure.value) for figure in report.figures]
    chart = report.chart and Chart([words(category) for category in report.chart.categories],
                                   [(translate(name), values, kind, value_kind)
                                    for name, values, kind, value_kind in report.chart.series],
                                   translate(report.chart.title))
    return replace(report, title=translate(report.title), figures=figures, tables=tables, chart=chart,
                   notes=[translate(note) for note in report.notes])
