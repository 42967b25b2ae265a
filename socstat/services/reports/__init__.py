"""Reports: building (from services/analytics), exports (xlsx, csv, pdf, email),
background generation and schedules. See docs/reports.md."""
