"""The adviser's page and the employer contact's mirror page (server-rendered, under `/app`)."""

from serving.web.routes import STATIC_DIR, router

__all__ = ["STATIC_DIR", "router"]
