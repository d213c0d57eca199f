"""The studio website: FastAPI + Jinja2 + HTMX, server-rendered."""
