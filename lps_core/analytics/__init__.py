"""Member analytics (会员分析): who the members are and how they behave, for head office.

Card-type mix, new members, region, gender and age, the referral ranking, churn and credit
warnings, the RFM model and the members' lifecycle. Each view is a lps_core.reports.report.Report,
so the screen (lps_core.screens.analytics), the API (lps_core.http.analytics) and the CSV and
XLSX exports show the same figures; each reads through the reports session (a replica when
lps.reports.database_url is set) with set-based SQL over the features' own tables and the
per-member monthly counters (member_activity) that every earning and refund keeps in step.
See docs/analytics.md for every definition and formula."""
