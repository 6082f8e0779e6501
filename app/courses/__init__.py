"""Courses: content format, import/export, catalog, reader, authoring."""
