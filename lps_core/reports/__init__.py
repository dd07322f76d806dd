"""Reports (报表): what head office and finance run the programme with. Sales per outlet, points and
their liability, stored value and credit, the transactions search, product and category sales.

Each report is one module here that turns a ReportScope (the period in the programme's time zone
and the outlets) into a Report: its totals, its tables and its chart, computed with GROUP BY in
the database and read through the reports session (lps_core.db.reports_session_of), so a streaming
replica can answer them. catalogue.py names them; the staff screens are lps_core.screens.reports,
the API lps_core.http.reports, the command `lps report`, and schedule.py mails them through the
outbox. docs/reports.md describes every column and formula."""
