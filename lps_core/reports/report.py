"""What a report is once computed: its headline figures, its tables and its chart, and the same
figures as JSON, CSV and XLSX (through lps_core.exports, so the screen, the API, the command and
the mailed copy can never differ)."""
from dataclasses import dataclass, field

from lps_core.exports import Column, Table, download, json_rows, json_totals, json_value, to_csv, to_xlsx
from lps_core.reports.texts import english


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    kind: str
    value: object


@dataclass(frozen=True)
class Chart:
    """A bar (or line) chart over the categories (bucket labels, outlet codes, SKUs...): one series
    per (name, values, kind); `money` series are in cents and drawn as units."""

    categories: list
    series: list  # [(name, [value, ...], "bar" | "line", kind)]
    title: str = ""


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    scope: object  # ReportScope
    figures: list
    tables: list
    chart: Chart | None = None
    page: dict | None = None  # {"page", "per_page", "total"} for a paginated report
    notes: list = field(default_factory=list)

    def figures_table(self) -> Table:
        columns = [Column(figure.key, figure.label, figure.kind) for figure in self.figures]
        return Table("Totals", columns, [{figure.key: figure.value for figure in self.figures}])

    def export_tables(self) -> list[Table]:
        heading = [f"{self.title}: {self.scope.label}"] + [f"{key}: {value}" for key, value in self.scope.filters.items()
                                                          if key != "period"] + [english(note) for note in self.notes]
        figures = self.figures_table()
        return [Table(figures.title, figures.columns, figures.rows, notes=heading)] + list(self.tables)

    def as_json(self) -> dict:
        scope = self.scope
        answer = {
            "report": self.name, "title": self.title,
            "period": {"from": scope.first_day.isoformat(), "to": scope.last_day.isoformat(), "group_by": scope.grain,
                       "time_zone": str(scope.tz), "starts_at": scope.starts.isoformat(), "ends_at": scope.ends.isoformat()},
            "filters": scope.filters,
            "outlets": [row.code for row in scope.outlets] if scope.outlet_ids is not None else None,
            "totals": {figure.key: json_value(figure.value, figure.kind) for figure in self.figures},
            "tables": [{"title": table.title,
                        "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in table.columns],
                        "rows": json_rows(table), "totals": json_totals(table)} for table in self.tables],
            "notes": [english(note) for note in self.notes],
        }
        if self.chart is not None:
            answer["chart"] = {"title": self.chart.title, "categories": self.chart.categories,
                               "series": [{"name": name, "type": kind, "data": [json_value(v, value_kind) for v in values],
                                           "kind": value_kind} for name, values, kind, value_kind in self.chart.series]}
        if self.page is not None:
            answer["page"] = self.page
        return answer

    def as_csv(self) -> bytes:
        return to_csv(self.export_tables())

    def as_xlsx(self) -> bytes:
        return to_xlsx(self.export_tables())


def report_download(report: Report, format_: str, name: str):
    """The report as a CSV or XLSX file named for the report and its period (screens and API)."""
    stem = f"{name}-{report.scope.first_day.isoformat()}-{report.scope.last_day.isoformat()}"
    return download(report.as_csv() if format_ == "csv" else report.as_xlsx(), stem, format_)
