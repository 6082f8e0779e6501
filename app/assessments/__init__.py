"""Assessments: framework, question bank, GIFT import, attempts, scoring, item analysis."""
