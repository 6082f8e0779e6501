"""Training programs, progress queries, dashboards, charts and exports."""
