"""Shared core of the studio: settings, database models, credits and the object store."""
