"""Completion records, certificates, signing and verification."""
